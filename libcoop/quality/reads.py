"""What each suite reads: the rows of a raw relation, with the helper columns its checks need, or
the summary of a marts table computed in DuckDB (a fact's by file, a dimension's in one row)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from libcoop.ingest.contract import KIND_COLUMNS, KINDS, PERIODS
from libcoop.ingest.reports import report_path
from libcoop.quality.marts_suites import (
    _DIMENSION_KEYS,
    _FACT_SOURCES,
    _FACT_START_DAYS,
    _FACT_TOTALS,
    AMOUNT_USD,
    CURRENCY_TOTAL_MISMATCH,
    FACT_ROWS,
    FACT_SUITES,
    MARTS_SUITE_PREFIX,
    MISSING_FX_RATE,
    ORGANIZATION_COUNT_MISMATCH,
    UNTRACED_ROW,
    marts_dimension_suite,
    raw_total_parameter,
)
from libcoop.quality.results import EARLIEST_PLAUSIBLE_DATE, MAX_PLAUSIBLE_AMOUNT, RunFile
from libcoop.quality.suites import RAW_SUITES

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite


log = logging.getLogger(__name__)

# --- what each suite reads ---------------------------------------------------------------------


@dataclass(frozen=True)
class _SuiteSpec:
    name: str
    relation: str  # what it protects; also the name of its data asset
    build: Callable[[], ExpectationSuite]
    query: Callable[[duckdb.DuckDBPyConnection], str]  # the SQL of the dataframe it validates
    kind: str | None = None  # memberships, visits, donations: a raw suite, whose rows come from coordinators' files
    # What one row is, singular and plural, for the sentences of the front page ("3 visits ...").
    noun: tuple[str, str] = ("row", "rows")
    # Its rows carry the file and row they come from (the raw layer, the facts): failures name them.
    lineage: bool = False


def _columns_of(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return {name for (name,) in rows}


def _raw_query(kind: str) -> Callable[[duckdb.DuckDBPyConnection], str]:
    def query(_con: duckdb.DuckDBPyConnection) -> str:
        if kind == "visits":  # delegations is at least 1 (the contract check rejects less)
            return (
                "select *, participants / nullif(delegations, 0) as participants_per_delegation from raw.current_visits"
            )
        return f"select * from raw.current_{kind}"

    return query


def _dimension_query(table: str) -> Callable[[duckdb.DuckDBPyConnection], str]:
    """A dimension's unknown members, counted in DuckDB: one row (its sum is the dimension's)."""

    def query(con: duckdb.DuckDBPyConnection) -> str:
        if "is_unknown_member" not in _columns_of(con, "marts", table):
            return f"select * from marts.{table} limit 0"  # GX then says which column is missing
        return f"select count(*) filter (where is_unknown_member) as is_unknown_member from marts.{table}"

    return query


def _fact_query(table: str) -> Callable[[duckdb.DuckDBPyConnection], str]:
    """The summary of a fact that its suite validates (see libcoop.quality.marts_suites), added up in
    DuckDB: per file, one row for its rows with nothing to report and one row for each flagged row
    (one a row-by-row check may fail), so the fact's rows are never all read into Python."""

    def query(con: duckdb.DuckDBPyConnection) -> str:
        return fact_summary_sql(con, table)

    return query


# The facts with a check of a whole currency or organization: a file's summary rows depend on the
# other files' rows too. The summaries of the others are made by file version
# (libcoop.quality.fact_summaries).
WHOLE_TABLE_CHECKS = {"fct_donation": CURRENCY_TOTAL_MISMATCH, "fct_membership": ORGANIZATION_COUNT_MISMATCH}


def fact_totals(table: str) -> list[str]:
    """The count columns of ``table`` its summary adds up."""
    return list(dict.fromkeys(column for column, _kind in _FACT_TOTALS[table]))


