"""Read one untrusted drop file into an Arrow table of text cells.

CSV goes through DuckDB's CSV reader on a connection that may only reach the drop folder;
XLSX through openpyxl (libcoop.ingest.xlsx)."""

from __future__ import annotations

import csv
import io
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from libcoop.ingest.contract import Problem
from libcoop.ingest.drop_folder import DropFile

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_ROWS = 2_000_000
ROW_COLUMN = "_row"  # the row number the coordinator sees in Excel (header = row 1)


@dataclass
class RawRead:
    """Header texts as written, cells as text in columns c0..cN plus ``_row``, or problems."""

    headers: list[str] = field(default_factory=list)
    table: pa.Table | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # for the report: e.g. the encoding assumed


# Below this size a file is read and checked on one DuckDB thread: files are checked side by side,
# one worker per core (libcoop.pipeline.check_files), and for a file of a few thousand rows a second
# thread costs more than it saves (5,000 rows: 108 to 94 ms a file, read and checked).
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
    if drop.extension == "xlsx":
        from libcoop.ingest.xlsx import read_xlsx  # xlsx.py builds on this module's RawRead

        return read_xlsx(drop)
    return _read_csv(drop, root)


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


# What spreadsheet programs save as "CSV" on a computer set to the reporting country's language
# (docs/contract.md section 1); cp1252 for every other country.
LEGACY_ENCODINGS = {"JP": "cp932", "CN": "gb18030", "KR": "cp949", "VN": "cp1258", "TW": "big5", "HK": "big5"}
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _decode(drop: DropFile, data: bytes) -> tuple[str | None, str, Problem | None]:
    """(text, encoding assumed, problem): UTF-8, else UTF-16 with its BOM, else the country's legacy code page."""
    try:
        return data.decode("utf-8-sig"), "utf-8", None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        bad = data[error.start : error.start + 4]
        problem = Problem(drop.relative_path, "not_utf8", row=line, value=f"bytes {bad!r} at byte {error.start}")
    encoding = "utf-16" if data.startswith(UTF16_BOMS) else LEGACY_ENCODINGS.get(drop.country_code, "cp1252")
    try:
        # cp1258 writes Vietnamese tone marks as combining characters: compose them, as UTF-8 files have them.
        return unicodedata.normalize("NFC", data.decode(encoding)), encoding, None
    except UnicodeDecodeError:
        return None, encoding, problem


def _read_csv(drop: DropFile, root: Path) -> RawRead:
    data = drop.path.read_bytes()
    text, encoding, problem = _decode(drop, data)
    if text is None:
        return RawRead(problems=[problem] if problem else [])
    notes = []
    source = drop.path.resolve()
    if encoding != "utf-8":
        notes.append(
            f"this file is not saved as UTF-8; it was read as {encoding}, the usual encoding of spreadsheets "
            "in your country. Next time, in Excel use 'Save As' > 'CSV UTF-8 (Comma delimited)'."
        )
    with tempfile.TemporaryDirectory(prefix="libcoop-csv-") as scratch:
        if encoding != "utf-8":
            # DuckDB reads UTF-8: hand it the decoded text, in a folder only this read may see.
            source = Path(scratch).resolve() / "decoded.csv"
            source.write_text(text.removeprefix("\ufeff"), encoding="utf-8")
        read = _parse_csv(drop, text, source, [root, Path(scratch)])
    read.notes.extend(notes)
    return read


def _parse_csv(drop: DropFile, text: str, source: Path, readable: list[Path]) -> RawRead:
    try:
        headers = next(csv.reader(io.StringIO(text)))
    except (StopIteration, csv.Error):
        headers = []
    if not any(h.strip() for h in headers):
        return RawRead(problems=[Problem(drop.relative_path, "empty_file")])
    if len(headers) == 1 and (";" in headers[0] or "\t" in headers[0]):
        return RawRead(headers, problems=[Problem(drop.relative_path, "wrong_separator", row=1, value=headers[0][:80])])

    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(headers)))
    con = sandbox_connection(*readable, size_bytes=len(text))
    try:
        relation = con.sql(
            f"select * from read_csv('{_sql_text(str(source))}', auto_detect = false, header = true, "
            f"columns = {{{columns}}}, delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
            "null_padding = false, store_rejects = true)"
        )
        table = relation.to_arrow_table()
        rejects = con.execute(
            "select line, min(error_message), min(csv_line) from reject_errors group by line order by line"
        ).fetchall()
    except duckdb.Error as error:
        return RawRead(headers, problems=[Problem(drop.relative_path, "malformed_csv", value=str(error)[:200])])
    finally:
        con.close()
    problems = [
        Problem(drop.relative_path, "malformed_csv", row=int(line), value=f"{message}: {(csv_line or '').strip()[:80]}")
        for line, message, csv_line in rejects
    ]
    return RawRead(headers, _with_row_numbers(table, _record_lines(text, table.num_rows)), problems)


def _record_lines(text: str, records: int) -> list[int] | None:
    """The row of each record as a spreadsheet shows the file, when blank lines (which the reader
    skips, and a spreadsheet shows as empty rows) would otherwise shift every later row number;
    None when numbering records from 2 is right.

    A quoted value that spans lines (a blank line inside it included) is one row, as in a
    spreadsheet: counting lines instead numbered the rows after it differently depending on
    whether the file also had a blank line somewhere (found by the property tests)."""
    if "\n\n" not in text and "\n\r\n" not in text:
        return None
    reader = csv.reader(io.StringIO(text))
    next(reader, None)  # the header, row 1
    rows = [
        number
        for number, record in enumerate(reader, start=2)
        if any(cell.strip() for cell in record) or len(record) > 1
    ]
    return rows if len(rows) == records else None


def _with_row_numbers(table: pa.Table, rows: list[int] | None = None) -> pa.Table:
    numbers = rows if rows is not None else list(range(2, table.num_rows + 2))
    return table.append_column(ROW_COLUMN, pa.array(numbers, pa.int64()))
