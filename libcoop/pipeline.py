"""The nightly job, step by step: load -> build (dbt) -> validate (GE) -> publish.

The Airflow tasks of ``dags/cooperation_nightly.py`` call these same functions one by one;
``libcoop run`` calls ``run``, which chains them in one process."""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from libcoop.build import build_marts
from libcoop.config import Paths
from libcoop.docs import DocsFailed, generate_docs
from libcoop.dq_history import RUNS_DDL, clear_pending, fold_pending, keep_pending, pending_dir
from libcoop.drop_folder import discover
from libcoop.fingerprint import docs_are_current, record_fingerprint, unchanged_since
from libcoop.load import LoadResult, load_drop
from libcoop.publish import discard_build, prepare_build, publish
from libcoop.reference import write_reference_tables
from libcoop.review import review_unresolved
from libcoop.staged import staged_checks

log = logging.getLogger(__name__)


class PublishBlocked(RuntimeError):
    """The build is not fit to publish (a critical data-quality check failed)."""


def new_run_id(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def safe_run_id(text: str) -> str:
    """Airflow run ids contain ':' and '+'; keep them readable but safe as a folder name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


@dataclass
class RunSummary:
    run_id: str
    status: str  # published, blocked, failed
    warehouse: Path
    files: dict[str, int] = field(default_factory=dict)
    mart_rows: dict[str, int] = field(default_factory=dict)
    quality: str = "not run"
    message: str | None = None

    def render(self) -> str:
        files = ", ".join(f"{n} {k}" for k, n in self.files.items()) or "none"
        marts = "\n".join(f"    {name:<40} {rows:>8}" for name, rows in self.mart_rows.items()) or "    (none)"
        lines = [
            f"libcoop run {self.run_id}: {self.status}",
            f"  files: {files}",
            "  rows per mart:",
            marts,
            f"  {self.quality}",
            f"  warehouse: {self.warehouse}",
        ]
        if self.message:
            lines.append(f"  note: {self.message}")
        return "\n".join(lines)


# --- the steps ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingChanges:
    """How the drop folder differs from what the published warehouse holds."""

    to_check: tuple[str, ...]  # new or changed files, including ones rejected before
    removed: tuple[str, ...]  # files in force whose file is gone
    unseen: tuple[str, ...]  # to_check minus the bytes already rejected: what warrants a new run

    @property
    def any(self) -> bool:
        return bool(self.unseen or self.removed)


def pending_changes(paths: Paths) -> PendingChanges:
    """Compare the drop folder with the published warehouse (opened read-only)."""
    found = discover(paths.incoming)
    hashes = {f.relative_path: f.content_hash() for f in found.files}
    current: dict[str, str] = {}
    rejected: set[tuple[str, str]] = set()
    if paths.warehouse.exists():
        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            current = dict(
                con.execute("select file_path, content_hash from raw.file_versions where is_current").fetchall()
            )
            rejected = set(
                con.execute(
                    "select file_path, content_hash from audit.file_loads where outcome = 'rejected'"
                ).fetchall()
            )
    to_check = tuple(p for p, h in hashes.items() if current.get(p) != h)
    return PendingChanges(
        to_check=to_check,
        removed=tuple(sorted(set(current) - set(hashes))),
        unseen=tuple(p for p in to_check if (p, hashes[p]) not in rejected),
    )


def load_step(paths: Paths, run_id: str) -> tuple[Path, LoadResult]:
    """Copy the published warehouse into a private build and load the drop folder into it,
    using the per-file verdicts staged for this run when there are any."""
    build = prepare_build(paths, run_id)
    discovery = discover(paths.incoming)
    with duckdb.connect(str(build)) as con:
        write_reference_tables(con)
        result = load_drop(con, paths, run_id, discovery, staged_checks(paths, run_id, discovery))
    return build, result


def build_step(build: Path) -> int:
    """dbt build, then the work list of unresolved names with their closest known candidates."""
    nodes = build_marts(build).nodes
    with duckdb.connect(str(build)) as con:
        review_unresolved(con)
    return nodes


def validate_step(paths: Paths, build: Path, run_id: str):  # type: ignore[no-untyped-def]
    """Run every Great Expectations suite on the build and keep the results in it."""
    from libcoop.quality import data_docs_target, publish_data_docs, record_results, validate_warehouse

    report = validate_warehouse(build, run_id, paths.expectations_dir)
    with duckdb.connect(str(build)) as con:
        record_results(con, report)
    # Published even when the build is blocked: its failures are what people need to read.
    publish_data_docs(report, data_docs_target(paths.warehouse))
    log.info(report.summary())
    return report


def mart_row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by table_name"
    ).fetchall()
    return {name: con.execute(f'select count(*) from marts."{name}"').fetchone()[0] for (name,) in tables}


def record_run(con: duckdb.DuckDBPyConnection, summary: RunSummary, started_at: dt.datetime) -> None:
    con.execute(RUNS_DDL)
    con.execute(
        "insert into audit.runs values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            summary.run_id,
            started_at,
            dt.datetime.now(dt.UTC),
            summary.status,
            json.dumps(summary.files),
            json.dumps(summary.mart_rows),
            summary.quality,
            summary.message,
        ],
    )


def file_counts(outcomes: dict[str, int] | LoadResult) -> dict[str, int]:
    if isinstance(outcomes, LoadResult):
        counts = {k: outcomes.count(k) for k in ("loaded", "restored", "unchanged", "rejected", "removed")}
        counts["skipped"] = len(outcomes.skipped)
        return {k: v for k, v in counts.items() if v}
    return outcomes


def publish_step(
    paths: Paths,
    build: Path,
    run_id: str,
    files: dict[str, int],
    quality_passed: bool,
    quality_summary: str,
    started_at: dt.datetime,
) -> RunSummary:
    """Record the run in the build and publish it, or refuse when quality failed."""
    summary = RunSummary(run_id, "published", paths.warehouse, files, quality=quality_summary)
    if not quality_passed:
        summary.status = "blocked"
        summary.message = "a critical data-quality check failed; the last good warehouse stays published"
        # The blocked run's results reach the warehouse with the next published build.
        keep_pending(
            build,
            pending_dir(paths.warehouse),
            run_id,
            started_at=started_at,
            files=files,
            quality=quality_summary,
            message=summary.message,
        )
        discard_build(build)
        raise PublishBlocked(f"{summary.message}: {quality_summary}")
    try:
        # Before the rename: dbt must document the build file, never write the published one.
        if docs_are_current(paths):
            log.info("dbt docs kept: the models and seeds are those of the published build")
        else:
            with phase("dbt docs"):
                generate_docs(build, paths.warehouse.parent / "dbt_docs")
    except DocsFailed as error:
        log.warning("dbt docs not refreshed: %s", error)
    with duckdb.connect(str(build)) as con:
        fold_pending(con, pending_dir(paths.warehouse))
        summary.mart_rows = mart_row_counts(con)
        record_run(con, summary, started_at)
        record_fingerprint(con, run_id)
    publish(paths, build)
    clear_pending(pending_dir(paths.warehouse), paths.warehouse)
    discard_build(build)
    return summary


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Log how long a step took (``phase load: 1.20 s wall, 0.90 s cpu``); benchmarks read these lines."""
    start, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        log.info("phase %s: %.2f s wall, %.2f s cpu", name, wall, cpu)


def run(paths: Paths, run_id: str | None = None) -> RunSummary:
    """The whole nightly job in one process. Raises when nothing was published."""
    run_id = run_id or new_run_id()
    started_at = dt.datetime.now(dt.UTC)
    # The same files and the same code as the published build: it would be rebuilt identical.
    if not pending_changes(paths).any and (unchanged := unchanged_since(paths)):
        summary = published_summary(paths)
        summary.run_id, summary.status, summary.files = run_id, "unchanged", {"unchanged": unchanged[1]}
        summary.message = f"nothing changed since build {unchanged[0]}: nothing rebuilt or republished"
        log.info(summary.message)
        return summary
    with phase("load"):
        build, result = load_step(paths, run_id)
    try:
        with phase("dbt build"):
            build_step(build)
        with phase("validate"):
            report = validate_step(paths, build, run_id)
    except BaseException:
        discard_build(build)
        raise
    with phase("publish"):
        return publish_step(paths, build, run_id, file_counts(result), report.passed, report.summary(), started_at)


def published_summary(paths: Paths) -> RunSummary:
    """What BI tools see now: the last published run, read from the warehouse read-only."""
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        row: Any = con.execute(
            "select run_id, status, files, quality, message from audit.runs order by finished_at desc limit 1"
        ).fetchone()
        counts = mart_row_counts(con)
    return RunSummary(row[0], row[1], paths.warehouse, json.loads(row[2]), counts, quality=row[3], message=row[4])
