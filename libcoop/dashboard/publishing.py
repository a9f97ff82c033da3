"""Swap a build's dashboard (and its docs sites) in with its warehouse file, and back on rollback, by renames.

``warehouse/dashboard`` always shows the published warehouse and ``warehouse/dashboard.previous``
the previous one (``cooperation.previous.duckdb``). A directory cannot be renamed over another,
so each swap is a few renames in a row on one file system (microseconds); a build without a
dashboard (its generation failed) leaves none published rather than one of another build."""

from __future__ import annotations

import logging
import shutil
import uuid
from pathlib import Path

from libcoop.dashboard import PREVIOUS_DIRNAME, dashboard_target

log = logging.getLogger(__name__)


def _aside(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}.old")


def swap_in(staged: Path, warehouse: Path) -> None:
    """The build's dashboard (``staged``) becomes the published one; the published one becomes previous."""
    if not staged.is_dir():
        log.warning("the build has no dashboard: none is published with it (run `make dashboard`)")
    swap_folder_in(staged, dashboard_target(warehouse), PREVIOUS_DIRNAME)


def swap_folder_in(staged: Path, current: Path, previous_name: str) -> None:
    """``staged`` becomes ``current``, and ``current`` the folder ``previous_name`` beside it (what
    rollback brings back); with nothing staged, nothing is shown for the new build."""
    previous = current.with_name(previous_name)
    retired = _aside(previous)
    if previous.exists():
        previous.replace(retired)
    if current.exists():
        current.replace(previous)
    if staged.is_dir():
        staged.replace(current)
    shutil.rmtree(retired, ignore_errors=True)


def swap_back(warehouse: Path) -> None:
    """Rollback: the previous dashboard comes back with the previous warehouse, and vice versa."""
    swap_folder_back(dashboard_target(warehouse), PREVIOUS_DIRNAME)


def swap_folder_back(current: Path, previous_name: str) -> None:
    """Rollback of one folder: ``previous_name`` and ``current`` trade places."""
    previous = current.with_name(previous_name)
    spare = _aside(current)
    if current.exists():
        current.replace(spare)
    if previous.exists():
        previous.replace(current)
    if spare.exists():
        spare.replace(previous)
