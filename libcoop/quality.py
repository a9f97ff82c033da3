"""Data quality: the Great Expectations suites that say what "good data" means, run on a build.

The suites are written here as code, one function per suite, and registered into the file data
context under ``expectations/`` (its ``gx/`` folder is committed; ``gx/uncommitted/``, with the
validation results and the Data Docs site, is not). Every expectation carries its severity in
``meta``: a failed ``critical`` expectation blocks the publication of the build, a failed
``warning`` is reported (run log, Data Docs, ``audit.dq_results``) and the build is published.

Great Expectations reads DuckDB through pandas dataframes: its SQL datasource over duckdb-engine
returns no rows for its metric queries. Each suite's relation is read from the build opened
read-only, with the helper columns the checks need (orphan keys, the day of a date key...)
computed by DuckDB, and validated as a whole-dataframe batch. Values that change from run to
run (today's date, the row counts of the raw layer) are suite parameters (``$PARAMETER``), so
the committed suites stay byte-identical from one run to the next.

``great_expectations`` is imported inside the functions that need it: it takes seconds, and the
command line and the DAG file must stay fast to load.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import duckdb

from libcoop.contract import ACTIVITY_TYPES, DONATION_TYPES, DONOR_TYPES

# Never phone home: Great Expectations reads this when it sets up analytics (the context file says
# analytics_enabled: false too).
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations import ExpectationSuite, ValidationDefinition
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.data_context import FileDataContext
    from great_expectations.expectations import Expectation

log = logging.getLogger(__name__)

CRITICAL = "critical"
WARNING = "warning"

# Plausibility bounds (warnings, not rules of the contract).
EARLIEST_PLAUSIBLE_DATE = dt.date(1900, 1, 1)
MAX_PARTICIPANTS_PER_DELEGATION = 200
# The activities whose participants travel as delegations (the others count attendees).
DELEGATION_ACTIVITY_TYPES = ("mutual_visit", "delegation", "business_exchange", "staff_exchange")
MAX_PLAUSIBLE_AMOUNT = 10_000_000

DATASOURCE_NAME = "warehouse"
BATCH_DEFINITION_NAME = "whole_table"
# Expectation ids derived from their content, so the committed suites do not change from run to
# run: ``context.suites.add_or_update`` compares expectations *with* their ids, so a suite built
# from code (no ids) never matches the stored one and every expectation got a new uuid4 each run.
_ID_NAMESPACE = uuid.UUID("0b6f3f55-3c52-4d0e-9a55-6c1f1a4f5e21")

_ISO2_PATTERN = r"^[A-Z]{2}$"
_ISO4217_PATTERN = r"^[A-Z]{3}$"
_DATE_PRECISIONS = ["year", "month", "day"]


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectationOutcome:
    """The result of one expectation of one suite on one build."""

    suite: str  # e.g. "raw_visits", "marts_integrity_fct_visit"
    expectation: str  # expectation type, e.g. "expect_column_values_to_not_be_null"
    column: str | None
    severity: str  # "critical" or "warning", read from the expectation's meta
    success: bool
    observed_value: str | None
    unexpected_count: int | None
    description: str  # plain words: what is checked


@dataclass(frozen=True)
class QualityReport:
    """Every outcome of one validation of a build, and where its Data Docs are."""

    run_id: str
    outcomes: tuple[ExpectationOutcome, ...]
    data_docs_dir: Path | None
    validated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def critical_failures(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.success and o.severity != WARNING)

    @property
    def warnings(self) -> tuple[ExpectationOutcome, ...]:
        """Failed expectations of warning severity."""
        return tuple(o for o in self.outcomes if not o.success and o.severity == WARNING)

    @property
    def passed(self) -> bool:
        """True when no critical expectation failed: the build may be published."""
        return not self.critical_failures

    def summary(self) -> str:
        return (
            f"data quality: {_count(len(self.outcomes), 'check')}, "
            f"{_count(len(self.critical_failures), 'critical failure')}, "
            f"{_count(len(self.warnings), 'warning')}"
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# --- how each expectation is declared ---------------------------------------------------------


def _critical(description: str) -> dict[str, Any]:
    """Keyword arguments of a critical expectation: a failure blocks the publication."""
    return {
        "severity": CRITICAL,
        "meta": {"severity": CRITICAL},
        "description": description,
        "notes": "Critical: a failure blocks the publication of the build.",
    }


def _warning(description: str) -> dict[str, Any]:
    """Keyword arguments of a warning: reported, the build is still published."""
    return {
        "severity": WARNING,
        "meta": {"severity": WARNING},
        "description": description,
        "notes": "Warning: a failure is reported; the build is still published.",
    }


def _suite(name: str, protects: str, expectations: Iterable[Expectation]) -> ExpectationSuite:
    """An ExpectationSuite whose expectation ids depend only on their content (see _ID_NAMESPACE)."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(
        name=name,
        expectations=list(expectations),
        notes=f"Protects {protects}. Defined in libcoop/quality.py: edit it there, not here.",
    )
    # Set after construction: a suite refuses expectations that already have an id.
    for expectation in suite.expectations:
        content = expectation.dict(exclude={"id", "rendered_content"})
        fingerprint = json.dumps(content, sort_keys=True, default=str)
        expectation.id = str(uuid.uuid5(_ID_NAMESPACE, f"{name}|{fingerprint}"))
    return suite


