"""Run dbt (seeds, models and their tests) against a build file."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from libcoop.settings import DBT_PROJECT_DIR

log = logging.getLogger(__name__)


class BuildFailed(RuntimeError):
    """dbt could not build the marts, or one of its tests failed."""


@dataclass(frozen=True)
class BuildResult:
    nodes: int
    failures: tuple[str, ...]


def dbt_project_dir() -> Path:
    """The dbt project to build; LIBCOOP_DBT_PROJECT_DIR points elsewhere (tests use a copy)."""
    return Path(os.environ.get("LIBCOOP_DBT_PROJECT_DIR") or DBT_PROJECT_DIR)


def dbt_args(command: str, database: Path, *extra: str) -> list[str]:
    """The dbt command line for ``database``; dbt reads the path from LIBCOOP_DBT_DATABASE."""
    os.environ["LIBCOOP_DBT_DATABASE"] = str(database)
    project = dbt_project_dir()
    return [
        command,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(database.parent / "dbt-target"),
        "--log-path",
        str(database.parent / "dbt-logs"),
        *extra,
    ]


def build_marts(
    database: Path, *, select: str | None = None, on_event: Callable[[Any], None] | None = None
) -> BuildResult:
    """``dbt build`` (seeds, snapshots, models, tests) into ``database``; raise BuildFailed on any error.
    ``on_event`` receives every dbt event (libcoop.progress counts the finished nodes)."""
    from dbt.cli.main import dbtRunner

    args = dbt_args("build", database, "--quiet")
    if select:
        args += ["--select", select]
    try:
        outcome = dbtRunner(callbacks=[on_event] if on_event else None).invoke(args)
    finally:
        _release_duckdb()
    results = list(getattr(outcome.result, "results", None) or [])
    failures = tuple(
        f"{r.node.resource_type} {r.node.name}: {r.status} {r.message or ''}".strip()
        for r in results
        if str(r.status) in ("error", "fail", "runtime error")
    )
    if outcome.exception is not None or not outcome.success:
        reason = "; ".join(failures) or repr(outcome.exception)
        raise BuildFailed(f"dbt build failed: {reason}")
    log.info("dbt build: %d nodes passed", len(results))
    return BuildResult(len(results), failures)


def _release_duckdb() -> None:
    """Close the DuckDB instance dbt-duckdb keeps open for the whole process after a run.

    Left open, it holds the build file read-write, and the read-only connections of the
    validation that follows in the same process fail with "different configuration"."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager as manager

    with manager._LOCK:  # noqa: SLF001 - dbt-duckdb offers no public way to release it
        if manager._ENV is not None:  # noqa: SLF001
            manager._ENV.close()  # noqa: SLF001
            manager._ENV = None  # noqa: SLF001
