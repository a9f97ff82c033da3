"""The drop-folder contract (docs/contract.md section 1) as data: columns, types and rules."""

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

COMMON_COLUMNS = (
    Column("record_id", ColumnType.TEXT),
    Column("source", ColumnType.TEXT),
    Column("notes", ColumnType.TEXT),
)

KIND_COLUMNS: dict[str, tuple[Column, ...]] = {
    "memberships": (
        Column("institution", ColumnType.TEXT, required=True),
        Column("country", ColumnType.COUNTRY, required=True),
        Column("organization", ColumnType.TEXT, required=True),
        Column("membership_type", ColumnType.LOWER_TEXT),
        Column("joined", ColumnType.DATE, required=True),
        Column("left", ColumnType.DATE),
    ),
    "visits": (
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
    "donations": (
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
}

# (start, end) pairs where the end may not come before the start.
PERIODS: dict[str, tuple[str, str]] = {
    "memberships": ("joined", "left"),
    "visits": ("start_date", "end_date"),
    "donations": ("start_date", "end_date"),
}

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


# (turn 3) Local forms that are read, with a note showing the reading. Each pattern is written
# once, with literal characters only, so that DuckDB's RE2 (the check) and Python's re (tests,
# suggestions) read it alike. Groups: year, month, day (the last two optional).
LOCAL_DATE_FORMS = (
    r"(\d{4})[/.](\d{1,2})(?:[/.](\d{1,2}))?",  # 2023/4/1, 2023.04: Excel's default in JP, CN, KR
    r"(\d{4})\s*年(?:\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?)?",  # 2023年4月1日
    r"(\d{4})\s*년(?:\s*(\d{1,2})\s*월(?:\s*(\d{1,2})\s*일)?)?",  # 2023년 4월 1일
)
# Spaces a spreadsheet puts beside or inside a number: no-break, thin, narrow no-break.
NUMBER_SPACES = " \u00a0\u2009\u202f"
# Thousands in groups of three, with commas or with spaces (never both); the decimal mark is '.'.
GROUPED_WHOLE = rf"\d{{1,3}}(?:,\d{{3}})+|\d{{1,3}}(?:[{NUMBER_SPACES}]\d{{3}})+"
GROUPED_DECIMAL = rf"(?:{GROUPED_WHOLE})(?:\.\d+)?"
# A decimal comma (1.234,56; 12,5): rejected, with its likely reading suggested.
DECIMAL_COMMA = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+,\d{1,2}|\d+,\d{4,}"
# What is trimmed from every value: spaces, tabs, no-break and ideographic spaces.
TRIMMED = " \t\u00a0\u2009\u202f\u3000"


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def local_date_sql(v: str) -> str:
    """SQL: the YYYY, YYYY-MM or YYYY-MM-DD text a local form of a date stands for, NULL for any
    other text (and for a local form naming no real day, which stays as written and is rejected)."""
    cases = []
    for form in LOCAL_DATE_FORMS:
        p = _sql_literal(form)
        year, month, day = (f"nullif(regexp_extract({v}, {p}, {g}), '')" for g in (1, 2, 3))
        iso = f"{year} || coalesce('-' || lpad({month}, 2, '0'), '') || coalesce('-' || lpad({day}, 2, '0'), '')"
        cases.append(f"when regexp_full_match({v}, {p}) then {iso}")
    iso = "case " + " ".join(cases) + " end"
    valid = (
        f"length({iso}) = 4 or (length({iso}) = 7 and try_cast({iso} || '-01' as date) is not null) "
        f"or try_cast({iso} as date) is not null"
    )
    return f"case when {valid} then {iso} end"


def grouped_number_sql(v: str, decimals: bool) -> str:
    """SQL: the digits of a number written with thousands groups (1,500,000 or 1 500 000), NULL otherwise."""
    form = _sql_literal(GROUPED_DECIMAL if decimals else GROUPED_WHOLE)
    spaces = _sql_literal("[," + NUMBER_SPACES + "]")
    return f"case when regexp_full_match({v}, {form}) then regexp_replace({v}, {spaces}, '', 'g') end"


def decimal_comma_reading(text: str) -> str:
    """The likely reading of a number with a decimal comma: '1.234,56' -> '1234.56'."""
    return text.replace(".", "").replace(",", ".")


# Visits: a side's country is required when its institution is given.
VISIT_SIDES = (("host_institution", "host_country"), ("guest_institution", "guest_country"))


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