def _in_files(column: str, files: Sequence[str] | None) -> str:
    """A WHERE clause keeping the rows of ``files`` and those of no file (all rows when None)."""
    if files is None:
        return ""
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files) or "null"
    return f" where {column} in ({listed}) or {column} is null"


def fact_summary_sql(con: duckdb.DuckDBPyConnection, table: str, files: Sequence[str] | None = None) -> str:
    """The SQL of the summary of the fact ``table`` (see ``_fact_query``); of the rows of ``files``
    and of no file only, when given."""
    kinds, _ = _FACT_SOURCES[table]
    totals = fact_totals(table)
    raw_rows = " union all ".join(
        f"select file_path, source_row_number from raw.current_{k}{_in_files('file_path', files)}" for k in kinds
    )
    ctes = [f"raw_rows as ({raw_rows})"]
    # What each fact row says, and what is wrong with it (NULL when nothing is).
    row_columns = [
        "f.file_path",
        "f.source_row_number",
        *(f"f.{_quote(c)}" for c in totals),
        # A test, not a join: a row raw held twice would count twice in the sums.
        "not exists (select 1 from raw_rows as r where r.file_path = f.file_path "
        "and r.source_row_number = f.source_row_number) as untraced",
    ]
    joins = []
    # A row is flagged when a row-by-row check may fail on it: a superset of the failures (a
    # day after today, not one year after), so GX, not this query, judges every flagged row.
    flags = ["untraced"]
    texts = []  # the columns of words: each different value of a summary row's rows
    values = []  # the columns of a flagged row's own value (any value of the others: they pass)
    if table in _FACT_START_DAYS:
        date_key, day = _FACT_START_DAYS[table]
        ctes.append(
            "days as (select date_key, cast(max(date_day) as date) as day, max(year) as year "
            "from marts.dim_date group by date_key)"
        )
        joins.append(f"left join days as d on d.date_key = f.{date_key}")
        row_columns.append(f"d.day as {day}")
        values.append(day)
        flags.append(f"{day} < date '{EARLIEST_PLAUSIBLE_DATE.isoformat()}' or {day} > current_date")
    if table == "fct_donation":
        has_rate = _has_fx_rate_sql(con)
        row_columns.append(
            f"case when not ({has_rate}) then concat(f.currency, ' in ', d.year) end as {MISSING_FX_RATE}"
        )
        row_columns.append(f"f.{AMOUNT_USD}")
        values += [MISSING_FX_RATE, AMOUNT_USD]
        flags += [f"{MISSING_FX_RATE} is not null", f"{AMOUNT_USD} < 0 or {AMOUNT_USD} > {MAX_PLAUSIBLE_AMOUNT}"]
        ctes.append(_CURRENCY_TOTALS)
        joins.append("left join currencies as c on c.currency = f.currency")
        row_columns.append(f"case when f.amount is not null then c.mismatch end as {CURRENCY_TOTAL_MISMATCH}")
        texts.append(CURRENCY_TOTAL_MISMATCH)
    if table == "fct_membership":
        ctes.append(_ORGANIZATION_COUNTS)
        joins.append("left join organizations as o on o.organization_key = f.organization_key")
        row_columns.append(f"o.mismatch as {ORGANIZATION_COUNT_MISMATCH}")
        texts.append(ORGANIZATION_COUNT_MISMATCH)
    ctes.append(
        f"fact_rows as (select {', '.join(row_columns)} from marts.{table} as f {' '.join(joins)}"
        f"{_in_files('f.file_path', files)})"
    )
    flagged = " or ".join(f"coalesce({flag}, false)" for flag in flags)
    ctes.append(
        f"summary_rows as (select *, case when {flagged} then source_row_number end as flagged_row from fact_rows)"
    )
    summary = [
        "file_path",
        "flagged_row as source_row_number",
        "upper(split_part(file_path, '/', 1)) as reporting_country",
        f"count(*) as {FACT_ROWS}",
        *(f"cast(coalesce(sum({_quote(c)}), 0) as bigint) as {_quote(c)}" for c in totals),
        f"case when bool_or(untraced) then concat(coalesce(file_path, '(no file)'), ' row ', "
        f"any_value(source_row_number)) end as {UNTRACED_ROW}",
        *(f"min({column}) as {column}" for column in values),
        *(f"string_agg(distinct {text}, ', ' order by {text}) as {text}" for text in texts),
    ]
    return (
        f"with {', '.join(ctes)} select {', '.join(summary)} from summary_rows "
        "group by file_path, flagged_row order by file_path nulls first, flagged_row nulls first"
    )


