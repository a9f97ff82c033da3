"""The suites as code: what "good data" means for each raw kind and each marts table."""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from libcoop.ingest.contract import KINDS
from libcoop.quality.results import (
    _ID_NAMESPACE,
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
    # (batches.read_frame), compared with timestamps, not with datetime.date.
    return gxe.ExpectColumnValuesToBeBetween(
        column=column,
        min_value={"$PARAMETER": "earliest_plausible_date"},
        max_value={"$PARAMETER": "max_plausible_date"},
        **_warning(
            f"{label or column} lies between {EARLIEST_PLAUSIBLE_DATE} and one year from today",
            f"{{rows}} dated before {EARLIEST_PLAUSIBLE_DATE.year} or more than a year from today ({label or column})",
        ),
    )


# --- the raw layer ------------------------------------------------------------------------------


# The contract check (libcoop.ingest.check) rejects a file breaking any rule of the contract
# (required values, codes in their lists, country and currency codes, counts and amounts, a visit's
# sides, end not before start) before it is loaded, and dbt's staging tests hold one row per file
# row: a raw row that reaches these suites already satisfies all of them, so they are not stated
# again here (tests/unit/test_one_rule_one_definition.py). What is left is what neither sees:
# plausibility, reported as warnings for the coordinators.


def _participants_per_delegation() -> list[Expectation]:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    return [
        gxe.ExpectColumnValuesToBeBetween(
            column="participants_per_delegation",
            max_value=MAX_PARTICIPANTS_PER_DELEGATION,
            # Conferences, trainings, workshops... count their attendees, not a delegation's members.
            row_condition=Column("activity_type").is_in(DELEGATION_ACTIVITY_TYPES),
            **_warning(
                f"a visit or exchange has at most {MAX_PARTICIPANTS_PER_DELEGATION} participants per delegation",
                f"{{rows}} with more than {MAX_PARTICIPANTS_PER_DELEGATION} participants per delegation",
            ),
        )
    ]


# The warnings of a kind beyond its plausible dates: a kind with none needs no entry.
RAW_WARNINGS: dict[str, Callable[[], list[Expectation]]] = {"visits": _participants_per_delegation}


def raw_suite(kind: str) -> ExpectationSuite:
    """raw.current_<kind>: the rows of the file versions in force, whose dates (the kind's period,
    contract.KINDS) lie in a plausible range, with the kind's own warnings first."""
    start, end = KINDS[kind].period
    own = RAW_WARNINGS[kind]() if kind in RAW_WARNINGS else []
    return _suite(f"raw_{kind}", f"raw.current_{kind}", [*own, _plausible_date(start), _plausible_date(end)])


# The raw suite of each kind of contract.KINDS, derived from the registry.
RAW_SUITES: dict[str, Callable[[], ExpectationSuite]] = {kind: functools.partial(raw_suite, kind) for kind in KINDS}
