"""The suites as code: what "good data" means for each raw kind and each marts table."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from libcoop.ingest.contract import (
    ACTIVITY_TYPES,
    DATE_PRECISIONS,
    DONATION_TYPES,
    DONOR_TYPES,
)

# Never phone home: Great Expectations reads this when it sets up analytics (the context file says
# analytics_enabled: false too).
from libcoop.quality.results import (
    _ID_NAMESPACE,
    _ISO2_PATTERN,
    _ISO4217_PATTERN,
    CRITICAL,
    DELEGATION_ACTIVITY_TYPES,
    EARLIEST_PLAUSIBLE_DATE,
    MAX_PARTICIPANTS_PER_DELEGATION,
    MAX_PLAUSIBLE_AMOUNT,
    PROBLEM_META,
    WARNING,
    _severity,
)

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite
    from great_expectations.expectations import Expectation


log = logging.getLogger(__name__)

# --- how each expectation is declared ---------------------------------------------------------


def _critical(description: str, problem: str) -> dict[str, Any]:
    """Keyword arguments of a critical expectation: a failure blocks the publication.

    ``description`` says what is checked; ``problem`` says what a failure found, in the words the
    Data Docs front page shows (see ``results.problem_sentence``): ``{rows}`` becomes e.g.
    "3 visits", ``{observed}`` what the check saw.
    """
    return {
        "severity": CRITICAL,
        "meta": {"severity": CRITICAL, PROBLEM_META: problem},
        "description": description,
        "notes": "Critical: a failure blocks the publication of the build.",
    }


def _warning(description: str, problem: str) -> dict[str, Any]:
    """Keyword arguments of a warning: reported, the build is still published (words as in _critical)."""
    return {
        "severity": WARNING,
        "meta": {"severity": WARNING, PROBLEM_META: problem},
        "description": description,
        "notes": "Warning: a failure is reported; the build is still published.",
    }


def _suite(name: str, protects: str, expectations: Iterable[Expectation]) -> ExpectationSuite:
    """An ExpectationSuite whose expectation ids depend only on their content (see _ID_NAMESPACE)."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(
        name=name,
        expectations=list(expectations),
        notes=f"Protects {protects}. Defined in libcoop/quality/suites.py: edit it there, not here.",
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
        **_warning(
            f"{label or column} lies between {EARLIEST_PLAUSIBLE_DATE} and one year from today",
            f"{{rows}} dated before {EARLIEST_PLAUSIBLE_DATE.year} or more than a year from today ({label or column})",
        ),
    )


def _required(columns: Iterable[str], what: str) -> list[Expectation]:
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToNotBeNull(
            column=column, **_critical(f"{column} is given for every {what}", f"{{rows}} without {column}")
        )
        for column in columns
    ]


def _country_codes(columns: Iterable[str]) -> list[Expectation]:
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToMatchRegex(
            column=column,
            regex=_ISO2_PATTERN,
            **_critical(
                f"{column} is an ISO 3166 alpha-2 code such as VN",
                f"{{rows}} whose {column} is not a two-letter country code such as VN",
            ),
        )
        for column in columns
    ]


