"""One run at a time: an OS lock beside the warehouse, ``warehouse/.libcoop-run.lock``.

``libcoop run`` holds it for the whole run. The lock is ``fcntl.flock`` on the file: the kernel
drops it when its holder dies (SIGKILL included), so a killed run never leaves a lock behind. The
file records who holds it (run id, pid, start time), so a second run refuses at once
(``RunInProgress``, nothing changed) and says which run is in progress. The Airflow DAG runs one
DAG run at a time (max_active_runs=1) and its writing tasks share the one-slot pool duckdb_writer.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".libcoop-run.lock"


WHOLE_RUN = "libcoop run"


class RunInProgress(RuntimeError):
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
    try:
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
