"""Text as every reader hands it on: Unicode NFC, and no invisible characters.

A zero-width space, a bidi mark or a NUL inside a name is invisible in Excel and in a text editor,
yet makes the name a different one: a curated institution becomes an unresolved stranger. They are
removed from every value of every reader, each with a note naming the row and column
(docs/contract.md section 1: "removed or the row flagged, never silently kept").

Removed: zero-width space, non-joiner and joiner (U+200B-U+200D), word joiner (U+2060), U+FEFF
inside text, bidi marks and embeddings (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), and the C0
controls and DEL except tab, line feed and carriage return (a value spanning lines keeps its line
ends). The zero-width non-joiner and joiner are kept after a letter of a script whose shapes they
change (Arabic, Persian, the Indic scripts): there they are spelling, not noise."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from libcoop.ingest.raw_read import RawRead

MAX_NOTES = 20  # cells named one by one; the rest are counted
_CONTROL_NAMES = {"\x00": "NULL", "\x1b": "ESCAPE", "\x7f": "DELETE"}  # unicodedata names no control character

_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_ALWAYS = "\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff"
_JOINERS = "\u200c\u200d"
_JOINING_SCRIPTS = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\u0900-\u0dff\ufb50-\ufdff\ufe70-\ufefe"
_INVISIBLE = re.compile(f"[{_CONTROLS}{_ALWAYS}]|(?<![{_JOINING_SCRIPTS}])[{_JOINERS}]")
# The same characters for Arrow's RE2 (no look-behind): a cheap first pass over whole columns.
_CANDIDATE_RE2 = (
    "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f\\x{200b}-\\x{200f}\\x{202a}-\\x{202e}\\x{2060}\\x{2066}-\\x{2069}\\x{feff}]"
)


def strip_invisible(text: str) -> tuple[str, int]:
    """``text`` without its invisible characters, and how many were removed."""
    return _INVISIBLE.subn("", text)


def clean_text(value: str) -> str:
    """``value`` without invisible characters, in NFC (composed after they are gone: a mark
    separated from its letter by a zero-width space composes with it once the space is out)."""
    return unicodedata.normalize("NFC", strip_invisible(value)[0])


def _names(text: str) -> str:
    """'U+200B ZERO WIDTH SPACE' for each kind of invisible character in ``text``."""
    found = dict.fromkeys(m.group() for m in _INVISIBLE.finditer(text))
    return ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, _CONTROL_NAMES.get(c, 'CONTROL CHARACTER'))}" for c in found)


def _note(where: str, before: str, removed: int, after: str) -> str:
    kinds = _names(before)
    what = "an invisible character" if removed == 1 else f"{removed} invisible characters"
    return f'{where}: {what} ({kinds}) removed; the value read is "{after[:80]}"'


def _nfc(column: pa.ChunkedArray) -> pa.ChunkedArray:
    # Plain ASCII (most columns: codes, dates, numbers) is NFC already.
    return column if pc.all(pc.string_is_ascii(column)).as_py() is not False else pc.utf8_normalize(column, "NFC")


def clean_read(read: RawRead) -> RawRead:
    """Every header and cell of ``read`` in NFC and without invisible characters, with a note per
    cell that had any (the first ``MAX_NOTES``, then a count). Columns are scanned by Arrow; only
    the cells that hold a candidate character are looked at one by one."""
    notes: list[str] = []
    cleaned = 0
    headers = []
    for index, header in enumerate(read.headers):
        text = unicodedata.normalize("NFC", header)
        clean, removed = strip_invisible(text)
        clean = unicodedata.normalize("NFC", clean)
        if removed:
            cleaned += 1
            notes.append(_note(f"header, column {index + 1}", text, removed, clean))
        headers.append(clean)
    read.headers = headers
    table = read.table
    if table is None:
        read.notes += notes
        return read
    rows = table.column("_row").to_pylist() if "_row" in table.column_names else None
    columns = {}
    for index, (name, column) in enumerate(zip(table.column_names, table.columns, strict=True)):
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            columns[name] = column
            continue
        column = _nfc(column)
        hits = pc.match_substring_regex(column, _CANDIDATE_RE2)
        if not pc.any(hits).as_py():
            columns[name] = column
            continue
        values = column.to_pylist()
        label = headers[index].strip() if index < len(headers) and headers[index].strip() else f"column {index + 1}"
        for position in pc.indices_nonzero(pc.fill_null(hits, False)).to_pylist():
            before = values[position]
            clean, removed = strip_invisible(before)
            if not removed:
                continue
            clean = unicodedata.normalize("NFC", clean)
            values[position] = clean
            cleaned += 1
            if len(notes) < MAX_NOTES:
                row = rows[position] if rows else position + 2
                notes.append(_note(f"row {row}, column {label}", before, removed, clean))
        columns[name] = pa.array(values, column.type)
    if cleaned > len(notes):
        notes.append(f"invisible characters were removed from {cleaned - len(notes):,} more cells")
    read.table = pa.table(columns)
    read.notes += notes
    return read