def _period(start: str, end: str) -> list[Expectation]:
    import great_expectations.expectations as gxe

    return [
        # The contract compares the LAST day of the end period with the start (libcoop.ingest.contract).
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=_last_day_column(end),
            column_B=start,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            **_critical(
                f"the period of {end} does not end before {start} (when both are given)",
                f"{{rows}} whose {end} ends before {start}",
            ),
        ),
        *(
            gxe.ExpectColumnValuesToBeInSet(
                column=f"{column}_precision",
                value_set=list(DATE_PRECISIONS),
                **_critical(
                    f"the precision of {column} is year, month or day",
                    f"{{rows}} whose {column} is not a year, a month or a day",
                ),
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
        **_critical(
            f"each row of a current file version is loaded once as a {what}",
            "{rows} loaded more than once from the same row of the same file",
        ),
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
                **_critical(
                    "activity_type is one of the contract's activity types",
                    "{rows} whose activity_type is not one of the contract's activity types",
                ),
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="host_institution",
                row_condition=Column("guest_institution").is_null(),
                **_critical(
                    "every visit names a host_institution or a guest_institution (or both)",
                    "{rows} naming neither a host_institution nor a guest_institution",
                ),
            ),
            *(
                gxe.ExpectColumnValuesToNotBeNull(
                    column=f"{side}_country",
                    row_condition=Column(f"{side}_institution").is_not_null(),
                    **_critical(
                        f"{side}_country is given whenever {side}_institution is",
                        f"{{rows}} naming a {side}_institution without its {side}_country",
                    ),
                )
                for side in ("host", "guest")
            ),
            *_country_codes(["host_country", "guest_country"]),
            gxe.ExpectColumnValuesToBeBetween(
                column="delegations",
                min_value=1,
                **_critical("delegations is a whole number of at least 1", "{rows} with fewer than 1 delegation"),
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="participants",
                min_value=0,
                **_critical("participants is not negative", "{rows} with a negative number of participants"),
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="participants_per_delegation",
                max_value=MAX_PARTICIPANTS_PER_DELEGATION,
                # Conferences, trainings, workshops... count their attendees, not a delegation's members.
                row_condition=Column("activity_type").is_in(DELEGATION_ACTIVITY_TYPES),
                **_warning(
                    f"a visit or exchange has at most {MAX_PARTICIPANTS_PER_DELEGATION} participants per delegation",
                    f"{{rows}} with more than {MAX_PARTICIPANTS_PER_DELEGATION} participants per delegation",
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
                **_critical(
                    "donation_type is one of the contract's donation types",
                    "{rows} whose donation_type is not one of the contract's donation types",
                ),
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="donor_type",
                value_set=list(DONOR_TYPES),
                **_warning(
                    "donor_type, when given, is one of the contract's donor types",
                    "{rows} whose donor_type is not one of the contract's donor types",
                ),
            ),
            *_country_codes(["donor_country", "recipient_country"]),
            gxe.ExpectColumnValuesToBeBetween(
                column="quantity",
                min_value=0,
                **_critical("quantity is not negative", "{rows} with a negative quantity"),
            ),
            # No upper bound here: an amount in its own currency says nothing (VND 10,000,000 is a
            # small gift). marts_integrity_fct_donation bounds the amount in USD.
            gxe.ExpectColumnValuesToBeBetween(
                column="amount", min_value=0, **_critical("amount is not negative", "{rows} with a negative amount")
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="currency",
                row_condition=Column("amount").is_not_null(),
                **_critical("every donation with an amount has a currency", "{rows} with an amount but no currency"),
            ),
            gxe.ExpectColumnValuesToMatchRegex(
                column="currency",
                regex=_ISO4217_PATTERN,
                **_critical(
                    "currency is a three-letter ISO 4217 code such as USD",
                    "{rows} whose currency is not a three-letter code such as USD",
                ),
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
            gxe.ExpectColumnValuesToNotBeNull(
                column=key, **_critical(f"{key} is given on every row of {table}", f"{{rows}} without a {key}")
            ),
            gxe.ExpectColumnValuesToBeUnique(
                column=key, **_critical(f"{key} is unique in {table}", f"{{rows}} sharing their {key} with another row")
            ),
        ],
    )


def _fact_expectations(table: str) -> list[Expectation]:
    """What every fact must satisfy: keys given and found in their dimension, one row per raw row."""
    import great_expectations.expectations as gxe

    expectations: list[Expectation] = []
    for key, dimension in _FACT_REFERENCES[table]:
        expectations.append(
            gxe.ExpectColumnValuesToNotBeNull(
                column=key,
                **_critical(
                    f"{key} is given on every row of {table} (the unknown member, never NULL)",
                    f"{{rows}} without a {key} (not even the unknown member)",
                ),
            )
        )
        expectations.append(
            gxe.ExpectColumnValuesToBeNull(
                column=_orphan_column(key),
                **_critical(
                    f"every {key} of {table} is found in {dimension} (the unexpected values are the orphan keys)",
                    f"{{rows}} whose {key} is not found in {dimension}",
                ),
            )
        )
    parameter, source = _FACT_ROW_SOURCES[table]
    expectations.append(
        gxe.ExpectTableRowCountToEqual(
            value={"$PARAMETER": parameter},
            **_critical(
                f"{table} has as many rows as {source}",
                f"{table} does not have as many rows as {source}: it has {{observed}}",
            ),
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
            gxe.ExpectColumnValuesToBeBetween(
                column="amount", min_value=0, **_critical("amount is not negative", "{rows} with a negative amount")
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="amount_usd",
                row_condition=amount_given & (Column("has_fx_rate") == True),  # noqa: E712 (a Condition, not a test)
                **_warning(
                    "amount_usd is filled in whenever a rate is known for the currency and start year",
                    "{rows} without amount_usd although a rate is known for their currency and start year",
                ),
            ),
            # missing_fx_rate is "VND in 2015" where no rate is known (NULL otherwise): the words name it.
            gxe.ExpectColumnValuesToBeNull(
                column="missing_fx_rate",
                **_warning(
                    "a yearly exchange rate is known for the currency and start year of every donation with an "
                    "amount (the others have no amount_usd)",
                    "{rows} in a currency without an exchange rate for their start year, so without an amount in USD",
                ),
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="amount_usd",
                min_value=0,
                max_value=MAX_PLAUSIBLE_AMOUNT,
                **_warning(
                    f"a donation is worth at most USD {MAX_PLAUSIBLE_AMOUNT:,}",
                    f"{{rows}} worth more than USD {MAX_PLAUSIBLE_AMOUNT:,}",
                ),
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
                **_critical(
                    "activity_family is membership, visit or donation",
                    "{rows} whose activity_family is not membership, visit or donation",
                ),
            ),
        ],
    )
