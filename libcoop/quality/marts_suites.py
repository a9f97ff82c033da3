"""The suites of the marts: what dbt's own tests do not check.

dbt's tests (``dbt_project/models/marts/_marts__models.yml`` and ``dbt_project/tests/``) already
hold every key: ``unique`` and ``not_null`` on each dimension key, ``not_null`` and
``relationships`` on each fact key, the accepted values of the coded columns; a failed dbt test
fails the build, which is then never published. These suites do not check those keys again.
They reconcile each fact with the raw layer it is built from (its rows, its totals, each row
traced back to its file and row) and look for implausible values; one suite per table (a suite
validates one batch), named ``marts_integrity_<table>``.

A fact's suite does not validate the fact's rows: DuckDB adds them up by the file they come from
(``libcoop.quality.reads``), and the suite validates that summary: one row per file for the rows
with nothing to report, and one row of its own for each row that might fail a row-by-row check (a
row not traced to raw, without an exchange rate, dated or worth implausibly), so a warning still
names its file and rows. A sum over the summary is the fact's (its rows, its totals). The memory
of a fact's validation is then that of its files and flagged rows, not of its rows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from libcoop.ingest.contract import KINDS, ColumnType
from libcoop.quality.results import MAX_PLAUSIBLE_AMOUNT
from libcoop.quality.suites import _critical, _plausible_date, _suite, _warning

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite
    from great_expectations.expectations import Expectation


MARTS_SUITE_PREFIX = "marts_integrity_"

_DIMENSION_KEYS = {
    "dim_country": "country_key",
    "dim_institution": "institution_key",
    "dim_organization": "organization_key",
    "dim_date": "date_key",
}

# The raw rows each fact holds one row for: (the raw kinds, the suite parameter with their count);
# one fact per kind of the contract (Kind.fact_table), and fct_cooperation_activity for every kind.
_FACT_SOURCES = {kind.fact_table: ((name,), f"rows_in_raw_current_{name}") for name, kind in KINDS.items()} | {
    "fct_cooperation_activity": (tuple(KINDS), "rows_in_raw_current_activities")
}

# The totals each fact must share with the raw layer: (column, raw kind), the counts of its kind;
# the suite parameter ``<column>_in_raw_current_<kind>`` holds the raw total (libcoop.quality.reads).
_FACT_TOTALS = {
    kind.fact_table: tuple((c.name, name) for c in kind.columns if c.type is ColumnType.COUNT)
    for name, kind in KINDS.items()
}
_FACT_TOTALS["fct_cooperation_activity"] = tuple(total for totals in _FACT_TOTALS.values() for total in totals)


def _start_day(start: str) -> tuple[str, str]:
    """The date key of a period's start in a fact, and the helper column holding its day."""
    stem = start.removesuffix("_date")  # joined -> joined_date_key, start_date -> start_date_key
    return f"{stem}_date_key", f"{stem}_day"


# The date key of each fact whose day is checked for plausibility, and the helper column holding it.
_FACT_START_DAYS = {kind.fact_table: _start_day(kind.period[0]) for kind in KINDS.values()}

# Columns of a fact's summary (libcoop.quality.reads): the number of the fact's rows a summary row
# stands for (a file's unflagged rows, or one flagged row).
FACT_ROWS = "fact_rows"
# Words saying what is wrong with a row, NULL when nothing is.
UNTRACED_ROW = "not_in_raw"  # the fact row's file and row, when no current raw row has them
CURRENCY_TOTAL_MISMATCH = "currency_total_mismatch"  # "VND: 7000000 in the marts, 5000000 in raw"
ORGANIZATION_COUNT_MISMATCH = "organization_count_mismatch"  # "IFLA: 3 in the marts, 2 in raw"
MISSING_FX_RATE = "missing_fx_rate"  # "VND in 2015": no yearly rate for a donation's currency and start year
# Checks of a whole currency or organization: a summary row failing one may stand for several
# rows of the fact, so their sentences count none.
GROUP_MISMATCHES = frozenset({CURRENCY_TOTAL_MISMATCH, ORGANIZATION_COUNT_MISMATCH})
AMOUNT_USD = "amount_usd"


def raw_total_parameter(column: str, kind: str) -> str:
    return f"{column}_in_raw_current_{kind}"