def _plausible_date(column: str, label: str | None = None) -> Expectation:
    import great_expectations.expectations as gxe

    return gxe.ExpectColumnValuesToBeBetween(
        column=column,
        min_value=EARLIEST_PLAUSIBLE_DATE,
        max_value={"$PARAMETER": "max_plausible_date"},
        **_warning(f"{label or column} lies between {EARLIEST_PLAUSIBLE_DATE} and one year from today"),
    )


def _required(columns: Iterable[str], what: str) -> list[Expectation]:
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToNotBeNull(column=column, **_critical(f"{column} is given for every {what}"))
        for column in columns
    ]


def _country_codes(columns: Iterable[str]) -> list[Expectation]:
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToMatchRegex(
            column=column, regex=_ISO2_PATTERN, **_critical(f"{column} is an ISO 3166 alpha-2 code such as VN")
        )
        for column in columns
    ]


def _period(start: str, end: str) -> list[Expectation]:
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=end,
            column_B=start,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            **_critical(f"{end} is not before {start} (when both are given)"),
        ),
        *(
            gxe.ExpectColumnValuesToBeInSet(
                column=f"{column}_precision",
                value_set=_DATE_PRECISIONS,
                **_critical(f"the precision of {column} is year, month or day"),
            )
            for column in (start, end)
        ),
    ]


def _one_row_per_source_row(what: str) -> Expectation:
    import great_expectations.expectations as gxe

    return gxe.ExpectCompoundColumnsToBeUnique(
        column_list=["file_path", "source_row_number"],
        **_critical(f"each row of a current file version is loaded once as a {what}"),
    )


# --- the raw layer ------------------------------------------------------------------------------


def raw_memberships_suite() -> ExpectationSuite:
    """raw.current_memberships: the memberships of the file versions in force."""
    return _suite(
        "raw_memberships",
        "raw.current_memberships",
        [
            *_required(["institution", "country", "organization", "joined"], "membership"),
            *_country_codes(["country"]),
            *_period("joined", "left"),
            _plausible_date("joined"),
            _plausible_date("left"),
            _one_row_per_source_row("membership"),
        ],
    )


