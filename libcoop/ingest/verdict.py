"""The verdict on one drop file (what ``libcoop.ingest.check.check_file`` returns, the staged
checks keep and the load reads): its normalized rows when every rule holds, else its problems."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from libcoop.ingest.contract import Problem
from libcoop.ingest.drop_folder import DropFile


@dataclass(frozen=True)
class StoredRows:
    """Rows kept as Parquet, with their count (from the file's footer, without reading them)."""

    count: int
    read: Callable[[], pa.Table]
    # The Parquet file itself, when the rows are kept in one (not in a lake): DuckDB reads it there.
    path: Path | None = None


@dataclass
class CheckedFile:
    """The verdict on one file: its normalized rows when every rule holds, else its problems."""

    drop: DropFile
    problems: list[Problem] = field(default_factory=list)
    problem_counts: dict[str, int] = field(default_factory=dict)  # rule -> rows breaking it
    warnings: list[str] = field(default_factory=list)
    rows: pa.Table | None = None
    # A staged verdict's rows stay where they were kept (libcoop.ingest.staged) until the load
    # appends them, one file at a time: a drop of 1M rows is never in memory at once.
    stored_rows: StoredRows | None = None

    @property
    def accepted(self) -> bool:
        return not self.problems

    @property
    def row_count(self) -> int:
        if self.rows is not None:
            return self.rows.num_rows
        return self.stored_rows.count if self.stored_rows is not None else 0

    def read_rows(self) -> pa.Table | None:
        """The normalized rows: in memory, or read from where the verdict kept them."""
        if self.rows is not None or self.stored_rows is None:
            return self.rows
        return self.stored_rows.read()

    @property
    def problem_total(self) -> int:
        return sum(self.problem_counts.values()) or len(self.problems)
