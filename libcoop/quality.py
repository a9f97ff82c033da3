"""Data quality: the Great Expectations suites that say what "good data" means, run on a build.

The suites are written here as code, one function per suite, and registered into the file data
context under ``expectations/`` (its ``gx/`` folder is committed; ``gx/uncommitted/``, with the
validation results and the Data Docs site, is not). Every expectation carries its severity in
``meta``: a failed ``critical`` expectation blocks the publication of the build, a failed
``warning`` is reported (run log, Data Docs, ``audit.dq_results``) and the build is published.
Its description ends with its severity and its check (the expectation type), so that both show
on every Data Docs page.

Great Expectations reads DuckDB through pandas dataframes: its SQL datasource needs duckdb-engine,
which the project does not ship. Each suite's relation is read from the build opened read-only,
with the helper columns the checks need (orphan keys, the day of a date key...) computed by
DuckDB, only the columns its expectations name, text as Arrow strings, and validated as a
whole-dataframe batch. Values that change from run to run (today's date, the row counts of the
raw layer) are suite parameters (``$PARAMETER``), so the committed suites stay byte-identical
from one run to the next.

What a run leaves for people to read (see ``publish_data_docs``): the Data Docs site, with the
results of the last ``KEEP_RUNS`` runs, copied to ``warehouse/data_docs/`` beside the warehouse,
and one page per reporting country (``countries/<CC>.html``): that coordinator's files, the
problems of the rejected ones, and the raw checks on that country's rows, down to the file and
row of each failure.

``great_expectations`` is imported inside the functions that need it: it takes seconds, and the
command line and the DAG file must stay fast to load.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import duckdb

from libcoop.contract import (
    ACTIVITY_TYPES,
    DATE_PRECISIONS,
    DONATION_TYPES,
    DONOR_TYPES,
    PERIODS,
    period_last_day_sql,
)
from libcoop.publish import replace_folder

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
# In USD (marts.fct_donation.amount_usd): an amount in its own currency has no useful bound.
MAX_PLAUSIBLE_AMOUNT = 10_000_000

DATASOURCE_NAME = "warehouse"
BATCH_DEFINITION_NAME = "whole_table"

# The validation results (and their Data Docs pages) of this many runs are kept; older ones are
# deleted before each run's Data Docs are built.
KEEP_RUNS = 30
# The folder, beside the warehouse file, where each run publishes the Data Docs (data_docs_target).
DATA_DOCS_DIRNAME = "data_docs"
# The lineage columns of the raw layer that say which coordinator's file and row a value is from.
RAW_ROW_COLUMNS = ("reporting_country", "file_path", "source_row_number")
# How many failing rows each check lists (per suite, and per country on the country pages).
FAILING_ROWS_SHOWN = 20
# Expectation ids derived from their content, so the committed suites do not change from run to
# run: ``context.suites.add_or_update`` compares expectations *with* their ids, so a suite built
# from code (no ids) never matches the stored one and every expectation got a new uuid4 each run.
_ID_NAMESPACE = uuid.UUID("0b6f3f55-3c52-4d0e-9a55-6c1f1a4f5e21")

_ISO2_PATTERN = r"^[A-Z]{2}$"
_ISO4217_PATTERN = r"^[A-Z]{3}$"


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
class FailingRow:
    """One row of a coordinator's file that failed a check: where it is and what it holds."""

    file_path: str | None
    row_number: int | None  # the row number the coordinator sees in Excel (header is row 1)
    value: str  # the checked value(s), e.g. "start_date=1850-01-01"


@dataclass(frozen=True)
class CountryFile:
    """The latest outcome of one file of a reporting country (audit.file_loads)."""

    file_path: str
    kind: str | None
    outcome: str  # loaded, unchanged, restored, rejected, removed, skipped
    checked_at: dt.datetime | None
    row_count: int | None
    problem_count: int | None
    message: str | None


@dataclass(frozen=True)
class CountryProblem:
    """One problem of a rejected file (audit.file_rejections)."""

    file_path: str
    row_number: int | None
    column: str | None
    value: str | None
    rule: str
    explanation: str
    advice: str


@dataclass(frozen=True)
class CountryCheck:
    """One expectation of a raw suite, checked on the rows of one reporting country."""

    outcome: ExpectationOutcome
    failing_rows: tuple[FailingRow, ...] = ()


@dataclass(frozen=True)
class CountryView:
    """What a coordinator needs to read about the files of their country after one validation."""

    country_code: str
    rows: Mapping[str, int]  # rows in force per kind (raw.current_*)
    files: tuple[CountryFile, ...]
    problems: tuple[CountryProblem, ...]  # of the files whose latest outcome is a rejection (first ones)
    checks: tuple[CountryCheck, ...]

    @property
    def failed_checks(self) -> tuple[CountryCheck, ...]:
        return tuple(c for c in self.checks if not c.outcome.success)


