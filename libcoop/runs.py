"""A run's identity and its record: run ids, the summary it prints, its row of ``audit.runs``
(published, blocked, failed), and what ``libcoop summary`` shows of the live build.

``libcoop.pipeline`` runs the steps and uses these; the names are importable from there too."""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from libcoop.audit import audit_store, ensure_audit_tables, keep_outcome
from libcoop.dashboard import dashboard_target
from libcoop.errors import LibcoopError
from libcoop.ingest.reports import report_path
from libcoop.redact import safe
from libcoop.settings import Paths, resolve_paths
from libcoop.target import handed_on
from libcoop.warehouse.builds import last_build, read_live
from libcoop.warehouse.lake import Lake, LakeError, Snapshot, connect, snapshots

log = logging.getLogger(__name__)


def new_run_id(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


_AIRFLOW_RUN_ID = re.compile(r"^(?P<kind>[a-z_]+?)__(?P<date>\d{4}-\d\d-\d\d)T(?P<time>\d\d:\d\d:\d\d)")


def safe_run_id(text: str) -> str:
    """A readable run id that is safe as a folder name: Airflow's
    ``manual__2026-12-01T07:29:01.414354+00:00`` becomes ``manual-20261201T072901``."""
    match = _AIRFLOW_RUN_ID.match(text)
    if match:
        return f"{match['kind'].replace('_', '-')}-{match['date'].replace('-', '')}T{match['time'].replace(':', '')}"
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


@dataclass(frozen=True)
class StepContext:
    """What every step of one run shares: made once when the run takes the warehouse's lease and
    handed from task to task (an Airflow XCom), so no task derives a path or a run id again.

    ``warehouse`` is the published file, or None for a DuckLake target: its URI may hold a
    password, which is read again from LIBCOOP_WAREHOUSE rather than written into an XCom."""

    run_id: str
    raw_dir: str
    warehouse: str | None
    started_at: str  # ISO 8601, with its time zone
    build: str | None = None  # the private build, once the load made it

    @classmethod
    def start(cls, paths: Paths, run_id: str, now: dt.datetime | None = None) -> StepContext:
        started = (now or dt.datetime.now(dt.UTC)).isoformat()
        warehouse = handed_on(paths.warehouse, paths.lake)
        return cls(run_id, str(paths.raw_dir), warehouse, started)

    def with_build(self, build: Path) -> StepContext:
        return StepContext(self.run_id, self.raw_dir, self.warehouse, self.started_at, str(build))

    def paths(self) -> Paths:
        return resolve_paths(self.raw_dir, self.warehouse)

    @property
    def started(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.started_at)

    @property
    def build_path(self) -> Path:
        if self.build is None:
            raise ValueError(f"run {self.run_id}: no build yet (the load makes it)")
        return Path(self.build)

    def to_xcom(self) -> dict[str, str | None]:
        return {
            "run_id": self.run_id,
            "raw_dir": self.raw_dir,
            "warehouse": self.warehouse,
            "started_at": self.started_at,
            "build": self.build,
        }

    @classmethod
    def from_xcom(cls, value: dict[str, Any]) -> StepContext:
        return cls(**{name: value.get(name) for name in ("run_id", "raw_dir", "warehouse", "started_at", "build")})


@dataclass
class RunSummary:
    run_id: str
    status: str  # published, blocked, failed
    warehouse: Path
    files: dict[str, int] = field(default_factory=dict)
    mart_rows: dict[str, int] = field(default_factory=dict)
    quality: str = "not run"
    message: str | None = None
    file_names: dict[str, list[str]] = field(default_factory=dict)  # outcome -> files, e.g. "rejected": [...]
    reports: Path | None = None  # raw/reports/, where rejected files' reports are
    lake: str | None = None  # the DuckLake it was published to, and the snapshot (libcoop.targets)
    # Data-quality warnings coordinators must read (failed warning checks and rows naming an
    # unresolved institution), and how many of them are such rows (libcoop.quality.unresolved).
    warnings: int = 0
    unresolved_names: int = 0
    monitor_warnings: int = 0  # freshness, volume and schema warnings (libcoop.quality.monitors)
    live: str | None = None  # `libcoop summary`: which build is live, since when

    def render(self) -> str:
        files = ", ".join(f"{n} {k}" for k, n in self.files.items()) or "none"
        marts = "\n".join(f"    {name:<40} {rows:>8}" for name, rows in self.mart_rows.items()) or "    (none)"
        lines = [f"libcoop run {self.run_id}: {self.status}", f"  files: {files}"]
        if self.live:
            lines.insert(1, f"  live: {self.live}")
        for outcome, names in self.file_names.items():
            lines.append(f"    {outcome}:")
            for name in names:
                report = report_path(self.reports, name) if self.reports and outcome == "rejected" else None
                report = report if report and report.exists() else None
                lines.append(f"      {name}" + (f" (report: {report})" if report else ""))
        lines += ["  rows per mart:", marts, f"  {self.quality}", f"  warehouse: {self.warehouse}"]
        if self.lake:
            lines.append(f"  published to: {self.lake}")
        for label, page in (("data docs", DATA_DOCS_PAGE), ("dbt docs", DBT_DOCS_PAGE)):
            if (self.warehouse.parent / page).exists():
                lines.append(f"  {label}: {self.warehouse.parent / page}")
        if (dashboard_target(self.warehouse) / "index.html").exists():
            lines.append(f"  dashboard: {dashboard_target(self.warehouse) / 'index.html'}")
        if self.unresolved_names:
            lines.append(f"  unresolved names: {self.unresolved_names} rows, warnings on their countries' pages")
        if self.monitor_warnings:
            lines.append(f"  monitors: {self.monitor_warnings} warnings (freshness, volume, schema) on country pages")
        if self.message:
            lines.append(f"  note: {self.message}")
        return safe("\n".join(lines))  # no password of a lake's target, no raw ESC of a file's name


# Beside the warehouse file (libcoop.quality.data_docs_target, libcoop.transform.dbt_docs).
DATA_DOCS_PAGE = "data_docs/index.html"
DBT_DOCS_PAGE = "dbt_docs/index.html"
OUTCOMES = ("loaded", "restored", "unchanged", "rejected", "removed", "skipped")


def files_of_run(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, list[str]]:
    """The files of one run by outcome (loaded, unchanged, rejected...), from audit.file_loads."""
    if not con.execute(
        "select 1 from duckdb_tables() where schema_name = 'audit' and table_name = 'file_loads'"
    ).fetchall():
        return {}  # a build made without the loader (the quality tests' own marts)
    rows = con.execute(
        "select outcome, file_path from audit.file_loads where load_id = ? order by file_path", [run_id]
    ).fetchall()
    by_outcome: dict[str, list[str]] = {}
    for outcome, path in sorted(rows, key=lambda r: (OUTCOMES.index(r[0]) if r[0] in OUTCOMES else 99, r[1])):
        by_outcome.setdefault(outcome, []).append(path)
    return by_outcome


def last_published(con: duckdb.DuckDBPyConnection) -> tuple[str, str | None, int] | None:
    """(run id, fingerprint or None, files in force) of the last published run a build records;
    None when it records none."""
    tables = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'audit'"
        ).fetchall()
    }
    if not {"runs", "build_fingerprints"} <= tables:
        return None
    rows = con.execute(
        "select last.run_id, f.fingerprint, (select count(*) from raw.file_versions where is_current) "
        "from (select run_id from audit.runs where status = 'published' order by finished_at desc limit 1) "
        "as last left join audit.build_fingerprints as f using (run_id)"
    ).fetchall()
    return rows[0] if rows else None