def raw_visits_suite() -> ExpectationSuite:
    """raw.current_visits: the visits and exchanges of the file versions in force."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    return _suite(
        "raw_visits",
        "raw.current_visits",
        [
            *_required(["activity_type", "start_date", "end_date", "delegations"], "visit"),
            gxe.ExpectColumnValuesToBeInSet(
                column="activity_type",
                value_set=list(ACTIVITY_TYPES),
                **_critical("activity_type is one of the contract's activity types"),
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="host_institution",
                row_condition=Column("guest_institution").is_null(),
                **_critical("every visit names a host_institution or a guest_institution (or both)"),
            ),
            *(
                gxe.ExpectColumnValuesToNotBeNull(
                    column=f"{side}_country",
                    row_condition=Column(f"{side}_institution").is_not_null(),
                    **_critical(f"{side}_country is given whenever {side}_institution is"),
                )
                for side in ("host", "guest")
            ),
            *_country_codes(["host_country", "guest_country"]),
            gxe.ExpectColumnValuesToBeBetween(
                column="delegations", min_value=1, **_critical("delegations is a whole number of at least 1")
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="participants", min_value=0, **_critical("participants is not negative")
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="participants_per_delegation",
                max_value=MAX_PARTICIPANTS_PER_DELEGATION,
                # Conferences, trainings, workshops... count their attendees, not a delegation's members.
                row_condition=Column("activity_type").is_in(DELEGATION_ACTIVITY_TYPES),
                **_warning(
                    f"a visit or exchange has at most {MAX_PARTICIPANTS_PER_DELEGATION} participants per delegation"
                ),
            ),
            *_period("start_date", "end_date"),
            _plausible_date("start_date"),
            _plausible_date("end_date"),
            _one_row_per_source_row("visit"),
        ],
    )


def raw_donations_suite() -> ExpectationSuite:
    """raw.current_donations: the gifts, grants and funded projects of the file versions in force."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    return _suite(
        "raw_donations",
        "raw.current_donations",
        [
            *_required(
                ["donor", "donor_country", "recipient_institution", "recipient_country", "donation_type", "start_date"],
                "donation",
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="donation_type",
                value_set=list(DONATION_TYPES),
                **_critical("donation_type is one of the contract's donation types"),
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="donor_type",
                value_set=list(DONOR_TYPES),
                **_warning("donor_type, when given, is one of the contract's donor types"),
            ),
            *_country_codes(["donor_country", "recipient_country"]),
            gxe.ExpectColumnValuesToBeBetween(column="quantity", min_value=0, **_critical("quantity is not negative")),
            gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0, **_critical("amount is not negative")),
            gxe.ExpectColumnValuesToBeBetween(
                column="amount",
                max_value=MAX_PLAUSIBLE_AMOUNT,
                **_warning(f"a donation's amount is at most {MAX_PLAUSIBLE_AMOUNT:,} (in its own currency)"),
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="currency",
                row_condition=Column("amount").is_not_null(),
                **_critical("every donation with an amount has a currency"),
            ),
            gxe.ExpectColumnValuesToMatchRegex(
                column="currency",
                regex=_ISO4217_PATTERN,
                **_critical("currency is a three-letter ISO 4217 code such as USD"),
            ),
            *_period("start_date", "end_date"),
            _plausible_date("start_date"),
            _plausible_date("end_date"),
            _one_row_per_source_row("donation"),
        ],
    )


# --- the marts ----------------------------------------------------------------------------------

# One suite per marts table (a Great Expectations suite validates one batch, i.e. one table), all
# named marts_integrity_<table>.
MARTS_SUITE_PREFIX = "marts_integrity_"

_DIMENSION_KEYS = {
    "dim_country": "country_key",
    "dim_institution": "institution_key",
    "dim_organization": "organization_key",
    "dim_date": "date_key",
}