@dataclass(frozen=True)
class QualityReport:
    """Every outcome of one validation of a build, and where its Data Docs are."""

    run_id: str
    outcomes: tuple[ExpectationOutcome, ...]
    data_docs_dir: Path | None
    validated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    countries: tuple[CountryView, ...] = ()
    # This run's validation result page of each suite, relative to data_docs_dir.
    validation_pages: Mapping[str, str] = field(default_factory=dict)

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
        # Data Docs show an expectation's description instead of its type and parameters: say both
        # the severity and the check in it, so every page shows them.
        expectation.description = _labelled(
            expectation.description or expectation.expectation_type,
            _severity(expectation),
            expectation.expectation_type,
        )
        content = expectation.dict(exclude={"id", "rendered_content"})
        fingerprint = json.dumps(content, sort_keys=True, default=str)
        expectation.id = str(uuid.uuid5(_ID_NAMESPACE, f"{name}|{fingerprint}"))
    return suite


def _label(severity: str, expectation_type: str) -> str:
    return f" ({severity}; check: {expectation_type})"


def _labelled(description: str, severity: str, expectation_type: str) -> str:
    """The description Data Docs show: the plain words, then the severity and the check."""
    return description.removesuffix(_label(severity, expectation_type)) + _label(severity, expectation_type)


def _plain_description(description: str | None, severity: str, expectation_type: str) -> str:
    """The plain words of a description written by _labelled (what audit.dq_results keeps)."""
    return (description or expectation_type).removesuffix(_label(severity, expectation_type))


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
        # The contract compares the LAST day of the end period with the start (libcoop.contract).
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=_last_day_column(end),
            column_B=start,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            **_critical(f"the period of {end} does not end before {start} (when both are given)"),
        ),
        *(
            gxe.ExpectColumnValuesToBeInSet(
                column=f"{column}_precision",
                value_set=list(DATE_PRECISIONS),
                **_critical(f"the precision of {column} is year, month or day"),
            )
            for column in (start, end)
        ),
    ]


def _last_day_column(column: str) -> str:
    return f"{column}_last_day"


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
            # No upper bound here: an amount in its own currency says nothing (VND 10,000,000 is a
            # small gift). marts_integrity_fct_donation bounds the amount in USD.
            gxe.ExpectColumnValuesToBeBetween(column="amount", min_value=0, **_critical("amount is not negative")),
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

# Every key of a fact (docs/contract.md section 2) and the dimension it points to.
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


def validate_warehouse(database: Path, run_id: str, context_dir: Path, *, keep_runs: int = KEEP_RUNS) -> QualityReport:
    """Run every suite on the DuckDB file ``database`` (opened read-only) and build the Data Docs.

    The suites are (re)registered in the file context under ``context_dir`` first; the validation
    results and the Data Docs site go to its ``gx/uncommitted/`` folder, which keeps the results
    of the last ``keep_runs`` runs (this one included). The report also holds what each reporting
    country's page shows (``report.countries``); ``publish_data_docs`` writes them out.
    """
    from great_expectations.core.run_identifier import RunIdentifier

    started = time.perf_counter()
    validated_at = dt.datetime.now(dt.UTC)
    context = open_context(context_dir)
    definitions = register_suites(context)
    run_identifier = RunIdentifier(run_name=run_id, run_time=validated_at)
    outcomes: list[ExpectationOutcome] = []
    country_checks: dict[str, list[CountryCheck]] = {}
    country_rows: dict[str, dict[str, int]] = {}
    with duckdb.connect(str(database), read_only=True) as con:
        parameters = expectation_parameters(con, validated_at.date())
        for spec in _suite_specs():
            definition = definitions[spec.name]
            frame = _read_frame(con, spec.query(con), _columns_checked(definition.suite, spec))
            result_format = _result_format(spec, frame)
            result = definition.run(
                batch_parameters={"dataframe": frame},
                expectation_parameters=parameters,
                run_id=run_identifier,
                result_format=result_format,
            )
            suite_outcomes = _outcomes(spec.name, result)
            outcomes.extend(suite_outcomes)
            if spec.kind is not None and "reporting_country" in frame.columns:
                for country, rows in frame["reporting_country"].value_counts().items():
                    country_rows.setdefault(str(country), {})[spec.kind] = int(rows)
                by_country = _country_checks(spec, definition, frame, result, suite_outcomes, parameters, result_format)
                for country, checks in by_country.items():
                    country_checks.setdefault(country, []).extend(checks)
            _release_batches(definition)
            del frame
        countries = _country_views(con, country_rows, country_checks)
    _prune_results(context, keep_runs)
    data_docs_dir, pages = _build_data_docs(context, run_id)
    report = QualityReport(
        run_id, tuple(outcomes), data_docs_dir, validated_at, countries=countries, validation_pages=pages
    )
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