def mart_row_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by table_name"
    ).fetchall()
    return {name: con.execute(f'select count(*) from marts."{name}"').fetchone()[0] for (name,) in tables}


def record_run(con: duckdb.DuckDBPyConnection, summary: RunSummary, started_at: dt.datetime) -> None:
    ensure_audit_tables(con)
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


def record_failure(paths: Paths, run_id: str, started_at: dt.datetime, error: BaseException | str) -> None:
    """A run that published nothing is a row of audit.runs too (status ``failed``), kept in the
    audit store until the next published build brings it in."""
    message = safe(str(error)).splitlines()[0][:500] if str(error) else type(error).__name__
    row = [run_id, started_at, dt.datetime.now(dt.UTC), "failed", "{}", "{}", "not run", message]
    try:
        keep_outcome(audit_store(paths.warehouse), row)
    except Exception as failure:  # noqa: BLE001 - a full disk must not hide the run's own error
        log.warning("could not record the failed run %s in the audit store: %s", run_id, failure)


class DiskFull(LibcoopError):
    """The disk of the warehouse filled up during a run; nothing was published."""


def _is_disk_full(error: BaseException) -> bool:
    # DuckDB and dbt report it in their own exception types; shutil.copytree as a list of failures.
    return getattr(error, "errno", None) == errno.ENOSPC or "No space left on device" in str(error)


