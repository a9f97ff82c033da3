"""Where a drop file's header is, and DuckDB's CSV errors in a coordinator's words.

The header is the first row holding the kind's column names (docs/contract.md section 1, turn 3):
up to ``MAX_TITLE_ROWS`` rows above it holding a title or notes, and no column name, are skipped
with a note, and every row keeps the number Excel shows it under."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from libcoop.ingest.contract import Problem, columns_of
from libcoop.ingest.drop_folder import DropFile

MAX_TITLE_ROWS = 10


@dataclass(frozen=True)
class HeaderAt:
    row: int  # as Excel numbers it (1 = the first row)
    offset: int  # where its text starts in the file's text


def _column_names(kind: str | None) -> set[str]:
    return {c.name for c in columns_of(kind)} if kind else set()


def holds_column_name(cells: list[str | None], kind: str | None) -> bool:
    names = _column_names(kind)
    return any(cell is not None and cell.strip().lower() in names for cell in cells)


def find_csv_header(text: str, kind: str | None) -> HeaderAt:
    """The first of the first ``MAX_TITLE_ROWS + 1`` records naming a column of ``kind``; the first
    record when none does (its missing columns are then reported)."""
    offset = 0
    consumed = 0

    def lines() -> Iterator[str]:
        nonlocal consumed
        for line in io.StringIO(text, newline=""):
            consumed += len(line)
            yield line

    reader = csv.reader(lines())
    try:
        for index in range(MAX_TITLE_ROWS + 1):
            record = next(reader, None)
            if record is None:
                break
            if holds_column_name(record, kind):
                return HeaderAt(index + 1, offset)
            offset = consumed
    except csv.Error:
        pass
    return HeaderAt(1, 0)


def rows_above_note(header_row: int) -> str:
    above = "row 1 above the header was" if header_row == 2 else f"rows 1-{header_row - 1} above the header were"
    return f"{above} not read (a title or notes: the header is row {header_row})"


# DuckDB's kinds of CSV error (its reject_errors.error_type) in words.
CSV_ERRORS = {
    "MISSING COLUMNS": "this line has fewer fields than the header",
    "TOO MANY COLUMNS": "this line has more fields than the header",
    "UNQUOTED VALUE": 'a quote (") in this line is not closed, or stands inside a value without quotes around it',
    "INVALID ENCODING": "this line holds bytes that are not text",
    "INVALID UNICODE": "this line holds bytes that are not text",
}
_LINE = re.compile(r"\bline:? (\d+)", re.IGNORECASE)


def csv_error_words(error_type: str | None) -> str | None:
    return CSV_ERRORS.get(error_type or "")


def csv_error_problem(drop: DropFile, message: str) -> Problem:
    """A DuckDB error that stopped the whole read, as a problem with the line when DuckDB gave one
    (its own words are kept out of the report: 'state machine', 'strict_mode' mean nothing to a
    coordinator)."""
    found = _LINE.search(message)
    row = int(found.group(1)) if found else None
    if "maximum line size" in message.lower():
        return Problem(drop.relative_path, "line_too_long", row=row)
    return Problem(drop.relative_path, "malformed_csv", row=row, detail="the file cannot be read as CSV from here on")
