"""What every reader hands the check: header texts and cells as text, numbered as Excel shows them.

Shared by the CSV reader (``libcoop.ingest.readers``) and the XLSX reader (``libcoop.ingest.xlsx``),
which readers calls: kept here, below both, so neither imports the other back."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from libcoop.ingest.contract import Problem

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
    header_row: int = 1  # as Excel numbers it: above 1 when title rows were skipped


def with_row_numbers(table: pa.Table, rows: list[int] | None = None, first: int = 2) -> pa.Table:
    """``table`` with its ``_row`` column: the rows' numbers as given, else counted from ``first``."""
    numbers = rows if rows is not None else list(range(first, table.num_rows + first))
    return table.append_column(ROW_COLUMN, pa.array(numbers, pa.int64()))
