"""The local forms of dates and numbers the contract reads (docs/contract.md, turn 3): their
patterns and the SQL that reads them. Re-exported by ``libcoop.ingest.contract``."""

from __future__ import annotations

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
