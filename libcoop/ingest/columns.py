"""The contract's column types, bounds and lists of accepted values (docs/contract.md section 1).
Re-exported by ``libcoop.ingest.contract``, where the kinds of file use them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ColumnType(Enum):
    TEXT = "text"  # free text, kept as written
    LOWER_TEXT = "lower_text"  # free text, compared lower-cased (membership_type)
    CODE = "code"  # one word of a fixed list (activity_type...)
    COUNTRY = "country"  # ISO alpha-2 code or an English country name
    DATE = "date"  # YYYY, YYYY-MM or YYYY-MM-DD
    COUNT = "count"  # whole number >= 0
    AMOUNT = "amount"  # number >= 0
    CURRENCY = "currency"  # ISO 4217 code


# Bounds that keep every accepted value storable and every total exact: a year the calendar
# types of every tool downstream hold (pandas, Python, DuckDB), counts whose sums over millions
# of rows fit a BIGINT, amounts a double holds to the cent. Beyond them a value is a typo.
EARLIEST_YEAR = 1000
LATEST_YEAR = 2100
MAX_COUNT = 1_000_000_000
MAX_AMOUNT = 1_000_000_000_000_000  # 10^15


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False
    allowed: tuple[str, ...] = ()
    minimum: int = 0  # for COUNT

    @property
    def maximum(self) -> int | None:
        return {ColumnType.COUNT: MAX_COUNT, ColumnType.AMOUNT: MAX_AMOUNT}.get(self.type)

    @property
    def sql_type(self) -> str:
        """The DuckDB type of the normalized value."""
        return {ColumnType.COUNT: "bigint", ColumnType.AMOUNT: "double", ColumnType.DATE: "date"}.get(
            self.type, "varchar"
        )


ACTIVITY_TYPES = (
    "mutual_visit",
    "delegation",
    "business_exchange",
    "staff_exchange",
    "training",
    "conference",
    "workshop",
    "exhibition",
    "meeting",
)
DONATION_TYPES = ("books", "equipment", "funding", "scholarship", "expert", "software", "materials", "other")
DONOR_TYPES = (
    "foundation",
    "government",
    "embassy",
    "library",
    "university",
    "company",
    "association",
    "international_organization",
)
