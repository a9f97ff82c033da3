"""Two `libcoop run` at once: the second refuses at once, naming the run in progress, and changes nothing."""

from __future__ import annotations

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
