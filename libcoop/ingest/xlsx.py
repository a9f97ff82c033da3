"""Read an XLSX drop file into the same Arrow table of text cells as a CSV file: what Excel shows.

openpyxl reads the first visible sheet in read-only streaming mode, with each formula's cached
value (the result Excel saved, never evaluated here), after the archive's sizes are checked so
that a decompression bomb is refused before anything is inflated. What the cells alone do not
tell (hidden rows, merged cells, formulas without a saved result, Excel's phantom 1900-02-29) is
read from the sheet's XML in a second streaming pass (libcoop.ingest.sheet_xml). Every row is
handed on from row 1, blank rows left out: the header is found among them by the checks (a title
row may sit above it)."""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
from openpyxl.utils.escape import unescape

from libcoop.ingest.bounds import MAX_COLUMNS
from libcoop.ingest.contract import Problem
from libcoop.ingest.drop_folder import DropFile
from libcoop.ingest.raw_read import MAX_FILE_BYTES, MAX_ROWS, RawRead, with_row_numbers
from libcoop.ingest.sheet_xml import MAX_CELLS_NAMED, SheetXml, scan_sheet

if TYPE_CHECKING:
    from openpyxl import Workbook

log = logging.getLogger(__name__)

MAX_XLSX_UNPACKED_BYTES = 500 * 1024 * 1024
MAX_XLSX_RATIO = 200  # inflated / compressed size of one archive member...
MAX_XLSX_RATIO_FROM_BYTES = 1024 * 1024  # ...checked on every member that inflates beyond this
# Excel's own limits: no sheet has more rows, no cell more characters. Every row read counts,
# blank or not, and the text of all cells together is bounded like a CSV file's bytes (a shared
# string is stored once but becomes a copy in every cell that uses it).
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CELL_CHARS = 32_767
MAX_XLSX_TEXT_CHARS = MAX_FILE_BYTES
MAX_CELLS_BEYOND = 2_000_000  # empty cells past the last column allowed, padded by openpyxl, in all
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and .xlsx protected by a password
PHANTOM_SHOWN = "1900-02-28"  # what openpyxl makes of serials 59 and 60 alike


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _date_shown(number_format: str | None) -> tuple[str, bool]:
    """(precision, whether a time is shown) of a date cell's number format: 'mmm-yy' or 'yyyy-mm'
    shows a month, 'yyyy' a year, a format showing the day (or nothing recognisable) a day."""
    shown = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.|[_*].', "", (number_format or "").lower()).split(";")[0]
    shown = re.sub(r"am/pm|a/p", "h", shown)
    time = bool(re.search(r"[hs]", shown))
    # An m right after an hour or right before seconds is minutes, not a month.
    shown = re.sub(r"h+[^a-z]*m+|m+(?=[^a-z]*s)", "", shown)
    if "d" in shown or "a" in shown:  # aaa: the day of the week in Japanese formats
        return "day", time
    if "m" in shown:
        return "month", time
    if re.search(r"[yegb]", shown):  # y, and the era and Buddhist years of Asian formats
        return "year", time
    return "day", time


def _date_precision(number_format: str | None) -> str:
    """What a date cell's number format shows: 'mmm-yy' or 'yyyy-mm' a month, 'yyyy' a year."""
    return _date_shown(number_format)[0]


def _cell_text(value: object, number_format: str | None = None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime | dt.date):
        # Excel stores "2015-05" or "May 2015" typed by a coordinator as 1 May 2015 formatted
        # as a month: keep the precision the coordinator sees, and a time only if it is shown.
        precision, time_shown = _date_shown(number_format)
        if precision == "year":
            return f"{value.year:04d}"
        if precision == "month":
            return f"{value.year:04d}-{value.month:02d}"
        if isinstance(value, dt.datetime) and time_shown and value.time() != dt.time():
            return value.isoformat(sep=" ")
        return (value.date() if isinstance(value, dt.datetime) else value).isoformat()
    if isinstance(value, float):
        # Excel shows 15 significant digits: =10*1.1 is saved as 11.000000000000002 and shown as 11.
        shown = float(f"{value:.15g}")
        return str(int(shown)) if shown.is_integer() else repr(shown)
    if isinstance(value, str):
        # Excel writes the control characters of a text as _xHHHH_; openpyxl leaves them so.
        return unescape(value)
    return str(value)


def _check_archive(path: Path) -> str | None:
    """Refuse archives that would inflate to far more than they weigh."""
    with zipfile.ZipFile(path) as archive:
        total = 0
        for member in archive.infolist():
            total += member.file_size
            if (
                member.compress_size
                and member.file_size / member.compress_size > MAX_XLSX_RATIO
                and member.file_size > MAX_XLSX_RATIO_FROM_BYTES
            ):
                return f"{member.filename} inflates {member.file_size // member.compress_size} times"
        if total > MAX_XLSX_UNPACKED_BYTES:
            return f"{total} bytes once unpacked"
    return None


