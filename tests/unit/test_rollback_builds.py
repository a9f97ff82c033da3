"""Rollback that means something: the last N published builds are kept with their pages, any of
them comes back by run id, the rollback is a row of audit.runs, and it waits for no run (real
DuckDB files, real renames, a real second process holding the run lock)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from libcoop.audit import ensure_audit_tables
from libcoop.cli import main
from libcoop.settings import Paths
from libcoop.warehouse.builds import kept_builds, live_run, read_live
from libcoop.warehouse.publish import NothingToRollBack, publish, rollback, staged_docs

PAGES = ("dashboard", "data_docs", "dbt_docs")


@pytest.fixture
def paths(tmp_path: Path, monkeypatch) -> Paths:
    warehouse = tmp_path / "warehouse" / "cooperation.duckdb"
    monkeypatch.setenv("LIBCOOP_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("LIBCOOP_RAW_DIR", str(tmp_path / "raw"))
    monkeypatch.delenv("LIBCOOP_KEEP_BUILDS", raising=False)
    return Paths(raw_dir=tmp_path / "raw", warehouse=warehouse, expectations_dir=tmp_path)


def publish_run(paths: Paths, run: str, visits: int, pages: tuple[str, ...] = PAGES) -> None:
    """A build as a run leaves it: its marts, its audit.runs row, its pages staged beside it."""
    database = paths.build_dir / run / paths.warehouse.name
    database.parent.mkdir(parents=True)
    with duckdb.connect(str(database)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_visit as select range as visit from range(?)", [visits])
        ensure_audit_tables(con)
        now = dt.datetime.now(dt.UTC)
        con.execute(
            "insert into audit.runs values (?, ?, ?, 'published', ?, ?, 'data quality: passed', null)",
            [run, now, now, json.dumps({"loaded": 1}), json.dumps({"fct_visit": visits})],
        )
    for name in pages:
        staged = staged_docs(database, name)
        staged.mkdir()
        (staged / "index.html").write_text(f"{name} of {run}", encoding="utf-8")
    publish(paths, database, run, {"files": {"loaded": 1}, "mart_rows": {"fct_visit": visits}})


def shown(paths: Paths) -> tuple[int, ...]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        (visits,) = con.execute("select count(*) from marts.fct_visit").fetchone()
    pages = [(paths.warehouse.parent / name / "index.html").read_text(encoding="utf-8") for name in PAGES]
    return visits, *pages


def test_three_publishes_then_rollback_to_the_first_restores_its_data_and_pages(paths, capsys):
    for run, visits in (("run-1", 10), ("run-2", 20), ("run-3", 30)):
        publish_run(paths, run, visits)
    assert shown(paths) == (30, "dashboard of run-3", "data_docs of run-3", "dbt_docs of run-3")
    assert paths.warehouse.stat().st_mode & 0o777 == 0o444  # clients must open it read-only

    assert main(["builds"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listing[1:]] == ["run-3", "run-2", "run-1"]
    assert listing[1].endswith("<- live") and "1 loaded" in listing[3] and listing[3].split()[-1] == "10"

    assert main(["rollback", "--to", "run-1"]) == 0
    said = capsys.readouterr().out
    assert "is the build of run run-1 again (it replaced the build of run run-3)" in said
    assert shown(paths) == (10, "dashboard of run-1", "data_docs of run-1", "dbt_docs of run-1")
    assert live_run(paths.warehouse) == "run-1"
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        rows = con.execute("select status, message from audit.runs order by finished_at").fetchall()
    assert rows == [
        ("published", None),
        ("rolled back", "rolled back to the build of run run-1 (it replaced run run-3)"),
    ]

    assert main(["summary"]) == 0
    summary = capsys.readouterr().out
    assert summary.startswith("libcoop run run-1: published\n  live: the build of run run-1, published 20")
    assert "live again since" in summary and "(rolled back from run run-3)" in summary

    # Without --to: the build that was live before this one, so twice rolls forward again.
    assert rollback(paths).run_id == "run-3"
    assert shown(paths)[0] == 30
    assert rollback(paths).run_id == "run-1"


def test_only_the_last_n_builds_are_kept_and_never_the_live_one_dropped(paths, monkeypatch):
    monkeypatch.setenv("LIBCOOP_KEEP_BUILDS", "2")
    publish_run(paths, "run-1", 1)
    publish_run(paths, "run-2", 2)
    rollback(paths, to="run-1")
    publish_run(paths, "run-3", 3)  # keeps run-3 and run-2; run-1 was live until now
    assert [b.run_id for b in kept_builds(paths.warehouse)] == ["run-3", "run-2"]
    with pytest.raises(NothingToRollBack, match=r"no kept build of run run-1 .*kept builds: run-3, run-2"):
        rollback(paths, to="run-1")
    assert shown(paths)[0] == 3  # a refused rollback changes nothing


def test_a_build_without_dbt_docs_keeps_the_live_ones_with_it(paths):
    publish_run(paths, "run-1", 1)
    publish_run(paths, "run-2", 2, pages=("dashboard", "data_docs"))  # same models: dbt docs kept
    assert shown(paths)[1:] == ("dashboard of run-2", "data_docs of run-2", "dbt_docs of run-1")
    rollback(paths, to="run-1")
    rollback(paths, to="run-2")
    assert shown(paths)[1:] == ("dashboard of run-2", "data_docs of run-2", "dbt_docs of run-1")


HOLD_THE_LOCK = """
import sys, time
from pathlib import Path
from libcoop.warehouse.runlock import run_lock
with run_lock(Path(sys.argv[1]), "night-42"):
    print("holding", flush=True)
    time.sleep(60)
"""


def test_rollback_takes_the_run_lock_and_names_who_holds_it(paths, capsys):
    publish_run(paths, "run-1", 1)
    publish_run(paths, "run-2", 2)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(paths.warehouse)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline() == "holding\n"
        assert main(["rollback"]) == 1
        error = capsys.readouterr().err
        assert error.startswith("libcoop rollback: run night-42 (libcoop run, pid ")
        assert "changed nothing" in error
        assert shown(paths)[0] == 2 and read_live(paths.warehouse)["how"] == "publish"
    finally:
        holder.kill()
        holder.wait()
    assert main(["rollback"]) == 0
    assert shown(paths)[0] == 1


@pytest.mark.integration  # a real load before dbt fails (about 10 s)
def test_a_failed_run_is_a_row_of_audit_runs(paths, drop, monkeypatch):
    from tests.conftest import GOOD_VISIT, VISITS_HEADER

    drop("CN/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT}\n")
    monkeypatch.setenv("LIBCOOP_RAW_DIR", str(drop.raw_dir))
    monkeypatch.setenv("LIBCOOP_DBT_PROJECT_DIR", str(paths.warehouse.parent / "no-dbt-project-here"))
    assert main(["run"]) == 1  # dbt finds no project: nothing published
    store = paths.warehouse.with_name("cooperation.audit.duckdb")
    with duckdb.connect(str(store), read_only=True) as con:
        ((_run_id, status, message),) = con.execute("select run_id, status, message from audit.runs").fetchall()
    assert status == "failed" and "no-dbt-project-here" in message and "\n" not in message
    assert not paths.warehouse.exists()
