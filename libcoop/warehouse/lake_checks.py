"""The per-file verdicts of a run kept in the DuckLake itself, for a DuckLake target.

The check tasks of a run fan out over Airflow workers, possibly on several hosts: each appends its
file's verdict (problems as JSON, normalized rows as Parquet bytes) to one lake table, in parallel
(DuckLake commits concurrent inserts into one table without a conflict), and the load, on whichever
worker it runs, reads them back. With the DuckDB file target the verdicts stay on the local disk of
the one machine (``libcoop.ingest.staged``). The table is not published: readers' marts and audit
schemas never show it, and a run clears what earlier runs left there."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import socket
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from libcoop.warehouse.lake import Lake, connect

if TYPE_CHECKING:
    from libcoop.ingest.check import StoredRows

SCHEMA = "libcoop_checks"
TABLE = f'lake."{SCHEMA}".verdicts'
DDL = f"""
create table if not exists {TABLE} (
    run_id varchar,          -- the run the check belongs to
    file_path varchar,       -- relative to raw/incoming
    content_hash varchar,    -- sha256 of the bytes checked
    verdict varchar,         -- JSON: problems, problem counts, warnings
    row_count bigint,        -- normalized rows of an accepted file
    rows_parquet blob,       -- those rows, as one Parquet file
    checked_by varchar,      -- host:pid of the worker that checked it
    checked_at timestamp with time zone
)
"""


def prepare(lake: Lake, run_id: str) -> None:
    """Before the checks fan out (one task, so no two writers create the table at once): the
    table exists, and holds nothing of other runs."""
    with connect(lake) as con:
        con.execute(f'create schema if not exists lake."{SCHEMA}"')
        con.execute(DDL)
        con.execute(f"delete from {TABLE} where run_id <> ?", [run_id])


def _parquet(rows: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(rows, sink)
    return sink.getvalue()


def write_verdict(lake: Lake, run_id: str, verdict: dict[str, Any], rows: pa.Table | None) -> None:
    """One check task's verdict, appended in its own DuckLake transaction."""
    with connect(lake) as con:
        con.execute(
            f"insert into {TABLE} values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                verdict["file"],
                verdict["hash"],
                json.dumps(verdict),
                rows.num_rows if rows is not None else None,
                _parquet(rows) if rows is not None else None,
                f"{socket.gethostname()}:{os.getpid()}",
                dt.datetime.now(dt.UTC),
            ],
        )


def read_verdicts(lake: Lake, run_id: str) -> list[tuple[dict[str, Any], StoredRows | None]]:
    """The verdicts of ``run_id`` (the latest per file and content), with their rows (as Parquet
    bytes, read into a table when the load appends them)."""
    from libcoop.ingest.staged import parquet_rows

    with connect(lake, read_only=True) as con:
        if not con.execute(
            "select 1 from duckdb_tables() where database_name = 'lake' and schema_name = ? "
            "and table_name = 'verdicts'",
            [SCHEMA],
        ).fetchall():
            return []
        found = con.execute(
            f"select verdict, rows_parquet from {TABLE} where run_id = ? "
            "qualify row_number() over (partition by file_path, content_hash order by checked_at desc) = 1 "
            "order by file_path",
            [run_id],
        ).fetchall()
    return [(json.loads(verdict), parquet_rows(bytes(rows)) if rows is not None else None) for verdict, rows in found]


def checked_by(lake: Lake, run_id: str) -> dict[str, str]:
    """Which worker (host:pid) checked each file of ``run_id``: what an engineer asks when one
    worker misbehaves."""
    with connect(lake, read_only=True) as con:
        return dict(con.execute(f"select file_path, checked_by from {TABLE} where run_id = ?", [run_id]).fetchall())
