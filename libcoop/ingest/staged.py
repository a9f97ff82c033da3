"""Per-file checks made ahead of the load, so that Airflow can fan them out (one mapped task per
file) while only the load task writes DuckDB. A verdict is kept in the run's build folder,
``<build_dir>/<run_id>/checks/``, as Parquet (the normalized rows) and JSON (the problems), keyed
by the file's content hash: that folder is the one place the load reads the checks from; with a
DuckLake target, files beside the lake's data (``libcoop.ingest.lake_checks``), so
that checks on any worker of any host reach the load: ``verdicts_for`` picks the store once
(``libcoop.target.choose``), since this step stands below the target a run publishes to
(``libcoop.targets``). The file itself and its hash come from the run's ``Discovery`` (never
listed or hashed again here)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from libcoop.ingest.check import CheckedFile, StoredRows
from libcoop.ingest.contract import Problem
from libcoop.ingest.drop_folder import Discovery, DropFile
from libcoop.ingest.lake_checks import parquet_rows, prepare, read_verdicts, write_verdict
from libcoop.ingest.load import checked_or_gone
from libcoop.settings import Paths
from libcoop.target import Lake, choose


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
    verdicts_for(paths).write(run_id, verdict, checked.rows)
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
    for verdict, rows in verdicts_for(paths).read(run_id):
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


class Verdicts(Protocol):
    """Where a run's per-file verdicts wait for its load."""

    def prepare(self, run_id: str) -> None: ...

    def write(self, run_id: str, verdict: dict[str, Any], rows: pa.Table | None) -> None: ...

    def read(self, run_id: str) -> list[tuple[dict[str, Any], StoredRows | None]]: ...


@dataclass(frozen=True)
class FolderVerdicts:
    """A DuckDB file target: in the run's build folder on this machine, keyed by content hash."""

    paths: Paths

    def prepare(self, run_id: str) -> None:
        """Nothing to do: ``publish.prepare_build`` removes the folders earlier runs left."""

    def write(self, run_id: str, verdict: dict[str, Any], rows: pa.Table | None) -> None:
        folder = checks_dir(self.paths, run_id)
        folder.mkdir(parents=True, exist_ok=True)
        if rows is not None:
            pq.write_table(rows, folder / f"{verdict['hash']}.parquet")
        (folder / f"{verdict['hash']}.json").write_text(json.dumps(verdict), encoding="utf-8")

    def read(self, run_id: str) -> list[tuple[dict[str, Any], StoredRows | None]]:
        folder = checks_dir(self.paths, run_id)
        stored = []
        for meta in sorted(folder.glob("*.json")) if folder.is_dir() else ():
            rows_file = meta.with_suffix(".parquet")
            rows = parquet_rows(rows_file) if rows_file.exists() else None
            stored.append((json.loads(meta.read_text(encoding="utf-8")), rows))
        return stored


@dataclass(frozen=True)
class LakeVerdicts:
    """A DuckLake target: files beside the lake's data, which checks on any host reach."""

    lake: Lake

    def prepare(self, run_id: str) -> None:
        prepare(self.lake, run_id)

    def write(self, run_id: str, verdict: dict[str, Any], rows: pa.Table | None) -> None:
        write_verdict(self.lake, run_id, verdict, rows)

    def read(self, run_id: str) -> list[tuple[dict[str, Any], StoredRows | None]]:
        return read_verdicts(self.lake, run_id)


def verdicts_for(paths: Paths) -> Verdicts:
    return choose(paths.lake, lambda: FolderVerdicts(paths), LakeVerdicts)


def prepare_checks(paths: Paths, run_id: str) -> None:
    """Before the checks fan out: where they stage their verdicts is ready."""
    verdicts_for(paths).prepare(run_id)