# Every key of a fact (CONTRACT.md section 2) and the dimension it points to.
_FACT_REFERENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "fct_membership": (
        ("institution_key", "dim_institution"),
        ("organization_key", "dim_organization"),
        ("joined_date_key", "dim_date"),
        ("left_date_key", "dim_date"),
    ),
    "fct_visit": (
        ("host_institution_key", "dim_institution"),
        ("guest_institution_key", "dim_institution"),
        ("host_country_key", "dim_country"),
        ("guest_country_key", "dim_country"),
        ("start_date_key", "dim_date"),
        ("end_date_key", "dim_date"),
    ),
    "fct_donation": (
        ("donor_institution_key", "dim_institution"),
        ("recipient_institution_key", "dim_institution"),
        ("donor_country_key", "dim_country"),
        ("recipient_country_key", "dim_country"),
        ("start_date_key", "dim_date"),
        ("end_date_key", "dim_date"),
    ),
    "fct_cooperation_activity": (
        ("institution_key", "dim_institution"),
        ("partner_institution_key", "dim_institution"),
        ("organization_key", "dim_organization"),
        ("country_key", "dim_country"),
        ("partner_country_key", "dim_country"),
        ("date_key", "dim_date"),
    ),
}

# The date key of each fact whose day is checked for plausibility, and the helper column holding it.
_FACT_START_DAYS = {
    "fct_membership": ("joined_date_key", "joined_day"),
    "fct_visit": ("start_date_key", "start_day"),
    "fct_donation": ("start_date_key", "start_day"),
}

# Which raw rows each fact holds one row for: the name of the suite parameter with their count.
_FACT_ROW_SOURCES = {
    "fct_membership": ("rows_in_raw_current_memberships", "raw.current_memberships"),
    "fct_visit": ("rows_in_raw_current_visits", "raw.current_visits"),
    "fct_donation": ("rows_in_raw_current_donations", "raw.current_donations"),
    "fct_cooperation_activity": ("rows_in_raw_current_activities", "the three raw.current_* views together"),
}


def _orphan_column(key: str) -> str:
    return f"orphan_{key}"


def marts_dimension_suite(table: str) -> ExpectationSuite:
    """A dimension of the marts: its key is unique and never NULL."""
    import great_expectations.expectations as gxe

    key = _DIMENSION_KEYS[table]
    return _suite(
        f"{MARTS_SUITE_PREFIX}{table}",
        f"marts.{table}",
        [
            gxe.ExpectColumnValuesToNotBeNull(column=key, **_critical(f"{key} is given on every row of {table}")),
            gxe.ExpectColumnValuesToBeUnique(column=key, **_critical(f"{key} is unique in {table}")),
        ],
    )


def _fact_expectations(table: str) -> list[Expectation]:
    """What every fact must satisfy: keys given and found in their dimension, one row per raw row."""
    import great_expectations.expectations as gxe

    expectations: list[Expectation] = []
    for key, dimension in _FACT_REFERENCES[table]:
        expectations.append(
            gxe.ExpectColumnValuesToNotBeNull(
                column=key, **_critical(f"{key} is given on every row of {table} (the unknown member, never NULL)")
            )
        )
        expectations.append(
            gxe.ExpectColumnValuesToBeNull(
                column=_orphan_column(key),
                **_critical(
                    f"every {key} of {table} is found in {dimension} (the unexpected values are the orphan keys)"
                ),
            )
        )
    parameter, source = _FACT_ROW_SOURCES[table]
    expectations.append(
        gxe.ExpectTableRowCountToEqual(
            value={"$PARAMETER": parameter}, **_critical(f"{table} has as many rows as {source}")
        )
    )
    if table in _FACT_START_DAYS:
        date_key, day = _FACT_START_DAYS[table]
        expectations.append(_plausible_date(day, f"the day of {date_key} ({day})"))
    return expectations


def marts_fct_membership_suite() -> ExpectationSuite:
    return _suite(f"{MARTS_SUITE_PREFIX}fct_membership", "marts.fct_membership", _fact_expectations("fct_membership"))


def marts_fct_visit_suite() -> ExpectationSuite:
    return _suite(f"{MARTS_SUITE_PREFIX}fct_visit", "marts.fct_visit", _fact_expectations("fct_visit"))


