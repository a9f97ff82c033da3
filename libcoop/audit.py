"""The audit store: every audit table's definition, and where a blocked run's results are kept.

All audit tables (schema ``audit``) are defined here and created by ``ensure_audit_tables``; the
loader, the validation, the run record and the code fingerprint write into them.

They live in each build, so BI reads ``audit.*`` from the published warehouse. A run whose
critical checks fail has its build discarded; its ``audit.runs`` row and ``audit.dq_results``
rows are first copied into a small DuckDB file beside the warehouse,
``<warehouse>.audit.duckdb`` (``keep_run``). Each build that is published copies in the rows
of every run it does not hold yet (``bring_in``), so the warehouse shows the blocked runs too.
Both copies go by run id (rows of a run already there are replaced, or skipped), so a retried
task never doubles a row and nothing needs cleaning up. Failed runs and rollbacks, which have no
build of their own, are rows of ``audit.runs`` kept there the same way (``keep_outcome``:
``status`` says ``failed`` or ``rolled back``). Runs write it one at a time: ``libcoop
run`` holds the run lock, Airflow's writing tasks share the one-slot pool ``duckdb_writer``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import duckdb

log = logging.getLogger(__name__)

# table -> its columns, in order (the inserts of libcoop.ingest.load and libcoop.pipeline rely on it)
TABLES = {
    "file_loads": (
        "load_id varchar not null, checked_at timestamptz not null, file_path varchar not null, "
        "country_code varchar, kind varchar, content_hash varchar, outcome varchar not null, "
        "row_count bigint, problem_count bigint, message varchar"
    ),
    "file_rejections": (
        "load_id varchar not null, checked_at timestamptz not null, file_path varchar not null, "
        "country_code varchar, row_number bigint, column_name varchar, value varchar, rule varchar not null, "
        "explanation varchar not null, advice varchar not null, detail varchar"
    ),
    "runs": (
        "run_id varchar, started_at timestamptz, finished_at timestamptz, status varchar, files varchar, "
        "mart_rows varchar, quality varchar, message varchar"
    ),
    "dq_results": (
        "run_id varchar not null, validated_at timestamptz not null, suite varchar not null, "
        "expectation varchar not null, column_name varchar, severity varchar not null, success boolean not null, "
        "observed_value varchar, unexpected_count bigint, description varchar"
    ),
    # The raw suites' results per file version in force (libcoop.quality.by_file), carried forward.
    "dq_file_results": (
        "file_path varchar not null, content_hash varchar not null, reporting_country varchar, "
        "suite varchar not null, expectation_id varchar not null, success boolean not null, "
        "result varchar, exception_info varchar, max_plausible_date date, run_id varchar, validated_at timestamptz"
    ),
    # The monitors' warnings of each run (libcoop.quality.monitors): freshness, volume, schema.
    "monitor_findings": (
        "run_id varchar not null, country_code varchar not null, kind varchar not null, file_path varchar, "
        "monitor varchar not null, detail varchar not null, observed double, threshold double, "
        "found_at timestamptz not null"
    ),
    "build_fingerprints": (
        "run_id varchar primary key, fingerprint varchar not null, recorded_at timestamptz default current_timestamp"
    ),
}
# The tables of a run that outlive a build that is not published.
KEPT_TABLES = ("runs", "dq_results", "monitor_findings")


def ensure_audit_tables(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> None:
    """Create schema ``audit`` and every audit table that is missing (in ``catalog``, an attached file)."""
    schema = f"{catalog}.audit" if catalog else "audit"
    con.execute(f"create schema if not exists {schema}")
    for table, columns in TABLES.items():
        con.execute(f"create table if not exists {schema}.{table} ({columns})")


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def audit_store(warehouse: Path) -> Path:
    """``warehouse/cooperation.audit.duckdb`` beside ``warehouse/cooperation.duckdb``."""
    return warehouse.with_name(f"{warehouse.stem}.audit{warehouse.suffix}")


def keep_run(store: Path, build: Path, run_id: str) -> None:
    """Copy the audit.runs and audit.dq_results rows of ``run_id`` from ``build`` into ``store``."""
    with duckdb.connect(str(store)) as con:
        ensure_audit_tables(con)
        con.execute(f"attach {_literal(build)} as build (read_only)")
        in_build = {
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where database_name = 'build' and schema_name = 'audit'"
            ).fetchall()
        }
        con.begin()
        for table in KEPT_TABLES:
            con.execute(f"delete from audit.{table} where run_id = ?", [run_id])
            if table in in_build:
                con.execute(
                    f"insert into audit.{table} by name select * from build.audit.{table} where run_id = ?", [run_id]
                )
        con.commit()
    log.info("kept the audit rows of run %s in %s", run_id, store)


def bring_in(con: duckdb.DuckDBPyConnection, store: Path) -> int:
    """Copy into the build of ``con`` the store's rows of every run the build does not hold yet;
    return how many rows were added."""
    if not store.exists():
        return 0
    ensure_audit_tables(con)
    con.execute(f"attach {_literal(store)} as audit_store (read_only)")
    try:
        added = 0
        in_store = {  # a store kept by an older version may lack a table added since
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where database_name = 'audit_store' and schema_name = 'audit'"
            ).fetchall()
        }
        for table in (t for t in KEPT_TABLES if t in in_store):
            (count,) = con.execute(
                f"insert into audit.{table} by name select * from audit_store.audit.{table} "
                f"where run_id not in (select run_id from audit.{table} where run_id is not null)"
            ).fetchone() or (0,)
            added += count
    finally:
        con.execute("detach audit_store")
    if added:
        log.info("brought in %d audit rows of runs that were not published", added)
    return added


def keep_outcome(store: Path, row: list[Any]) -> bool:
    """Keep a row of ``audit.runs`` that no build holds (a failed run, a rollback) in ``store``, in
    the order of TABLES["runs"]; the next published build brings it in. A run the store holds
    already (a blocked run) is left as it is. True when the row was added."""
    with duckdb.connect(str(store)) as con:
        ensure_audit_tables(con)
        if con.execute("select 1 from audit.runs where run_id = ?", [row[0]]).fetchall():
            return False
        con.execute("insert into audit.runs values (?, ?, ?, ?, ?, ?, ?, ?)", row)
    log.info("kept the %s row of run %s in %s", row[3], row[0], store)
    return True


def runs_not_published(store: Path, warehouse: Path) -> list[str]:
    """The blocked runs of the store that the published build (``warehouse``, or its kept copy)
    does not show yet (a new publish would bring them in: the warehouse is not the one a rerun
    would build). Failed runs and rollbacks wait for the next publish without calling for one."""
    if not store.exists():
        return []
    with duckdb.connect(str(store), read_only=True) as con:
        kept = {r for (r,) in con.execute("select run_id from audit.runs where status = 'blocked'").fetchall()}
    if not kept or not warehouse.exists():
        return sorted(kept)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        has_runs = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'audit' and table_name = 'runs'"
        ).fetchone()
        shown = {r for (r,) in con.execute("select run_id from audit.runs").fetchall()} if has_runs[0] else set()
    return sorted(kept - shown)
