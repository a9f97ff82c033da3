"""Two `libcoop run` at once: the second refuses at once, naming the run in progress, and changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from libcoop.pipeline import run
from libcoop.settings import Paths
from libcoop.warehouse.runlock import RunInProgress, lock_path, run_lock

HOLD = """
import sys, time
from pathlib import Path
from libcoop.warehouse.runlock import run_lock
with run_lock(Path(sys.argv[1]), "run-in-progress"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_run_refuses_while_another_process_holds_the_warehouse(tmp_path):
    paths = Paths(
        raw_dir=tmp_path / "raw", warehouse=tmp_path / "wh" / "cooperation.duckdb", expectations_dir=tmp_path / "gx"
    )
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(paths.warehouse)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(
            RunInProgress, match=r"run run-in-progress \(libcoop run, pid \d+, started .*\) is in progress"
        ):
            run(paths, "second-run")
        assert time.monotonic() - started < 10  # refused at once, not after waiting
        assert not paths.build_dir.exists()  # nothing of the second run was made
    finally:
        holder.kill()
        holder.wait()
    # The kernel drops a killed holder's lock: the next run may take it.
    with run_lock(paths.warehouse, "next-run"):
        assert "next-run" in lock_path(paths.warehouse).read_text()


# --- the lease of an Airflow DAG run, between its tasks ----------------------------------------


def test_a_run_refuses_while_a_dag_run_holds_the_lease_between_its_tasks(tmp_path):
    from libcoop.warehouse.runlock import lease_path, read_lease, release_lease, take_lease

    warehouse = tmp_path / "wh" / "cooperation.duckdb"
    take_lease(warehouse, "manual-20261201T020000")  # the DAG's first task; no task is running now
    with (
        pytest.raises(
            RunInProgress, match=r"Airflow DAG run manual-20261201T020000 is in progress .* between its tasks"
        ),
        run_lock(warehouse, "cli-run"),
    ):
        pass
    assert read_lease(warehouse)["run_id"] == "manual-20261201T020000"
    with run_lock(warehouse, "manual-20261201T020000"):  # the DAG run's own tasks go on
        pass
    with pytest.raises(RunInProgress, match="manual-20261201T020000"):
        take_lease(warehouse, "scheduled-20261202T020000")
    assert release_lease(warehouse, "someone-else") is False
    assert release_lease(warehouse, "manual-20261201T020000") is True
    assert not lease_path(warehouse).exists()
    with run_lock(warehouse, "cli-run"):  # released: the next run goes
        pass


def test_a_stale_lease_of_a_dead_dag_run_is_taken_over(tmp_path, monkeypatch, caplog):
    from libcoop.warehouse.runlock import lease_path, read_lease, take_lease

    warehouse = tmp_path / "wh" / "cooperation.duckdb"
    take_lease(warehouse, "dead-run")
    lease = read_lease(warehouse)
    lease["renewed_at"] = "2026-01-01T00:00:00+00:00"
    lease_path(warehouse).write_text(json.dumps(lease), encoding="utf-8")
    monkeypatch.setenv("LIBCOOP_LEASE_TTL_SECONDS", "3600")
    with run_lock(warehouse, "cli-run"):
        pass
    assert "taking over the stale lease of Airflow DAG run dead-run" in caplog.text
    assert read_lease(warehouse) is None


def test_the_lease_is_refused_while_a_libcoop_run_holds_the_lock(tmp_path):
    from libcoop.warehouse.runlock import take_lease

    warehouse = tmp_path / "wh" / "cooperation.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(RunInProgress, match="run run-in-progress"):
            take_lease(warehouse, "manual-20261201T020000")
    finally:
        holder.kill()
        holder.wait()
