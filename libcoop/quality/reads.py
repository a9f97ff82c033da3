"""What each suite reads: the dataframe of its relation, with the helper columns its checks need."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
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
    CURRENCY_TOTAL_MISMATCH,
    FACT_SUITES,
    MARTS_SUITE_PREFIX,
    ORGANIZATION_COUNT_MISMATCH,
    UNTRACED_ROW,
    marts_dimension_suite,
    raw_total_parameter,
)
from libcoop.quality.results import EARLIEST_PLAUSIBLE_DATE, RunFile
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
    return lambda _con: f"select * from marts.{table}"


def _fact_query(table: str) -> Callable[[duckdb.DuckDBPyConnection], str]:
    def query(con: duckdb.DuckDBPyConnection) -> str:
        kinds, _ = _FACT_SOURCES[table]
        raw_rows = " union all ".join(f"select file_path, source_row_number from raw.current_{k}" for k in kinds)
        helpers = [
            # Reconciliation through the lineage: the fact row's file and row, when raw does not hold them.
            f"case when not exists (select 1 from ({raw_rows}) as r where r.file_path = f.file_path "
            "and r.source_row_number = f.source_row_number) "
            f"then concat(f.file_path, ' row ', f.source_row_number) end as {UNTRACED_ROW}",
            # The coordinator's folder: which country's file a failing row comes from.
            "upper(split_part(f.file_path, '/', 1)) as reporting_country",
        ]
        if table in _FACT_START_DAYS:
            date_key, day = _FACT_START_DAYS[table]
            helpers.append(
                f"(select cast(max(d.date_day) as date) from marts.dim_date as d where d.date_key = f.{date_key}) "
                f"as {day}"
            )
        if table == "fct_donation":
            has_rate = _has_fx_rate_sql(con)
            helpers.append(f"{has_rate} as has_fx_rate")
            start_year = "(select max(d.year) from marts.dim_date as d where d.date_key = f.start_date_key)"
            helpers.append(
                f"case when not ({has_rate}) then concat(f.currency, ' in ', {start_year}) end as missing_fx_rate"
            )
            helpers.append(_CURRENCY_TOTALS)
        if table == "fct_membership":
            helpers.append(_ORGANIZATION_COUNTS)
        return f"select f.*, {', '.join(helpers)} from marts.{table} as f"

    return query


# The amounts of the row's currency in the marts and in raw, when they differ (beyond rounding).
_CURRENCY_TOTALS = f"""
case when f.amount is not null then (
    select case when abs(m.total - coalesce(r.total, 0)) > 1e-9 * greatest(1, abs(coalesce(r.total, 0)))
        then concat(f.currency, ': ', m.total, ' in the marts, ', coalesce(r.total, 0), ' in raw') end
    from (select sum(g.amount) as total from marts.fct_donation as g where g.currency = f.currency) as m,
        (select sum(d.amount) as total from raw.current_donations as d where d.currency = f.currency) as r
) end as {CURRENCY_TOTAL_MISMATCH}"""

# The memberships of the row's organization in the marts, and in raw the rows whose organization is
# written as one of the names the marts resolved to it (found through the lineage), when they differ.
_ORGANIZATION_COUNTS = f"""
(
    select case when m.n <> r.n then concat(
        coalesce((select max(o.acronym) from marts.dim_organization as o
            where o.organization_key = f.organization_key), f.organization_key),
        ': ', m.n, ' in the marts, ', r.n, ' in raw') end
    from (select count(*) as n from marts.fct_membership as g where g.organization_key = f.organization_key) as m,
        (select count(*) as n from raw.current_memberships as d where d.organization in (
            select t.organization from raw.current_memberships as t inner join marts.fct_membership as g
                on g.file_path = t.file_path and g.source_row_number = t.source_row_number
            where g.organization_key = f.organization_key)) as r
) as {ORGANIZATION_COUNT_MISMATCH}"""


def _has_fx_rate_sql(con: duckdb.DuckDBPyConnection) -> str:
    """Whether a yearly rate is known for a donation's currency and start year (NULL without an amount)."""
    if "is_missing_fx_rate" in _columns_of(con, "marts", "fct_donation"):
        return "case when f.amount is not null then not f.is_missing_fx_rate end"
    if "usd_per_unit" in _columns_of(con, "ref", "fx_rates_yearly"):
        return (
            "case when f.amount is not null then exists (select 1 from ref.fx_rates_yearly as r "
            "inner join marts.dim_date as d on d.date_key = f.start_date_key "
            "where r.currency = f.currency and r.year = year(d.date_day)) end"
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

    The date bounds are midnight UTC, as the dates of the frames validated (validation._read_frame)."""
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
