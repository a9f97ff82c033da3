"""Read one untrusted drop file into an Arrow table of text cells.

CSV goes through DuckDB's CSV reader on a connection that may only reach the drop folder;
XLSX through openpyxl (libcoop.ingest.xlsx)."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Any

import duckdb

from libcoop.ingest.bounds import precheck
from libcoop.ingest.cleaning import clean_read
from libcoop.ingest.contract import Problem
from libcoop.ingest.drop_folder import DropFile
from libcoop.ingest.encodings import LEGACY_ENCODINGS, UTF8_BOM, Decoded, decode
from libcoop.ingest.header import (
    MAX_TITLE_ROWS,
    csv_error_problem,
    csv_error_words,
    find_csv_header,
    holds_column_name,
    rows_above_note,
)
from libcoop.ingest.raw_read import MAX_FILE_BYTES, ROW_COLUMN, RawRead, with_row_numbers

# Longer than any line libcoop.ingest.bounds lets through (200 cells of 32,767 characters of 4 bytes):
# DuckDB refuses a line beyond it, which is then reported in words (line_too_long).
MAX_LINE_BYTES = 32 * 1024 * 1024


# Below this size a file is read and checked on one DuckDB thread: files are checked side by side,
# one worker per core (libcoop.pipeline.check_files), and for a file of a few thousand rows a second
# thread costs more than it saves (see docs/benchmarks.md, 'Figures behind the code').
ONE_THREAD_BYTES = 8 * 1024 * 1024


def duckdb_config(size_bytes: int) -> dict[str, Any]:
    """The DuckDB settings to read or check ``size_bytes`` of one drop file with."""
    return {"threads": 1} if size_bytes < ONE_THREAD_BYTES else {}


def sandbox_connection(*roots: Path, size_bytes: int = ONE_THREAD_BYTES) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that can read files under ``roots`` and nothing else, for good."""
    con = duckdb.connect(":memory:", config=duckdb_config(size_bytes))
    con.execute("set enable_progress_bar = false")
    allowed = ", ".join(f"'{_sql_text(str(root.resolve()) + '/')}'" for root in roots)
    con.execute(f"set allowed_directories = [{allowed}]")
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")
    return con


def read_drop_file(drop: DropFile, root: Path) -> RawRead:
    size = drop.path.stat().st_size
    if size == 0:
        return RawRead(problems=[Problem(drop.relative_path, "empty_file")])
    if size > MAX_FILE_BYTES:
        return RawRead(problems=[Problem(drop.relative_path, "too_large", value=f"{size} bytes")])
    if (beyond := precheck(drop)) is not None:  # columns, cell length, rows: before any costly read
        return RawRead(problems=[beyond])
    if drop.extension == "xlsx":
        from libcoop.ingest.xlsx import read_xlsx  # openpyxl is imported for a spreadsheet only

        return finish_read(drop, read_xlsx(drop))
    return finish_read(drop, _read_csv(drop, root))


def finish_read(drop: DropFile, read: RawRead) -> RawRead:
    """What every reader's table goes through: title rows above the header skipped, then every
    text in Unicode NFC (a name typed on a Mac, in NFD, is the same name) and without invisible
    characters (``cleaning.clean_read``)."""
    return clean_read(_skip_title_rows(drop, read))


def _skip_title_rows(drop: DropFile, read: RawRead) -> RawRead:
    """A table read with its first row as header, when that row names no column and one of the next
    rows does (an XLSX sheet with a title): that row becomes the header, the rows above are dropped."""
    table = read.table
    if table is None or read.problems or holds_column_name(read.headers, drop.kind):
        return read
    cells = [c for c in table.column_names if c != ROW_COLUMN]
    first = table.slice(0, MAX_TITLE_ROWS).to_pylist()
    for index, row in enumerate(first):
        texts = [row[c] for c in cells]
        if holds_column_name(texts, drop.kind):
            header_row = int(row[ROW_COLUMN])
            headers = [t or "" for t in texts]
            while headers and not headers[-1].strip():
                headers.pop()
            rest = table.slice(index + 1).select([*cells[: len(headers)], ROW_COLUMN])
            notes = [*read.notes, rows_above_note(header_row)]
            return RawRead(headers, rest, list(read.problems), notes, header_row=header_row)
    return read


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def _encoding_note(encoding: str, country_code: str) -> str:
    advice = "Next time, in Excel use 'Save As' > 'CSV UTF-8 (Comma delimited)'."
    if encoding.startswith("utf-16"):
        return f"this file is saved as UTF-16 text, not UTF-8; it was read as {encoding}. {advice}"
    why = (
        "the usual encoding of spreadsheets in your country"
        if LEGACY_ENCODINGS.get(country_code) == encoding
        else "the Western European encoding of Windows"
    )
    return (
        f"this file is not saved as UTF-8; it was read as {encoding}, {why}, the one reading in which "
        f"its text is plausible. {advice}"
    )