# The amounts of each currency in the marts and in raw, when they differ (beyond rounding).
_CURRENCY_TOTALS = """currencies as (
    select m.currency, case when abs(m.total - coalesce(r.total, 0)) > 1e-9 * greatest(1, abs(coalesce(r.total, 0)))
        then concat(m.currency, ': ', m.total, ' in the marts, ', coalesce(r.total, 0), ' in raw') end as mismatch
    from (
        select currency, sum(amount) as total from marts.fct_donation where currency is not null group by currency
    ) as m
    left join (select currency, sum(amount) as total from raw.current_donations group by currency) as r
        on r.currency = m.currency
)"""

# The memberships of each organization in the marts, and in raw the rows whose organization is
# written as one of the names the marts resolved to it (found through the lineage), when they differ.
_ORGANIZATION_COUNTS = """organizations as (
    with in_marts as (
        select organization_key, count(*) as n from marts.fct_membership
        where organization_key is not null group by organization_key
    ),
    names as (
        select distinct g.organization_key, t.organization
        from raw.current_memberships as t inner join marts.fct_membership as g
            on g.file_path = t.file_path and g.source_row_number = t.source_row_number
    ),
    in_raw as (
        select names.organization_key, count(*) as n
        from raw.current_memberships as d inner join names on d.organization = names.organization
        group by names.organization_key
    ),
    acronyms as (select organization_key, max(acronym) as acronym from marts.dim_organization group by all)
    select m.organization_key, concat(coalesce(a.acronym, m.organization_key), ': ', m.n, ' in the marts, ',
        coalesce(r.n, 0), ' in raw') as mismatch
    from in_marts as m
    left join in_raw as r on r.organization_key = m.organization_key
    left join acronyms as a on a.organization_key = m.organization_key
    where m.n <> coalesce(r.n, 0)
)"""


def _has_fx_rate_sql(con: duckdb.DuckDBPyConnection) -> str:
    """Whether a yearly rate is known for a donation's currency and start year (NULL without an amount);
    ``f`` is the donation, ``d`` the day of its start."""
    if "is_missing_fx_rate" in _columns_of(con, "marts", "fct_donation"):
        return "case when f.amount is not null then not f.is_missing_fx_rate end"
    if "usd_per_unit" in _columns_of(con, "ref", "fx_rates_yearly"):
        return (
            "case when f.amount is not null then exists (select 1 from ref.fx_rates_yearly as r "
            "where r.currency = f.currency and r.year = year(d.day)) end"
        )
    log.warning("no is_missing_fx_rate column nor ref.fx_rates_yearly: the exchange-rate checks see no rates")
    return "case when f.amount is not null then f.amount_usd is not null end"


# (one row, several rows) of each raw kind and fact, in the suites' messages.
_NOUNS = (
    {name: kind.noun for name, kind in KINDS.items()}
    | {kind.fact_table: kind.noun for kind in KINDS.values()}
    | {"fct_cooperation_activity": ("activity", "activities")}
)


