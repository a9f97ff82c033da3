"""Swap a validated build in as the published warehouse, atomically, keeping the one before.

BI tools open ``warehouse/cooperation.duckdb`` read-only. A run never writes that file: it builds
a copy under ``warehouse/.build/`` and publishes it with one rename (``os.replace``). A reader that opened
the old file keeps reading it (the inode lives on until it closes); a reader that opens after the
rename gets the new build. Nobody ever sees a half-built state, and nobody waits on a lock."""

from __future__ import annotations

import logging
import shutil
import uuid
from pathlib import Path

import duckdb

from libcoop.dashboard import staged_dashboard
from libcoop.dashboard.publishing import swap_back, swap_in
from libcoop.settings import Paths

log = logging.getLogger(__name__)


class NothingToRollBack(RuntimeError):
    """There is no previous build to go back to."""


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
    build = paths.build_dir / run_id / paths.warehouse.name
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


def publish(paths: Paths, build: Path) -> Path:
    """Make ``build`` the published warehouse in one rename; the old one becomes ``previous``."""
    # Fold the write-ahead log into the file so the renamed file is complete on its own.
    with duckdb.connect(str(build)) as con:
        con.execute("checkpoint")
    if build.with_name(build.name + ".wal").exists():
        raise RuntimeError(f"{build} still has a write-ahead log after checkpoint; not publishing")
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    _replace_keeping(build, paths.warehouse, paths.previous_warehouse)
    swap_in(staged_dashboard(build), paths.warehouse)  # the build's dashboard, right after its data
    log.info("published %s", paths.warehouse)
    return paths.warehouse


def rollback(paths: Paths) -> Path:
    """Put the previous build back in place; the build it replaces becomes the previous one."""
    if not paths.previous_warehouse.exists():
        raise NothingToRollBack(f"no previous build at {paths.previous_warehouse}")
    restored = paths.previous_warehouse.with_name(paths.previous_warehouse.name + ".restore")
    restored.unlink(missing_ok=True)
    restored.hardlink_to(paths.previous_warehouse)
    _replace_keeping(restored, paths.warehouse, paths.previous_warehouse)
    swap_back(paths.warehouse)  # the previous dashboard comes back with its data
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