def _release_batches(definition: ValidationDefinition) -> None:
    """Let go of the dataframes validated so far: GX's execution engine keeps every batch it loads.

    Without this the memory of a run is the sum of all its suites' tables, not the largest one.
    """
    manager = definition.batch_definition.data_asset.datasource.get_execution_engine().batch_manager
    manager.reset_batch_cache()
    manager.batch_data_cache.clear()


def _columns_checked(suite: ExpectationSuite, spec: _SuiteSpec) -> set[str] | None:
    """The columns the suite's expectations name (with the row lineage of a raw suite); None: all of them."""
    columns = set(RAW_ROW_COLUMNS) if spec.kind else set()
    for expectation in suite.expectations:
        kwargs = expectation.configuration.to_json_dict().get("kwargs", {})
        if isinstance(kwargs.get("row_condition"), str):
            return None  # a condition in pandas' query language: its columns are not spelled out
        _collect_columns(kwargs, columns)
    return columns


def _collect_columns(value: Any, into: set[str]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in ("column", "column_A", "column_B") and isinstance(item, str):
                into.add(item)
            elif key == "column_list" and isinstance(item, list):
                into.update(str(c) for c in item)
            elif key == "column" and isinstance(item, Mapping) and isinstance(item.get("name"), str):
                into.add(item["name"])  # a row condition's column
            else:
                _collect_columns(item, into)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_columns(item, into)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _read_frame(con: duckdb.DuckDBPyConnection, sql: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """The rows of ``sql`` (only ``columns``, those it has, when given) as a dataframe for GX.

    Text columns are Arrow strings (a tenth of the memory of Python strings, and faster to
    filter); DATE columns hold ``datetime.date`` values or None, because GX compares them with
    the suites' date bounds (``datetime.date``) and pandas refuses to compare datetime64 with a
    date; integer and boolean columns with NULLs are pandas' nullable types, as DuckDB makes them.
    """
    import pandas as pd
    import pyarrow as pa

    available = list(con.sql(f"select * from ({sql}) limit 0").columns)
    chosen = available
    if columns is not None:
        wanted = set(columns)
        # A suite of table-level checks only still needs the rows: keep one column.
        chosen = [name for name in available if name in wanted] or available[:1]
    relation = con.sql(f"select {', '.join(_quote(name) for name in chosen)} from ({sql})")
    table = relation.to_arrow_table() if hasattr(relation, "to_arrow_table") else relation.arrow()

    def text_as_arrow(data_type: pa.DataType) -> Any:
        is_text = pa.types.is_string(data_type) or pa.types.is_large_string(data_type)
        is_text = is_text or getattr(pa.types, "is_string_view", lambda _t: False)(data_type)
        return pd.StringDtype("pyarrow") if is_text else None

    frame = table.to_pandas(types_mapper=text_as_arrow, date_as_object=True)
    for column in table.schema:
        if not table.column(column.name).null_count:
            continue
        if pa.types.is_integer(column.type):
            frame[column.name] = frame[column.name].astype("Int64")
        elif pa.types.is_boolean(column.type):
            frame[column.name] = frame[column.name].astype("boolean")
    return frame


def _result_format(spec: _SuiteSpec, frame: pd.DataFrame) -> dict[str, Any]:
    """SUMMARY results; for a raw suite, the file and row (and country) of the first failing rows too."""
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": FAILING_ROWS_SHOWN}
    row_columns = [name for name in RAW_ROW_COLUMNS if name in frame.columns]
    if spec.kind is not None and row_columns:
        result_format["unexpected_index_column_names"] = row_columns
        result_format["return_unexpected_index_query"] = False
    return result_format


def _outcomes(suite: str, result: ExpectationSuiteValidationResult) -> list[ExpectationOutcome]:
    return [_outcome(suite, expectation_result) for expectation_result in result.results]


def _outcome(suite: str, expectation_result: Any) -> ExpectationOutcome:
    config = expectation_result.expectation_config
    kwargs = config.kwargs
    column = kwargs.get("column")
    if column is None and "column_A" in kwargs:
        column = f"{kwargs['column_A']}, {kwargs['column_B']}"
    elif column is None and "column_list" in kwargs:
        column = ", ".join(kwargs["column_list"])
    details = expectation_result.result or {}
    unexpected = details.get("unexpected_count")
    severity = _severity(config)
    return ExpectationOutcome(
        suite=suite,
        expectation=config.type,
        column=column,
        severity=severity,
        success=bool(expectation_result.success),
        observed_value=_observed_value(expectation_result.exception_info, details),
        unexpected_count=None if unexpected is None else int(unexpected),
        description=_plain_description(config.description, severity, config.type),
    )


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
    # NaN is not equal to itself; pandas' NA (Arrow strings, nullable integers) has its own type.
    return value is None or (isinstance(value, float) and value != value) or type(value).__name__ == "NAType"


def _exception_infos(exception_info: Any) -> list[dict[str, Any]]:
    """exception_info is one {raised_exception, exception_message...} or a dict of them per metric."""
    if not isinstance(exception_info, dict):
        return []
    if "raised_exception" in exception_info or "exception_message" in exception_info:
        return [exception_info]
    return [info for info in exception_info.values() if isinstance(info, dict)]


def _as_text(value: Any) -> str:
    if _is_missing(value):
        return "(empty)"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _failing_rows(expectation_result: Any) -> tuple[FailingRow, ...]:
    """The file, row and value(s) of the first rows that failed (raw suites only)."""
    details = expectation_result.result or {}
    rows = []
    for entry in details.get("partial_unexpected_index_list") or []:
        if not isinstance(entry, Mapping):
            continue
        values = ", ".join(f"{k}={_as_text(v)}" for k, v in entry.items() if k not in RAW_ROW_COLUMNS)
        row_number = entry.get("source_row_number")
        rows.append(
            FailingRow(
                file_path=None if _is_missing(entry.get("file_path")) else str(entry.get("file_path")),
                row_number=None if _is_missing(row_number) else int(row_number),
                value=values,
            )
        )
    return tuple(rows)


# --- per country ----------------------------------------------------------------------------------


def _country_checks(
    spec: _SuiteSpec,
    definition: ValidationDefinition,
    frame: pd.DataFrame,
    result: ExpectationSuiteValidationResult,
    suite_outcomes: list[ExpectationOutcome],
    parameters: dict[str, Any],
    result_format: dict[str, Any],
) -> dict[str, list[CountryCheck]]:
    """The raw suite's checks on each reporting country's rows.

    Every check of a raw suite looks at rows one by one (or at uniqueness among rows), so when
    the suite passes on all rows it passes on each country's: only a suite with a failure is
    validated again, on each country's rows (not stored: these are for the country pages).
    """
    countries = sorted(str(c) for c in frame["reporting_country"].dropna().unique())
    if result.success:
        return {country: [CountryCheck(o) for o in suite_outcomes] for country in countries}
    checks: dict[str, list[CountryCheck]] = {}
    for country in countries:
        rows = frame[frame["reporting_country"] == country]
        batch = definition.batch_definition.get_batch(batch_parameters={"dataframe": rows})
        country_result = batch.validate(
            definition.suite, expectation_parameters=parameters, result_format=result_format
        )
        checks[country] = [
            CountryCheck(_outcome(spec.name, r), _failing_rows(r) if not r.success else ())
            for r in country_result.results
        ]
    return checks


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(_columns_of(con, schema, table))


def _country_views(
    con: duckdb.DuckDBPyConnection,
    country_rows: Mapping[str, Mapping[str, int]],
    country_checks: Mapping[str, list[CountryCheck]],
    problems_per_file: int = 50,
) -> tuple[CountryView, ...]:
    """One view per reporting country: its rows in force, its files' latest outcomes, their problems."""
    files: dict[str, list[CountryFile]] = {}
    problems: dict[str, list[CountryProblem]] = {}
    if _table_exists(con, "audit", "file_loads"):
        # The latest outcome of each file; the country of a skipped file (no country_code) is its folder.
        latest = (
            "with latest as (select coalesce(country_code, case when regexp_matches(file_path, '^[A-Za-z]{2}/') "
            "then upper(left(file_path, 2)) end) as country, * from audit.file_loads "
            "qualify row_number() over (partition by file_path order by checked_at desc) = 1) "
        )
        for code, *values in con.execute(
            latest + "select country, file_path, kind, outcome, checked_at, row_count, problem_count, message "
            "from latest where country is not null order by country, file_path"
        ).fetchall():
            files.setdefault(code, []).append(CountryFile(*values))
        if _table_exists(con, "audit", "file_rejections"):
            for code, *values in con.execute(
                latest + "select l.country, r.file_path, r.row_number, r.column_name, r.value, r.rule, "
                "r.explanation, r.advice from audit.file_rejections as r inner join latest as l "
                "on l.file_path = r.file_path and l.load_id = r.load_id and l.outcome = 'rejected' "
                "where l.country is not null "
                "qualify row_number() over (partition by r.file_path order by r.row_number nulls first) <= ? "
                "order by l.country, r.file_path, r.row_number nulls first",
                [problems_per_file],
            ).fetchall():
                problems.setdefault(code, []).append(CountryProblem(*values))
    codes = sorted(set(country_rows) | set(country_checks) | set(files))
    return tuple(
        CountryView(
            country_code=code,
            rows=dict(country_rows.get(code, {})),
            files=tuple(files.get(code, ())),
            problems=tuple(problems.get(code, ())),
            checks=tuple(country_checks.get(code, ())),
        )
        for code in codes
    )


# --- the Data Docs site -----------------------------------------------------------------------------


def _prune_results(context: FileDataContext, keep_runs: int) -> None:
    """Delete the validation results of all but the newest ``keep_runs`` runs (by run name).

    Building the Data Docs afterwards drops the pages of the deleted results from the site.
    """
    store = context.validation_results_store
    keys = store.list_keys()
    newest: dict[str, dt.datetime] = {}
    for key in keys:
        name, time_ = key.run_id.run_name, key.run_id.run_time
        newest[name] = max(newest[name], time_) if name in newest else time_
    kept = set(sorted(newest, key=lambda name: newest[name], reverse=True)[: max(keep_runs, 1)])
    dropped = [key for key in keys if key.run_id.run_name not in kept]
    for key in dropped:
        store.remove_key(key)
    if dropped:
        log.info("removed %d validation results of %d old runs", len(dropped), len(newest) - len(kept))


def _escape_results(value: Any) -> Any:
    """``value`` with every string HTML-escaped: GX puts the checked values into its pages as they are."""
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, Mapping):
        return {key: _escape_results(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_escape_results(item) for item in value]
    return value


def _build_data_docs(context: FileDataContext, run_id: str) -> tuple[Path | None, dict[str, str]]:
    """Render this run's validation results and the suites.

    Returns the site's folder and this run's validation result page of each suite (relative to
    the site). The values in the stored results come from coordinators' files: they are
    HTML-escaped first, since Great Expectations renders them unescaped.
    """
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    store = context.validation_results_store
    latest: dict[str, Any] = {}  # suite -> the key of its newest result of this run (a retried run has several)
    for key in store.list_keys():
        if key.run_id.run_name != run_id:
            continue
        suite = key.expectation_suite_identifier.name
        if suite not in latest or key.run_id.run_time > latest[suite].run_id.run_time:
            latest[suite] = key
    for key in latest.values():
        stored = store.get(key)
        for expectation_result in stored.results:
            expectation_result.result = _escape_results(expectation_result.result or {})
            if isinstance(expectation_result.exception_info, Mapping):
                expectation_result.exception_info = _escape_results(expectation_result.exception_info)
        store.set(key, stored)
    resources: list[Any] = list(latest.values())
    resources += [ExpectationSuiteIdentifier(name=name) for name in SUITE_NAMES]
    sites = context.build_data_docs(resource_identifiers=resources)
    site_dir = None
    for url in sites.values():
        parsed = urlparse(url)
        if parsed.scheme == "file":
            site_dir = Path(unquote(parsed.path)).parent
            break
    pages: dict[str, str] = {}
    if site_dir is not None:
        for suite, key in latest.items():
            for site in context.get_docs_sites_urls(resource_identifier=key, only_if_exists=True):
                parsed = urlparse(site.get("site_url") or "")
                page = Path(unquote(parsed.path))
                if parsed.scheme == "file" and page.is_relative_to(site_dir):
                    pages[suite] = page.relative_to(site_dir).as_posix()
                    break
    return site_dir, pages


def data_docs_target(warehouse: Path) -> Path:
    """Where a run publishes the Data Docs: ``data_docs/`` beside the warehouse file."""
    return warehouse.parent / DATA_DOCS_DIRNAME


def publish_data_docs(report: QualityReport, target_dir: Path) -> Path:
    """Put the report's Data Docs site, with a page per reporting country, in ``target_dir``.

    ``target_dir`` is usually ``data_docs_target(paths.warehouse)`` (``warehouse/data_docs/``).
    The site is copied to a temporary folder beside it, completed (a banner on the home page
    with this run's verdict, ``countries/index.html`` and ``countries/<CC>.html``), then swapped
    in with two renames: readers never see half of it. Published for every validated run,
    including those whose publication is blocked (their failures are what people must read).
    Returns the path of the home page.
    """
    source = report.data_docs_dir
    if source is None or not (source / "index.html").is_file():
        raise FileNotFoundError(f"no Data Docs site to publish for run {report.run_id} (looked in {source})")
    target_dir = target_dir.absolute()
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    for leftover in target_dir.parent.glob(f".{target_dir.name}.*"):
        shutil.rmtree(leftover, ignore_errors=True)  # from a run that died while publishing
    staging = target_dir.with_name(f".{target_dir.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        shutil.copytree(source, staging)
        write_country_pages(report, staging / "countries")
        _add_banner(staging / "index.html", report)
        replace_folder(staging, target_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("Data Docs published to %s", target_dir)
    return target_dir / "index.html"


# --- pages for people -------------------------------------------------------------------------------

_PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d2733; max-width: 80rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; font-size: 0.92rem; }
th, td { border: 1px solid #c9d1da; padding: 0.35rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #eef2f6; }
.critical { color: #a4161a; font-weight: 600; } .warning { color: #8a5a00; font-weight: 600; }
.passed { color: #1b6e3a; } .failed { font-weight: 600; }
.verdict { padding: 0.75rem 1rem; border-radius: 0.3rem; margin: 1rem 0; }
.verdict.blocked { background: #fde2e1; border: 1px solid #a4161a; }
.verdict.published { background: #e3f4e8; border: 1px solid #1b6e3a; }
code { font-size: 0.9em; } .muted { color: #5b6b7b; }
"""


def _e(value: Any) -> str:
    """Text for HTML: every value on these pages may come from a coordinator's file."""
    return html.escape("" if value is None else _as_text(value))


def _verdict(report: QualityReport) -> tuple[str, str]:
    if report.passed:
        reported = f" ({_count(len(report.warnings), 'warning')} reported)" if report.warnings else ""
        return "published", f"no critical check failed: the build may be published{reported}."
    return (
        "blocked",
        f"{_count(len(report.critical_failures), 'critical check')} failed: the build is not published; "
        "the last good warehouse stays in place until the data is corrected.",
    )


def _utc(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M")


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_PAGE_STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """An HTML table; the cells are HTML already (escape values with _e)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>\n" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody></table>"


def _severity_cell(severity: str) -> str:
    css = WARNING if severity == WARNING else CRITICAL
    return f'<span class="{css}">{_e(severity)}</span>'


def _status_cell(success: bool) -> str:
    return '<span class="passed">passed</span>' if success else '<span class="failed">FAILED</span>'


def _check_cell(o: ExpectationOutcome) -> str:
    return f"<code>{_e(o.expectation)}</code>" + (f" on <code>{_e(o.column)}</code>" if o.column else "")


def _suite_link(report: QualityReport, suite: str, prefix: str = "") -> str:
    page = report.validation_pages.get(suite)
    return f'<a href="{_e(prefix + page)}">{_e(suite)}</a>' if page else _e(suite)


def _country_page(report: QualityReport, view: CountryView) -> str:
    code = view.country_code
    state, verdict = _verdict(report)
    failed = sorted(view.failed_checks, key=lambda c: c.outcome.severity == WARNING)
    critical = [c for c in failed if c.outcome.severity != WARNING]
    passed = [c for c in view.checks if c.outcome.success]
    parts = [
        f"<h1>Data quality of the files reported by {_e(code)}</h1>",
        f'<p class="muted">Run <code>{_e(report.run_id)}</code>, validated '
        f"{_e(_utc(report.validated_at))} UTC. "
        '<a href="../index.html">All Data Docs</a> · <a href="index.html">Other countries</a> · '
        f'<a href="../../dashboard/countries/{_e(code)}.html">Cooperation dashboard of {_e(code)}</a></p>',
        f'<div class="verdict {state}">Whole run: {_e(verdict)}</div>',
        "<h2>Checks on your rows</h2>",
    ]
    if view.rows:
        in_force = ", ".join(f"{n} {kind}" for kind, n in sorted(view.rows.items()))
        parts.append(f"<p>Rows in force from your files: {_e(in_force)}.</p>")
    if not view.checks:
        parts.append("<p>No rows of yours are in force: nothing to check.</p>")
    else:
        parts.append(
            f"<p>{_e(_count(len(view.checks), 'check'))} on your rows: "
            f'<span class="{"critical" if critical else ""}">{_e(_count(len(critical), "critical failure"))}</span>, '
            f'<span class="{"warning" if len(failed) > len(critical) else ""}">'
            f"{_e(_count(len(failed) - len(critical), 'warning'))}</span>. "
            "A critical failure blocks the publication of the whole warehouse; a warning is reported only.</p>"
        )
    if failed:
        rows = []
        for check in failed:
            o = check.outcome
            examples = "<br>".join(
                f"<code>{_e(r.file_path)}</code> row {_e(r.row_number)}" + (f": {_e(r.value)}" if r.value else "")
                for r in check.failing_rows
            )
            if check.failing_rows and (o.unexpected_count or 0) > len(check.failing_rows):
                examples += f"<br>... and {o.unexpected_count - len(check.failing_rows)} more"  # type: ignore[operator]
            rows.append(
                [
                    _severity_cell(o.severity),
                    _suite_link(report, o.suite, "../"),
                    _e(o.description),
                    _check_cell(o),
                    _e(o.unexpected_count if o.unexpected_count is not None else ""),
                    examples or _e(o.observed_value),
                ]
            )
        headers = ["Severity", "Data", "What is checked", "Check", "Rows failing", "Failing rows (file, row: value)"]
        parts.append('<h3>Failed</h3><div id="failed-checks">' + _table(headers, rows) + "</div>")
    if passed:
        parts.append(
            f"<details><summary>{_e(_count(len(passed), 'check'))} passed on your rows (show)</summary>"
            + _table(
                ["Severity", "Data", "What is checked", "Check"],
                [
                    [
                        _severity_cell(c.outcome.severity),
                        _e(c.outcome.suite),
                        _e(c.outcome.description),
                        _check_cell(c.outcome),
                    ]
                    for c in passed
                ],
            )
            + "</details>"
        )
    parts.append("<h2>Your files</h2>")
    if view.files:
        parts.append(
            _table(
                ["File", "Kind", "Latest outcome", "Checked (UTC)", "Rows", "Problems", "Note"],
                [
                    [
                        f"<code>{_e(f.file_path)}</code>",
                        _e(f.kind),
                        f'<span class="{"critical" if f.outcome == "rejected" else ""}">{_e(f.outcome)}</span>',
                        _e(_utc(f.checked_at)),
                        _e(f.row_count),
                        _e(f.problem_count),
                        _e(f.message),
                    ]
                    for f in view.files
                ],
            )
        )
    else:
        parts.append("<p>No file of yours has been checked yet.</p>")
    if view.problems:
        parts.append(
            "<h2>Problems in your rejected files</h2><p>A rejected file is not loaded at all; the version "
            "loaded before stays in use. The full list of each file's problems is in "
            f"<code>raw/reports/{_e(code)}/</code>.</p>"
        )
        parts.append(
            _table(
                ["File", "Row", "Column", "Value", "Problem", "What to do"],
                [
                    [
                        f"<code>{_e(p.file_path)}</code>",
                        _e(p.row_number),
                        _e(p.column),
                        _e(p.value),
                        _e(p.explanation),
                        _e(p.advice),
                    ]
                    for p in view.problems
                ],
            )
        )
    return _page(f"Data quality: {code}", "\n".join(parts))


def _countries_index(report: QualityReport) -> str:
    state, verdict = _verdict(report)
    rows = []
    for view in report.countries:
        failed = view.failed_checks
        critical = sum(1 for c in failed if c.outcome.severity != WARNING)
        rejected = sum(1 for f in view.files if f.outcome == "rejected")
        rows.append(
            [
                f'<a href="{_e(view.country_code)}.html">{_e(view.country_code)}</a>',
                _e(len(view.files)),
                _e(rejected),
                f'<span class="critical">{critical}</span>' if critical else "0",
                f'<span class="warning">{len(failed) - critical}</span>' if len(failed) - critical else "0",
            ]
        )
    body = "\n".join(
        [
            "<h1>Data quality per reporting country</h1>",
            f'<p class="muted">Run <code>{_e(report.run_id)}</code>. <a href="../index.html">All Data Docs</a></p>',
            f'<div class="verdict {state}">{_e(verdict)}</div>',
            _table(["Country", "Files", "Rejected files", "Critical failures", "Warnings"], rows)
            if rows
            else "<p>No country has files yet.</p>",
        ]
    )
    return _page("Data quality per reporting country", body)


def write_country_pages(report: QualityReport, folder: Path) -> list[Path]:
    """Write ``index.html`` and one ``<CC>.html`` per reporting country of the report into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "index.html"]
    written[0].write_text(_countries_index(report), encoding="utf-8")
    for view in report.countries:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,16}", view.country_code):
            log.warning("no country page for the unexpected country code %r", view.country_code)
            continue
        path = folder / f"{view.country_code}.html"
        path.write_text(_country_page(report, view), encoding="utf-8")
        written.append(path)
    return written


def _latest_results_table(report: QualityReport) -> str:
    """Every suite with this run's result: the site's own lists need scripts from the internet."""
    relations = {spec.name: spec.relation for spec in _suite_specs()}
    suites = list(dict.fromkeys([*SUITE_NAMES, *(o.suite for o in report.outcomes)]))
    rows = []
    for suite in suites:
        outcomes = [o for o in report.outcomes if o.suite == suite]
        critical = sum(1 for o in outcomes if not o.success and o.severity != WARNING)
        warnings = sum(1 for o in outcomes if not o.success and o.severity == WARNING)
        result = "passed" if not (critical or warnings) else ("FAILED" if critical else "passed with warnings")
        css = "critical" if critical else ("warning" if warnings else "passed")
        rows.append(
            [
                _suite_link(report, suite),
                f"<code>{_e(relations.get(suite, ''))}</code>",
                f'<span class="{css}">{_e(result)}</span>',
                _e(len(outcomes)),
                _e(critical),
                _e(warnings),
                f'<a href="expectations/{_e(suite)}.html">suite</a>',
            ]
        )
    return _table(["Suite", "Protects", "Latest result", "Checks", "Critical failures", "Warnings", ""], rows)


def _add_banner(index: Path, report: QualityReport) -> None:
    """Put this run's verdict, every suite's latest result and the country pages at the top of the home page."""
    state, verdict = _verdict(report)
    links = " · ".join(
        f'<a href="countries/{_e(v.country_code)}.html">{_e(v.country_code)}</a>' for v in report.countries
    )
    failures = "".join(
        f"<li>{_severity_cell(o.severity)} {_suite_link(report, o.suite)}: {_e(o.description)} "
        f"({_check_cell(o)}, observed: {_e(o.observed_value)})</li>"
        for o in report.critical_failures + report.warnings
    )
    banner = (
        f'<div id="libcoop-run" class="libcoop"><style>{_BANNER_STYLE}</style>'
        f"<h2>Latest run <code>{_e(report.run_id)}</code>, validated "
        f"{_e(_utc(report.validated_at))} UTC</h2>"
        f'<div class="verdict {state}">{_e(report.summary())}. {_e(verdict)}</div>'
        + (f"<h3>Failed checks</h3><ul>{failures}</ul>" if failures else "")
        + "<h3>Every suite, latest result</h3>"
        + _latest_results_table(report)
        + '<p>Per reporting country: <a href="countries/index.html">all countries</a>'
        + (f" · {links}" if links else "")
        + '</p><p class="muted">Below: the results of the last runs kept, as Great Expectations lists them '
        "(that list needs its scripts from the internet).</p></div>"
    )
    text = index.read_text(encoding="utf-8")
    match = re.search(r"<body[^>]*>", text)
    if match is None:
        log.warning("no <body> in %s: the run banner is left out", index)
        return
    index.write_text(text[: match.end()] + banner + text[match.end() :], encoding="utf-8")


_BANNER_STYLE = """
.libcoop { font-family: system-ui, sans-serif; margin: 1rem; padding: 0.75rem 1rem; border: 1px solid #8899aa;
  border-radius: 4px; color: #1d2733; }
.libcoop table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.92rem; }
.libcoop th, .libcoop td { border: 1px solid #c9d1da; padding: 0.3rem 0.5rem; text-align: left; }
.libcoop th { background: #eef2f6; }
.libcoop .critical { color: #a4161a; font-weight: 600; } .libcoop .warning { color: #8a5a00; font-weight: 600; }
.libcoop .passed { color: #1b6e3a; } .libcoop .muted { color: #5b6b7b; }
.libcoop .verdict { padding: 0.5rem 0.75rem; border-radius: 0.3rem; margin: 0.5rem 0; }
.libcoop .verdict.blocked { background: #fde2e1; } .libcoop .verdict.published { background: #e3f4e8; }
"""


# --- audit --------------------------------------------------------------------------------------


def ensure_dq_results_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create audit.dq_results when missing: one row per expectation per validation."""
    con.execute("create schema if not exists audit")
    con.execute(
        "create table if not exists audit.dq_results ("
        "run_id varchar not null, validated_at timestamptz not null, suite varchar not null, "
        "expectation varchar not null, column_name varchar, severity varchar not null, success boolean not null, "
        "observed_value varchar, unexpected_count bigint, description varchar)"
    )


def record_results(con: duckdb.DuckDBPyConnection, report: QualityReport) -> None:
    """Keep the report in audit.dq_results: one row per expectation per validation.

    Recording the same run again replaces its rows, so a retried task leaves the same state.
    """
    ensure_dq_results_table(con)
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