def marts_fct_donation_suite() -> ExpectationSuite:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    amount_given = Column("amount").is_not_null()
    return _suite(
        f"{MARTS_SUITE_PREFIX}fct_donation",
        "marts.fct_donation",
        [
            *_fact_expectations("fct_donation"),
            gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0, **_critical("amount is not negative")),
            gxe.ExpectColumnValuesToNotBeNull(
                column="amount_usd",
                row_condition=amount_given & (Column("has_fx_rate") == True),  # noqa: E712 (a Condition, not a test)
                **_warning("amount_usd is filled in whenever a rate is known for the currency and start year"),
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="has_fx_rate",
                value_set=[True],
                row_condition=amount_given,
                **_warning(
                    "a yearly exchange rate is known for the currency and start year of every donation with an "
                    "amount (the others have no amount_usd)"
                ),
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="amount_usd",
                min_value=0,
                max_value=MAX_PLAUSIBLE_AMOUNT,
                **_warning(f"a donation is worth at most USD {MAX_PLAUSIBLE_AMOUNT:,}"),
            ),
        ],
    )


def marts_fct_cooperation_activity_suite() -> ExpectationSuite:
    import great_expectations.expectations as gxe

    return _suite(
        f"{MARTS_SUITE_PREFIX}fct_cooperation_activity",
        "marts.fct_cooperation_activity",
        [
            *_fact_expectations("fct_cooperation_activity"),
            gxe.ExpectColumnValuesToBeInSet(
                column="activity_family",
                value_set=["membership", "visit", "donation"],
                **_critical("activity_family is membership, visit or donation"),
            ),
        ],
    )


# --- what each suite reads ---------------------------------------------------------------------


@dataclass(frozen=True)
class _SuiteSpec:
    name: str
    relation: str  # what it protects; also the name of its data asset
    build: Callable[[], ExpectationSuite]
    query: Callable[[duckdb.DuckDBPyConnection], str]  # the SQL of the dataframe it validates


