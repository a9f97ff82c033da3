"""The README's commands on any machine with Python: no apt or sudo for `make run`, the font found
or one line of advice, no traceback on a closed pipe, and no "leaked semaphore" errors from dbt's
locks in the log of an Airflow task (whose process ends with os._exit)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.airflow_env import REPO

pytestmark = pytest.mark.integration

LIBCOOP = str(Path(sys.executable).with_name("libcoop"))


def test_make_run_installs_nothing_with_apt():
    plan = subprocess.run(
        ["make", "-n", "run"], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    ).stdout  # fmt: skip
    assert "python -m libcoop.dashboard.fonts" in plan
    assert "apt-get" not in plan and "sudo" not in plan


def test_without_a_font_the_dashboard_says_how_to_get_one_in_one_line(tmp_path):
    env = dict(os.environ, LIBCOOP_DASHBOARD_FONT=str(tmp_path / "none.ttc"))
    done = subprocess.run(
        [sys.executable, "-m", "libcoop.dashboard.fonts"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1 and done.stderr == ""
    (line,) = done.stdout.splitlines()
    assert line.startswith("note: no CJK font found for the dashboard (Debian/Ubuntu: apt install fonts-noto-cjk;")
    assert "LIBCOOP_DASHBOARD_FONT" in line


def test_a_closed_pipe_ends_summary_quietly(tmp_path):
    from libcoop.settings import Paths
    from tests.unit.test_rollback_builds import publish_run

    warehouse = tmp_path / "warehouse" / "cooperation.duckdb"
    publish_run(Paths(raw_dir=tmp_path / "raw", warehouse=warehouse, expectations_dir=tmp_path), "run-1", 3)
    env = dict(os.environ, LIBCOOP_WAREHOUSE=str(warehouse))
    reader, writer = os.pipe()
    os.close(reader)  # `| head` that has already gone: every write gets EPIPE
    try:
        done = subprocess.run([LIBCOOP, "summary"], env=env, stdout=writer, stderr=subprocess.PIPE, text=True)
    finally:
        os.close(writer)
    assert done.returncode == 1
    assert done.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored"


EXIT_LIKE_AN_AIRFLOW_TASK = """
import multiprocessing, os, sys
from pathlib import Path
from libcoop.pipeline import release_semaphores

work = Path(sys.argv[1])
if sys.argv[2] == "dbt":
    from dbt.cli.main import dbtRunner
    from libcoop.transform.dbt_build import dbt_args

    result = dbtRunner().invoke(dbt_args("parse", work / "x.duckdb", state_dir=work / "state"))
    assert result.success, result.exception
    release_semaphores()
else:  # the control: what dbt makes, a lock of a spawn context, left to the exit
    kept = multiprocessing.get_context("spawn").RLock()
print("done", flush=True)
os._exit(0)  # as Airflow's task process ends: Python's exit handlers do not run
"""


@pytest.mark.parametrize("what", ["dbt", "control"])
def test_dbt_leaves_no_leaked_semaphores_in_a_task_log(tmp_path, what):
    import time

    done = subprocess.run(
        [sys.executable, "-c", EXIT_LIKE_AN_AIRFLOW_TASK, str(tmp_path), what],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=REPO,
    )
    assert "done" in done.stdout, done.stderr[-3000:]
    time.sleep(2)  # the resource tracker writes after the task process is gone
    assert ("leaked semaphore objects" in done.stderr) is (what == "control"), done.stderr[-2000:]
