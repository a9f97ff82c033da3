"""The published builds kept for rollback, and which one is live, without opening the published file.

Each publish keeps a copy of its build file and its pages (dashboard, Data Docs, dbt docs) in
``warehouse/builds/<run_id>/``; the last ``LIBCOOP_KEEP_BUILDS`` (default 7) are kept, the live
one always. ``builds/live.json`` names the live run, when it went live and how (a publish or a
rollback), the run live before it, and the inode of the published file it put in place.

Why a copy and not the published file itself: a BI client that opens
``warehouse/cooperation.duckdb`` read-write (DuckDB's default) holds a lock on it (an ``fcntl``
lock, which follows the inode: a hard link would share it), and every process that then opens it,
read-only included, fails with "Could not set lock". A run reads what it needs of the last build
(the files in force, the code fingerprint, the base it builds on) from that build's kept copy, so
a client's lock stops nothing; publishing stays one rename, which no lock prevents. When no copy
matches the published file (a warehouse published before builds were kept, or a run killed
between its rename and ``live.json``), the published file is read read-only instead: that is the
fallback, and a foreign lock then gives one plain line (``ForeignLock``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from libcoop.errors import LibcoopError

log = logging.getLogger(__name__)

BUILDS_DIRNAME = "builds"
LIVE_NAME = "live.json"
BUILD_NAME = "build.json"
# What is published beside the warehouse file and comes back with it on rollback.
PAGES = ("dashboard", "data_docs", "dbt_docs")
READ_ONLY = 0o444


class ForeignLock(LibcoopError):
    """Another process holds a DuckDB lock on a file libcoop had to open."""


_DUCKDB_LOCK = re.compile(
    r'Could not set lock on file "(?P<file>[^"]+)"(?:.*?held in (?P<holder>.+?\(PID \d+\)))?', re.S
)


def foreign_lock(error: BaseException) -> ForeignLock | None:
    """DuckDB's "Could not set lock" in one plain line (the holder's program and PID when DuckDB
    says them), or None for any other error."""
    text = str(error)
    match = _DUCKDB_LOCK.search(text)
    if not match:
        return None
    holder = match["holder"] or "another process"
    return ForeignLock(
        f"{match['file']} is locked by {holder}: a client opened it read-write; "
        "clients must open it read-only (duckdb.connect(path, read_only=True), duckdb -readonly)"
    )


def builds_dir(warehouse: Path) -> Path:
    return warehouse.parent / BUILDS_DIRNAME


def kept_file(warehouse: Path, run_id: str) -> Path:
    """The kept copy of the build of ``run_id``: ``builds/<run_id>/cooperation.duckdb``."""
    return builds_dir(warehouse) / run_id / warehouse.name


def read_live(warehouse: Path) -> dict[str, Any] | None:
    """``live.json``: run_id, live_since, how (publish, rollback), previous, inode; None without one."""
    try:
        live = json.loads((builds_dir(warehouse) / LIVE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return live if isinstance(live, dict) and live.get("run_id") else None


def write_live(warehouse: Path, run_id: str, how: str, previous: str | None) -> dict[str, Any]:
    """Record that the published file (just put in place) is the build of ``run_id``."""
    live = {
        "run_id": run_id,
        "live_since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "how": how,
        "previous": previous,
        "inode": warehouse.stat().st_ino,
    }
    _write_json(builds_dir(warehouse) / LIVE_NAME, live)
    return live


def _write_json(path: Path, value: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fresh.write_text(json.dumps(value, indent=1), encoding="utf-8")
    fresh.replace(path)  # whole or not at all


def live_run(warehouse: Path) -> str | None:
    """The run whose build is published, when ``live.json`` matches the published file."""
    live = read_live(warehouse)
    try:
        inode = warehouse.stat().st_ino
    except FileNotFoundError:
        return None
    return live["run_id"] if live and live.get("inode") == inode else None


def last_build(warehouse: Path) -> Path | None:
    """The file to read the published build from: its kept copy, else (the fallback) the published
    file itself, to be opened read-only; None when nothing is published."""
    run_id = live_run(warehouse)
    if run_id and (copy := kept_file(warehouse, run_id)).is_file():
        return copy
    if warehouse.exists():
        log.info("no kept copy of the published build: reading %s itself, read-only", warehouse)
        return warehouse
    return None


@dataclass(frozen=True)
class KeptBuild:
    run_id: str
    published_at: str
    files: dict[str, int]
    rows: int
    folder: Path


def keep(warehouse: Path, build: Path, run_id: str, summary: dict[str, Any]) -> Path:
    """Copy a sealed build and its staged pages into ``builds/<run_id>/`` (before it is published);
    a page kind the build did not make (dbt docs of unchanged models) is copied from the live one."""
    folder = builds_dir(warehouse) / run_id
    fresh = folder.with_name(f".{run_id}.tmp")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    shutil.copyfile(build, fresh / warehouse.name)
    (fresh / warehouse.name).chmod(READ_ONLY)
    for page in PAGES:
        source = build.parent / page
        if not source.is_dir() and page != "dashboard":
            source = warehouse.parent / page  # what the live build shows stays true of this one
        if source.is_dir():
            shutil.copytree(source, fresh / page)
    record = {"run_id": run_id, "published_at": dt.datetime.now(dt.UTC).isoformat(), **summary}
    (fresh / BUILD_NAME).write_text(json.dumps(record, indent=1), encoding="utf-8")
    if folder.exists():
        shutil.rmtree(folder)  # a retried publish of the same run
    fresh.replace(folder)
    return folder


def kept_builds(warehouse: Path) -> list[KeptBuild]:
    """The kept builds, newest first."""
    found = []
    root = builds_dir(warehouse)
    for folder in root.iterdir() if root.is_dir() else ():
        try:
            record = json.loads((folder / BUILD_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a folder being written, or not ours
        if not (folder / warehouse.name).is_file():
            continue
        rows = record.get("mart_rows") or {}
        found.append(
            KeptBuild(record["run_id"], record["published_at"], record.get("files") or {}, sum(rows.values()), folder)
        )
    return sorted(found, key=lambda b: b.published_at, reverse=True)


def prune(warehouse: Path, keep_last: int, also_keep: str | None = None) -> list[str]:
    """Delete the kept builds beyond the newest ``keep_last`` (never the live one); their ids."""
    spared = {live_run(warehouse), also_keep}
    builds = kept_builds(warehouse)
    gone = [b for b in builds[max(keep_last, 1) :] if b.run_id not in spared]
    for old in gone:
        shutil.rmtree(old.folder, ignore_errors=True)
        log.info("removed kept build %s (keeping the last %d)", old.run_id, keep_last)
    for leftover in builds_dir(warehouse).glob(".*.tmp"):
        if leftover.is_dir() and leftover.name != f".{also_keep}.tmp":
            shutil.rmtree(leftover, ignore_errors=True)  # left by a killed publish
    return [b.run_id for b in gone]


def restore_file(warehouse: Path, run_id: str, staging: Path) -> Path:
    """A writable copy of the kept build of ``run_id`` at ``staging`` (rollback records itself in it)."""
    source = kept_file(warehouse, run_id)
    staging.unlink(missing_ok=True)
    shutil.copyfile(source, staging)
    return staging