def _columns_of(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return {name for (name,) in rows}


def _raw_query(kind: str) -> Callable[[duckdb.DuckDBPyConnection], str]:
    def query(_con: duckdb.DuckDBPyConnection) -> str:
        if kind == "visits":  # participants / 0 is NULL: the delegations >= 1 check reports that row
            return (
                "select *, participants / nullif(delegations, 0) as participants_per_delegation from raw.current_visits"
            )
        return f"select * from raw.current_{kind}"

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
        _SuiteSpec("raw_memberships", "raw.current_memberships", raw_memberships_suite, _raw_query("memberships")),
        _SuiteSpec("raw_visits", "raw.current_visits", raw_visits_suite, _raw_query("visits")),
        _SuiteSpec("raw_donations", "raw.current_donations", raw_donations_suite, _raw_query("donations")),
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


# --- the file data context ------------------------------------------------------------------------


def open_context(context_dir: Path) -> FileDataContext:
    """The file data context under ``context_dir`` (created when missing), quiet and offline."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    gx_logger = logging.getLogger("great_expectations")
    if gx_logger.level == logging.NOTSET:  # its INFO lines (hundreds per run) drown the run log
        gx_logger.setLevel(logging.WARNING)
    context = gx.get_context(mode="file", project_root_dir=context_dir)
    variables = context.variables
    bars = variables.progress_bars  # a ProgressBarsConfig, or a dict once read back from the file
    quiet = bars is not None and not (bars.get("globally") if isinstance(bars, dict) else bars.globally)
    sites = variables.data_docs_sites or {}
    plain = all(not site.get("show_how_to_buttons", True) for site in sites.values())
    if variables.analytics_enabled is not False or not quiet or not plain:
        # No tqdm bars in the Airflow logs, no newsletter and tutorial links in our Data Docs.
        # Saved once into great_expectations.yml; later runs find it so and write nothing.
        variables.analytics_enabled = False
        variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        for site in sites.values():
            site["show_how_to_buttons"] = False
        variables.data_docs_sites = sites
        variables.save()
    return context


def register_suites(context: FileDataContext) -> dict[str, ValidationDefinition]:
    """Write every suite, its data asset and its validation definition into the context.

    Idempotent: when the code has not changed, the files under ``gx/`` stay byte-identical.
    """
    import great_expectations as gx
    from great_expectations.exceptions import DataContextError

    if DATASOURCE_NAME in context.data_sources.all():
        datasource = context.data_sources.get(DATASOURCE_NAME)
    else:
        datasource = context.data_sources.add_pandas(name=DATASOURCE_NAME)
    definitions = {}
    for spec in _suite_specs():
        if spec.relation in datasource.get_asset_names():
            asset = datasource.get_asset(spec.relation)
        else:
            asset = datasource.add_dataframe_asset(name=spec.relation)
        if BATCH_DEFINITION_NAME in {bd.name for bd in asset.batch_definitions}:
            batch_definition = asset.get_batch_definition(BATCH_DEFINITION_NAME)
        else:
            batch_definition = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION_NAME)
        try:
            context.suites.get(spec.name)
        except DataContextError:
            # Created first, then updated below: on creation GX draws random expectation ids, and
            # the update puts back the deterministic ones.
            context.suites.add(spec.build())
        # The ids of the suite, the definition and the data are drawn once, when first added,
        # and kept by every later add_or_update.
        definition = gx.ValidationDefinition(name=spec.name, data=batch_definition, suite=spec.build())
        definitions[spec.name] = context.validation_definitions.add_or_update(definition)
    return definitions


# --- validation ---------------------------------------------------------------------------------


def validate_warehouse(database: Path, run_id: str, context_dir: Path) -> QualityReport:
    """Run every suite on the DuckDB file ``database`` (opened read-only) and build the Data Docs.

    The suites are (re)registered in the file context under ``context_dir`` first; the validation
    results and the Data Docs site go to its ``gx/uncommitted/`` folder.
    """
    from great_expectations.core.run_identifier import RunIdentifier

    started = time.perf_counter()
    validated_at = dt.datetime.now(dt.UTC)
    context = open_context(context_dir)
    definitions = register_suites(context)
    run_identifier = RunIdentifier(run_name=run_id, run_time=validated_at)
    outcomes: list[ExpectationOutcome] = []
    with duckdb.connect(str(database), read_only=True) as con:
        parameters = expectation_parameters(con, validated_at.date())
        for spec in _suite_specs():
            frame = _read_frame(con, spec.query(con))
            result = definitions[spec.name].run(
                batch_parameters={"dataframe": frame},
                expectation_parameters=parameters,
                run_id=run_identifier,
                result_format="SUMMARY",
            )
            outcomes.extend(_outcomes(spec.name, result))
    data_docs_dir = _build_data_docs(context, run_id)
    report = QualityReport(run_id, tuple(outcomes), data_docs_dir, validated_at)
    log.info("%s (%.1f s); Data Docs: %s", report.summary(), time.perf_counter() - started, data_docs_dir)
    for outcome in report.critical_failures + report.warnings:
        log.warning(
            "%s %s: %s (%s, observed: %s)",
            outcome.severity,
            outcome.suite,
            outcome.description,
            outcome.expectation,
            outcome.observed_value,
        )
    return report


def _read_frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """The rows of ``sql`` as a dataframe whose DATE columns hold ``datetime.date`` values (or None).

    GX compares a date column with the suites' date bounds (``datetime.date``); pandas refuses to
    compare a datetime64 column with a date. DuckDB returns dates as objects when asked, except
    for a column with no value at all, which still arrives as datetime64 (NaT).
    """
    import pandas as pd

    result = con.execute(sql)
    date_columns = [column[0] for column in result.description if str(column[1]) == "DATE"]
    frame = result.df(date_as_object=True)
    for name in date_columns:
        if frame[name].dtype != object:
            frame[name] = pd.Series(
                [None if pd.isna(v) else pd.Timestamp(v).date() for v in frame[name]], index=frame.index, dtype=object
            )
    return frame


def _outcomes(suite: str, result: ExpectationSuiteValidationResult) -> list[ExpectationOutcome]:
    outcomes = []
    for expectation_result in result.results:
        config = expectation_result.expectation_config
        kwargs = config.kwargs
        column = kwargs.get("column")
        if column is None and "column_A" in kwargs:
            column = f"{kwargs['column_A']}, {kwargs['column_B']}"
        elif column is None and "column_list" in kwargs:
            column = ", ".join(kwargs["column_list"])
        details = expectation_result.result or {}
        unexpected = details.get("unexpected_count")
        outcomes.append(
            ExpectationOutcome(
                suite=suite,
                expectation=config.type,
                column=column,
                severity=_severity(config),
                success=bool(expectation_result.success),
                observed_value=_observed_value(expectation_result.exception_info, details),
                unexpected_count=None if unexpected is None else int(unexpected),
                description=config.description or config.type,
            )
        )
    return outcomes


def _severity(config: Any) -> str:
    """The severity in the expectation's meta; else Great Expectations' own field (critical by default)."""
    severity = (config.meta or {}).get("severity") or getattr(config, "severity", None) or CRITICAL
    return str(getattr(severity, "value", severity))


def _observed_value(exception_info: Any, details: dict[str, Any]) -> str | None:
    """What the check saw, in a few words: a value, the first unexpected values, or the error."""
    for info in _exception_infos(exception_info):
        if info.get("raised_exception") or info.get("exception_message"):
            return f"error: {info.get('exception_message')}"
    if "observed_value" in details:
        return str(details["observed_value"])
    count = details.get("unexpected_count") or 0
    values = [v for v in details.get("partial_unexpected_list") or [] if not _is_missing(v)]
    if values:
        shown = ", ".join(str(v) for v in values[:10])
        return f"unexpected: {shown}" + (", ..." if count > len(values[:10]) else "")
    if count:
        return f"missing on {_count(count, 'row')}"
    return None


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)  # NaN is not equal to itself


def _exception_infos(exception_info: Any) -> list[dict[str, Any]]:
    """exception_info is one {raised_exception, exception_message...} or a dict of them per metric."""
    if not isinstance(exception_info, dict):
        return []
    if "raised_exception" in exception_info or "exception_message" in exception_info:
        return [exception_info]
    return [info for info in exception_info.values() if isinstance(info, dict)]


def _build_data_docs(context: FileDataContext, run_id: str) -> Path | None:
    """Render this run's validation results and the suites; return the site's folder."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    resources: list[Any] = [
        key for key in context.validation_results_store.list_keys() if key.run_id.run_name == run_id
    ]
    resources += [ExpectationSuiteIdentifier(name=name) for name in SUITE_NAMES]
    sites = context.build_data_docs(resource_identifiers=resources)
    for url in sites.values():
        parsed = urlparse(url)
        if parsed.scheme == "file":
            return Path(unquote(parsed.path)).parent
    return None


# --- audit --------------------------------------------------------------------------------------


def record_results(con: duckdb.DuckDBPyConnection, report: QualityReport) -> None:
    """Keep the report in audit.dq_results: one row per expectation per validation.

    Recording the same run again replaces its rows, so a retried task leaves the same state.
    """
    con.execute("create schema if not exists audit")
    con.execute(
        "create table if not exists audit.dq_results ("
        "run_id varchar not null, validated_at timestamptz not null, suite varchar not null, "
        "expectation varchar not null, column_name varchar, severity varchar not null, success boolean not null, "
        "observed_value varchar, unexpected_count bigint, description varchar)"
    )
    con.execute("delete from audit.dq_results where run_id = ?", [report.run_id])
    rows = [
        (
            report.run_id,
            report.validated_at,
            o.suite,
            o.expectation,
            o.column,
            o.severity,
            o.success,
            o.observed_value,
            o.unexpected_count,
            o.description,
        )
        for o in report.outcomes
    ]
    if rows:
        con.executemany(
            "insert into audit.dq_results (run_id, validated_at, suite, expectation, column_name, severity, "
            "success, observed_value, unexpected_count, description) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
