"""Small drops written into a test's folder, and the settings a run on them reads."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from libcoop import settings
from libcoop.pipeline import RunSummary, run
from libcoop.settings import Paths, resolve_paths

# The checkout's GX context, found from this file (the tests run in the checkout).
COMMITTED_EXPECTATIONS = Path(__file__).resolve().parents[2] / "expectations"


def write_drop(root: Path, files: Mapping[str, str]) -> Path:
    """Write ``files`` (by path in the drop folder, e.g. ``CN/visits.csv``) into root/raw/incoming;
    return the raw folder, root/raw."""
    incoming = root / "raw" / "incoming"
    for relative, text in files.items():
        (incoming / relative).parent.mkdir(parents=True, exist_ok=True)
        (incoming / relative).write_text(text, encoding="utf-8")
    return root / "raw"


def copied_expectations(root: Path) -> Path:
    """A copy of the committed GX context in root/expectations, for a run that writes into it."""
    expectations = root / "expectations"
    shutil.copytree(COMMITTED_EXPECTATIONS, expectations, ignore=shutil.ignore_patterns("uncommitted"))
    return expectations


def load_paths(root: Path) -> Paths:
    """The paths of a run in root that reads, and does not write, the committed GX context."""
    return Paths(
        raw_dir=root / "raw",
        warehouse=root / "warehouse" / "cooperation.duckdb",
        expectations_dir=settings.PROJECT_ROOT / "expectations",
    )


def run_drop(root: Path, files: Mapping[str, str], run_id: str) -> tuple[Paths, RunSummary]:
    """The whole nightly job (load, dbt, GX, publish) on ``files``, in root."""
    raw = write_drop(root, files)
    expectations = copied_expectations(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LIBCOOP_EXPECTATIONS_DIR", str(expectations))
        paths = resolve_paths(raw, root / "warehouse" / "cooperation.duckdb")
        return paths, run(paths, run_id)


def libcoop_env(root: Path) -> dict[str, str]:
    """The environment of a ``libcoop`` subprocess: its drop in root/raw, its warehouse in
    root/warehouse and a copy of the committed GX context."""
    return dict(
        os.environ,
        LIBCOOP_RAW_DIR=str(root / "raw"),
        LIBCOOP_WAREHOUSE=str(root / "warehouse" / "cooperation.duckdb"),
        LIBCOOP_EXPECTATIONS_DIR=str(copied_expectations(root)),
    )
