"""Where a run writes, and the atomic folder swap: below every step that writes them.

A run builds privately in ``warehouse/.build/<run_id>/``: the build file, and beside it the
``data_docs`` and ``dbt_docs`` its steps write (``staged_docs``); ``libcoop.warehouse.publish``
swaps them in beside the published file. The dashboard, the Data Docs and the dbt docs each
replace a whole folder with ``replace_folder``, so a reader sees the old site or the new one.
These helpers live here, not in ``warehouse``, so that those steps never import the publish step
above them (issue 27)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from libcoop.settings import Paths

# What a run writes beside its build and publish swaps in with it, beside the published file.
DOCS_DIRNAMES = ("data_docs", "dbt_docs")


def staged_docs(build: Path, name: str) -> Path:
    """Where a run writes the ``data_docs`` or ``dbt_docs`` of its build: in the build's folder."""
    return build.parent / name


def build_path(paths: Paths, run_id: str) -> Path:
    """The private build file of run ``run_id``: ``warehouse/.build/<run_id>/cooperation.duckdb``."""
    return paths.build_dir / run_id / paths.warehouse.name


def replace_folder(staging: Path, target_dir: Path) -> None:
    """Put the folder ``staging`` in place of ``target_dir`` with two renames (docs sites)."""
    retired = target_dir.with_name(f".{target_dir.name}.{uuid.uuid4().hex[:8]}.old")
    if target_dir.exists():
        target_dir.replace(retired)
    staging.replace(target_dir)
    shutil.rmtree(retired, ignore_errors=True)


@contextmanager
def staged_folder(target_dir: Path) -> Iterator[Path]:
    """A folder to write in place of ``target_dir`` (not created: ``copytree`` wants it absent).
    Swapped in whole with ``replace_folder`` when the block ends; removed if the block raises, so a
    full disk or a failure leaves the old folder and no half-written one."""
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = target_dir.with_name(f".{target_dir.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield staging
        replace_folder(staging, target_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def discard_build(build: Path) -> None:
    """Delete a run's build folder (the build file, its dbt target and logs)."""
    shutil.rmtree(build.parent, ignore_errors=True)
