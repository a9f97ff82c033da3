"""What a run is doing, phase by phase: each phase when it starts and when it ends, with its
duration, and how far the long ones got (files checked n/N, dbt nodes n/N).

The pipeline's steps are wrapped in ``@phase("load")`` and friends; they report to the current
``Progress`` (``using(progress)`` sets it for a block, e.g. ``libcoop run`` printing to the
terminal), by default to the ``libcoop.progress`` logger, which lands in the Airflow task logs.
``python -m libcoop.progress`` reads the output of ``airflow dags test`` on stdin and prints
only these lines (``make run`` shows them while the full log goes to a file).

Only the standard library here: the filter starts in a blink."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import os
import re
import resource
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from libcoop.redact import install_log_filter

LOGGER_NAME = "libcoop.progress"
# How the command line prints log records (libcoop.cli, and the check workers of libcoop.pipeline).
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
log = logging.getLogger(LOGGER_NAME)
timings = logging.getLogger("libcoop.timings")

# What each phase does, in the words a run prints.
PHASES = {
    "discover": "list the new, changed and removed files of the drop folder",
    "check": "check each file against the contract",
    "load": "load the accepted files into a private build",
    "build": "dbt build: seeds, snapshots, models and their tests",
    "validate": "Great Expectations suites on the raw kinds and the marts",
    "publish": "dbt docs, then publish the build with one rename",
}
TO_CHECK = "{n} file{s} to check"
_TO_CHECK = re.compile(r"^discover: done in .*: (?P<n>\d+) files? to check")
_CHECKED = re.compile(r"^check: (?P<rest>\S.*?: (?:accepted|rejected).*)$")
# A line of `airflow dags test` output that carries one of our messages.
_AIRFLOW_LINE = re.compile(r"^\S+ \[\w+\s*\] (?P<message>.*?)\s+\[" + re.escape(LOGGER_NAME) + r"\]")


def files_to_check(n: int) -> str:
    return TO_CHECK.format(n=n, s="" if n == 1 else "s")


def memory_mb() -> tuple[int, int]:
    """(resident now, peak resident so far) of this process in MB; (0, 0) where /proc is not."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0, 0
    held = pages * os.sysconf("SC_PAGE_SIZE") // 2**20
    return held, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds // 60)} min {seconds % 60:02.0f} s"


@dataclass
class Step:
    """A phase under way; set ``note`` to say what it did, printed with its end."""

    name: str
    note: str | None = None


class Progress:
    """Reports phases and counts to ``emit`` (one line each); counts at most every ``every`` seconds."""

    def __init__(self, emit: Callable[[str], None] | None = None, every: float = 5.0) -> None:
        self.emit = emit or log.info
        self.every = every
        self._last_count = 0.0
        self._dbt_done = 0
        self._dbt_total = 0

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[Step]:
        install_log_filter()  # each Airflow task is a process of its own: no secret in its log either
        step = Step(name)
        started, cpu = time.monotonic(), time.process_time()
        self.emit(f"{name}: started ({PHASES.get(name, name)})")
        try:
            yield step
        except BaseException:
            self.emit(f"{name}: failed after {duration(time.monotonic() - started)}")
            raise
        note = f": {step.note}" if step.note else ""
        self.emit(f"{name}: done in {duration(time.monotonic() - started)}{note}")
        # For the benchmark (make bench reads these lines from `libcoop -v run`): wall and CPU, and
        # the memory the process holds at the end of the phase and its peak so far.
        timings.info(
            "phase %s: %.2f s wall, %.2f s cpu, %d MB held, %d MB peak",
            name,
            time.monotonic() - started,
            time.process_time() - cpu,
            *memory_mb(),
        )

    def count(self, name: str, done: int, total: int, item: str = "") -> None:
        """``name: done/total item``, skipped when the last count was less than ``every`` seconds ago,
        except the first and the last."""
        now = time.monotonic()
        if done not in (1, total) and now - self._last_count < self.every:
            return
        self._last_count = now
        self.emit(f"{name}: {done}/{total}{' ' + item if item else ''}")

    def checked(self, verdict: dict[str, Any], done: int | None = None, total: int | None = None) -> None:
        """One file checked (``verdict`` as ``libcoop.ingest.staged.stage_check`` returns it)."""
        install_log_filter()
        where = f" {done}/{total}" if done and total else ""
        outcome = (
            f"accepted, {verdict['rows']} row{'s' if verdict['rows'] != 1 else ''}"
            if verdict["accepted"]
            else f"rejected, {verdict['problems']} problem{'s' if verdict['problems'] != 1 else ''}"
        )
        if verdict.get("gone"):
            outcome = "not read: it vanished or became unreadable after it was listed; the load says why"
        self.emit(f"check{where}: {verdict['file']}: {outcome}")

    def dbt_event(self, event: Any) -> None:
        """A dbt callback (``dbtRunner(callbacks=[...])``): counts the nodes dbt has finished."""
        name, data = event.info.name, event.data
        total = getattr(data, "total", 0) or getattr(data, "num_models", 0)
        if name in ("LogStartLine", "LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult") and total:
            self._dbt_total = max(self._dbt_total, int(total))
        if name != "NodeFinished":
            return
        self._dbt_done += 1
        node = data.node_info
        total = max(self._dbt_total, self._dbt_done)
        self.count("build", self._dbt_done, total, f"dbt nodes done (last: {node.node_name}, {node.node_status})")


_current: contextvars.ContextVar[Progress | None] = contextvars.ContextVar("libcoop_progress", default=None)


def current() -> Progress:
    """The progress the steps report to: the one ``using`` set, else the ``libcoop.progress`` logger."""
    return _current.get() or Progress()


@contextlib.contextmanager
def using(progress: Progress) -> Iterator[Progress]:
    token = _current.set(progress)
    try:
        yield progress
    finally:
        _current.reset(token)


def phase(name: str, note: Callable[[Any], str | None] | None = None):  # type: ignore[no-untyped-def]
    """Decorate a step: report it as phase ``name``; ``note(result)`` says what it did."""

    def decorate(function):  # type: ignore[no-untyped-def]
        @functools.wraps(function)
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            progress = current()
            with using(progress), progress.phase(name) as step:
                result = function(*args, **kwargs)
                step.note = note(result) if note else None
            return result

        return wrapper

    return decorate


def follow(lines: TextIO, out: TextIO, prefix: str = "libcoop: ") -> int:
    """Print the progress messages found in ``airflow dags test`` output, numbering checked files
    n/N; return how many were printed."""
    printed, to_check, checked = 0, 0, 0
    for line in lines:
        match = _AIRFLOW_LINE.match(line)
        if not match:
            continue
        message = match["message"]
        if found := _TO_CHECK.match(message):
            to_check = int(found["n"])
        if found := _CHECKED.match(message):
            checked += 1
            message = f"check {checked}/{to_check}: {found['rest']}" if to_check else message
        out.write(prefix + message + "\n")
        out.flush()
        printed += 1
    return printed


if __name__ == "__main__":
    follow(sys.stdin, sys.stdout)