def _not_xlsx(drop: DropFile) -> Problem | None:
    """A file named .xlsx that is no zip archive: most often an old .xls renamed, or saved as
    .xls under the wrong name (or an .xlsx protected by a password, which is OLE2 too)."""
    with drop.path.open("rb") as stream:
        head = stream.read(len(OLE2_MAGIC))
    if head.startswith(b"PK") or zipfile.is_zipfile(drop.path):
        return None  # a zip archive, perhaps damaged: the workbook cannot be opened
    ole2 = "it is an Excel 97-2003 (.xls) file, or a workbook protected by a password"
    return Problem(drop.relative_path, "not_xlsx", detail=ole2 if head == OLE2_MAGIC else None)


def _ranges(rows: list[int], most: int = 20) -> str:
    """'5-7, 10' for rows 5, 6, 7 and 10; the first ``most`` spans, then how many rows more."""
    spans: list[list[int]] = []
    for row in rows:
        if spans and row == spans[-1][1] + 1:
            spans[-1][1] = row
        else:
            spans.append([row, row])
    shown = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans[:most])
    more = sum(b - a + 1 for a, b in spans[most:])
    return f"{shown} and {more:,} more" if more else shown


def _unreadable(drop: DropFile, error: Exception) -> RawRead:
    log.info("%s cannot be opened as a workbook: %r", drop.relative_path, error)
    detail = "the file is damaged or incomplete, or holds no workbook"
    return RawRead(problems=[Problem(drop.relative_path, "unreadable_spreadsheet", detail=detail)])


