"""`libcoop run` validates in a worker process started before the load (libcoop.pipeline.ValidationWorker),
so that importing Great Expectations overlaps the build: the run's own process never imports it,
the results still land in the build, and a failure in the worker fails the run's step."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from libcoop.pipeline import ValidationWorker
from tests.conftest import GOOD_MEMBERSHIP, GOOD_VISIT, MEMBERSHIPS_HEADER, VISITS_HEADER

pytestmark = pytest.mark.integration

RUN = """
import sys
from libcoop import pipeline
from libcoop.settings import resolve_paths
summary = pipeline.run(resolve_paths(sys.argv[1], sys.argv[2]), run_id="run-worker")
print(summary.status, "great_expectations" in sys.modules)
"""


def test_the_run_validates_in_its_worker_and_keeps_the_results(drop, tmp_path: Path) -> None:
    drop("CN/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT}\n")
    drop("VN/memberships.csv", f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n")
    warehouse = tmp_path / "warehouse" / "cooperation.duckdb"
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(drop.raw_dir), str(warehouse)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["published", "False"]  # Great Expectations stayed in the worker
    with duckdb.connect(str(warehouse), read_only=True) as con:
        suites = {
            s for (s,) in con.execute("select suite from audit.dq_results where run_id = 'run-worker'").fetchall()
        }
        kept = con.execute("select count(*) from audit.dq_fact_summary_fct_visit").fetchone()[0]
    assert {"raw_visits", "raw_memberships", "marts_integrity_fct_visit"} <= suites
    assert kept == 1  # the one visits file's summary row, for the next run to carry forward


def test_a_failure_in_the_worker_is_raised_in_the_run(tmp_path: Path) -> None:
    worker = ValidationWorker()
    try:
        with pytest.raises(duckdb.IOException, match=r"missing\.duckdb"):
            worker.validate(tmp_path / "missing.duckdb", "run-missing", tmp_path / "context")
    finally:
        worker.close()


WAIT = """
import os, time
from libcoop.pipeline import ValidationWorker
worker = ValidationWorker()
time.sleep(1)
print(*open(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read().split(), flush=True)
time.sleep(300)
"""


def test_the_worker_ends_when_the_run_is_killed() -> None:
    run = subprocess.Popen([sys.executable, "-c", WAIT], stdout=subprocess.PIPE, text=True)
    try:
        children = [int(pid) for pid in run.stdout.readline().split()]
        assert children, "the run started no worker"
        run.kill()
        run.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in children):
            time.sleep(0.5)
        assert not [pid for pid in children if _alive(pid)], "a worker outlived the killed run"
    finally:
        run.kill()


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent's wait."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _command(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def _children() -> set[int]:
    pid = os.getpid()
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def test_a_released_worker_ends_while_the_run_goes_on_and_close_waits_for_it(tmp_path: Path) -> None:
    before = _children()
    worker = ValidationWorker()
    with pytest.raises(duckdb.IOException):  # the worker has started and answered
        worker.validate(tmp_path / "missing.duckdb", "run-released", tmp_path / "context")
    started = {pid for pid in _children() - before if _alive(pid) and b"spawn_main" in _command(pid)}
    assert len(started) == 1  # the worker (beside it, multiprocessing's resource tracker)
    worker.release()  # returns at once: the run publishes while the worker's interpreter ends
    worker.close()  # and the run's end waits for it: `libcoop` then ends with os._exit
    assert not [pid for pid in started if _alive(pid)], "close() returned with the worker still there"
