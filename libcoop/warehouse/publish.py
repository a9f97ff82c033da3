"""Swap a validated build in as the published warehouse, atomically, keeping the one before.

BI tools open ``warehouse/cooperation.duckdb`` read-only. A run never writes that file: it builds
a copy under ``warehouse/.build/`` and publishes it with one rename (``os.replace``). A reader that opened
the old file keeps reading it (the inode lives on until it closes); a reader that opens after the
rename gets the new build. Nobody ever sees a half-built state, and nobody waits on a lock.

That holds only if nothing writes the build once it is renamed: a DuckDB instance still open on it
(in this process through another path, dbt's link, or in another process) would checkpoint into
what readers now open, and DuckDB's lock does not stop them (POSIX locks of a process go with its
first closed descriptor). So ``publish`` seals the build first: checkpointed, no write-ahead log,
fsynced, opened by no process at all (``/proc/*/fd``), and only then renames it.

The published file is read-only (mode 0444): BI clients must open it read-only, and a run never
opens it at all: it reads the last build from its kept copy (``libcoop.warehouse.builds``), so a
client that holds a lock on it stops nothing. Each publish keeps its build and pages in
``builds/<run_id>/`` (the last ``LIBCOOP_KEEP_BUILDS``); ``rollback`` puts any of them back."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from libcoop.audit import audit_store, ensure_audit_tables, keep_outcome
from libcoop.errors import LibcoopError, NothingToRollBack
from libcoop.layout import DOCS_DIRNAMES, build_path, discard_build, replace_folder, staged_docs  # noqa: F401 - re-exported
from libcoop.settings import Paths, keep_builds
from libcoop.warehouse import builds

log = logging.getLogger(__name__)


class BuildStillOpen(LibcoopError):
    """A process still has the build open: renaming it would let that process write the published file."""


BLOCKED_DIRNAME = "blocked"
KEEP_BLOCKED = 3  # the Data Docs of the last few blocked runs are kept under warehouse/blocked/


def prepare_build(paths: Paths, run_id: str) -> Path:
    """A private copy of the published warehouse (or a new file) for this run to build into."""
    paths.build_dir.mkdir(parents=True, exist_ok=True)
    for stale in paths.build_dir.iterdir():
        if stale.name == run_id:
            continue  # this run's own folder: it may hold the per-file checks made before the load
        log.info("removing build left by an earlier, unfinished run: %s", stale.name)
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink()
    # Folders a run killed in the middle of a swap left beside the published ones (.dashboard.*.old...).
    for name in ("dashboard", "dashboard.previous", *DOCS_DIRNAMES, *(f"{n}.previous" for n in DOCS_DIRNAMES)):
        for leftover in paths.warehouse.parent.glob(f".{name}.*"):
            if leftover.suffix in (".old", ".tmp"):
                log.info("removing %s, left by an interrupted run", leftover.name)
                shutil.rmtree(leftover, ignore_errors=True)
    for leftover in paths.warehouse.parent.glob(f".{paths.warehouse.name}.*.tmp"):
        leftover.unlink()  # the copy an interrupted rollback was putting in place
    build = build_path(paths, run_id)
    build.parent.mkdir(exist_ok=True)
    for leftover in build.parent.glob(build.name + "*"):
        leftover.unlink()  # a retried load starts again from the published warehouse
    if (last := builds.last_build(paths.warehouse)) is not None:
        shutil.copyfile(last, build)  # its kept copy: a client's lock on the published file stops nothing
    return build


def holders(path: Path) -> list[tuple[int, str]]:
    """(pid, command line) of every process with ``path`` (its inode) open, this one included."""
    try:
        target = path.stat()
    except FileNotFoundError:
        return []
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fds = list((proc / "fd").iterdir())
        except OSError:
            continue  # gone, or not ours to read
        for fd in fds:
            try:
                st = fd.stat()
            except OSError:
                continue
            if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
                try:
                    command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                except OSError:
                    command = "?"
                found.append((int(proc.name), command[:200]))
                break
    return found


def seal(build: Path) -> None:
    """Make ``build`` complete on its own and unreachable by any writer, or raise.

    Checkpointed (the write-ahead log folded in), its tables readable read-only, fsynced, and open
    in no process (an instance left open would write the published file after the rename)."""
    _refuse_if_open(build)  # before DuckDB's own lock says it less clearly
    with duckdb.connect(str(build)) as con:
        con.execute("checkpoint")
    wal = build.with_name(build.name + ".wal")
    if wal.exists():
        raise BuildStillOpen(f"{build} still has a write-ahead log after checkpoint ({wal}); not publishing")
    with duckdb.connect(str(build), read_only=True) as con:
        con.execute("select count(*) from duckdb_tables()").fetchall()  # what a reader does first
    fd = os.open(build, os.O_RDONLY)
    try:
        os.fsync(fd)  # a crash after the rename must not publish a file with blocks still in memory
    finally:
        os.close(fd)
    _refuse_if_open(build)


def _refuse_if_open(build: Path) -> None:
    if still := holders(build):
        who = "; ".join(f"pid {pid} ({command})" for pid, command in still)
        raise BuildStillOpen(f"{build} is still open by {who}: not publishing a file that may still be written")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(paths: Paths, build: Path, run_id: str | None = None, summary: dict[str, Any] | None = None) -> Path:
    """Make ``build`` the published warehouse in one rename, read-only, with its pages; keep a copy
    of both in ``builds/<run_id>/`` first (``summary``: its files and mart rows, for ``libcoop
    builds``). Nothing opens ``build`` after the rename; nothing opens the published file at all."""
    run_id = run_id or build.parent.name
    seal(build)
    build.chmod(builds.READ_ONLY)  # a client that forgets read_only=True gets an error, not a lock
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    previous = builds.live_run(paths.warehouse)
    builds.keep(paths.warehouse, build, run_id, summary or {})
    build.replace(paths.warehouse)
    _fsync_dir(paths.warehouse.parent)
    builds.write_live(paths.warehouse, run_id, "publish", previous)
    builds.prune(paths.warehouse, keep_builds())
    for page in builds.PAGES:  # the build's dashboard and docs, right after its data
        staged = build.parent / page
        if staged.is_dir():
            replace_folder(staged, paths.warehouse.parent / page)
        elif page == "dashboard":
            log.warning("the build has no dashboard: none is published with it (run `make dashboard`)")
            shutil.rmtree(paths.warehouse.parent / page, ignore_errors=True)
        # no dbt docs: the models did not change, the published ones describe this build too
    log.info("published %s (run %s)", paths.warehouse, run_id)
    return paths.warehouse


def keep_blocked_docs(build: Path, warehouse: Path, run_id: str, keep: int = KEEP_BLOCKED) -> Path | None:
    """Move a blocked build's Data Docs to ``warehouse/blocked/<run_id>/data_docs`` (the last
    ``keep`` blocked runs are kept); return the folder, or None when the build has none."""
    staged = staged_docs(build, "data_docs")
    if not staged.is_dir():
        return None
    blocked = warehouse.parent / BLOCKED_DIRNAME
    target = blocked / run_id / "data_docs"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    staged.replace(target)
    runs = sorted((p for p in blocked.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime_ns)
    for old in runs[:-keep] if keep > 0 else runs:
        if old != target.parent:
            shutil.rmtree(old, ignore_errors=True)
    return target


@dataclass(frozen=True)
class RolledBack:
    run_id: str  # the run whose build is live now
    was_live: str | None  # the run whose build it replaced
    rollback_id: str  # the rollback's own row in audit.runs


def rollback(paths: Paths, to: str | None = None, record: bool = True) -> RolledBack:
    """Put the kept build of run ``to`` back, with its pages; by default the build that was live
    before the live one (twice rolls forward again). Takes the run lock (``RunInProgress`` names
    the run that holds it). ``record``: add the rollback as a row of ``audit.runs`` (in the restored
    file and the audit store, so later builds carry it too)."""
    from libcoop.warehouse.runlock import run_lock

    now = dt.datetime.now(dt.UTC)
    rollback_id = f"rollback-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"  # readable as its time, like run ids
    with run_lock(paths.warehouse, rollback_id, what="libcoop rollback"):
        live = builds.live_run(paths.warehouse)
        target = to
        if target is None and live is not None:
            target = (builds.read_live(paths.warehouse) or {}).get("previous")
        kept = {b.run_id for b in builds.kept_builds(paths.warehouse)}
        if target is None or target not in kept:
            listed = ", ".join(sorted(kept, reverse=True)) or "none"
            what = f"no kept build of run {target}" if target else "no previous build to go back to"
            raise NothingToRollBack(f"{what} in {builds.builds_dir(paths.warehouse)} (kept builds: {listed})")
        staging = paths.warehouse.with_name(f".{paths.warehouse.name}.{rollback_id}.tmp")
        builds.restore_file(paths.warehouse, target, staging)
        if record:
            row = _rollback_row(rollback_id, now, target, live)
            with duckdb.connect(str(staging)) as con:
                ensure_audit_tables(con)
                con.execute("insert into audit.runs values (?, ?, ?, ?, ?, ?, ?, ?)", row)
            keep_outcome(audit_store(paths.warehouse), row)
        seal(staging)
        staging.chmod(builds.READ_ONLY)
        staging.replace(paths.warehouse)
        _fsync_dir(paths.warehouse.parent)
        builds.write_live(paths.warehouse, target, "rollback", live)
        for page in builds.PAGES:  # its pages come back with its data
            kept_page = builds.builds_dir(paths.warehouse) / target / page
            current = paths.warehouse.parent / page
            if kept_page.is_dir():
                fresh = current.with_name(f".{page}.{uuid.uuid4().hex[:8]}.tmp")
                shutil.copytree(kept_page, fresh)
                replace_folder(fresh, current)
            else:
                shutil.rmtree(current, ignore_errors=True)
    log.info("rolled back %s to the build of run %s", paths.warehouse, target)
    return RolledBack(target, live, rollback_id)


def _rollback_row(rollback_id: str, now: dt.datetime, target: str, live: str | None) -> list[Any]:
    message = f"rolled back to the build of run {target}" + (f" (it replaced run {live})" if live else "")
    return [rollback_id, now, now, "rolled back", "{}", "{}", "not run", message]
