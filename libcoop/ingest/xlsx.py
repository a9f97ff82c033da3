"""Read an XLSX drop file into the same Arrow table of text cells as a CSV file.

openpyxl reads the workbook in read-only streaming mode, after the archive's sizes are checked so
that a decompression bomb is refused before anything is inflated. Nothing in a cell is ever
evaluated: formulas are kept as the text the coordinator typed."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pyarrow as pa

from libcoop.ingest.contract import Problem
from libcoop.ingest.drop_folder import DropFile
from libcoop.ingest.readers import MAX_FILE_BYTES, MAX_ROWS, RawRead, _with_row_numbers

MAX_XLSX_UNPACKED_BYTES = 500 * 1024 * 1024
MAX_XLSX_RATIO = 200  # inflated / compressed size of one archive member...
MAX_XLSX_RATIO_FROM_BYTES = 1024 * 1024  # ...checked on every member that inflates beyond this
# Excel's own limits: no sheet has more rows, no cell more characters. Every row read counts,
# blank or not, and the text of all cells together is bounded like a CSV file's bytes (a shared
# string is stored once but becomes a copy in every cell that uses it).
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CELL_CHARS = 32_767
MAX_XLSX_TEXT_CHARS = MAX_FILE_BYTES


def _date_precision(number_format: str | None) -> str:
    """What a date cell's number format shows: 'mmm-yy' or 'yyyy-mm' a month, 'yyyy' a year."""
    shown = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", (number_format or "").lower())
    if "d" in shown or "h" in shown or "s" in shown:
        return "day"
    if "m" in shown:
        return "month"
    if "y" in shown or "e" in shown:
        return "year"
    return "day"


def _cell_text(value: object, number_format: str | None = None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime | dt.date):
        # Excel stores "2015-05" or "May 2015" typed by a coordinator as 1 May 2015 formatted
        # as a month: keep the precision the coordinator sees.
        precision = _date_precision(number_format)
        if precision == "year":
            return f"{value.year:04d}"
        if precision == "month":
            return f"{value.year:04d}-{value.month:02d}"
        if isinstance(value, dt.datetime) and value.time() != dt.time():
            return value.isoformat(sep=" ")
        return (value.date() if isinstance(value, dt.datetime) else value).isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
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


def read_xlsx(drop: DropFile) -> RawRead:
    import openpyxl  # uses defusedxml when installed, which refuses XML entity bombs

    try:
        too_big = _check_archive(drop.path)
        if too_big:
            return RawRead(problems=[Problem(drop.relative_path, "too_large", value=too_big)])
        workbook = openpyxl.load_workbook(drop.path, read_only=True, data_only=False)
    except Exception as error:  # noqa: BLE001 - any failure to open means the same thing to a coordinator
        return RawRead(problems=[Problem(drop.relative_path, "unreadable_spreadsheet", value=type(error).__name__)])
    try:
        sheet = workbook.worksheets[0]
        declared = sheet.max_row or 0  # from the sheet's <dimension>, before reading any row
        if declared > EXCEL_MAX_ROWS:
            return RawRead(problems=[Problem(drop.relative_path, "too_large", value=f"{declared} rows declared")])
        rows_iter = sheet.iter_rows(values_only=False)
        first = next(rows_iter, None)
        headers = [_cell_text(c.value) or "" for c in (first or ())]
        while headers and not headers[-1].strip():
            headers.pop()  # Excel often keeps formatted empty cells at the end of the header row
        if not headers:
            return RawRead(problems=[Problem(drop.relative_path, "empty_file")])
        width = len(headers)
        columns: list[list[str | None]] = [[] for _ in range(width)]
        numbers: list[int] = []
        text_chars = 0
        for number, row in enumerate(rows_iter, start=2):
            if number > EXCEL_MAX_ROWS or len(numbers) >= MAX_ROWS:
                return RawRead(
                    headers, problems=[Problem(drop.relative_path, "too_large", value=f"over {number - 1} rows")]
                )
            cells = [_cell_text(c.value, getattr(c, "number_format", None)) for c in row[:width]]
            if not any(c is not None and c.strip() for c in cells):
                continue  # blank rows are common at the end of sheets
            longest = max(len(c) for c in cells if c is not None)
            text_chars += sum(len(c) for c in cells if c is not None)
            if longest > EXCEL_MAX_CELL_CHARS or text_chars > MAX_XLSX_TEXT_CHARS:
                return RawRead(
                    headers,
                    problems=[Problem(drop.relative_path, "too_large", row=number, value=f"{text_chars} characters")],
                )
            cells += [None] * (width - len(cells))
            for column, cell in zip(columns, cells, strict=True):
                column.append(cell)
            numbers.append(number)
    except Exception as error:  # noqa: BLE001 - a damaged sheet can fail anywhere while streaming
        return RawRead(problems=[Problem(drop.relative_path, "unreadable_spreadsheet", value=type(error).__name__)])
    finally:
        workbook.close()
    table = pa.table({f"c{i}": pa.array(col, pa.string()) for i, col in enumerate(columns)})
    return RawRead(headers, _with_row_numbers(table, numbers))