def _disk_full_message(paths: Paths, error: BaseException) -> str:
    free = shutil.disk_usage(paths.warehouse.parent).free // 2**20 if paths.warehouse.parent.exists() else 0
    return (
        f"no space left on device in {paths.warehouse.parent} ({free} MB free after cleaning up this run): "
        "the published warehouse is still a complete build and this run left nothing behind; "
        "free some space and run again "
        f"(first error: {str(error)[:200]})"
    )


def published_summary(paths: Paths) -> RunSummary:
    """What BI tools see now: the live run (``builds/live.json``, else the last published one) and
    when it happened, read from its kept copy (the published file itself when none is kept)."""
    last = last_build(paths.warehouse)
    if last is None:
        raise FileNotFoundError(f"no warehouse published yet at {paths.warehouse}")
    with duckdb.connect(str(last), read_only=True) as con:
        row: Any = con.execute(
            "select run_id, status, files, quality, message, finished_at from audit.runs "
            "order by status = 'published' desc, finished_at desc limit 1"
        ).fetchone()
        counts = mart_row_counts(con)
        names = files_of_run(con, row[0])
    live = read_live(paths.warehouse)
    when = f"the build of run {row[0]}, published {row[5]:%Y-%m-%d %H:%M:%S %Z}".rstrip()
    if live and live["run_id"] == row[0] and live.get("how") == "rollback":
        when += f"; live again since {live['live_since']} (rolled back from run {live.get('previous')})"
    return RunSummary(
        row[0],
        row[1],
        paths.warehouse,
        json.loads(row[2]),
        counts,
        quality=row[3],
        message=row[4],
        file_names=names,
        reports=paths.reports,
        live=when,
    )


def lake_published_summary(lake: Lake) -> tuple[RunSummary, list[Snapshot]]:
    """What readers of the lake see now, and the snapshots published so far."""
    with connect(lake, read_only=True) as con:
        published = snapshots(con)
        if not published:
            raise LakeError(f"nothing published yet to {lake.display}")
        con.execute("use lake")
        row: Any = con.execute(
            "select run_id, status, files, quality, message from audit.runs order by finished_at desc limit 1"
        ).fetchone()
        counts = mart_row_counts(con)
        names = files_of_run(con, row[0])
    summary = RunSummary(
        row[0],
        row[1],
        lake.local_dir / "cooperation.duckdb",
        json.loads(row[2]),
        counts,
        quality=row[3],
        message=row[4],
        file_names=names,
        lake=f"{lake.display}, snapshot {published[-1].snapshot_id}",
    )
    return summary, published
