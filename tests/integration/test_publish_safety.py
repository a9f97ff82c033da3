"""BI readers during a run, a run killed in the middle of its build, and rollback."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import GOOD_VISIT, VISITS_HEADER
from tests.helpers.runs import dbt_started
from tests.integration.airflow_env import REPO

pytestmark = pytest.mark.integration

LIBCOOP = str(Path(sys.executable).with_name("libcoop"))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def published(tmp_path):
    """A drop folder (copy of the sample) with one build already published."""
    raw = tmp_path / "raw"
    shutil.copytree(REPO / "raw" / "incoming", raw / "incoming")
    warehouse = tmp_path / "warehouse" / "cooperation.duckdb"
    env = dict(os.environ, LIBCOOP_RAW_DIR=str(raw), LIBCOOP_WAREHOUSE=str(warehouse))
    expectations = tmp_path / "expectations"
    shutil.copytree(REPO / "expectations", expectations, ignore=shutil.ignore_patterns("uncommitted"))
    env["LIBCOOP_EXPECTATIONS_DIR"] = str(expectations)
    first = subprocess.run([LIBCOOP, "run"], env=env, capture_output=True, text=True, timeout=900, check=False)
    assert first.returncode == 0, first.stderr[-3000:]
    return raw, warehouse, env


def add_visits(raw: Path, count: int) -> None:
    rows = [GOOD_VISIT.replace("v1,", f"x{i},") for i in range(count)]
    path = raw / "incoming" / "JP" / "visits_extra.csv"
    path.write_text("\n".join([VISITS_HEADER, *rows]) + "\n", encoding="utf-8")


READER = """
import json, sys, time, duckdb
warehouse, stop_file = sys.argv[1], sys.argv[2]
while True:
    stopping = __import__("os").path.exists(stop_file)
    started = time.monotonic()
    try:
        with duckdb.connect(warehouse, read_only=True) as con:
            visits = con.execute("select count(*) from marts.fct_visit").fetchone()[0]
            runs = con.execute("select count(*) from audit.runs").fetchone()[0]
            union = con.execute(
                "select count(*) from marts.fct_cooperation_activity where activity_family = 'visit'"
            ).fetchone()[0]
        print(json.dumps({"visits": visits, "runs": runs, "union": union, "seconds": time.monotonic() - started}))
    except Exception as error:
        print(json.dumps({"error": repr(error)}))
    sys.stdout.flush()
    if stopping:
        break
    time.sleep(0.05)
