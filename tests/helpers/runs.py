"""Watching a `libcoop run` subprocess from a test."""

from __future__ import annotations

from pathlib import Path

from libcoop.transform.dbt_build import dbt_links


def dbt_started(warehouse: Path, build_dir: Path) -> bool:
    """dbt has started on a build of this run: a link of a parse slot (libcoop.transform.dbt_build)
    resolves to a file of ``build_dir``, where a run's build lives (``<build_dir>/<run_id>/<file>``);
    the link of an earlier run points at a build that is gone."""
    return any(link.exists() and link.resolve().parent.parent == build_dir.resolve() for link in dbt_links(warehouse))
