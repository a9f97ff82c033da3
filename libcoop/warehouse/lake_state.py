"""What a DuckLake target holds, read from the lake itself, and the local copy made to agree with it.

The lake is the truth: the run whose build is current (the latest published run of its
``audit.runs``), the code fingerprint of that build (``audit.build_fingerprints``), the file
versions in force (``audit.files_in_force``) and the lake's id (``libcoop.lake_identity``,
recorded at its first publish) are read from the lake's current snapshot. The local copy of the
last published build (``Lake.local_dir``, one folder per target) is only a cache the next build
starts from: ``converge`` checks it against the lake before each run and, when they differ (the
lake rolled back or restored by another process, an empty or another lake behind the same
connection string), puts back the previous local build if it is the lake's, or drops the copy so
that the run builds from the drop folder and publishes in full (the lake's run history carried
over by ``lake.publish_build``). ``pipeline.pending_changes`` and ``fingerprint.unchanged_since``
decide from ``files_in_force`` and ``published``, never from the local copy alone."""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from libcoop.settings import Paths
from libcoop.target import require_lake
from libcoop.warehouse.lake import (
    FILES_IN_FORCE,
    Lake,
    NoLakeYet,
    Snapshot,
    connect,
    lake_identity,
    published_tables,
)

log = logging.getLogger(__name__)

MARKER = "lake.json"  # in the local copy's folder: the id of the lake it is a copy of
# A run reads the lake's state once to converge, then decides from it: reads this much later reuse it.
FRESH_FOR = 10.0


@dataclass(frozen=True)
class LakeState:
    lake_id: str | None = None  # None: libcoop never published to this lake
    snapshot_id: int | None = None
    run_id: str | None = None  # the run whose build the current snapshot holds
    fingerprint: str | None = None
    files: dict[str, str] | None = None  # file path -> content hash in force; None when the lake does not say
    rejected: frozenset[tuple[str, str]] = field(default_factory=frozenset)


_read: dict[str, tuple[float, LakeState]] = {}


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return name in published_tables(con, "lake")


def read_state(lake: Lake, max_age: float = 0.0) -> LakeState:
    """The lake's published state now (a read-only attach); ``max_age``: reuse one read this recent."""
    kept = _read.get(lake.url)
    if max_age and kept and time.monotonic() - kept[0] < max_age:
        return kept[1]
    try:
        con = connect(lake, read_only=True)
    except NoLakeYet:
        state = LakeState()
    else:
        with con:
            state = _state(con)
    _read[lake.url] = (time.monotonic(), state)
    return state


def _state(con: duckdb.DuckDBPyConnection) -> LakeState:
    tables = set(published_tables(con, "lake"))
    (snapshot,) = con.execute("select id from lake.current_snapshot()").fetchone()  # type: ignore[misc]
    found: dict[str, Any] = {"lake_id": lake_identity(con), "snapshot_id": int(snapshot)}
    if "audit.runs" in tables:
        row = con.execute(
            "select run_id from lake.audit.runs where status = 'published' order by finished_at desc limit 1"
        ).fetchone()
        found["run_id"] = row[0] if row else None
    if found.get("run_id") and "audit.build_fingerprints" in tables:
        row = con.execute(
            "select fingerprint from lake.audit.build_fingerprints where run_id = ?", [found["run_id"]]
        ).fetchone()
        found["fingerprint"] = row[0] if row else None
    if FILES_IN_FORCE in tables:
        found["files"] = dict(con.execute(f"select file_path, content_hash from lake.{FILES_IN_FORCE}").fetchall())
    if "audit.file_loads" in tables:
        found["rejected"] = frozenset(
            con.execute(
                "select file_path, content_hash from lake.audit.file_loads where outcome = 'rejected'"
            ).fetchall()
        )
    return LakeState(**found)


def files_in_force(lake: Lake) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """(file path -> content hash in force, file versions rejected before), as the lake says:
    nothing in force for an empty lake, or one published before it recorded them."""
    state = read_state(lake, FRESH_FOR)
    return dict(state.files or {}), set(state.rejected)


def last_published_run(warehouse: Path) -> str | None:
    """The latest published run of a build file; None without one."""
    if not warehouse.exists():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if not con.execute(
            "select 1 from duckdb_tables() where schema_name = 'audit' and table_name = 'runs'"
        ).fetchall():
            return None
        row = con.execute(
            "select run_id from audit.runs where status = 'published' order by finished_at desc limit 1"
        ).fetchone()
    return row[0] if row else None


def local_run(paths: Paths) -> str | None:
    """The run whose build the local copy is (``builds/live.json``, else the file's own audit)."""
    from libcoop.warehouse import builds

    if run_id := builds.live_run(paths.warehouse):
        return run_id
    return last_published_run(paths.warehouse)