def _undecodable(drop: DropFile, data: bytes, decoded: Decoded) -> Problem:
    if decoded.unclear:
        return Problem(drop.relative_path, "encoding_unclear", detail=decoded.unclear)
    try:
        data.decode("utf-8")
        start = 0
    except UnicodeDecodeError as error:
        start = error.start
    line = data[:start].count(b"\n") + 1
    bad = data[start : start + 4]
    return Problem(drop.relative_path, "not_utf8", row=line, value=f"bytes {bad!r} at byte {start}")


def _one_kind_of_line_end(text: str) -> str:
    """Every line end as LF when the file mixes them or ends lines with CR alone (old Mac
    programs): DuckDB's reader takes one kind of line end per file."""
    if "\r" not in text:
        return text
    crlf = text.count("\r\n")
    if crlf == text.count("\r") and crlf == text.count("\n"):
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_csv(drop: DropFile, root: Path) -> RawRead:
    data = drop.path.read_bytes()
    decoded = decode(data, drop.country_code)
    if decoded.text is None or decoded.encoding is None:
        return RawRead(problems=[_undecodable(drop, data, decoded)])
    text = _one_kind_of_line_end(decoded.text)
    # DuckDB reads UTF-8 and skips one byte-order mark; anything else is handed over decoded.
    rewrite = decoded.encoding != "utf-8" or data.startswith(UTF8_BOM * 2) or len(text) != len(decoded.text)
    notes = [_encoding_note(decoded.encoding, drop.country_code)] if decoded.encoding != "utf-8" else []
    header = find_csv_header(text, drop.kind)
    lines_above = 0
    if header.row > 1:
        lines_above = text[: header.offset].count("\n")
        text = text[header.offset :]
        rewrite = True
        notes.append(rows_above_note(header.row))
    source = drop.path.resolve()
    with tempfile.TemporaryDirectory(prefix="libcoop-csv-") as scratch:
        if rewrite:
            # Handed to DuckDB in a folder only this read may see.
            source = Path(scratch).resolve() / "decoded.csv"
            source.write_text(text, encoding="utf-8")
        read = _parse_csv(drop, text, source, [root, Path(scratch)], header.row, lines_above)
    read.notes.extend(notes)
    return read


def _parse_csv(
    drop: DropFile, text: str, source: Path, readable: list[Path], header_row: int = 1, lines_above: int = 0
) -> RawRead:
    try:
        headers = next(csv.reader(io.StringIO(text)))
    except (StopIteration, csv.Error):
        headers = []
    if not any(h.strip() for h in headers):
        return RawRead(problems=[Problem(drop.relative_path, "empty_file")])
    if len(headers) == 1 and (";" in headers[0] or "\t" in headers[0]):
        return RawRead(
            headers, problems=[Problem(drop.relative_path, "wrong_separator", row=header_row, value=headers[0][:80])]
        )

    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(headers)))
    con = sandbox_connection(*readable, size_bytes=len(text))
    try:
        relation = con.sql(
            f"select * from read_csv('{_sql_text(str(source))}', auto_detect = false, header = true, "
            f"columns = {{{columns}}}, delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
            f"null_padding = false, store_rejects = true, max_line_size = {MAX_LINE_BYTES})"
        )
        table = relation.to_arrow_table()
        rejects = con.execute(
            "select line, min(error_type), min(csv_line) from reject_errors group by line order by line"
        ).fetchall()
    except duckdb.Error as error:
        return RawRead(headers, problems=[csv_error_problem(drop, str(error))], header_row=header_row)
    finally:
        con.close()
    problems = [
        Problem(
            drop.relative_path,
            "line_too_long" if error_type == "LINE SIZE OVER MAXIMUM" else "malformed_csv",
            row=int(line) + lines_above,
            value=(csv_line or "").strip()[:80] if error_type != "LINE SIZE OVER MAXIMUM" else None,
            detail=csv_error_words(error_type),
        )
        for line, error_type, csv_line in rejects
    ]
    rows = _record_lines(text, table.num_rows, header_row)
    return RawRead(headers, with_row_numbers(table, rows, header_row + 1), problems, header_row=header_row)


def _record_lines(text: str, records: int, header_row: int = 1) -> list[int] | None:
    """The row of each record as a spreadsheet shows the file, when blank lines (which the reader
    skips, and a spreadsheet shows as empty rows) would otherwise shift every later row number;
    None when numbering records from the row after the header is right.

    A quoted value that spans lines (a blank line inside it included) is one row, as in a
    spreadsheet: counting lines instead numbered the rows after it differently depending on
    whether the file also had a blank line somewhere (found by the property tests)."""
    if "\n\n" not in text and "\n\r\n" not in text:
        return None
    reader = csv.reader(io.StringIO(text))
    next(reader, None)  # the header
    rows = [
        number
        for number, record in enumerate(reader, start=header_row + 1)
        if any(cell.strip() for cell in record) or len(record) > 1
    ]
    return rows if len(rows) == records else None
