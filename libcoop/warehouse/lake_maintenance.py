"""DuckLake's own maintenance of a DuckLake target: what ``libcoop maintain`` and the
``ducklake_maintenance`` DAG run (weekly by default, ``LIBCOOP_LAKE_MAINTENANCE_CRON``).

1. Expire the snapshots older than the last ``LIBCOOP_KEEP_BUILDS`` published builds (publishes
   and rollbacks, at least 2): every snapshot from the oldest kept build on stays, so ``libcoop
   rollback`` (time travel to the build before the current one) keeps working, and ``libcoop
   summary`` lists the kept builds.
2. Merge adjacent small files of each table (``ducklake_merge_adjacent_files``); time travel to
   the kept snapshots still reads the same rows.
3. Delete the files no snapshot references any more (``ducklake_cleanup_old_files``), once they
   have been unreferenced for ``GRACE``: a reader still inside a transaction on the snapshot
   before a merge keeps its files until the next maintenance.

Each step is its own DuckLake transaction: a reader attached during maintenance sees one whole
snapshot or the next, the same rows. The run lock keeps maintenance and a run of this machine
apart (their commits would conflict)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from libcoop.target import require_lake
from libcoop.warehouse.lake import Lake, connect, snapshots

log = logging.getLogger(__name__)

GRACE = dt.timedelta(hours=1)
# The check verdicts were rows of this table before they became files beside the lake's data.
LEGACY_VERDICTS = 'lake."libcoop_checks".verdicts'


@dataclass(frozen=True)
class Maintained:
    kept_builds: int  # published builds kept (their snapshots and every later one)
    oldest_kept: int | None  # the oldest snapshot kept
    expired: int  # snapshots expired
    merged_tables: int  # tables whose small files were merged
    deleted_files: int  # files deleted from the data path
    snapshots: int  # snapshots left

    def render(self) -> str:
        return (
            f"kept the last {self.kept_builds} published builds (snapshots from {self.oldest_kept} on); "
            f"expired {self.expired} snapshots, merged the files of {self.merged_tables} tables, "
            f"deleted {self.deleted_files} unreferenced files; {self.snapshots} snapshots left"
        )


def maintain(lake: Lake, keep: int | None = None, grace: dt.timedelta = GRACE) -> Maintained:
    """Expire, merge, clean up (see the module); ``keep``: builds kept, default LIBCOOP_KEEP_BUILDS."""
    from libcoop.settings import keep_builds

    keep = max(2, keep if keep is not None else keep_builds())
    with connect(lake) as con:
        published = snapshots(con)
        oldest = published[-keep].snapshot_id if len(published) >= keep else None
        if published and oldest is None:
            oldest = published[0].snapshot_id
        old = (
            [
                i
                for (i,) in con.execute(
                    "select snapshot_id from lake.snapshots() where snapshot_id < ?", [oldest]
                ).fetchall()
            ]
            if oldest is not None
            else []
        )
        expired = (
            len(con.execute("call ducklake_expire_snapshots('lake', versions => ?)", [old]).fetchall()) if old else 0
        )
        if con.execute(
            "select 1 from duckdb_tables() where database_name = 'lake' and schema_name = 'libcoop_checks'"
        ).fetchall():
            con.execute(f"drop table if exists {LEGACY_VERDICTS}")
        merged = len(con.execute("call ducklake_merge_adjacent_files('lake')").fetchall())
        before = dt.datetime.now(dt.UTC) - grace
        deleted = len(con.execute("call ducklake_cleanup_old_files('lake', older_than => ?)", [before]).fetchall())
        (left,) = con.execute("select count(*) from lake.snapshots()").fetchone()  # type: ignore[misc]
    done = Maintained(min(keep, len(published)), oldest, expired, merged, deleted, int(left))
    log.info("maintained %s: %s", lake, done.render())
    return done


def maintain_target(target: str | None = None, keep: int | None = None) -> Maintained:
    """``maintain`` the configured target (LIBCOOP_WAREHOUSE), under its run lock."""
    from libcoop.settings import resolve_paths
    from libcoop.warehouse.runlock import run_lock

    paths = resolve_paths(warehouse=target)
    refusal = f"{paths.warehouse} is not a DuckLake (ducklake:postgres:...): nothing to maintain"
    lake = require_lake(paths.lake, refusal)
    with run_lock(paths.warehouse, f"maintain-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}", what="libcoop maintain"):
        return maintain(lake, keep)
