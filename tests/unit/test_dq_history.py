"""libcoop.warehouse.dq_history on real DuckDB files: a blocked run's audit rows reach the next published warehouse."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from libcoop.quality import ensure_dq_results_table
from libcoop.warehouse import dq_history

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


def _warehouse(path: Path, runs: dict[str, list[tuple]]) -> Path:
    """A warehouse with audit.dq_results / audit.runs rows for ``runs`` and one mart."""
    with duckdb.connect(str(path)) as con:
        ensure_dq_results_table(con)
        con.execute(dq_history.RUNS_DDL)
        con.execute("create schema marts")
        con.execute("create table marts.fct_visit as select range as visit from range(3)")
        for run_id, rows in runs.items():
            con.executemany("insert into audit.dq_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            con.execute(
                "insert into audit.runs values (?, ?, ?, 'published', '{}', '{}', 'data quality: 1 check', null)",
                [run_id, T0, T0],
            )
    return path


def _rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def published(tmp_path: Path) -> Path:
    (tmp_path / "warehouse").mkdir()
    return _warehouse(tmp_path / "warehouse" / "cooperation.duckdb", {"run-1": [_dq_row("run-1", True)]})


def _build_from(published: Path, run_id: str, dq_rows: list[tuple]) -> Path:
    """What a run does: copy the published warehouse and record its own validation in it."""
    build = published.parent / ".build" / run_id / published.name
    build.parent.mkdir(parents=True)
    shutil.copyfile(published, build)
    if dq_rows:
        with duckdb.connect(str(build)) as con:
            con.executemany("insert into audit.dq_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", dq_rows)
    return build


def test_pending_dir_is_beside_the_warehouse(published: Path) -> None:
    assert dq_history.pending_dir(published) == published.parent / ".pending_audit"


def test_a_blocked_run_reaches_the_next_published_warehouse(published: Path) -> None:
    pending = dq_history.pending_dir(published)
    blocked = _build_from(published, "run-2", [_dq_row("run-2", False), _dq_row("run-2", True, expectation="x")])

    written = dq_history.keep_pending(
        blocked,
        pending,
        "run-2",
        started_at=T0,
        files={"loaded": 1},
        quality="data quality: 2 checks, 1 critical failure",
        message="blocked",
    )
    shutil.rmtree(blocked.parent)  # what publish_step does with a blocked build

    assert sorted(p.name for p in written) == ["run-2.dq_results.parquet", "run-2.runs.parquet"]
    assert sorted(p.name for p in pending.iterdir()) == ["run-2.dq_results.parquet", "run-2.runs.parquet"]
    # The published warehouse is untouched by the blocked run.
    assert _rows(published, "select distinct run_id from audit.dq_results") == [("run-1",)]

    # The next run folds the pending rows into its build, then publishes it.
    build = _build_from(published, "run-3", [_dq_row("run-3", True)])
    with duckdb.connect(str(build)) as con:
        assert dq_history.fold_pending(con, pending) == 3  # two dq rows, one run row
        assert dq_history.fold_pending(con, pending) == 0  # a retried task adds nothing
    assert dq_history.clear_pending(pending, published) == 0  # not published yet: the files stay
    build.replace(published)

    assert dq_history.clear_pending(pending, published) == 2
    assert list(pending.iterdir()) == []
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


def test_folding_skips_runs_already_published(published: Path) -> None:
    pending = dq_history.pending_dir(published)
    blocked = _build_from(published, "run-2", [_dq_row("run-2", False)])
    dq_history.keep_pending(blocked, pending, "run-2")
    # A publication that failed after the fold, then a new run: the rows come again, once.
    for run_id in ("run-3", "run-4"):
        build = _build_from(published, run_id, [])
        with duckdb.connect(str(build)) as con:
            assert dq_history.fold_pending(con, pending) == 2
        if run_id == "run-4":
            build.replace(published)
    with duckdb.connect(str(published)) as con:  # and once more on the published file itself
        assert dq_history.fold_pending(con, pending) == 0

    assert _rows(published, "select count(*) from audit.dq_results where run_id = 'run-2'") == [(1,)]
    assert _rows(published, "select count(*) from audit.runs where run_id = 'run-2'") == [(1,)]


def test_keeping_the_same_run_again_replaces_its_files(published: Path) -> None:
    pending = dq_history.pending_dir(published)
    blocked = _build_from(published, "run:2+00", [_dq_row("run:2+00", False)])

    first = dq_history.keep_pending(blocked, pending, "run:2+00")
    second = dq_history.keep_pending(blocked, pending, "run:2+00")

    assert first == second
    assert sorted(p.name for p in pending.iterdir()) == ["run_2_00.dq_results.parquet", "run_2_00.runs.parquet"]


def test_a_build_without_results_keeps_its_run_row(tmp_path: Path) -> None:
    build = tmp_path / "build.duckdb"
    duckdb.connect(str(build)).close()
    pending = tmp_path / ".pending_audit"

    (runs,) = dq_history.keep_pending(build, pending, "run-9", message="validation never ran")

    target = tmp_path / "next.duckdb"
    with duckdb.connect(str(target)) as con:
        assert dq_history.fold_pending(con, pending) == 1
        assert con.execute("select run_id, status, message from audit.runs").fetchall() == [
            ("run-9", "blocked", "validation never ran")
        ]
        assert con.execute("select count(*) from audit.dq_results").fetchone() == (0,)
    assert runs.name == "run-9.runs.parquet"


def test_nothing_pending_is_a_no_op(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert dq_history.fold_pending(con, tmp_path / ".pending_audit") == 0
    assert dq_history.clear_pending(tmp_path / ".pending_audit", tmp_path / "w.duckdb") == 0
