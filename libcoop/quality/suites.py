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
from libcoop.quality.results import (
    _ID_NAMESPACE,
    _ISO2_PATTERN,
    _ISO4217_PATTERN,
    CRITICAL,
    DELEGATION_ACTIVITY_TYPES,
    EARLIEST_PLAUSIBLE_DATE,
    MAX_PARTICIPANTS_PER_DELEGATION,
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
        notes=f"Protects {protects}. Defined as code in libcoop/quality/ (suites.py, marts_suites.py): edit it there.",
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

    # Both bounds are parameters: the dates of a validation's frames are UTC timestamps
    # (validation._read_frame), compared with timestamps, not with datetime.date.
    return gxe.ExpectColumnValuesToBeBetween(
        column=column,
        min_value={"$PARAMETER": "earliest_plausible_date"},
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
