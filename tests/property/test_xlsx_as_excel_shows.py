"""Workbooks with Excel's oddities load what Excel shows: text formulas by their saved results,
filled-down (shared) formulas, a hidden first sheet never read, date-time cells by the precision
their number format shows (1900 and 1904 date systems), hidden rows and columns read with a
note, invisible characters in names removed with a note.

Cheap (no dbt): LIBCOOP_XLSX_EXAMPLES examples in `make test` (default 20), four times that with
the fuzz profile."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from libcoop.ingest.check import check_file
from libcoop.ingest.drop_folder import discover
from tests.unit.test_xlsx_as_shown import HEADER, formula, number, row, sheet, text, workbook

NAMES = ("National Library of Viet Nam", "Thư viện Quốc gia Việt Nam", "国立国会図書館", "국립중앙도서관", "NLB")
INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202c", "\u2066", "\u2069", "\ufeff")
# Excel writes a control character of a text as _xHHHH_.
EXCEL_CONTROLS = {"\x00": "_x0000_", "\x01": "_x0001_", "\x1f": "_x001F_"}
# number format -> what the cell shows of a day
FORMATS = {
    "yyyy": "year",
    "mmm-yy": "month",
    "yyyy-mm": "month",
    "yyyy-mm-dd": "day",
    "d-mmm-yy": "day",
    "m/d/yyyy": "day",
    "yyyy/m/d": "day",
}
EPOCHS = {False: dt.date(1899, 12, 30), True: dt.date(1904, 1, 1)}


@dataclass(frozen=True)
class Member:
    shown: str  # the name as Excel shows it, invisible characters included
    as_formula: int | None  # where a text formula splits the name, or None for a typed text
    country_shared: bool  # the country filled down by a shared formula
    joined: dt.datetime
    joined_format: str | None  # None: typed as the text YYYY

    @property
    def name(self) -> str:
        return "".join(c for c in self.shown if c not in INVISIBLE and c not in EXCEL_CONTROLS)

    def expected(self) -> tuple[str, str, dt.date, str]:
        if self.joined_format is None:
            return self.name, "VN", dt.date(self.joined.year, 1, 1), "year"
        precision = FORMATS[self.joined_format]
        day = {
            "year": dt.date(self.joined.year, 1, 1),
            "month": dt.date(self.joined.year, self.joined.month, 1),
            "day": self.joined.date(),
        }[precision]
        return self.name, "VN", day, precision


@st.composite
def shown_names(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(NAMES))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(name)))
        name = name[:at] + draw(st.sampled_from(INVISIBLE + tuple(EXCEL_CONTROLS))) + name[at:]
    return name


@st.composite
def members(draw: st.DrawFn) -> Member:
    shown = draw(shown_names())
    moment = draw(st.datetimes(dt.datetime(1950, 1, 1), dt.datetime(2030, 12, 31)))
    return Member(
        shown=shown,
        as_formula=draw(st.none() | st.integers(0, len(shown))),
        country_shared=draw(st.booleans()),
        joined=moment.replace(microsecond=0, second=0),
        joined_format=draw(st.none() | st.sampled_from(sorted(FORMATS))),
    )


def excel_text(value: str) -> str:
    for control, escaped in EXCEL_CONTROLS.items():
        value = value.replace(control, escaped)
    return value


def member_row(n: int, m: Member, date1904: bool, first_shared: int | None, hidden: bool) -> str:
    if m.as_formula is None:
        name = text(f"A{n}", excel_text(m.shown))
    else:
        left, right = (excel_text(part) for part in (m.shown[: m.as_formula], m.shown[m.as_formula :]))
        name = formula(f"A{n}", f'"{left}"&"{right}"', excel_text(m.shown))
    if m.country_shared and first_shared is not None:
        source = '"V"&"N"' if n == first_shared else ""
        country = formula(f"B{n}", source, "VN", shared=' t="shared" si="0"')
    else:
        country = text(f"B{n}", "VN")
    if m.joined_format is None:
        joined = text(f"D{n}", f"{m.joined.year}")
    else:
        moment = m.joined - dt.datetime.combine(EPOCHS[date1904], dt.time())
        serial = moment.days + moment.seconds / 86400
        joined = number(f"D{n}", serial, style=1 + sorted(FORMATS).index(m.joined_format))
    return row(n, name, country, text(f"C{n}", "IFLA"), joined, hidden=hidden)


def spans(rows: list[int]) -> str:
    """'2-3, 5' for rows 2, 3 and 5."""
    parts: list[str] = []
    for n in rows:
        if n - 1 in rows and parts:
            parts[-1] = parts[-1].split("-")[0] + f"-{n}"
        else:
            parts.append(str(n))
    return ", ".join(parts)


@settings(max_examples=int(os.environ.get("LIBCOOP_XLSX_EXAMPLES", "20")) * (4 if settings().max_examples > 50 else 1))
@given(
    rows=st.lists(members(), min_size=1, max_size=6),
    hidden_sheet=st.sampled_from((None, "hidden", "veryHidden")),
    date1904=st.booleans(),
    hidden=st.sets(st.integers(0, 5)),
    hidden_column=st.sampled_from(("", "A", "C", "D")),
)
def test_what_loads_is_what_excel_shows(
    rows: list[Member], hidden_sheet: str | None, date1904: bool, hidden: set[int], hidden_column: str
) -> None:
    hidden_rows = sorted(n + 2 for n in hidden if n < len(rows))
    shared = [n for n, m in enumerate(rows, start=2) if m.country_shared]
    first_shared = shared[0] if shared else None
    body = [member_row(n, m, date1904, first_shared, n in hidden_rows) for n, m in enumerate(rows, start=2)]
    header = row(1, *(text(f"{c}1", h) for c, h in zip("ABCD", HEADER, strict=True)))
    if shared:  # the first shared formula cell carries the range it is filled down over
        body = [
            b.replace('t="shared" si="0">', f't="shared" ref="B{shared[0]}:B{shared[-1]}" si="0">', 1) for b in body
        ]
    index = "ABCD".find(hidden_column) + 1
    cols = f'<cols><col min="{index}" max="{index}" width="0" hidden="1"/></cols>' if hidden_column else ""
    sheets = [("Members", "visible", cols + sheet(header, *body))]
    if hidden_sheet:
        stale = sheet(
            header, row(2, text("A2", "Stale Library"), text("B2", "JP"), text("C2", "IFLA"), text("D2", "1990"))
        )
        sheets.insert(0, ("Old", hidden_sheet, stale))
    data = workbook(*sheets, formats=tuple(sorted(FORMATS)), date1904=date1904)

    with tempfile.TemporaryDirectory() as tmp:
        incoming = Path(tmp) / "incoming"
        (incoming / "VN").mkdir(parents=True)
        (incoming / "VN" / "memberships.xlsx").write_bytes(data)
        (drop,) = discover(incoming).files
        checked = check_file(drop, incoming)

    assert checked.accepted, [(p.rule, p.row, p.column, p.value) for p in checked.problems]
    loaded = [(r["institution"], r["country"], r["joined"], r["joined_precision"]) for r in checked.rows.to_pylist()]
    assert loaded == [m.expected() for m in rows]
    assert checked.rows.column("source_row_number").to_pylist() == list(range(2, len(rows) + 2))
    notes = "\n".join(checked.warnings)
    for n, m in enumerate(rows, start=2):
        noted = any(f"row {n}, column institution: " in w and "invisible" in w for w in checked.warnings)
        assert noted == (m.shown != m.name), (n, notes)
    assert ("'Old', is hidden in Excel and was not read" in notes) == bool(hidden_sheet)
    assert "Stale Library" not in notes
    if hidden_rows:
        one = len(hidden_rows) == 1
        what = f"row {spans(hidden_rows)} is" if one else f"rows {spans(hidden_rows)} are"
        assert f"{what} hidden in Excel; {'it was' if one else 'they were'} read" in notes
    else:
        assert not any(w.split(": ", 1)[1].startswith("row") and "hidden in Excel" in w for w in checked.warnings)
    assert (f"column {hidden_column} is hidden in Excel; it was read" in notes) == bool(hidden_column)
