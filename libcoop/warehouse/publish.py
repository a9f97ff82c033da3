"""Swap a validated build in as the published warehouse, atomically, keeping the one before.

BI tools open ``warehouse/cooperation.duckdb`` read-only. A run never writes that file: it builds
a copy under ``warehouse/.build/`` and publishes it with one rename (``os.replace``). A reader that opened
the old file keeps reading it (the inode lives on until it closes); a reader that opens after the
rename gets the new build. Nobody ever sees a half-built state, and nobody waits on a lock.

That holds only if nothing writes the build once it is renamed: a DuckDB instance still open on it
(in this process through another path, dbt's link, or in another process) would checkpoint into
what readers now open, and DuckDB's lock does not stop them (POSIX locks of a process go with its
first closed descriptor). So ``publish`` seals the build first: checkpointed, no write-ahead log,
fsynced, opened by no process at all (``/proc/*/fd``), and only then renames it."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path

import duckdb

from libcoop.dashboard import staged_dashboard
from libcoop.dashboard.publishing import swap_back, swap_folder_back, swap_folder_in, swap_in
from libcoop.settings import Paths

log = logging.getLogger(__name__)


class NothingToRollBack(RuntimeError):
    """There is no previous build to go back to."""


class BuildStillOpen(RuntimeError):
    """A process still has the build open: renaming it would let that process write the published file."""


# What a run writes beside its build and publish swaps in with it, beside the published file.
DOCS_DIRNAMES = ("data_docs", "dbt_docs")
BLOCKED_DIRNAME = "blocked"
KEEP_BLOCKED = 3  # the Data Docs of the last few blocked runs are kept under warehouse/blocked/


def staged_docs(build: Path, name: str) -> Path:
    """Where a run writes the ``data_docs`` or ``dbt_docs`` of its build: in the build's folder."""
    return build.parent / name


def build_path(paths: Paths, run_id: str) -> Path:
    """The private build file of run ``run_id``: ``warehouse/.build/<run_id>/cooperation.duckdb``."""
    return paths.build_dir / run_id / paths.warehouse.name


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
    build = build_path(paths, run_id)
    build.parent.mkdir(exist_ok=True)
    for leftover in build.parent.glob(build.name + "*"):
        leftover.unlink()  # a retried load starts again from the published warehouse
    if paths.warehouse.exists():
        shutil.copyfile(paths.warehouse, build)
    return build


def _replace_keeping(source: Path, target: Path, keep_as: Path) -> None:
    """Rename ``source`` over ``target``; the old ``target`` survives as ``keep_as``."""
    if target.exists():
        spare = keep_as.with_name(keep_as.name + ".tmp")
        spare.unlink(missing_ok=True)
        spare.hardlink_to(target)  # a second name for the old build, so replacing it loses nothing
        spare.replace(keep_as)
    source.replace(target)


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


def swap_in_docs(build: Path, warehouse: Path) -> None:
    """The build's Data Docs and dbt docs replace the published ones, which become ``<name>.previous``
    for rollback. A build that has none of a kind (dbt docs kept because the models did not
    change) shows the published ones, which then describe both builds."""
    for name in DOCS_DIRNAMES:
        current, staged = warehouse.parent / name, staged_docs(build, name)
        if not staged.is_dir() and current.is_dir():
            shutil.copytree(current, staged)
        swap_folder_in(staged, current, f"{name}.previous")


def publish(paths: Paths, build: Path) -> Path:
    """Make ``build`` the published warehouse in one rename; the old one becomes ``previous``.
    Nothing opens ``build`` after the rename: only its new name, read-only."""
    seal(build)
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    _replace_keeping(build, paths.warehouse, paths.previous_warehouse)
    _fsync_dir(paths.warehouse.parent)
    swap_in(staged_dashboard(build), paths.warehouse)  # the build's dashboard and docs, right after its data
    swap_in_docs(build, paths.warehouse)
    log.info("published %s", paths.warehouse)
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


def rollback(paths: Paths) -> Path:
    """Put the previous build back in place; the build it replaces becomes the previous one."""
    if not paths.previous_warehouse.exists():
        raise NothingToRollBack(f"no previous build at {paths.previous_warehouse}")
    restored = paths.previous_warehouse.with_name(paths.previous_warehouse.name + ".restore")
    restored.unlink(missing_ok=True)
    restored.hardlink_to(paths.previous_warehouse)
    _replace_keeping(restored, paths.warehouse, paths.previous_warehouse)
    swap_back(paths.warehouse)  # the previous dashboard and docs come back with their data
    for name in DOCS_DIRNAMES:
        swap_folder_back(paths.warehouse.parent / name, f"{name}.previous")
    log.info("rolled back %s to the previous build", paths.warehouse)
    return paths.warehouse


def replace_folder(staging: Path, target_dir: Path) -> None:
    """Put the folder ``staging`` in place of ``target_dir`` with two renames (docs sites)."""
    retired = target_dir.with_name(f".{target_dir.name}.{uuid.uuid4().hex[:8]}.old")
    if target_dir.exists():
        target_dir.replace(retired)
    staging.replace(target_dir)
    shutil.rmtree(retired, ignore_errors=True)


def discard_build(build: Path) -> None:
    """Delete a run's build folder (the build file, its dbt target and logs)."""
    shutil.rmtree(build.parent, ignore_errors=True)