"""


def test_readers_never_fail_wait_or_see_a_half_built_state(published, tmp_path):
    raw, warehouse, env = published
    held_open = duckdb.connect(str(warehouse), read_only=True)  # a BI session open before, during and after
    (before,) = held_open.execute("select count(*) from marts.fct_visit").fetchone()
    add_visits(raw, 5)
    stop_file = tmp_path / "stop"
    # BI tools are other processes: DuckDB caches one instance per path inside a process.
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse), str(stop_file)], stdout=subprocess.PIPE, text=True
    )
    try:
        run = subprocess.run([LIBCOOP, "run"], env=env, capture_output=True, text=True, timeout=900, check=False)
        assert held_open.execute("select count(*) from marts.fct_visit").fetchone() == (before,)  # its snapshot
    finally:
        time.sleep(1)
        stop_file.touch()
        output, _ = reader.communicate(timeout=60)
        held_open.close()
    assert run.returncode == 0, run.stderr[-3000:]
    observations = [json.loads(line) for line in output.splitlines()]
    assert [o for o in observations if "error" in o] == []
    assert all(o["visits"] == o["union"] for o in observations), "facts and their union disagree: a half-built state"
    states = {(o["visits"], o["runs"]) for o in observations}
    assert states == {(before, 1), (before + 5, 2)}, "only complete builds, the old then the new"
    assert max(o["seconds"] for o in observations) < 5, "a reader waited on something"


def test_killed_build_leaves_the_published_warehouse_and_the_next_run_succeeds(published):
    raw, warehouse, env = published
    published_digest = digest(warehouse)
    add_visits(raw, 3)
    run = subprocess.Popen(
        [LIBCOOP, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    build_dir = warehouse.parent / ".build"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not dbt_started(warehouse, build_dir):
        time.sleep(0.2)
    time.sleep(2)  # dbt is materializing models
    assert run.poll() is None, "the run finished before it could be killed"
    os.killpg(run.pid, signal.SIGKILL)
    run.wait(timeout=60)

    assert digest(warehouse) == published_digest
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from audit.runs").fetchone() == (1,)

    again = subprocess.run([LIBCOOP, "run"], env=env, capture_output=True, text=True, timeout=900, check=False)
    assert again.returncode == 0, again.stderr[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from audit.runs").fetchone() == (2,)
        (extra,) = con.execute(
            "select count(*) from marts.fct_visit where file_path = 'JP/visits_extra.csv'"
        ).fetchone()
        assert extra == 3
    assert [p.name for p in build_dir.iterdir()] == []  # the killed run's build was cleaned up


def test_rollback_puts_the_previous_build_back(published):
    from libcoop.warehouse.builds import kept_file, live_run

    raw, warehouse, env = published
    first_digest, first_id = digest(warehouse), live_run(warehouse)
    add_visits(raw, 2)
    second = subprocess.run([LIBCOOP, "run"], env=env, capture_output=True, text=True, timeout=900, check=False)
    assert second.returncode == 0, second.stderr[-3000:]
    second_digest, second_id = digest(warehouse), live_run(warehouse)
    assert second_digest != first_digest and second_id != first_id

    rollback = subprocess.run([LIBCOOP, "rollback"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert rollback.returncode == 0, rollback.stderr
    assert f"is the build of run {first_id} again (it replaced the build of run {second_id})" in rollback.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        extra = con.execute("select count(*) from marts.fct_visit where file_path = 'JP/visits_extra.csv'").fetchone()
        statuses = con.execute("select run_id, status from audit.runs order by finished_at").fetchall()
    assert extra == (0,)
    assert statuses[0] == (first_id, "published") and statuses[-1][1] == "rolled back"
    # Both builds are kept as they were published; the live file is the first one plus its rollback row.
    assert digest(kept_file(warehouse, first_id)) == first_digest
    assert digest(kept_file(warehouse, second_id)) == second_digest


# --- the swap itself, hammered without dbt: many small builds published while readers poll -------

SWAP_READER = """
import json, os, sys, time, duckdb
warehouse, stop_file = sys.argv[1], sys.argv[2]
queries, errors, states = 0, [], set()
while not os.path.exists(stop_file):
    try:
        with duckdb.connect(warehouse, read_only=True) as con:
            runs = con.execute("select count(*) from audit.runs").fetchone()[0]
            rows = con.execute("select count(*) from marts.fct_visit").fetchone()[0]
        queries += 1
        states.add((runs, rows))
    except Exception as error:
        errors.append(repr(error)[:300])
    time.sleep(0.01)
print(json.dumps({"queries": queries, "errors": errors, "states": sorted(states)}))
"""


def _paths(tmp_path: Path):
    from libcoop.settings import Paths

    return Paths(tmp_path / "raw", tmp_path / "warehouse" / "cooperation.duckdb", tmp_path / "expectations")


def _build_run(paths, number: int) -> Path:
    """A build like a run's: the published file copied, one run and 20,000 rows more written into it."""
    from libcoop.warehouse.publish import prepare_build

    build = prepare_build(paths, f"run-{number}")
    with duckdb.connect(str(build)) as con:
        con.execute("create schema if not exists audit; create schema if not exists marts")
        con.execute("create table if not exists audit.runs (run_id varchar)")
        con.execute("create table if not exists marts.fct_visit (visit_key bigint, note varchar)")
        con.execute("insert into audit.runs values (?)", [f"run-{number}"])
        con.execute("insert into marts.fct_visit select range, repeat('x', 40) from range(20000)")
    return build


