"""The summaries of the large facts by file version: made again for the files whose rows changed,
carried forward for the others.

A fact's suite validates its summary (libcoop.quality.reads: per file, one row for the rows with
nothing to report, one row for each flagged row). For a fact whose checks all look at one file's
rows (``reads.WHOLE_TABLE_CHECKS`` lists the others), a file's summary rows depend on that file's
rows only: its rows in the fact, the days of their dates, and its rows in raw. Each file then gets
a key made of all of these (the count and a checksum of its fact rows with their days, the
content hashes of its raw rows) and of the summary's SQL; the rows of a file whose key is the one
kept in ``audit.dq_fact_summary_<fact>`` are carried forward, and only the others are added up
again. On a night when one file of many changed, the validation of a fact then reads that file's
rows, not the whole fact. ``audit.record_results`` keeps the summaries of the build.

A flagged row stays flagged when carried (a day after the validation's day is flagged; that day
only moves forward), so the rows GX judges one by one are still a superset of the failures.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import duckdb

from libcoop.quality.marts_suites import _FACT_SOURCES, _FACT_START_DAYS
from libcoop.quality.reads import WHOLE_TABLE_CHECKS, _columns_of, _quote, fact_summary_sql, fact_totals

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

# The facts summarized by file version.
BY_FILE_VERSION = tuple(table for table in _FACT_SOURCES if table not in WHOLE_TABLE_CHECKS)
# The column of a kept summary row holding its file's key (never shown to GX).
FILE_KEY = "file_key"


def kept_table(table: str) -> str:
    """Where the build keeps the summary of the fact ``table``."""
    return f"dq_fact_summary_{table}"


def _file_keys_sql(con: duckdb.DuckDBPyConnection, table: str, summary_sql: str) -> str | None:
    """Per file of the fact: its key (see the module; ``summary_sql``: the SQL of the fact's whole
    summary). None when raw has no content hashes."""
    kinds, _ = _FACT_SOURCES[table]
    if any("content_hash" not in _columns_of(con, "raw", f"current_{kind}") for kind in kinds):
        return None
    checked = ["f.source_row_number", *(f"f.{_quote(c)}" for c in fact_totals(table))]
    joins = ""
    ctes = []
    if table in _FACT_START_DAYS:
        date_key, _day = _FACT_START_DAYS[table]
        ctes.append(
            "days as (select date_key, cast(max(date_day) as date) as day from marts.dim_date group by date_key)"
        )
        joins = f"left join days as d on d.date_key = f.{date_key}"
        checked.append("d.day")
    raw = " union all ".join(f"select file_path, content_hash from raw.current_{kind}" for kind in kinds)
    ctes += [
        f"raw_versions as (select file_path, string_agg(distinct content_hash, ',' order by content_hash) as hashes "
        f"from ({raw}) group by file_path)",
        f"fact_files as (select f.file_path, count(*) as n, sum(hash({', '.join(checked)})) as checksum "
        f"from marts.{table} as f {joins} where f.file_path is not null group by f.file_path)",
    ]
    digest = hashlib.sha256(summary_sql.encode()).hexdigest()
    return (
        f"with {', '.join(ctes)} select x.file_path, concat('{digest}', ':', x.n, ':', x.checksum, ':', "
        "coalesce(r.hashes, '')) from fact_files as x left join raw_versions as r using (file_path)"
    )


def summarize(con: duckdb.DuckDBPyConnection, table: str) -> pa.Table:
    """The summary of the fact ``table`` with each row's file key (``FILE_KEY``): the kept rows of the
    files whose key is unchanged, and the rows of the others (and of no file) added up again."""
    whole = fact_summary_sql(con, table)
    keys_sql = _file_keys_sql(con, table, whole)
    keys = dict(con.execute(keys_sql).fetchall()) if keys_sql else {}
    con.execute("create or replace temporary table file_keys (file_path varchar, file_key varchar)")
    try:
        if keys:
            con.executemany("insert into file_keys values (?, ?)", list(keys.items()))
        kept = kept_table(table)
        columns = con.sql(f"select * from ({whole}) limit 0").columns
        same: set[str] = set()
        carried = ""
        if keys and _columns_of(con, "audit", kept) == {*columns, FILE_KEY}:
            same = {
                path
                for (path,) in con.execute(
                    f"select distinct file_path from audit.{kept} inner join file_keys using (file_path, {FILE_KEY})"
                ).fetchall()
            }
            carried = f"select k.* from audit.{kept} as k inner join file_keys using (file_path, {FILE_KEY})"
            carried += " union all by name "
        # Nothing carried (the first validation, other code, a build whose raw has no content
        # hashes): every row is added up again, without naming the files.
        again = sorted(set(keys) - same) if same else None
        log.info("%s: the summaries of %d files carried forward, the others added up again", table, len(same))
        rows = fact_summary_sql(con, table, again)
        fresh = f"select s.*, k.{FILE_KEY} from ({rows}) as s left join file_keys as k using (file_path)"
        return con.sql(
            f"select * from ({carried}{fresh}) order by file_path nulls first, source_row_number nulls first"
        ).to_arrow_table()
    finally:
        con.execute("drop table if exists file_keys")


def keep_summaries(con: duckdb.DuckDBPyConnection, summaries: Mapping[str, pa.Table]) -> None:
    """Keep each fact's summary in the build behind ``con`` (replacing what it kept)."""
    con.execute("create schema if not exists audit")
    for table, summary in summaries.items():
        con.register("summary_rows", summary)
        try:
            con.execute(f"create or replace table audit.{kept_table(table)} as select * from summary_rows")
        finally:
            con.unregister("summary_rows")
