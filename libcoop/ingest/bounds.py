"""Bounds on a CSV drop file's shape, checked before it is read: a verdict in seconds.

A file of 100,000 columns or one holding a name of 600,000 characters is small on disk but
costly for every step after it (the CSV sniffer, the per-column checks, the name matching of dbt's
review models). ``precheck`` reads the file once, as a stream, and refuses it with a rule the
coordinator can act on, before any of that work starts. XLSX files are bounded by their reader
(the sheet's declared size, Excel's own limits).

The pass works on bytes: cells are split by Python's CSV parser on the text decoded as UTF-16 when
the file starts with its byte-order mark, else as UTF-8 with undecodable bytes kept as one
character each. A legacy code page (cp932, GB18030...) thus counts at most two characters for
one, which the limits below leave room for."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from libcoop.ingest import suggestions
from libcoop.ingest.contract import Problem
from libcoop.ingest.drop_folder import DropFile

# The contract's files have 8 to 16 columns; a few more are allowed and ignored.
MAX_COLUMNS = 200
MAX_CELL_CHARS = 32_767  # what one Excel cell holds
# The names of institutions, people and places: the longest curated name has about 90 characters.
MAX_NAME_CHARS = 1_000
# The contract's name columns (those the warehouse resolves), and two more a file may carry.
NAME_COLUMNS = frozenset(suggestions.NAME_COLUMNS) | {"contact_person", "location"}
MAX_ROWS = 2_000_000  # as libcoop.ingest.readers.MAX_ROWS
_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
NEWLINE, QUOTE = ord("\n"), ord('"')


def _text(path_bytes: io.BufferedReader, head: bytes) -> io.TextIOWrapper:
    encoding = "utf-16" if head.startswith(_BOMS) else "utf-8-sig"
    return io.TextIOWrapper(path_bytes, encoding=encoding, errors="surrogateescape", newline="")


def precheck(drop: DropFile) -> Problem | None:
    """The first bound ``drop`` breaks, as a problem naming the row and column, or None."""
    if drop.extension != "csv":
        return None
    lines, longest, multi_line = _shape(drop.path)
    if longest <= SHORT_LINE_BYTES and not multi_line:
        # Every cell is shorter than its line: only the header and the number of rows can break a bound.
        if lines > MAX_ROWS + 1:
            return Problem(drop.relative_path, "too_many_rows", detail=f"more than {MAX_ROWS:,} rows")
        return _exact(drop, header_only=True)
    return _exact(drop)


# Lines up to this long (in bytes) cannot hold a name beyond MAX_NAME_CHARS nor a cell beyond
# MAX_CELL_CHARS: a file made only of them is bounded by a vectorised pass over its bytes.
SHORT_LINE_BYTES = MAX_NAME_CHARS
_CHUNK = 8 << 20


def _shape(path: Path) -> tuple[int, int, bool]:
    """(line ends, the longest line in bytes, whether a quoted value spans lines), read in chunks.
    A line with an odd number of quotes opens or closes a value that goes on to the next line."""
    lines = longest = partial = partial_quotes = 0
    multi_line = False
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            data = np.frombuffer(chunk, dtype=np.uint8)
            ends = np.flatnonzero(data == NEWLINE)
            quotes = np.flatnonzero(data == QUOTE)
            per_line = np.bincount(np.searchsorted(ends, quotes), minlength=ends.size + 1)
            per_line[0] += partial_quotes
            if ends.size:
                multi_line = multi_line or bool((per_line[:-1] & 1).any())
                longest = max(longest, int(ends[0]) + partial, int(np.diff(ends).max(initial=1)) - 1)
                partial = data.size - int(ends[-1]) - 1
            else:
                partial += data.size
            partial_quotes = int(per_line[-1])
            longest = max(longest, partial)
            lines += ends.size
            if longest > SHORT_LINE_BYTES or multi_line:
                break  # the exact pass decides
    return lines, longest, multi_line or bool(partial_quotes & 1)


def _exact(drop: DropFile, *, header_only: bool = False) -> Problem | None:
    """The bounds checked cell by cell by Python's CSV parser, as a stream."""
    old_limit = csv.field_size_limit()
    csv.field_size_limit(MAX_CELL_CHARS * 2 + 2)  # quotes included, a legacy character as two
    try:
        with drop.path.open("rb") as raw:
            # A cell beyond the limit is an error of the parser itself: no huge string is built.
            rows = csv.reader(_text(raw, raw.peek(4)[:4]))
            row = [1]
            try:
                return _scan(drop, rows, row, header_only=header_only)
            except csv.Error as error:
                if "field larger than field limit" not in str(error):
                    return None  # broken quoting and the like: the reader says where, in its words
                return Problem(
                    drop.relative_path,
                    "cell_too_long",
                    row=row[0] + 1,
                    detail=f"more than {MAX_CELL_CHARS:,} characters in one cell",
                )
    except UnicodeError:
        return None  # an encoding problem: the reader's to explain
    finally:
        csv.field_size_limit(old_limit)


def _chars(cell: str) -> int:
    """Characters of a cell: an undecodable byte (a legacy code page) counts as half of one."""
    if len(cell) <= MAX_NAME_CHARS:
        return len(cell)
    return len(cell) - sum(1 for c in cell if "\udc80" <= c <= "\udcff") // 2


def _scan(drop: DropFile, rows: Iterator[list[str]], row: list[int], *, header_only: bool) -> Problem | None:
    """``row[0]``: the row being read, as Excel numbers it (for the caller, when the parser stops)."""
    header = next(rows, None)
    if header is None:
        return None
    if len(header) > MAX_COLUMNS:
        return _too_many_columns(drop, 1, len(header))
    if header_only:
        return None
    names = {i for i, h in enumerate(header) if h.strip().lower() in NAME_COLUMNS}
    for row[0], cells in enumerate(rows, start=2):  # the caller reads the row number too
        if len(cells) > MAX_COLUMNS:
            return _too_many_columns(drop, row[0], len(cells))
        if row[0] > MAX_ROWS + 1:
            return Problem(drop.relative_path, "too_many_rows", detail=f"more than {MAX_ROWS:,} rows")
        if max(map(len, cells), default=0) <= MAX_NAME_CHARS:
            continue
        for i, cell in enumerate(cells):
            limit = MAX_NAME_CHARS if i in names else MAX_CELL_CHARS
            if (chars := _chars(cell)) > limit:
                column = header[i] if i < len(header) else None
                if i not in names:
                    return Problem(
                        drop.relative_path,
                        "cell_too_long",
                        row=row[0],
                        column=column,
                        detail=f"{chars:,} characters; a cell has at most {MAX_CELL_CHARS:,}",
                    )
                return Problem(
                    drop.relative_path,
                    "name_too_long",
                    row=row[0],
                    column=column,
                    value=cell[:60] + "...",
                    detail=f"{chars:,} characters; a name has at most {MAX_NAME_CHARS:,}",
                )
    return None


def _too_many_columns(drop: DropFile, row: int, count: int) -> Problem:
    return Problem(
        drop.relative_path,
        "too_many_columns",
        row=row,
        detail=f"{count:,} columns; a file has at most {MAX_COLUMNS}",
    )