def test_readers_never_see_an_error_across_many_swaps(tmp_path):
    from libcoop.warehouse.publish import discard_build, publish

    paths = _paths(tmp_path)
    publish(paths, _build_run(paths, 0))
    stop_file = tmp_path / "stop"
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", SWAP_READER, str(paths.warehouse), str(stop_file)], stdout=subprocess.PIPE
        )
        for _ in range(3)
    ]
    try:
        time.sleep(1)  # the readers are polling before the first swap
        for number in range(1, 16):
            build = _build_run(paths, number)
            publish(paths, build)
            discard_build(build)
            time.sleep(0.05)
    finally:
        stop_file.touch()
        outputs = [json.loads(reader.communicate(timeout=60)[0]) for reader in readers]
    assert [o["errors"] for o in outputs] == [[], [], []]
    # Only complete builds: run n holds n + 1 runs and (n + 1) * 20,000 rows.
    assert all(rows == runs * 20000 for o in outputs for runs, rows in o["states"])
    assert max(runs for o in outputs for runs, _ in o["states"]) == 16
    assert sum(o["queries"] for o in outputs) > 100  # the readers did poll through the swaps
    assert list(paths.warehouse.parent.glob("*.wal")) == []


def test_publish_refuses_a_build_another_process_still_has_open(tmp_path):
    from libcoop.warehouse.publish import BuildStillOpen, publish

    paths = _paths(tmp_path)
    publish(paths, _build_run(paths, 0))
    published = digest(paths.warehouse)
    build = _build_run(paths, 1)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(build)!r}); print('open', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "open\n"
        with pytest.raises(BuildStillOpen, match=rf"still open by pid {holder.pid} "):
            publish(paths, build)
    finally:
        holder.kill()
        holder.wait()
    assert digest(paths.warehouse) == published, "the published file must not have changed"
    assert build.exists()


def test_publish_refuses_a_build_this_process_still_has_open(tmp_path):
    from libcoop.warehouse.publish import BuildStillOpen, publish

    paths = _paths(tmp_path)
    build = _build_run(paths, 0)
    link = tmp_path / "link.duckdb"
    link.symlink_to(build)  # as dbt reaches a build: another path, another DuckDB instance
    lingering = duckdb.connect(str(link), read_only=False)
    try:
        with pytest.raises(BuildStillOpen, match=rf"pid {os.getpid()} "):
            publish(paths, build)
    finally:
        lingering.close()
    assert not paths.warehouse.exists()
    publish(paths, build)  # once it is closed, the build publishes
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.execute("select run_id from audit.runs").fetchall() == [("run-0",)]


def test_blocked_runs_keep_the_data_docs_of_the_last_three(tmp_path):
    from libcoop.warehouse.publish import keep_blocked_docs, staged_docs

    warehouse = tmp_path / "warehouse" / "cooperation.duckdb"
    kept = []
    for n in range(5):
        build = tmp_path / "warehouse" / ".build" / f"run-{n}" / warehouse.name
        staged = staged_docs(build, "data_docs")
        staged.mkdir(parents=True)
        (staged / "index.html").write_text(f"run {n}", encoding="utf-8")
        kept.append(keep_blocked_docs(build, warehouse, f"run-{n}"))
        assert not staged.exists()
        time.sleep(0.01)  # distinct modification times
    assert kept[-1] == tmp_path / "warehouse" / "blocked" / "run-4" / "data_docs"
    assert sorted(p.name for p in (tmp_path / "warehouse" / "blocked").iterdir()) == ["run-2", "run-3", "run-4"]
    assert (kept[-1] / "index.html").read_text(encoding="utf-8") == "run 4"
    assert keep_blocked_docs(tmp_path / "nothing" / warehouse.name, warehouse, "run-5") is None


def test_the_next_run_removes_folders_a_kill_left_in_the_middle_of_a_swap(tmp_path):
    from libcoop.warehouse.publish import prepare_build

    paths = _paths(tmp_path)
    folder = paths.warehouse.parent
    left = [
        folder / ".dashboard.previous.077580af.old",
        folder / ".data_docs.3d29f779.old",
        folder / ".dbt_docs.1a2b3c4d.tmp",
    ]
    for leftover in left:
        (leftover / "assets").mkdir(parents=True)
    (folder / "data_docs").mkdir()  # the published folders stay
    prepare_build(paths, "run-after-kill")
    assert sorted(p.name for p in folder.iterdir()) == [".build", "data_docs"]
