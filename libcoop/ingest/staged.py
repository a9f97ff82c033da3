"""Per-file checks made ahead of the load, so that Airflow can fan them out (one mapped task per
file) while only the load task writes DuckDB. A verdict is kept in the run's build folder,
``<build_dir>/<run_id>/checks/``, as Parquet (the normalized rows) and JSON (the problems), keyed
by the file's content hash: that folder is the one place the load reads the checks from; with a
DuckLake target, files beside the lake's data (``libcoop.ingest.lake_checks``), so
that checks on any worker of any host reach the load. The
file itself and its hash come from the run's ``Discovery`` (never listed or hashed again here)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from libcoop.ingest.check import CheckedFile, StoredRows
from libcoop.ingest.contract import Problem
from libcoop.ingest.drop_folder import Discovery, DropFile
from libcoop.ingest.lake_checks import parquet_rows, read_verdicts, write_verdict
from libcoop.ingest.load import checked_or_gone
from libcoop.settings import Paths


def checks_dir(paths: Paths, run_id: str) -> Path:
    return paths.build_dir / run_id / "checks"


def stage_check(paths: Paths, run_id: str, drop: DropFile) -> dict[str, Any]:
    """Check one drop file and keep the verdict for the load; return a small summary for XCom."""
    digest, relative_path = drop.content_hash, drop.relative_path
    checked = checked_or_gone(drop, paths)
    if checked is None:  # vanished or unreadable since discovery: no verdict; the load says why
        return {"file": relative_path, "hash": digest, "accepted": False, "rows": 0, "problems": 0, "gone": True}
    verdict = {
        "file": relative_path,
        "hash": digest,
        "problems": [asdict(p) for p in checked.problems],
        "problem_counts": checked.problem_counts,
        "warnings": checked.warnings,
    }
    _store(paths, run_id, verdict, checked.rows)
    return {
        "file": relative_path,
        "hash": digest,
        "accepted": checked.accepted,
        "rows": checked.row_count,
        "problems": checked.problem_total if not checked.accepted else 0,
    }


def staged_checks(paths: Paths, run_id: str, discovery: Discovery) -> dict[tuple[str, str], CheckedFile]:
    """The verdicts staged for this run, for the files whose bytes have not changed since."""
    by_path = {f.relative_path: f for f in discovery.files}
    verdicts: dict[tuple[str, str], CheckedFile] = {}
    for verdict, rows in _stored(paths, run_id):
        drop = by_path.get(verdict["file"])
        if drop is None:
            continue
        verdicts[(drop.relative_path, verdict["hash"])] = CheckedFile(
            drop,
            problems=[Problem(**p) for p in verdict["problems"]],
            problem_counts=verdict["problem_counts"],
            warnings=verdict["warnings"],
            stored_rows=rows,
        )
    return verdicts


def _store(paths: Paths, run_id: str, verdict: dict[str, Any], rows: pa.Table | None) -> None:
    if paths.lake is not None:
        write_verdict(paths.lake, run_id, verdict, rows)
        return
    folder = checks_dir(paths, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    if rows is not None:
        pq.write_table(rows, folder / f"{verdict['hash']}.parquet")
    (folder / f"{verdict['hash']}.json").write_text(json.dumps(verdict), encoding="utf-8")


def _stored(paths: Paths, run_id: str) -> list[tuple[dict[str, Any], StoredRows | None]]:
    if paths.lake is not None:
        return read_verdicts(paths.lake, run_id)
    folder = checks_dir(paths, run_id)
    stored = []
    for meta in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        rows_file = meta.with_suffix(".parquet")
        rows = parquet_rows(rows_file) if rows_file.exists() else None
        stored.append((json.loads(meta.read_text(encoding="utf-8")), rows))
    return stored
