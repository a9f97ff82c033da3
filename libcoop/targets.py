"""The warehouse a run publishes to, chosen in one place: a DuckDB file, or a DuckLake.

``target_for(paths)`` picks the implementation once (``libcoop.target.choose``, from
``Paths.lake``), as Dagster picks a resource per environment; the pipeline, the fingerprint and the
``libcoop`` command call its methods and never ask which target it is. Both targets build the same
way, into a private build file copied from the local copy of the last published build
(``Paths.warehouse``); they differ in what holds the truth about that build and in what readers open:

- ``FileTarget``: the published DuckDB file is both; its kept builds (``warehouse.builds``) say
  what it holds.
- ``LakeTarget``: the DuckLake (PostgreSQL catalog) is the truth and what readers attach; the local
  copy is a cache made to agree with it before each run (``warehouse.lake_state``), and a publish
  is one DuckLake snapshot before the local swap (``warehouse.lake``).

What stands below this module and still acts differently for the two takes the same choice from
``libcoop.target``: where the checks' verdicts wait (``ingest.staged``), what a step context hands
on (``runs.StepContext``), what only a DuckLake can do (``warehouse.lake_maintenance``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from libcoop.errors import LibcoopError, NothingToRollBack
from libcoop.runs import lake_published_summary, last_published, published_summary
from libcoop.settings import Paths
from libcoop.target import Lake, choose
from libcoop.warehouse import lake_state
from libcoop.warehouse.builds import last_build
from libcoop.warehouse.lake import publish_build
from libcoop.warehouse.lake import rollback as lake_rollback
from libcoop.warehouse.publish import publish, rollback

# (file path -> content hash in force, (file path, content hash) rejected before)
FilesInForce = tuple[dict[str, str], set[tuple[str, str]]]
# (run id, code fingerprint or None, number of files in force) of the published build
Published = tuple[str, str | None, int]


class NoWarehouseYet(LibcoopError):
    """Nothing was ever published to the target."""


@dataclass(frozen=True)
class Target(ABC):
    paths: Paths

    @abstractmethod
    def converge(self, run_id: str) -> None:
        """Make the local copy a run starts from agree with what the target holds."""

    @abstractmethod
    def files_in_force(self) -> FilesInForce:
        """The file versions the published build holds, and those rejected before."""

    @abstractmethod
    def published(self) -> Published | None:
        """The published build, for ``fingerprint.unchanged_since``; None without one."""

    @abstractmethod
    def publish(self, build: Path, run_id: str, kept: dict[str, Any]) -> str | None:
        """Make ``build`` what readers see (``kept``: what ``libcoop builds`` lists of it); return
        where it was published beyond the local file, if anywhere."""

    @abstractmethod
    def summary(self) -> str:
        """What ``libcoop summary`` prints: the build readers see now."""

    @abstractmethod
    def rollback(self, to: str | None) -> str:
        """Put back an earlier build (``to``: a kept run, for a file); return what was done."""


@dataclass(frozen=True)
class FileTarget(Target):
    """The DuckDB file ``Paths.warehouse``, which BI tools open read-only."""

    def converge(self, run_id: str) -> None:
        """Nothing to agree with: the published file is its own truth."""

    def files_in_force(self) -> FilesInForce:
        last = last_build(self.paths.warehouse)  # its kept copy: never locked by a client
        if last is None:
            return {}, set()
        with duckdb.connect(str(last), read_only=True) as con:
            current = dict(
                con.execute("select file_path, content_hash from raw.file_versions where is_current").fetchall()
            )
            rejected = set(
                con.execute(
                    "select file_path, content_hash from audit.file_loads where outcome = 'rejected'"
                ).fetchall()
            )
        return current, rejected

    def published(self) -> Published | None:
        last = last_build(self.paths.warehouse)
        if last is None:
            return None
        with duckdb.connect(str(last), read_only=True) as con:
            return last_published(con)

    def publish(self, build: Path, run_id: str, kept: dict[str, Any]) -> str | None:
        publish(self.paths, build, run_id, kept)
        return None

    def summary(self) -> str:
        if not self.paths.warehouse.exists():
            raise NoWarehouseYet(f"no warehouse published yet at {self.paths.warehouse}")
        return published_summary(self.paths).render()

    def rollback(self, to: str | None) -> str:
        done = rollback(self.paths, to=to)  # NothingToRollBack, RunInProgress: printed by main
        was = f" (it replaced the build of run {done.was_live})" if done.was_live else ""
        return (
            f"rolled back: {self.paths.warehouse} is the build of run {done.run_id} again{was}; "
            f"recorded as {done.rollback_id}"
        )


@dataclass(frozen=True)
class LakeTarget(Target):
    """A DuckLake whose catalog is in PostgreSQL; ``Paths.warehouse`` is the local copy of its
    last published build, in the target's own folder of LIBCOOP_WORK_DIR."""

    lake: Lake

    def converge(self, run_id: str) -> None:
        lake_state.converge(self.paths, run_id)

    def files_in_force(self) -> FilesInForce:
        return lake_state.files_in_force(self.lake)

    def published(self) -> Published | None:
        return lake_state.published(self.paths, self.lake)

    def publish(self, build: Path, run_id: str, kept: dict[str, Any]) -> str | None:
        # What readers see: one DuckLake snapshot. The local copy is what the next run starts from.
        snapshot = publish_build(self.lake, build, run_id)
        publish(self.paths, build, run_id, kept)
        return f"{self.lake.display}, snapshot {snapshot}"

    def summary(self) -> str:
        summary, snapshots = lake_published_summary(self.lake)  # a LakeError is printed by main
        return f"{summary.render()}\n{lake_state.render_snapshots(snapshots)}"

    def rollback(self, to: str | None) -> str:
        """Time travel in the lake to the snapshot before the current one; the local copy the next
        run starts from goes back with it."""
        restored = lake_rollback(self.lake)  # NothingToRollBack: printed by main
        lines = []
        try:
            rollback(self.paths, to=restored.run_id, record=False)  # the lake's snapshot history records it
        except NothingToRollBack:
            lines.append(f"note: no kept local build of run {restored.run_id}; the next run rebuilds the local copy")
        lines.append(
            f"rolled back: snapshot {restored.snapshot_id} of {self.lake.display} holds the tables of snapshot "
            f"{restored.restored_snapshot} (run {restored.run_id}) again"
        )
        return "\n".join(lines)


def target_for(paths: Paths) -> Target:
    """The target ``paths`` publishes to: the one place it is chosen."""
    return choose(paths.lake, lambda: FileTarget(paths), lambda lake: LakeTarget(paths, lake))
