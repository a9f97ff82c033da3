"""Every file the contract allows passes `libcoop check`, and its normalized rows say what it says.

Cheap (no dbt): many examples in `make test` (LIBCOOP_CHECK_EXAMPLES, default 60)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import given, settings

from libcoop.ingest.check import check_file
from libcoop.ingest.drop_folder import discover
from tests.generated_drops import DropFile, drop_files, totals, write_drop


@settings(max_examples=int(os.environ.get("LIBCOOP_CHECK_EXAMPLES", "60")) * (4 if settings().max_examples > 50 else 1))
@given(f=drop_files(max_rows=12))
def test_check_accepts_every_generated_file_and_keeps_its_totals(f: DropFile) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        incoming = Path(tmp) / "incoming"
        write_drop([f], incoming)
        found = discover(incoming)
        assert [d.relative_path for d in found.files] == [f.relative_path]
        (drop,) = found.files
        assert (drop.kind, drop.country_code) == (f.kind, f.country)
        checked = check_file(drop, incoming)
        assert checked.accepted, [(p.rule, p.row, p.column, p.value, p.detail) for p in checked.problems]
        rows = checked.rows.to_pylist()
        expected = totals([f])
        assert len(rows) == len(f.rows)
        assert [r["source_row_number"] for r in rows] == list(range(f.first_row, f.first_row + len(f.rows)))
        for column in ("delegations", "participants", "quantity"):
            if column in checked.rows.column_names:
                assert sum(r[column] or 0 for r in rows) == expected["sums"].get(column, 0), column
        if f.kind == "donations":
            amounts: dict[str, float] = {}
            for r in rows:
                if r["amount"] is not None:
                    amounts[r["currency"]] = amounts.get(r["currency"], 0.0) + r["amount"]
            assert amounts.keys() == expected["amounts"].keys()
