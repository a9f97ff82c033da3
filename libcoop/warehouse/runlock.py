"""One run at a time: an OS lock beside the warehouse, ``warehouse/.libcoop-run.lock``.

``libcoop run`` holds it for the whole run. The lock is ``fcntl.flock`` on the file: the kernel
drops it when its holder dies (SIGKILL included), so a killed run never leaves a lock behind. The
file records who holds it (run id, pid, start time), so a second run refuses at once
(``RunInProgress``, nothing changed) and says which run is in progress. The Airflow DAG runs one
DAG run at a time (max_active_runs=1) and its writing tasks share the one-slot pool duckdb_writer.

An Airflow DAG run is many processes, one per task, with gaps between them: no flock can span it.
So its first task takes a *lease*, ``warehouse/.libcoop-run.lease`` (``take_lease``: the run id and
when it was last renewed), every writing task renews it, and its last task (trigger rule
``all_done``) releases it. ``run_lock`` refuses while another run's lease is fresh; a lease not
renewed for ``LEASE_TTL`` (a task's timeout and its retries: a dead DAG run) is stale and is
taken over, with a warning naming it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from libcoop.errors import LibcoopError

LOCK_NAME = ".libcoop-run.lock"
LEASE_NAME = ".libcoop-run.lease"
# Longer than one task may take (execution_timeout 1 h) plus its retry delays: a DAG run that has
# not renewed its lease for this long is dead (LIBCOOP_LEASE_TTL_SECONDS overrides it).
LEASE_TTL = dt.timedelta(hours=2)
AIRFLOW_RUN = "Airflow DAG run"

log = logging.getLogger(__name__)


WHOLE_RUN = "libcoop run"


class RunInProgress(LibcoopError):
    """Another run holds the warehouse; this one changed nothing."""


_held: dict[str, tuple[int, str, int, str]] = {}  # lock path -> (fd, run id, depth, what): re-entry


def lock_path(warehouse: Path) -> Path:
    return warehouse.parent / LOCK_NAME


def _holder_text(path: Path) -> str:
    try:
        holder = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        holder = {}
    if not holder:
        return "another run"
    what, pid, started = holder.get("what"), holder.get("pid"), holder.get("started_at")
    return f"run {holder.get('run_id')} ({what}, pid {pid}, started {started})"


@contextmanager
def run_lock(warehouse: Path, run_id: str, what: str = WHOLE_RUN) -> Iterator[None]:
    """Hold the run lock of ``warehouse`` for ``run_id``, or raise RunInProgress at once.
    Re-entrant for the same run in one process (``libcoop run`` holds it around its steps)."""
    path = lock_path(warehouse)
    key = str(path)
    if key in _held:
        fd, holder, depth, outer = _held[key]
        if holder != run_id:
            raise RunInProgress(f"run {holder} is in progress in this process; {run_id} changed nothing")
        _held[key] = (fd, holder, depth + 1, outer)
        try:
            yield
        finally:
            _held[key] = (fd, holder, depth, outer)
        return
    fd = _flock(warehouse, run_id)
    try:
        _refuse_foreign_lease(warehouse, run_id)
        record = {
            "run_id": run_id,
            "pid": os.getpid(),
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "what": what,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        _held[key] = (fd, run_id, 1, what)
        yield
    finally:
        _held.pop(key, None)
        os.ftruncate(fd, 0)
        os.close(fd)  # closing the descriptor releases the flock


def _flock(warehouse: Path, run_id: str) -> int:
    """The run lock's descriptor, flocked; RunInProgress when another process holds it."""
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise RunInProgress(
            f"{_holder_text(path)} is in progress on {warehouse}; this run ({run_id}) changed nothing: "
            "try again when it has finished"
        ) from None
    return fd


# --- the lease of an Airflow DAG run ----------------------------------------------------------


def lease_path(warehouse: Path) -> Path:
    return warehouse.parent / LEASE_NAME


def _ttl() -> dt.timedelta:
    from libcoop.settings import lease_ttl_seconds

    seconds = lease_ttl_seconds()
    return dt.timedelta(seconds=seconds) if seconds is not None else LEASE_TTL


def read_lease(warehouse: Path) -> dict[str, str] | None:
    """The lease in force (run_id, what, taken_at, renewed_at), or None."""
    try:
        lease = json.loads(lease_path(warehouse).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return lease if isinstance(lease, dict) and lease.get("run_id") else None


def _is_stale(lease: dict[str, str], now: dt.datetime) -> bool:
    try:
        renewed = dt.datetime.fromisoformat(lease["renewed_at"])
    except (KeyError, ValueError):
        return True
    return now - renewed > _ttl()


def _refuse_foreign_lease(warehouse: Path, run_id: str) -> None:
    """Under the flock: RunInProgress while another run's lease is fresh; a stale one is dropped."""
    lease = read_lease(warehouse)
    if lease is None or lease["run_id"] == run_id:
        return
    if _is_stale(lease, dt.datetime.now(dt.UTC)):
        log.warning(
            "taking over the stale lease of %s %s (last renewed %s, more than %s ago): that run is dead",
            lease.get("what"),
            lease["run_id"],
            lease.get("renewed_at"),
            _ttl(),
        )
        lease_path(warehouse).unlink(missing_ok=True)
        return
    raise RunInProgress(
        f"{lease.get('what', 'run')} {lease['run_id']} is in progress on {warehouse} (taken {lease.get('taken_at')}, "
        f"renewed {lease.get('renewed_at')}, between its tasks); this run ({run_id}) changed nothing: "
        "try again when it has finished"
    )


def take_lease(warehouse: Path, run_id: str, what: str = AIRFLOW_RUN) -> dict[str, str]:
    """Take (or renew, for the same run) the warehouse's lease for ``run_id``; RunInProgress when
    another run holds it or the run lock. Every writing task of the DAG calls it."""
    fd = _flock(warehouse, run_id)
    try:
        _refuse_foreign_lease(warehouse, run_id)
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        held = read_lease(warehouse)
        lease = {"run_id": run_id, "what": what, "taken_at": (held or {}).get("taken_at", now), "renewed_at": now}
        fresh = lease_path(warehouse).with_name(f"{LEASE_NAME}.{os.getpid()}.tmp")
        fresh.write_text(json.dumps(lease), encoding="utf-8")
        fresh.replace(lease_path(warehouse))  # whole or not at all: a reader never sees half a lease
        return lease
    finally:
        os.close(fd)


def release_lease(warehouse: Path, run_id: str) -> bool:
    """Drop the lease of ``run_id`` (another run's is left alone); True when one was dropped."""
    lease = read_lease(warehouse)
    if lease is None or lease["run_id"] != run_id:
        return False
    lease_path(warehouse).unlink(missing_ok=True)
    return True