def read_xlsx(drop: DropFile) -> RawRead:
    import openpyxl  # uses defusedxml when installed, which refuses XML entity bombs

    not_xlsx = _not_xlsx(drop)
    if not_xlsx:
        return RawRead(problems=[not_xlsx])
    try:
        too_big = _check_archive(drop.path)
        if too_big:
            return RawRead(problems=[Problem(drop.relative_path, "too_large", value=too_big)])
        workbook = openpyxl.load_workbook(drop.path, read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - any failure to open means the same thing to a coordinator
        return _unreadable(drop, error)
    try:
        return _read_sheet(drop, workbook)
    except Exception as error:  # noqa: BLE001 - a damaged sheet can fail anywhere while streaming
        return _unreadable(drop, error)
    finally:
        workbook.close()


def _read_sheet(drop: DropFile, workbook: Workbook) -> RawRead:
    file = drop.relative_path
    sheets = workbook.worksheets
    sheet = next((s for s in sheets if s.sheet_state == "visible"), None)
    if sheet is None:
        return RawRead(problems=[Problem(file, "empty_file")])
    notes = []
    if sheet is not sheets[0]:
        notes.append(
            f"the first sheet, '{sheets[0].title}', is hidden in Excel and was not read; "
            f"the first visible sheet, '{sheet.title}', was"
        )
    declared = sheet.max_row or 0  # from the sheet's <dimension>, before reading any row
    if declared > EXCEL_MAX_ROWS:
        return RawRead(problems=[Problem(file, "too_large", value=f"{declared} rows declared")])

    columns: list[list[str | None]] = []
    numbers: list[int] = []
    phantoms: list[tuple[int, int]] = []
    text_chars = 0
    # openpyxl pads every row to the sheet's declared width, or to its last cell without one: a
    # cell in column XFD makes a row of 16,384 cells. Those beyond the bound are only looked at for
    # a value, and only so many of them in all.
    beyond_bound = 0
    for number, row in enumerate(sheet.iter_rows(values_only=False), start=1):
        if number > EXCEL_MAX_ROWS or len(numbers) >= MAX_ROWS:
            return RawRead(problems=[Problem(file, "too_large", value=f"over {number - 1} rows")])
        if len(row) > MAX_COLUMNS:
            beyond_bound += len(row) - MAX_COLUMNS
            if beyond_bound > MAX_CELLS_BEYOND or any(c.value is not None for c in row[MAX_COLUMNS:]):
                detail = f"cells beyond column {MAX_COLUMNS}; a file has at most {MAX_COLUMNS} columns"
                return RawRead(problems=[Problem(file, "too_many_columns", row=number, detail=detail)])
            row = row[:MAX_COLUMNS]
        cells = [_cell_text(c.value, getattr(c, "number_format", None)) for c in row]
        while cells and (cells[-1] is None or not cells[-1].strip()):
            cells.pop()  # Excel often keeps formatted empty cells at the end of a row
        if not cells:
            continue  # blank rows: common at the end of sheets, and between a title and the header
        longest = max(len(c) for c in cells if c is not None)
        text_chars += sum(len(c) for c in cells if c is not None)
        if longest > EXCEL_MAX_CELL_CHARS or text_chars > MAX_XLSX_TEXT_CHARS:
            return RawRead(problems=[Problem(file, "too_large", row=number, value=f"{text_chars} characters")])
        if PHANTOM_SHOWN in cells:
            phantoms += [(number, i + 1) for i, text in enumerate(cells) if text == PHANTOM_SHOWN]
        if len(cells) > len(columns):  # a row wider than any before it
            columns += [[None] * len(numbers) for _ in range(len(cells) - len(columns))]
        cells += [None] * (len(columns) - len(cells))
        for column, cell in zip(columns, cells, strict=True):
            column.append(cell)
        numbers.append(number)
    if not numbers:
        return RawRead(problems=[Problem(file, "empty_file")])

    phantom_rows = {row for row, _ in phantoms}
    xml = scan_sheet(drop.path, sheet._worksheet_path, phantom_rows)  # noqa: SLF001 - the sheet's part
    filled = _Filled(numbers, columns)
    problems = _sheet_problems(file, workbook, xml, phantoms, filled)
    notes += _hidden_columns_note(xml, columns)
    hidden = [row for row in xml.hidden_rows if filled.position(row) is not None]
    if hidden:
        one = len(hidden) == 1
        what = f"row {_ranges(hidden)} is" if one else f"rows {_ranges(hidden)} are"
        notes.append(f"{what} hidden in Excel; {'it was' if one else 'they were'} read")
    first = numbers[0]
    headers = [c or "" for c in (col[0] for col in columns)] if first == 1 else [""] * len(columns)
    body = slice(1, None) if first == 1 else slice(0, None)
    table = pa.table({f"c{i}": pa.array(col[body], pa.string()) for i, col in enumerate(columns)})
    return RawRead(headers, with_row_numbers(table, numbers[body]), problems, notes)


@dataclass
class _Filled:
    """Which cells of the rows read hold a value (rows found by bisection: no index per row)."""

    numbers: list[int]
    columns: list[list[str | None]]

    def position(self, row: int) -> int | None:
        at = bisect.bisect_left(self.numbers, row)
        return at if at < len(self.numbers) and self.numbers[at] == row else None

    def rows_between(self, first: int, last: int) -> int:
        """How many rows were read from ``first`` to ``last``."""
        return bisect.bisect_right(self.numbers, last) - bisect.bisect_left(self.numbers, first)

    def holds(self, row: int, column: int) -> bool:
        at = self.position(row)
        text = self.columns[column - 1][at] if at is not None and column <= len(self.columns) else None
        return text is not None and bool(text.strip())

    def outside(self, row: int, first: int, last: int) -> bool:
        """Whether ``row`` was read and holds a value outside columns ``first``..``last``."""
        at = self.position(row)
        return at is not None and any(
            (text := column[at]) is not None and text.strip()
            for number, column in enumerate(self.columns, start=1)
            if not first <= number <= last
        )


def _hidden_columns_note(xml: SheetXml, columns: list[list[str | None]]) -> list[str]:
    hidden = sorted(
        {
            number
            for first, last in xml.hidden_columns
            for number in range(max(first, 1), min(last, len(columns)) + 1)
            if any(text is not None and text.strip() for text in columns[number - 1])
        }
    )
    if not hidden:
        return []
    letters = ", ".join(_column_letter(number) for number in hidden)
    one = len(hidden) == 1
    return [
        f"{'column' if one else 'columns'} {letters} {'is' if one else 'are'} hidden in Excel; "
        f"{'it was' if one else 'they were'} read"
    ]


def _named(file: str, rule: str, found: list[Problem], total: int, what: str = "cells") -> list[Problem]:
    """The first ``MAX_CELLS_NAMED`` of ``found`` (``total`` in all), then one saying how many more."""
    kept = found[:MAX_CELLS_NAMED]
    if total > len(kept):
        kept.append(Problem(file, rule, value=f"and {total - len(kept):,} more {what}"))
    return kept


def _sheet_problems(
    file: str,
    workbook: Workbook,
    xml: SheetXml,
    phantoms: list[tuple[int, int]],
    filled: _Filled,
) -> list[Problem]:
    from openpyxl.utils.datetime import WINDOWS_EPOCH

    def at(rule: str, row: int, column: int, value: str | None = None) -> Problem:
        return Problem(file, rule, row=row, column=_column_letter(column), value=value)

    uncached = [at("formula_without_value", row, column) for row, column in xml.uncached]
    problems = _named(file, "formula_without_value", uncached, xml.uncached_count)
    errors = [at("excel_error", row, column, shown) for row, column, shown in xml.errors]
    problems += _named(file, "excel_error", errors, xml.error_count)
    if workbook.epoch == WINDOWS_EPOCH:
        days = [at("no_such_day", r, c, "1900-02-29") for r, c in phantoms if (r, c) in xml.serial_60]
        problems += _named(file, "no_such_day", days, len(days))
    merged = []
    for min_col, min_row, max_col, max_row in sorted(xml.merged, key=lambda bounds: (bounds[1], bounds[0])):
        # A merged title alone on its rows, or merged empty cells, are harmless; a value merged
        # over rows that hold other values is shown on each of them but stored on the first only.
        # Excel empties the cells a merge covers: a row read below the first holds other values.
        below = filled.rows_between(min_row + 1, max_row)
        if filled.holds(min_row, min_col) and (below or filled.outside(min_row, min_col, max_col)):
            reference = f"{_column_letter(min_col)}{min_row}:{_column_letter(max_col)}{max_row}"
            merged.append(Problem(file, "merged_cells", row=min_row, value=reference))
    return problems + _named(file, "merged_cells", merged, len(merged), "merged ranges")