def marts_dimension_suite(table: str) -> ExpectationSuite:
    """A dimension of the marts: exactly one unknown member, which empty references point to."""
    import great_expectations.expectations as gxe

    return _suite(
        f"{MARTS_SUITE_PREFIX}{table}",
        f"marts.{table}",
        [
            gxe.ExpectColumnSumToBeBetween(
                column="is_unknown_member",
                min_value=1,
                max_value=1,
                **_critical(
                    f"{table} has exactly one unknown member (is_unknown_member), for empty or unknown references",
                    f"{table} does not have exactly one unknown member: it has {{observed}}",
                ),
            )
        ],
    )


def _fact_expectations(table: str) -> list[Expectation]:
    """What every fact must satisfy: one row per raw row, traced back to it, the raw totals kept."""
    import great_expectations.expectations as gxe

    kinds, parameter = _FACT_SOURCES[table]
    source = " + ".join(f"raw.current_{kind}" for kind in kinds)
    expectations: list[Expectation] = [
        # A summary row stands for fact_rows rows of the fact: their sum is its row count.
        gxe.ExpectColumnSumToBeBetween(
            column=FACT_ROWS,
            min_value={"$PARAMETER": parameter},
            max_value={"$PARAMETER": parameter},
            **_critical(
                f"{table} has as many rows as {source}",
                f"{table} does not have as many rows as {source}: it has {{observed}}",
            ),
        ),
        gxe.ExpectColumnValuesToBeNull(
            column=UNTRACED_ROW,
            **_critical(
                f"every row of {table} comes from a row of a current file version in {source} "
                "(the unexpected values are the file and row it names)",
                f"{{rows}} naming a file and row that {source} does not hold",
            ),
        ),
    ]
    for column, kind in _FACT_TOTALS[table]:
        total = {"$PARAMETER": raw_total_parameter(column, kind)}
        expectations.append(
            gxe.ExpectColumnSumToBeBetween(
                column=column,
                min_value=total,
                max_value=total,
                **_critical(
                    f"the {column} of {table} add up to those of raw.current_{kind}",
                    f"the {column} of {table} add up to {{observed}}, not to the total of raw.current_{kind}",
                ),
            )
        )
    if table in _FACT_START_DAYS:
        date_key, day = _FACT_START_DAYS[table]
        expectations.append(_plausible_date(day, f"the day of {date_key} ({day})"))
    return expectations


def _organization_counts() -> list[Expectation]:
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToBeNull(
            column=ORGANIZATION_COUNT_MISMATCH,
            **_critical(
                "each organization has as many memberships as raw.current_memberships has rows with the "
                "organization names resolved to it",
                "memberships of an organization whose count differs from raw.current_memberships",
            ),
        )
    ]


def _donation_amounts() -> list[Expectation]:
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToBeNull(
            column=CURRENCY_TOTAL_MISMATCH,
            **_critical(
                "the amounts of each currency add up to those of raw.current_donations",
                "donations in a currency whose amounts do not add up to those of raw.current_donations",
            ),
        ),
        gxe.ExpectColumnValuesToBeNull(
            column=MISSING_FX_RATE,
            **_warning(
                "a yearly exchange rate is known for the currency and start year of every donation with an "
                "amount (the others have no amount_usd)",
                "{rows} in a currency without an exchange rate for their start year, so without an amount in USD",
            ),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column=AMOUNT_USD,
            min_value=0,
            max_value=MAX_PLAUSIBLE_AMOUNT,
            **_warning(
                f"a donation is worth at most USD {MAX_PLAUSIBLE_AMOUNT:,}",
                f"{{rows}} worth more than USD {MAX_PLAUSIBLE_AMOUNT:,}",
            ),
        ),
    ]


# The checks of a fact beyond those every fact has: a fact with none needs no entry.
FACT_CHECKS: dict[str, Callable[[], list[Expectation]]] = {
    "fct_membership": _organization_counts,
    "fct_donation": _donation_amounts,
}


def fact_suite(table: str) -> ExpectationSuite:
    """The suite of the fact ``table``: what every fact must satisfy, then its own checks."""
    own = FACT_CHECKS[table]() if table in FACT_CHECKS else []
    return _suite(f"{MARTS_SUITE_PREFIX}{table}", f"marts.{table}", [*_fact_expectations(table), *own])


# The suite of each fact: one per kind of contract.KINDS (Kind.fact_table), and the union of them all.
FACT_SUITES: dict[str, Callable[[], ExpectationSuite]] = {
    table: functools.partial(fact_suite, table) for table in _FACT_SOURCES
}
