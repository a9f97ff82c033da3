"""A bounded fault matrix (the full one is `make faults`, benchmarks/faults.py): SIGKILLs with readers
polling, two runs at once, a full disk, and where a build's docs appear. One published sample
build is shared by the tests of this module, in order."""

from __future__ import annotations

import datetime as dt
import random

import duckdb
import pytest

from benchmarks.faults import Readers, Sandbox, can_mount, concurrent_pair, debris, full_disk, kill_in, published_state
from libcoop.settings import resolve_paths

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    sandbox = Sandbox.create(tmp_path_factory.mktemp("faults"))
    first = sandbox.run()
    assert first.returncode == 0, first.stderr[-3000:]
    return sandbox


def test_a_published_build_brings_its_docs_and_dashboard_and_leaves_nothing_else(box):
    folder = box.warehouse.parent
    for page in ("data_docs/index.html", "dbt_docs/index.html", "dashboard/index.html"):
        assert (folder / page).is_file(), page
    assert debris(box.warehouse) == []
    assert published_state(box.warehouse).complete


def test_kills_in_the_build_and_at_the_rename_leave_a_complete_build_and_readers_see_no_error(box):
    rng = random.Random(3)
    readers = Readers(box.warehouse, count=3, interval=0.02)
    try:
        kills = [kill_in(box, phase, rng) for phase in ("build", "rename")]
    finally:
        queries, errors = readers.stop()
    assert [k["killed"] for k in kills] == [True, True], kills
    assert kills[0]["outcome"] == "old"  # killed in dbt: nothing was published
    assert kills[1]["outcome"] in {"old", "new"}, kills  # at the rename: one or the other, whole
    assert errors == []
    assert queries > 50
    assert published_state(box.warehouse).complete


def test_the_second_of_two_concurrent_runs_refuses_and_the_first_publishes(box):
    before = published_state(box.warehouse)
    pair = concurrent_pair(box)
    assert pair["met"], pair
    assert "in progress" in str(pair["second"]) and "changed nothing" in str(pair["second"])
    assert published_state(box.warehouse).runs == before.runs + 1
    assert debris(box.warehouse) == []


def test_a_blocked_run_keeps_its_data_docs_apart_and_publishes_nothing(box, monkeypatch):
    from libcoop.pipeline import PublishBlocked, publish_step, validate_step
    from libcoop.warehouse.publish import prepare_build

    for name, value in box.env.items():
        if name.startswith("LIBCOOP_"):
            monkeypatch.setenv(name, value)
    paths = resolve_paths()
    published_docs = (paths.warehouse.parent / "data_docs" / "index.html").read_bytes()
    published = paths.warehouse.read_bytes()
    build = prepare_build(paths, "run-blocked")
    with duckdb.connect(str(build)) as con:
        con.execute("update marts.fct_donation set amount = -100000")  # a critical check fails
    report = validate_step(paths, build, "run-blocked")
    assert not report.passed
    blocked_page = paths.warehouse.parent / "blocked" / "run-blocked" / "data_docs" / "index.html"
    with pytest.raises(PublishBlocked, match=f"this run's Data Docs: {blocked_page}"):
        publish_step(
            paths, build, "run-blocked", {"loaded": 1}, report.passed, report.summary(), dt.datetime.now(dt.UTC)
        )
    assert blocked_page.is_file()
    assert (paths.warehouse.parent / "data_docs" / "index.html").read_bytes() == published_docs
    assert paths.warehouse.read_bytes() == published
    assert not build.parent.exists()
    assert debris(paths.warehouse) == []


@pytest.mark.skipif(not can_mount(), reason="mount -t tmpfs is not permitted here (needs root or CAP_SYS_ADMIN)")
def test_a_full_disk_fails_clearly_and_leaves_the_published_build_and_no_debris(box):
    outcome = full_disk(box, spare_mb=16)
    assert outcome["exit"] == 1, outcome
    assert "no space left on device in " in str(outcome["error"]), outcome
    assert "the published warehouse is still a complete build" in str(outcome["error"])
    assert outcome["published_intact"] is True
    assert outcome["debris"] == []
