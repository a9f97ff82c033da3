"""Swap a build's dashboard in with its warehouse file, and back on rollback, by renames.

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
    current = dashboard_target(warehouse)
    previous = current.with_name(PREVIOUS_DIRNAME)
    retired = _aside(previous)
    if previous.exists():
        previous.replace(retired)
    if current.exists():
        current.replace(previous)
    if staged.is_dir():
        staged.replace(current)
    else:
        log.warning("the build has no dashboard: none is published with it (run `make dashboard`)")
    shutil.rmtree(retired, ignore_errors=True)


def swap_back(warehouse: Path) -> None:
    """Rollback: the previous dashboard comes back with the previous warehouse, and vice versa."""
    current = dashboard_target(warehouse)
    previous = current.with_name(PREVIOUS_DIRNAME)
    spare = _aside(current)
    if current.exists():
        current.replace(spare)
    if previous.exists():
        previous.replace(current)
    if spare.exists():
        spare.replace(previous)
