"""The drop-folder contract (docs/contract.md section 1) as data: columns, types and rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# Re-exported: the column types and accepted values are the contract's.
from libcoop.ingest.columns import (  # noqa: F401
    ACTIVITY_TYPES,
    DONATION_TYPES,
    DONOR_TYPES,
    EARLIEST_YEAR,
    LATEST_YEAR,
    MAX_AMOUNT,
    MAX_COUNT,
    Column,
    ColumnType,
)

# Re-exported: the local forms are part of the contract, their patterns and SQL live beside it.
from libcoop.ingest.local_form_patterns import (  # noqa: F401
    DECIMAL_COMMA,
    GROUPED_DECIMAL,
    GROUPED_WHOLE,
    LOCAL_DATE_FORMS,
    NUMBER_SPACES,
    TRIMMED,
    decimal_comma_reading,
    grouped_number_sql,
    local_date_sql,
)

COMMON_COLUMNS = (
    Column("record_id", ColumnType.TEXT),
    Column("source", ColumnType.TEXT),
    Column("notes", ColumnType.TEXT),
)


@dataclass(frozen=True)
class Kind:
    """One kind of drop file: everything the check, the load, the templates, the suites and the
    dbt seed of accepted values read about it. A new kind is one entry of ``KINDS``."""

    name: str  # the file name's first word and the raw table: raw.<name>, raw.current_<name>
    columns: tuple[Column, ...]  # its own columns, after COMMON_COLUMNS
    period: tuple[str, str]  # (start, end): the end may not come before the start
    example: Mapping[str, str] = field(default_factory=dict)  # the templates' example row
    # (institution column, its country column): names resolved among that country's institutions.
    institutions: tuple[tuple[str, str], ...] = ()
    organizations: tuple[str, ...] = ()  # columns naming an organization (resolved worldwide)
    # Cross-column rules: (column, other): a value in column requires one in other.
    requires: tuple[tuple[str, str], ...] = ()
    # (institution, country) sides of which at least one institution is given, each with its country.
    sides: tuple[tuple[str, str], ...] = ()
    # One row, several rows, in messages; by default the name less its plural "s".
    noun: tuple[str, str] | tuple[()] = ()
    # The dbt mart with one row per raw row (marts.<fact_table>); by default fct_<singular noun>.
    fact_table: str = ""

    def __post_init__(self) -> None:
        # Frozen: the defaults derived from the name and the read-only example are set once here.
        if not self.noun:
            object.__setattr__(self, "noun", (self.name.removesuffix("s"), self.name))
        if not self.fact_table:
            object.__setattr__(self, "fact_table", f"fct_{self.noun[0]}")
        object.__setattr__(self, "example", MappingProxyType(dict(self.example)))

    @property
    def raw_table(self) -> str:
        return f"raw.{self.name}"

    @property
    def current_view(self) -> str:
        return f"raw.current_{self.name}"


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "memberships",
            (
                Column("institution", ColumnType.TEXT, required=True),
                Column("country", ColumnType.COUNTRY, required=True),
                Column("organization", ColumnType.TEXT, required=True),
                Column("membership_type", ColumnType.LOWER_TEXT),
                Column("joined", ColumnType.DATE, required=True),
                Column("left", ColumnType.DATE),
            ),
            period=("joined", "left"),
            institutions=(("institution", "country"),),
            organizations=("organization",),
            example={
                "record_id": "m1",
                "source": "IFLA membership directory 2001",
                "institution": "National Library of Viet Nam",
                "country": "VN",
                "organization": "IFLA",
                "membership_type": "member",
                "joined": "2000",
            },
        ),
        Kind(
            "visits",
            (
                Column("activity_type", ColumnType.CODE, required=True, allowed=ACTIVITY_TYPES),
                Column("host_institution", ColumnType.TEXT),
                Column("host_country", ColumnType.COUNTRY),
                Column("guest_institution", ColumnType.TEXT),
                Column("guest_country", ColumnType.COUNTRY),
                Column("start_date", ColumnType.DATE, required=True),
                Column("end_date", ColumnType.DATE),
                Column("delegations", ColumnType.COUNT, minimum=1),
                Column("participants", ColumnType.COUNT),
                Column("event", ColumnType.TEXT),
                Column("program", ColumnType.TEXT),
                Column("city", ColumnType.TEXT),
            ),
            period=("start_date", "end_date"),
            institutions=(("host_institution", "host_country"), ("guest_institution", "guest_country")),
            sides=(("host_institution", "host_country"), ("guest_institution", "guest_country")),
            example={
                "record_id": "v1",
                "source": "NLC annual report 2016",
                "activity_type": "business_exchange",
                "host_institution": "National Library of China",
                "host_country": "CN",
                "guest_institution": "National Diet Library",
                "guest_country": "JP",
                "start_date": "2016-11-28",
                "end_date": "2016-12-04",
                "delegations": "1",
                "participants": "12",
                "event": "35th business exchange",
                "city": "Beijing",
            },
        ),
        Kind(
            "donations",
            (
                Column("donor", ColumnType.TEXT, required=True),
                Column("donor_country", ColumnType.COUNTRY, required=True),
                Column("donor_type", ColumnType.CODE, allowed=DONOR_TYPES),
                Column("recipient_institution", ColumnType.TEXT, required=True),
                Column("recipient_country", ColumnType.COUNTRY, required=True),
                Column("donation_type", ColumnType.CODE, required=True, allowed=DONATION_TYPES),
                Column("project", ColumnType.TEXT),
                Column("description", ColumnType.TEXT),
                Column("quantity", ColumnType.COUNT),
                Column("amount", ColumnType.AMOUNT),
                Column("currency", ColumnType.CURRENCY),
                Column("start_date", ColumnType.DATE, required=True),
                Column("end_date", ColumnType.DATE),
            ),
            period=("start_date", "end_date"),
            institutions=(("donor", "donor_country"), ("recipient_institution", "recipient_country")),
            requires=(("amount", "currency"),),
            example={
                "record_id": "d1",
                "source": "NLV report on international cooperation 2000-2012",
                "donor": "Atlantic Philanthropies",
                "donor_country": "US",
                "donor_type": "foundation",
                "recipient_institution": "National Library of Viet Nam",
                "recipient_country": "VN",
                "donation_type": "funding",
                "project": "DDC 14 translation",
                "amount": "100000",
                "currency": "USD",
                "start_date": "2004",
                "end_date": "2006",
            },
        ),
    )
}

# Derived views of KINDS, kept for their callers.
KIND_COLUMNS: dict[str, tuple[Column, ...]] = {name: kind.columns for name, kind in KINDS.items()}
# (start, end) pairs where the end may not come before the start.
PERIODS: dict[str, tuple[str, str]] = {name: kind.period for name, kind in KINDS.items()}

DATE_PRECISIONS = ("year", "month", "day")


def period_last_day_sql(first: str, precision: str) -> str:
    """SQL for the last day of the period a (first day, precision) pair stands for.

    The one definition of the contract's period rule ("an end is compared by the LAST day of its
    period"): the contract check, the Great Expectations raw suites and the dbt macro
    ``period_end`` (checked against this by tests/unit/test_one_rule_one_definition.py) use it."""
    return (
        f"case {precision} when 'year' then cast({first} + interval 1 year - interval 1 day as date) "
        f"when 'month' then cast({first} + interval 1 month - interval 1 day as date) else {first} end"
    )


# Visits: a side's country is required when its institution is given.
VISIT_SIDES = KINDS["visits"].sides


@dataclass(frozen=True)
class Problem:
    """One broken rule in one file: what a coordinator needs to find and fix it."""

    file: str  # path relative to the drop folder, e.g. "VN/visits_2015.csv"
    rule: str  # a key of RULES
    row: int | None = None  # as Excel shows it (header = 1); a line number for broken CSV
    column: str | None = None
    value: str | None = None
    detail: str | None = None  # e.g. the accepted values

    @property
    def explanation(self) -> str:
        return RULES[self.rule][0]

    @property
    def advice(self) -> str:
        return RULES[self.rule][1]


def columns_of(kind: str) -> tuple[Column, ...]:
    """Every column a file of ``kind`` may carry, common ones first."""
    return COMMON_COLUMNS + KIND_COLUMNS[kind]


# Plain words for each rule, and what the coordinator can do about it.
RULES: dict[str, tuple[str, str]] = {
    "not_utf8": (
        "the file is not saved as UTF-8 text",
        "In Excel use 'Save As' > 'CSV UTF-8 (Comma delimited)', or drop the .xlsx file itself.",
    ),
    "encoding_unclear": (
        "the file is not saved as UTF-8, and its text cannot be read with certainty in any usual encoding",
        "Open the original file in Excel and use 'Save As' > 'CSV UTF-8 (Comma delimited)', "
        "then drop that file (or drop the .xlsx file itself).",
    ),
    "line_too_long": (
        "this line is far longer than any row of a spreadsheet (a cell holds at most 32,767 characters)",
        'Check the line for a pasted document or a quote (") that is not closed; keep long texts out of the file.',
    ),
    "empty_file": ("the file is empty", "Export the data again; the file has no content at all."),
    "no_rows": (
        "the file has a header row but no data rows",
        "Add the rows; to withdraw data loaded earlier, delete the file from the folder instead.",
    ),
    "malformed_csv": (
        "this line does not have the same number of fields as the header",
        'Check for a missing or extra comma, or a quote (") that is not closed.',
    ),
    "unreadable_spreadsheet": (
        "the spreadsheet cannot be opened",
        "Open it in Excel or LibreOffice, save it again as .xlsx, and drop it again.",
    ),
    "not_xlsx": (
        "this is not an .xlsx workbook (an old Excel .xls?)",
        "Open it in Excel and save it as .xlsx or CSV UTF-8 (without a password), then drop that file.",
    ),
    "formula_without_value": (
        "this cell holds a formula whose result was never saved: the file was not saved by Excel",
        "Open and save it in Excel (Excel saves the result of every formula), then drop it again.",
    ),
    "merged_cells": (
        "these cells are merged: Excel keeps the value in the first cell only, the other rows and columns are empty",
        "Unmerge the cells (Home > Merge & Center > Unmerge Cells) and fill each row.",
    ),
    "no_such_day": (
        "no such day (Excel's 1900-02-29)",
        "Excel counts a 29 February 1900 that never was: type the real date.",
    ),
    "excel_error": (
        "this cell shows an Excel error instead of a value",
        "Correct the formula in Excel (or type the value itself), save the file and drop it again.",
    ),
    "too_large": (
        "the file is too large to load safely",
        "Split it into several files, e.g. one per year (visits_2015.xlsx, visits_2016.xlsx).",
    ),
    "missing_column": (
        "a required column is missing from the header row",
        "Add this column to the first row (the spelling must match the contract; case does not matter).",
    ),
    "duplicate_column": (
        "the same column appears twice in the header row",
        "Keep one of the two columns.",
    ),
    "wrong_separator": (
        "the columns seem to be separated by semicolons or tabs, not commas",
        "Save the file as 'CSV UTF-8 (Comma delimited)'.",
    ),
    "required_value": ("this column must be filled in on every row", "Fill in the value."),
    "bad_date": (
        "this is not a date in the form YYYY, YYYY-MM or YYYY-MM-DD (or 2015/11/10, 2015年11月10日, 2015년 11월 10일)",
        "Write the date like 2015, 2015-11 or 2015-11-10.",
    ),
    "date_out_of_range": (
        f"the year is outside {EARLIEST_YEAR}-{LATEST_YEAR}",
        "Check the year for a typing mistake (e.g. 0000 or 20155); write the real date.",
    ),
    "end_before_start": (
        "the end date is before the start date",
        "Check both dates; leave the end empty when it is not known.",
    ),
    "negative_number": ("numbers here may not be negative", "Write the number without a minus sign."),
    "below_minimum": ("this number is too small", "Write at least the minimum shown, or leave it empty."),
    "number_too_large": (
        "this number is far too large to be right",
        "Check the number for extra digits or a pasted value; write the real figure.",
    ),
    "not_whole_number": (
        "this must be a whole number",
        "Write digits only, without text (e.g. 2062 or 2,062, not 'about 2000').",
    ),
    "decimal_comma": (
        "this number uses a comma as decimal mark; the decimal mark here is '.'",
        "Write the number with a decimal point and no thousands dots (e.g. 1234.56 for 1.234,56).",
    ),
    "not_a_number": (
        "this must be a number",
        "Write digits with an optional decimal point, without currency signs or words "
        "(e.g. 100000, 100,000 or 2500.50); put the currency in the currency column.",
    ),
    "amount_without_currency": (
        "an amount is given but the currency is missing",
        "Fill in the currency column with an ISO 4217 code such as USD, EUR or JPY.",
    ),
    "unknown_currency": (
        "this is not an ISO 4217 currency code",
        "Use a three-letter code such as USD, EUR, JPY, KRW, CNY, SGD, AUD or VND.",
    ),
    "unknown_country": (
        "this country is not recognised",
        "Use the ISO two-letter code (VN, CN, JP...) or the usual English name (Viet Nam, Republic of Korea...).",
    ),
    "duplicate_record_id": (
        "the same record_id is used on more than one row",
        "Give each row its own record_id, or remove the repeated row.",
    ),
    "not_in_list": ("this value is not one of the accepted values", "Use one of the values listed."),
    "side_missing": (
        "a visit needs a host_institution or a guest_institution (or both)",
        "Fill in at least one of the two.",
    ),
    "country_for_side_missing": (
        "the country is required when the institution on that side is given",
        "Fill in the country of that institution.",
    ),
    "duplicate_file": (
        "this file is an exact copy of another file that is already loaded",
        "Delete the copy; the data is already in the warehouse.",
    ),
    # The bounds of libcoop.ingest.bounds, checked before the file is read.
    "too_many_columns": (
        "this row has far more columns than any drop file has",
        "Keep the contract's columns only; check that the file is the export you meant to drop.",
    ),
    "cell_too_long": (
        "a cell is longer than an Excel cell can be",
        "Shorten the text of that row, or check for a value pasted by mistake.",
    ),
    "name_too_long": (
        "this name is far longer than the name of an institution, person or place",
        "Write the name only; put other text in the notes column.",
    ),
    "too_many_rows": (
        "the file has more rows than one drop file may hold",
        "Split it into several files, e.g. one per year (visits_2015.csv, visits_2016.csv).",
    ),
}
