"""What each suite reads: the dataframe of its relation, with the helper columns its checks need."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb

from libcoop.ingest.contract import (
    PERIODS,
    period_last_day_sql,
)
from libcoop.quality.suites import (
    _DIMENSION_KEYS,
    _FACT_REFERENCES,
    _FACT_START_DAYS,
    MARTS_SUITE_PREFIX,
    _last_day_column,
    _orphan_column,
    marts_dimension_suite,
    marts_fct_cooperation_activity_suite,
    marts_fct_donation_suite,
    marts_fct_membership_suite,
    marts_fct_visit_suite,
    raw_donations_suite,
    raw_memberships_suite,
    raw_visits_suite,
)

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


def _columns_of(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return {name for (name,) in rows}


def _raw_query(kind: str) -> Callable[[duckdb.DuckDBPyConnection], str]:
    def query(_con: duckdb.DuckDBPyConnection) -> str:
        _, end = PERIODS[kind]
        helpers = [f"{period_last_day_sql(_quote(end), _quote(end + '_precision'))} as {_last_day_column(end)}"]
        if kind == "visits":  # participants / 0 is NULL: the delegations >= 1 check reports that row
            helpers.append("participants / nullif(delegations, 0) as participants_per_delegation")
        return f"select *, {', '.join(helpers)} from raw.current_{kind}"

    return query


def _dimension_query(table: str) -> Callable[[duckdb.DuckDBPyConnection], str]:
    return lambda _con: f"select * from marts.{table}"


def _fact_query(table: str) -> Callable[[duckdb.DuckDBPyConnection], str]:
    def query(con: duckdb.DuckDBPyConnection) -> str:
        helpers = []
        for key, dimension in _FACT_REFERENCES[table]:
            dim_key = _DIMENSION_KEYS[dimension]
            helpers.append(
                f"case when f.{key} is not null and not exists "
                f"(select 1 from marts.{dimension} as d where d.{dim_key} = f.{key}) "
                f"then f.{key} end as {_orphan_column(key)}"
            )
        if table in _FACT_START_DAYS:
            date_key, day = _FACT_START_DAYS[table]
            helpers.append(
                f"(select cast(max(d.date_day) as date) from marts.dim_date as d where d.date_key = f.{date_key}) "
                f"as {day}"
            )
        if table == "fct_donation":
            helpers.append(f"{_has_fx_rate_sql(con)} as has_fx_rate")
        return f"select f.*, {', '.join(helpers)} from marts.{table} as f"

    return query


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


def _suite_specs() -> tuple[_SuiteSpec, ...]:
    specs = [
        _SuiteSpec(
            "raw_memberships",
            "raw.current_memberships",
            raw_memberships_suite,
            _raw_query("memberships"),
            "memberships",
        ),
        _SuiteSpec("raw_visits", "raw.current_visits", raw_visits_suite, _raw_query("visits"), "visits"),
        _SuiteSpec("raw_donations", "raw.current_donations", raw_donations_suite, _raw_query("donations"), "donations"),
    ]
    for table in _DIMENSION_KEYS:
        specs.append(
            _SuiteSpec(
                f"{MARTS_SUITE_PREFIX}{table}",
                f"marts.{table}",
                lambda table=table: marts_dimension_suite(table),
                _dimension_query(table),
            )
        )
    facts = {
        "fct_membership": marts_fct_membership_suite,
        "fct_visit": marts_fct_visit_suite,
        "fct_donation": marts_fct_donation_suite,
        "fct_cooperation_activity": marts_fct_cooperation_activity_suite,
    }
    for table, build in facts.items():
        specs.append(_SuiteSpec(f"{MARTS_SUITE_PREFIX}{table}", f"marts.{table}", build, _fact_query(table)))
    return tuple(specs)


SUITE_NAMES = tuple(spec.name for spec in _suite_specs())


def expectation_parameters(con: duckdb.DuckDBPyConnection, today: dt.date) -> dict[str, Any]:
    """The values of the suites' $PARAMETERs for one validation of the build behind ``con``."""
    counts = {
        kind: con.execute(f"select count(*) from raw.current_{kind}").fetchall()[0][0]
        for kind in ("memberships", "visits", "donations")
    }
    try:
        max_date = today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        max_date = today + dt.timedelta(days=365)
    return {
        "max_plausible_date": max_date,
        "rows_in_raw_current_memberships": counts["memberships"],
        "rows_in_raw_current_visits": counts["visits"],
        "rows_in_raw_current_donations": counts["donations"],
        "rows_in_raw_current_activities": sum(counts.values()),
    }


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
