"""The data-quality history of the runs whose build was not published.

``audit.dq_results`` (and ``audit.runs``) live in the warehouse, and a run whose critical checks
fail has its build discarded: without help, the results people most need to chart would never
reach the published warehouse. So a blocked run keeps its rows beside the warehouse, as Parquet
files under ``warehouse/.pending_audit/`` (``keep_pending``); the next run that publishes folds
them into its build first (``fold_pending``), and once the published warehouse holds them the
files are deleted (``clear_pending``).

Folding is idempotent (a run already present in a table is skipped), so a retried task, or a
publication that fails after the fold, never loses or doubles a row: the files stay until the
published warehouse holds their rows.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

PENDING_DIRNAME = ".pending_audit"
# The audit tables whose rows a blocked run keeps, and the suffix of their files.
TABLES = ("dq_results", "runs")

# The same table as libcoop.pipeline.record_run creates (kept in step with it).
RUNS_DDL = (
    "create table if not exists audit.runs (run_id varchar, started_at timestamptz, finished_at timestamptz, "
    "status varchar, files varchar, mart_rows varchar, quality varchar, message varchar)"
)


def pending_dir(warehouse: Path) -> Path:
    """Where blocked runs leave their audit rows: ``.pending_audit/`` beside the warehouse file."""
    return warehouse.parent / PENDING_DIRNAME


def _file_stem(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", run_id)


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


def _arrow(relation: duckdb.DuckDBPyRelation):  # type: ignore[no-untyped-def]
    """The rows of a relation as an Arrow table (``arrow()`` before DuckDB named it ``to_arrow_table()``)."""
    return relation.to_arrow_table() if hasattr(relation, "to_arrow_table") else relation.arrow()


def _write_parquet(table, path: Path) -> None:  # type: ignore[no-untyped-def]
    """Write an Arrow table to ``path`` whole or not at all (a temporary name, then a rename)."""
    import pyarrow.parquet as pq

    partial = path.with_name(path.name + ".tmp")
    pq.write_table(table, partial)
    partial.replace(path)


def keep_pending(
    build: Path,
    pending: Path,
    run_id: str,
    *,
    started_at: dt.datetime | None = None,
    files: Mapping[str, int] | None = None,
    quality: str | None = None,
    message: str | None = None,
) -> list[Path]:
    """Save the audit rows of ``run_id`` from its ``build`` before the build is discarded.

    Writes ``<pending>/<run_id>.dq_results.parquet`` (its rows of audit.dq_results, when the build
    has them) and ``<pending>/<run_id>.runs.parquet`` (one audit.runs row: ``status``, the files
    and the quality summary, and the row counts the marts of the build had; status blocked). Saving the same run
    again replaces its files. Returns the files written.
    """
    pending.mkdir(parents=True, exist_ok=True)
    stem = _file_stem(run_id)
    written = []
    with duckdb.connect(str(build), read_only=True) as con:
        if _has_table(con, "audit", "dq_results"):
            rows = _arrow(con.sql("select * from audit.dq_results where run_id = ?", params=[run_id]))
            path = pending / f"{stem}.dq_results.parquet"
            _write_parquet(rows, path)
            written.append(path)
        mart_rows = {
            name: con.execute(f'select count(*) from marts."{name}"').fetchall()[0][0]
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by table_name"
            ).fetchall()
        }
    with duckdb.connect() as scratch:
        scratch.execute("set timezone = 'UTC'")
        run_row = _arrow(
            scratch.sql(
                "select ?::varchar as run_id, ?::timestamptz as started_at, ?::timestamptz as finished_at, "
                "?::varchar as status, ?::varchar as files, ?::varchar as mart_rows, ?::varchar as quality, "
                "?::varchar as message",
                params=[
                    run_id,
                    started_at,
                    dt.datetime.now(dt.UTC),
                    "blocked",
                    json.dumps(dict(files or {})),
                    json.dumps(mart_rows),
                    quality,
                    message,
                ],
            )
        )
    path = pending / f"{stem}.runs.parquet"
    _write_parquet(run_row, path)
    written.append(path)
    log.info("kept the audit rows of blocked run %s in %s", run_id, pending)
    return written


def _pending_files(pending: Path) -> list[tuple[str, Path]]:
    """(table, file) for every pending file, oldest first."""
    if not pending.is_dir():
        return []
    found = []
    for table in TABLES:
        found += [(table, path) for path in pending.glob(f"*.{table}.parquet")]
    return sorted(found, key=lambda item: (item[1].stat().st_mtime, item[1].name))


def fold_pending(con: duckdb.DuckDBPyConnection, pending: Path) -> int:
    """Append the rows of every pending file to audit.dq_results / audit.runs of ``con`` (a build).

    A run already present in a table is skipped, so folding twice changes nothing. The files are
    left in place: ``clear_pending`` deletes them once the published warehouse holds their rows.
    Returns the number of rows added.
    """
    import pyarrow.parquet as pq

    from libcoop.quality import ensure_dq_results_table

    files = _pending_files(pending)
    if not files:
        return 0
    ensure_dq_results_table(con)
    con.execute(RUNS_DDL)
    added = 0
    con.begin()
    try:
        for table, path in files:
            rows = pq.read_table(path)
            if rows.num_rows == 0:
                continue
            before = con.execute(f"select count(*) from audit.{table}").fetchall()[0][0]
            con.register("pending_rows", rows)
            try:
                con.execute(
                    f"insert into audit.{table} by name select * from pending_rows "
                    f"where run_id not in (select run_id from audit.{table} where run_id is not null)"
                )
            finally:
                con.unregister("pending_rows")
            added += con.execute(f"select count(*) from audit.{table}").fetchall()[0][0] - before
        con.commit()
    except BaseException:
        con.rollback()
        raise
    if added:
        log.info("folded %d audit rows of runs that were not published", added)
    return added


def clear_pending(pending: Path, warehouse: Path) -> int:
    """Delete the pending files whose rows the (published) ``warehouse`` holds; return how many."""
    import pyarrow.parquet as pq

    files = _pending_files(pending)
    if not files or not warehouse.exists():
        return 0
    deleted = 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table, path in files:
            run_ids = {r for r in pq.read_table(path, columns=["run_id"]).column("run_id").to_pylist() if r}
            if run_ids and not _has_table(con, "audit", table):
                continue
            present = (
                {
                    r
                    for (r,) in con.execute(
                        f"select distinct run_id from audit.{table} where run_id in (select unnest(?::varchar[]))",
                        [sorted(run_ids)],
                    ).fetchall()
                }
                if run_ids
                else set()
            )
            if run_ids <= present:
                path.unlink(missing_ok=True)
                deleted += 1
    return deleted