def _suite_specs() -> tuple[_SuiteSpec, ...]:
    specs = [
        _SuiteSpec(f"raw_{kind}", f"raw.current_{kind}", build, _raw_query(kind), kind, _NOUNS[kind], True)
        for kind, build in RAW_SUITES.items()
    ]
    for table in _DIMENSION_KEYS:
        specs.append(
            _SuiteSpec(
                f"{MARTS_SUITE_PREFIX}{table}",
                f"marts.{table}",
                lambda table=table: marts_dimension_suite(table),
                _dimension_query(table),
                noun=(f"row of {table}", f"rows of {table}"),
            )
        )
    for table, build in FACT_SUITES.items():
        specs.append(
            _SuiteSpec(
                f"{MARTS_SUITE_PREFIX}{table}",
                f"marts.{table}",
                build,
                _fact_query(table),
                noun=_NOUNS[table],
                lineage=True,
            )
        )
    return tuple(specs)


SUITE_NAMES = tuple(spec.name for spec in _suite_specs())


def expectation_parameters(con: duckdb.DuckDBPyConnection, today: dt.date) -> dict[str, Any]:
    """The values of the suites' $PARAMETERs for one validation of the build behind ``con``.

    The date bounds are midnight UTC, as the dates of the frames validated (batches.read_frame)."""
    import pandas as pd

    counts = {kind: con.execute(f"select count(*) from raw.current_{kind}").fetchall()[0][0] for kind in KIND_COLUMNS}
    try:
        max_date = today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        max_date = today + dt.timedelta(days=365)
    totals = {
        raw_total_parameter(column, kind): con.execute(
            f"select coalesce(sum({column}), 0) from raw.current_{kind}"
        ).fetchall()[0][0]
        for pairs in _FACT_TOTALS.values()
        for column, kind in pairs
    }
    return {
        **{name: int(value) for name, value in totals.items()},
        "earliest_plausible_date": pd.Timestamp(EARLIEST_PLAUSIBLE_DATE, tz="UTC"),
        "max_plausible_date": pd.Timestamp(max_date, tz="UTC"),
        **{f"rows_in_raw_current_{kind}": rows for kind, rows in counts.items()},
        "rows_in_raw_current_activities": sum(counts.values()),
    }


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# --- the files of a run ---------------------------------------------------------------------------


def run_files(con: duckdb.DuckDBPyConnection, run_id: str) -> tuple[RunFile, ...]:
    """The files of run ``run_id`` as loaded (audit.file_loads), with the rows of each the build holds.

    A build made without the loader of this run (a rebuild, a test) shows each file's latest outcome.
    Rows are counted in raw.current_*: an unchanged file's rows are those of its version in force, a
    rejected file's those of the earlier version that stays in use (0 when there is none).
    """
    if not _columns_of(con, "audit", "file_loads"):
        return ()
    (in_run,) = con.execute("select count(*) from audit.file_loads where load_id = ?", [run_id]).fetchone()
    latest = "qualify row_number() over (partition by file_path order by checked_at desc) = 1"
    chosen = "where load_id = ?" if in_run else latest
    counts = (
        " union all ".join(
            f"select file_path, count(*) as n from raw.current_{kind} group by file_path"
            for kind in PERIODS
            if _columns_of(con, "raw", f"current_{kind}")
        )
        or "select null::varchar as file_path, 0 as n"
    )
    rows = con.execute(
        f"with loads as (select * from audit.file_loads {chosen}), in_force as ({counts}) "
        "select l.file_path, l.country_code, l.kind, l.outcome, coalesce(sum(f.n), 0), l.problem_count, l.message "
        "from loads as l left join in_force as f on f.file_path = l.file_path "
        "group by all order by l.file_path",
        [run_id] if in_run else [],
    ).fetchall()
    files = []
    for file_path, country, kind, outcome, n, problems, message in rows:
        folder = file_path.split("/", 1)[0] if "/" in file_path else None
        has_report = outcome in ("rejected", "skipped") and folder is not None
        report = report_path(Path("raw") / "reports", file_path).as_posix() if has_report else None
        files.append(RunFile(file_path, country or folder, kind, outcome, int(n), problems, report, message))
    return tuple(files)