def published(paths: Paths, lake: Lake) -> tuple[str, str | None, int] | None:
    """(run id, fingerprint, files in force) of the lake's current build, for
    ``fingerprint.unchanged_since``; None when the lake has none, does not say which files are in
    force, or the local copy (``paths.warehouse``) is not that build (a run must rebuild it)."""
    state = read_state(lake, FRESH_FOR)
    if state.run_id is None or state.files is None or local_run(paths) != state.run_id:
        return None
    return state.run_id, state.fingerprint, len(state.files)


def _marker_id(paths: Paths) -> str | None:
    try:
        return json.loads((paths.warehouse.parent / MARKER).read_text(encoding="utf-8")).get("lake_id")
    except (OSError, ValueError):
        return None


def _write_marker(paths: Paths, lake: Lake, state: LakeState) -> None:
    if state.lake_id is None or _marker_id(paths) == state.lake_id:
        return
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    marker = {"lake_id": state.lake_id, "target": lake.display}
    (paths.warehouse.parent / MARKER).write_text(json.dumps(marker), encoding="utf-8")


def _drop_local(paths: Paths, why: str, *, kept_builds_too: bool) -> None:
    """Forget the local copy; the run then builds from the drop folder. ``kept_builds_too``: the
    kept builds and blocked runs too (they are of another lake, or of an emptied one)."""
    from libcoop.audit import audit_store
    from libcoop.warehouse import builds

    gone = [paths.warehouse, paths.warehouse.with_name(paths.warehouse.name + ".wal")]
    gone.append(builds.builds_dir(paths.warehouse) / builds.LIVE_NAME)
    if kept_builds_too:
        gone += [audit_store(paths.warehouse), paths.warehouse.parent / MARKER]
        shutil.rmtree(builds.builds_dir(paths.warehouse), ignore_errors=True)
    for file in gone:
        file.unlink(missing_ok=True)
    log.warning(
        "%s: the local copy in %s is dropped; this run builds from the drop folder", why, paths.warehouse.parent
    )


def _restore(paths: Paths, run_id: str) -> None:
    """Put the kept local build of ``run_id`` back as the local copy (the lake went back to it)."""
    from libcoop.warehouse import builds
    from libcoop.warehouse.publish import seal

    staging = paths.warehouse.with_name(f".{paths.warehouse.name}.converge.tmp")
    builds.restore_file(paths.warehouse, run_id, staging)
    seal(staging)
    staging.chmod(builds.READ_ONLY)
    was = builds.live_run(paths.warehouse)
    staging.replace(paths.warehouse)
    builds.write_live(paths.warehouse, run_id, "rollback", was)


def converge(paths: Paths, run_id: str) -> LakeState:
    """Make the local copy agree with the lake, under the run lock when it changes anything;
    return the lake's state."""
    from libcoop.warehouse import builds
    from libcoop.warehouse.runlock import run_lock

    lake = require_lake(paths.lake, "converge needs a DuckLake target")
    state = read_state(lake)
    here = local_run(paths)
    known = _marker_id(paths)
    if state.run_id is None:
        if here or known or builds.builds_dir(paths.warehouse).exists():
            with run_lock(paths.warehouse, run_id):
                _drop_local(paths, f"{lake.display} holds no published build", kept_builds_too=True)
        return state
    if known is not None and known != state.lake_id:
        with run_lock(paths.warehouse, run_id):
            _drop_local(paths, f"{lake.display} is another lake than the local copy's", kept_builds_too=True)
    elif here != state.run_id:
        with run_lock(paths.warehouse, run_id):
            if state.run_id in {b.run_id for b in builds.kept_builds(paths.warehouse)}:
                _restore(paths, state.run_id)
                log.warning("%s holds run %s: its kept local build is the local copy again", lake.display, state.run_id)
            else:
                why = f"{lake.display} holds run {state.run_id}, the local copy {here or 'nothing'}"
                _drop_local(paths, why, kept_builds_too=False)
    _write_marker(paths, lake, state)
    return state


def render_snapshots(published: list[Snapshot]) -> str:
    lines = ["  published snapshots (newest first):"]
    for i, snap in enumerate(reversed(published)):
        what = f"run {snap.run_id}"
        if snap.kind == "rollback":
            what += f", rolled back to snapshot {snap.restored_snapshot}"
        current = "  <- current" if i == 0 else ""
        when = f"{snap.published_at:%Y-%m-%d %H:%M:%S %Z}"
        lines.append(f"    {snap.snapshot_id:>5}  {when}  {snap.kind:<8}  {what}{current}")
    return "\n".join(lines)
