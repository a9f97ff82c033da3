"""libcoop.audit on real DuckDB files: one definition of the audit tables, and a blocked
run's results kept in the audit store beside the warehouse until a published build brings them in."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from libcoop import audit
from libcoop.pipeline import RunSummary, record_run

T0 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)


def _dq_row(run_id: str, success: bool, *, expectation: str = "expect_column_values_to_be_null") -> tuple:
    return (
        run_id,
        T0,
        "marts_integrity_fct_visit",
        expectation,
        "orphan_host_institution_key",
        "critical",
        success,
        None if success else "unexpected: 0badkey",
        0 if success else 1,
        "every key is found",
    )


def _rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def published(tmp_path: Path) -> Path:
    """A published warehouse with one run's audit rows and one mart."""
    path = tmp_path / "warehouse" / "cooperation.duckdb"
    path.parent.mkdir()
    with duckdb.connect(str(path)) as con:
        audit.ensure_audit_tables(con)
        con.execute("create schema marts")
        con.execute("create table marts.fct_visit as select range as visit from range(3)")
        con.execute("insert into audit.dq_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _dq_row("run-1", True))
        record_run(con, RunSummary("run-1", "published", path, {"loaded": 1}, quality="data quality: 1 check"), T0)
    return path


def _build_from(published: Path, run_id: str, dq_rows: list[tuple], status: str | None = None) -> Path:
    """What a run does: copy the published warehouse, record its validation (and its run) in it."""
    build = published.parent / ".build" / run_id / published.name
    build.parent.mkdir(parents=True)
    shutil.copyfile(published, build)
    with duckdb.connect(str(build)) as con:
        if dq_rows:
            con.executemany("insert into audit.dq_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", dq_rows)
        if status:
            summary = RunSummary(
                run_id,
                status,
                published,
                {"loaded": 1},
                {"fct_visit": 3},
                "data quality: 2 checks, 1 critical failure",
                "blocked",
            )
            record_run(con, summary, T0)
    return build


def test_every_audit_table_has_one_definition(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        audit.ensure_audit_tables(con)
        audit.ensure_audit_tables(con)  # again: nothing changes
        tables = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'audit' order by table_name"
        ).fetchall()
    assert tables == [
        ("build_fingerprints",),
        ("dq_file_results",),
        ("dq_results",),
        ("file_loads",),
        ("file_rejections",),
        ("monitor_findings",),
        ("runs",),
    ]


def test_the_store_is_beside_the_warehouse(published: Path) -> None:
    assert audit.audit_store(published) == published.parent / "cooperation.audit.duckdb"


def test_a_blocked_run_reaches_the_next_published_warehouse(published: Path) -> None:
    store = audit.audit_store(published)
    blocked = _build_from(
        published, "run-2", [_dq_row("run-2", False), _dq_row("run-2", True, expectation="x")], "blocked"
    )

    audit.keep_run(store, blocked, "run-2")
    audit.keep_run(store, blocked, "run-2")  # a retried task: the same rows, once
    shutil.rmtree(blocked.parent)  # what publish_step does with a blocked build

    # The published warehouse is untouched by the blocked run, and knows it is behind the store.
    assert _rows(published, "select distinct run_id from audit.dq_results") == [("run-1",)]
    assert audit.runs_not_published(store, published) == ["run-2"]
    assert _rows(store, "select run_id, count(*) from audit.dq_results group by all") == [("run-2", 2)]

    # The next run brings the kept rows into its build, then publishes it.
    build = _build_from(published, "run-3", [_dq_row("run-3", True)])
    with duckdb.connect(str(build)) as con:
        assert audit.bring_in(con, store) == 3  # two dq rows, one run row
        assert audit.bring_in(con, store) == 0  # a retried task adds nothing
    build.replace(published)

    assert audit.runs_not_published(store, published) == []
    assert _rows(
        published,
        "select run_id, count(*), count(*) filter (not success) from audit.dq_results group by all order by 1",
    ) == [
        ("run-1", 1, 0),
        ("run-2", 2, 1),
        ("run-3", 1, 0),
    ]
    ((status, files, mart_rows, quality, message, started_at),) = _rows(
        published,
        "select status, files, mart_rows, quality, message, started_at from audit.runs where run_id = 'run-2'",
    )
    assert (status, files, mart_rows, message) == ("blocked", '{"loaded": 1}', '{"fct_visit": 3}', "blocked")
    assert quality.endswith("1 critical failure")
    assert started_at == T0


def test_bringing_in_skips_runs_already_published(published: Path) -> None:
    store = audit.audit_store(published)
    audit.keep_run(store, _build_from(published, "run-2", [_dq_row("run-2", False)], "blocked"), "run-2")
    # A publication that failed after bringing the rows in, then a new run: the rows come again, once.
    for run_id in ("run-3", "run-4"):
        build = _build_from(published, run_id, [])
        with duckdb.connect(str(build)) as con:
            assert audit.bring_in(con, store) == 2
        if run_id == "run-4":
            build.replace(published)
    with duckdb.connect(str(published)) as con:  # and once more on the published file itself
        assert audit.bring_in(con, store) == 0

    assert _rows(published, "select count(*) from audit.dq_results where run_id = 'run-2'") == [(1,)]
    assert _rows(published, "select count(*) from audit.runs where run_id = 'run-2'") == [(1,)]


def test_a_build_without_results_keeps_its_run_row(tmp_path: Path) -> None:
    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as con:
        record_run(con, RunSummary("run-9", "blocked", build, message="validation never ran"), T0)
    store = tmp_path / "w.audit.duckdb"
    audit.keep_run(store, build, "run-9")

    with duckdb.connect(str(tmp_path / "next.duckdb")) as con:
        assert audit.bring_in(con, store) == 1
        assert con.execute("select run_id, status, message from audit.runs").fetchall() == [
            ("run-9", "blocked", "validation never ran")
        ]
        assert con.execute("select count(*) from audit.dq_results").fetchone() == (0,)


def test_no_store_is_a_no_op(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert audit.bring_in(con, tmp_path / "w.audit.duckdb") == 0
    assert audit.runs_not_published(tmp_path / "w.audit.duckdb", tmp_path / "w.duckdb") == []
