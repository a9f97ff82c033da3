"""The DuckLake target on the machine's PostgreSQL: the sample drop published as snapshots.

One fresh catalog database per module (libcoop_lake_<random>, dropped after) and two real runs
shared by the tests: the first in this process (``libcoop.pipeline.run``), the second a
``libcoop run`` subprocess with 5 more visits while a reader process polls the lake. Then a run
killed in the middle of its dbt build, a publish killed before its commit, and a rollback.
Skipped, saying so, only when PostgreSQL is unreachable."""

from __future__ import annotations

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

from libcoop.pipeline import run
from libcoop.settings import Paths
from libcoop.warehouse import lake
from tests.conftest import GOOD_VISIT, VISITS_HEADER
from tests.helpers.postgres import fresh_databases, lake_target
from tests.helpers.runs import dbt_started
from tests.integration.airflow_env import REPO

pytestmark = pytest.mark.integration

LIBCOOP = str(Path(sys.executable).with_name("libcoop"))


@pytest.fixture(scope="module")
def catalog():
    """A fresh PostgreSQL database for the DuckLake catalog, dropped after the module."""
    with fresh_databases("libcoop_lake") as (name,):
        yield lake_target(name)


def checksums(con: duckdb.DuckDBPyConnection, database: str, names: list[str]) -> dict[str, tuple[int, str]]:
    """Rows and an md5 of every row's text, per ``schema.table`` of ``database``."""
    sums = {}
    for name in names:
        schema, table = name.split(".")
        columns = [
            c
            for (c,) in con.execute(
                "select column_name from duckdb_columns() where database_name = ? and schema_name = ? "
                "and table_name = ? order by column_index",
                [database, schema, table],
            ).fetchall()
        ]
        assert columns, name
        row_text = "cast((" + ", ".join(f'"{c}"' for c in columns) + ") as varchar)"
        sums[name] = con.execute(
            f"select count(*), md5(coalesce(string_agg(row_text, '\n' order by row_text), '')) "
            f'from (select {row_text} as row_text from {database}."{schema}"."{table}")'
        ).fetchone()
    return sums


def lake_state(target: lake.Lake) -> tuple[int, dict[str, tuple[int, str]]]:
    """The last published snapshot and the checksums of every published table. (The checks of a
    run commit snapshots of their own to the unpublished verdicts table: readers' tables stay.)"""
    with lake.connect(target, read_only=True) as con:
        snapshot = lake.snapshots(con)[-1].snapshot_id
        tables = lake.published_tables(con, "lake")
        return snapshot, checksums(con, "lake", tables)


def add_visits(raw: Path, count: int) -> None:
    rows = [GOOD_VISIT.replace("v1,", f"x{i},") for i in range(count)]
    path = raw / "incoming" / "JP" / "visits_extra.csv"
    path.write_text("\n".join([VISITS_HEADER, *rows]) + "\n", encoding="utf-8")


class LakeWorkspace:
    def __init__(self, root: Path, target: str) -> None:
        self.raw = root / "raw"
        shutil.copytree(REPO / "raw" / "incoming", self.raw / "incoming")
        expectations = root / "expectations"
        shutil.copytree(REPO / "expectations", expectations, ignore=shutil.ignore_patterns("uncommitted"))
        self.env = dict(
            os.environ,
            LIBCOOP_RAW_DIR=str(self.raw),
            LIBCOOP_WAREHOUSE=target,
            LIBCOOP_LAKE_DATA_PATH=str(root / "lake-data"),
            LIBCOOP_WORK_DIR=str(root / "work"),
            LIBCOOP_EXPECTATIONS_DIR=str(expectations),
        )
        self.lake = lake.parse(target, self.env["LIBCOOP_LAKE_DATA_PATH"], self.env["LIBCOOP_WORK_DIR"])
        self.paths = Paths(self.raw, self.lake.local_dir / "cooperation.duckdb", expectations, lake=self.lake)

    def libcoop(self, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
        return subprocess.run([LIBCOOP, *args], env=self.env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def first(catalog, tmp_path_factory):
    """The sample drop, run once in this process and published to the fresh lake."""
    ws = LakeWorkspace(tmp_path_factory.mktemp("lake"), catalog)
    summary = run(ws.paths, "lake-run-1")
    assert summary.status == "published", summary.render()
    return ws, summary, lake_state(ws.lake)


READER = """
import json, sys, time
from libcoop.warehouse import lake
target = lake.parse(sys.argv[1], sys.argv[2], sys.argv[3])
stop_file = sys.argv[4]
con = lake.connect(target, read_only=True)
while True:
    stopping = __import__("os").path.exists(stop_file)
    started = time.monotonic()
    try:
        con.execute("begin")
        visits = con.execute("select count(*) from lake.marts.fct_visit").fetchone()[0]
        runs = con.execute("select count(*) from lake.audit.runs").fetchone()[0]
        union = con.execute(
            "select count(*) from lake.marts.fct_cooperation_activity where activity_family = 'visit'"
        ).fetchone()[0]
        view = con.execute("select count(*) from lake.marts.visits").fetchone()[0]
        con.execute("commit")
        print(json.dumps({"visits": visits, "runs": runs, "union": union, "view": view,
                          "seconds": time.monotonic() - started}))
    except Exception as error:
        print(json.dumps({"error": repr(error)}))
        con.execute("rollback")
    sys.stdout.flush()
    if stopping:
        break
    time.sleep(0.1)
"""


@pytest.fixture(scope="module")
def second(first, tmp_path_factory):
    """A second run (5 more visits) as `libcoop run`, with another process reading the lake throughout."""
    ws, _, _ = first
    add_visits(ws.raw, 5)
    stop_file = tmp_path_factory.mktemp("reader") / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, ws.lake.url, ws.lake.data_path, str(ws.lake.work_dir), str(stop_file)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        result = ws.libcoop("run")
    finally:
        time.sleep(1)
        stop_file.touch()
        output, _ = reader.communicate(timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    observations = [json.loads(line) for line in output.splitlines()]
    return ws, result, observations, lake_state(ws.lake)


def _relations(con: duckdb.DuckDBPyConnection, schema: str, *, views: bool) -> list[str]:
    """The tables of ``schema`` in the DuckDB file, and its views when ``views``: schema.name, in order."""
    sql = "select table_name from duckdb_tables() where database_name = 'cooperation' and schema_name = $schema"
    if views:
        sql += (
            " union all select view_name from duckdb_views() where database_name = 'cooperation' "
            "and schema_name = $schema and not internal"
        )
    return [f"{schema}.{name}" for (name,) in con.execute(f"{sql} order by 1", {"schema": schema}).fetchall()]


def test_the_lake_holds_the_marts_of_the_duckdb_file(first):
    ws, summary, (snapshot, published) = first
    with duckdb.connect(str(ws.paths.warehouse), read_only=True) as con:
        marts = _relations(con, "marts", views=True)
        expected = checksums(con, "cooperation", marts)
    assert len(marts) == 17  # 13 tables and 4 views (published as tables)
    assert {name: published[name] for name in marts} == expected  # table by table
    assert {name.split(".")[1]: rows for name, (rows, _) in expected.items()} == summary.mart_rows
    assert expected["marts.fct_visit"][0] == 36  # the sample's visits (docs/sample_drop.md)
    with duckdb.connect(str(ws.paths.warehouse), read_only=True) as con:
        audit = _relations(con, "audit", views=False)
        assert {"audit.runs", "audit.file_loads", "audit.dq_results"} <= set(audit)
        assert {name: published[name] for name in audit} == checksums(con, "cooperation", audit)
        (in_force,) = con.execute("select count(*) from raw.file_versions where is_current").fetchone()
    # and the file versions in force (what the next run compares the drop folder with); nothing else:
    # the raw history stays local
    assert sorted(published) == sorted([*marts, *audit, "audit.files_in_force"])
    assert published["audit.files_in_force"][0] == in_force == 10
    with lake.connect(ws.lake, read_only=True) as con:
        snaps = lake.snapshots(con)
        assert [(s.snapshot_id, s.kind, s.run_id) for s in snaps] == [(snapshot, "publish", "lake-run-1")]
        # The data are Parquet files under LIBCOOP_LAKE_DATA_PATH, none inlined into the catalog.
        files = [
            f
            for (f,) in con.execute(
                "select data_file from ducklake_list_files('lake', 'fct_visit', schema => 'marts')"
            ).fetchall()
        ]
        assert files and all(f.startswith(ws.lake.data_path) and Path(f).is_file() for f in files)
        # BI tools see the descriptions: comments travel with the tables.
        (comment,) = con.execute(
            "select comment from duckdb_tables() where database_name = 'lake' and table_name = 'fct_visit'"
        ).fetchone()
        assert comment and "visit" in comment.lower()
        # The extensions came from the installed packages' files, none installed into ~/.duckdb.
        loaded = con.execute(
            "select extension_name from duckdb_extensions() where loaded and not installed order by 1"
        ).fetchall()
        assert loaded == [("ducklake",), ("postgres_scanner",)]


def test_a_reader_in_another_process_sees_only_whole_snapshots(first, second):
    _, _, (_, before) = first
    ws, result, observations, (_, after) = second
    assert "ducklake:postgres:" in result.stdout
    assert [o for o in observations if "error" in o] == []
    first_visits = before["marts.fct_visit"][0]
    assert after["marts.fct_visit"][0] == first_visits + 5
    assert all(o["visits"] == o["union"] == o["view"] for o in observations), "tables of two snapshots mixed"
    states = {(o["visits"], o["runs"]) for o in observations}
    assert states == {(first_visits, 1), (first_visits + 5, 2)}, "only whole publishes, the old then the new"
    assert max(o["seconds"] for o in observations) < 10, "a reader waited on the writer"
    assert [s.run_id for s in lake.published_snapshots(ws.lake)][-1] != "lake-run-1"


def test_a_killed_run_or_publish_leaves_the_last_snapshot_current(second, tmp_path):
    ws, _, _, published = second
    add_visits(ws.raw, 8)
    # 1. killed in the middle of its dbt build
    running = subprocess.Popen(
        [LIBCOOP, "run"], env=ws.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    # dbt connects to the run's build through the link of a parse slot; one resolves into this
    # run's build folder only once dbt starts on this run's build.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not dbt_started(ws.paths.warehouse, ws.paths.build_dir):
        time.sleep(0.2)
    time.sleep(2)  # dbt is materializing models
    assert running.poll() is None, "the run finished before it could be killed"
    os.killpg(running.pid, signal.SIGKILL)
    running.wait(timeout=60)
    assert lake_state(ws.lake) == published

    # 2. killed inside the publishing transaction: every table written to Parquet, no commit
    ready = tmp_path / "written"
    killer = f"""
import sys, time
from pathlib import Path
from libcoop.warehouse import lake
def hang(con, message, info):
    Path({str(ready)!r}).touch()
    time.sleep(600)
lake._commit = hang
target = lake.parse({ws.lake.url!r}, {ws.lake.data_path!r}, {str(ws.lake.work_dir)!r})
lake.publish_build(target, Path({str(ws.paths.warehouse)!r}), "killed-before-commit")
"""
    files_before = set(Path(ws.lake.data_path).rglob("*.parquet"))
    publishing = subprocess.Popen([sys.executable, "-c", killer], start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not ready.exists() and publishing.poll() is None:
        time.sleep(0.1)
    assert ready.exists(), "the publish never reached its commit"
    assert set(Path(ws.lake.data_path).rglob("*.parquet")) > files_before  # it had written its files
    os.killpg(publishing.pid, signal.SIGKILL)
    publishing.wait(timeout=60)

    # The catalog is consistent: the same current snapshot, every table readable, the same rows.
    assert lake_state(ws.lake) == published
    assert "killed-before-commit" not in [s.run_id for s in lake.published_snapshots(ws.lake)]


def test_rollback_is_time_travel_to_the_previous_snapshot(first, second):
    _, _, (first_snapshot, first_tables) = first
    ws, _, _, (second_snapshot, second_tables) = second
    assert second_tables != first_tables
    result = ws.libcoop("rollback", timeout=300)
    assert result.returncode == 0, result.stderr
    snapshot, tables = lake_state(ws.lake)
    assert snapshot > second_snapshot  # a new snapshot, the history kept
    assert tables == first_tables
    snaps = lake.published_snapshots(ws.lake)
    assert (snaps[-1].kind, snaps[-1].run_id, snaps[-1].restored_snapshot) == ("rollback", "lake-run-1", first_snapshot)
    # The local copy the next run starts from went back too.
    with duckdb.connect(str(ws.paths.warehouse), read_only=True) as con:
        assert con.execute("select run_id from audit.runs").fetchall() == [("lake-run-1",)]

    # Rolling back a rollback rolls forward, as with the DuckDB file.
    forward = lake.rollback(ws.lake)
    assert (forward.run_id, forward.restored_snapshot) == (snaps[-2].run_id, second_snapshot)
    assert lake_state(ws.lake)[1] == second_tables
    assert lake.rollback(ws.lake).restored_snapshot == snapshot  # and back to the first run's tables
    assert lake_state(ws.lake)[1] == first_tables

    summary = ws.libcoop("summary", timeout=120)
    assert summary.returncode == 0, summary.stderr
    assert "libcoop run lake-run-1: published" in summary.stdout
    assert f"rolled back to snapshot {snapshot}  <- current" in summary.stdout
    assert f"{second_snapshot}  " in summary.stdout and "run lake-run-1" in summary.stdout


def test_a_build_without_the_lakes_run_history_publishes_with_that_history(second, tmp_path):
    """A build from a new work folder (the local copy lost, or another machine) keeps the lake's
    run history: the lake's audit rows of runs the build does not carry are published with it."""
    ws, _, _, _ = second
    with lake.connect(ws.lake, read_only=True) as con:
        history = sorted(r for (r,) in con.execute("select run_id from lake.audit.runs").fetchall())
    stranger = tmp_path / "cooperation.duckdb"
    with duckdb.connect(str(stranger)) as con:
        con.execute("create schema marts; create table marts.fct_visit as select 1 as visit_key")
        con.execute("create schema audit; create table audit.runs as select 'elsewhere' as run_id")
    lake.publish_build(ws.lake, stranger, "elsewhere")
    with lake.connect(ws.lake, read_only=True) as con:
        runs = sorted(r for (r,) in con.execute("select run_id from lake.audit.runs").fetchall())
    assert history and runs == sorted([*history, "elsewhere"])


CHECKER = """
import sys
from libcoop.ingest.staged import stage_check
from libcoop.settings import Paths
from libcoop.warehouse import lake
from pathlib import Path
target = lake.parse(sys.argv[1], sys.argv[2], sys.argv[3])
paths = Paths(Path(sys.argv[4]), target.work_dir / "cooperation.duckdb", Path(sys.argv[5]), lake=target)
open(sys.argv[6], "w").close()  # ready
while not Path(sys.argv[7]).exists():  # start together, to write at the same time
    pass
from libcoop.ingest.drop_folder import discover
for drop in discover(paths.incoming).files:
    if drop.relative_path in sys.argv[8:]:
        stage_check(paths, "parallel-run", drop)
"""


def test_checks_in_two_processes_write_the_lake_at_once_and_reach_the_load(catalog, tmp_path):
    """Two writer processes (as two Airflow workers would) append their files' verdicts to the lake
    concurrently; the load, elsewhere, reads every verdict back, equal to a check made locally."""

    with fresh_databases("libcoop_lake") as (name,):  # a catalog of its own: a lake has one data path
        _checks_in_two_processes(lake_target(name), tmp_path)


def _checks_in_two_processes(catalog: str, tmp_path: Path) -> None:
    from libcoop.ingest import lake_checks
    from libcoop.ingest.drop_folder import discover
    from libcoop.ingest.staged import stage_check, staged_checks

    ws = LakeWorkspace(tmp_path / "ws", catalog)
    lake_checks.prepare(ws.lake, "parallel-run")
    files = [f.relative_path for f in discover(ws.paths.incoming).files]
    assert len(files) >= 10
    go = tmp_path / "go"
    writers, ready = [], []
    for n, share in enumerate((files[::2], files[1::2])):
        ready.append(tmp_path / f"ready-{n}")
        args = [ws.lake.url, ws.lake.data_path, str(ws.lake.work_dir), str(ws.raw), str(ws.paths.expectations_dir)]
        args += [str(ready[-1]), str(go), *share]
        writers.append(subprocess.Popen([sys.executable, "-c", CHECKER, *args], stderr=subprocess.PIPE, text=True))
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in ready) and time.monotonic() < deadline:
        time.sleep(0.05)
    go.touch()
    for writer in writers:
        _, errors = writer.communicate(timeout=300)
        assert writer.returncode == 0, errors[-3000:]

    discovery = discover(ws.paths.incoming)
    from_lake = staged_checks(ws.paths, "parallel-run", discovery)
    assert sorted(path for path, _ in from_lake) == sorted(files)
    assert {h for _, h in from_lake} == {f.content_hash for f in discovery.files}
    writers_seen = set(lake_checks.checked_by(ws.lake, "parallel-run").values())
    assert len(writers_seen) == 2, writers_seen  # host:pid of each process
    # the same verdicts as checks kept on local disk (the DuckDB file target)
    local = Paths(ws.raw, tmp_path / "local" / "cooperation.duckdb", ws.paths.expectations_dir)
    for drop in discovery.files:
        stage_check(local, "local-run", drop)
    for key, checked in staged_checks(local, "local-run", discovery).items():
        remote = from_lake[key]
        assert (remote.problems, remote.problem_counts, remote.warnings) == (
            checked.problems,
            checked.problem_counts,
            checked.warnings,
        ), key
        # Read when the load appends them, not before (libcoop.ingest.check.StoredRows).
        assert remote.rows is None and checked.rows is None, key
        remote_rows, local_rows = remote.read_rows(), checked.read_rows()
        assert (remote_rows is None) == (local_rows is None), key
        if local_rows is not None:
            assert remote.row_count == checked.row_count == local_rows.num_rows > 0, key
            assert remote_rows.equals(local_rows), key
    # the next run's prepare clears what this one left
    lake_checks.prepare(ws.lake, "next-run")
    assert lake_checks.read_verdicts(ws.lake, "parallel-run") == []
