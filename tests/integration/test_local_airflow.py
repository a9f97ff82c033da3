"""`make airflow`: a local Airflow that answers on its port, starts no build on its own, is small
on two cores, and leaves no process behind when it is stopped with SIGTERM."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import GOOD_VISIT, VISITS_HEADER
from tests.integration.airflow_env import REPO
from tests.integration.distributed_stack import free_port

pytestmark = pytest.mark.integration

START_TIMEOUT = 300  # db migrate and four components on two shared cores
STOP_TIMEOUT = 90


def processes_of(home: Path, sessions: set[int] = frozenset()) -> dict[int, tuple[int, str]]:
    """Every live process with this AIRFLOW_HOME in its environment, or in one of ``sessions``
    (Airflow retitles its workers, which overwrites their environment), with its session and
    command line. Only this test starts such processes."""
    marker = f"AIRFLOW_HOME={home}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, _ppid, _pgrp, session = (entry / "stat").read_text().rpartition(")")[2].split()[:4]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            ours = int(session) in sessions or marker in (entry / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError):  # gone meanwhile, or not ours to read
            continue
        if ours and state != "Z":
            found[int(entry.name)] = (int(session), command)
    return found


def health(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=2) as answer:
            return answer.status
    except OSError:
        return None


def test_make_airflow_answers_runs_nothing_and_stops_whole(tmp_path):
    home, port = tmp_path / "airflow", free_port()
    raw = tmp_path / "raw"
    (raw / "incoming" / "CN").mkdir(parents=True)
    # Something new in the drop folder: an unpaused watcher or a catch-up run would build it.
    (raw / "incoming" / "CN" / "visits.csv").write_text(f"{VISITS_HEADER}\n{GOOD_VISIT}\n", encoding="utf-8")
    warehouse = tmp_path / "warehouse" / "cooperation.duckdb"
    env = dict(os.environ, LIBCOOP_RAW_DIR=str(raw), LIBCOOP_WAREHOUSE=str(warehouse))
    # PATH without the venv: the Makefile must put .venv/bin first itself.
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    log = tmp_path / "make-airflow.log"
    with log.open("wb") as out:
        make = subprocess.Popen(
            [
                "make",
                "--no-print-directory",
                "-C",
                str(REPO),
                "airflow",
                f"AIRFLOW_HOME={home}",
                f"AIRFLOW_PORT={port}",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    sessions = {make.pid}
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while health(port) != 200:
            assert make.poll() is None, log.read_text(errors="replace")[-4000:]
            assert time.monotonic() < deadline, f"no answer on port {port}: " + log.read_text(errors="replace")[-4000:]
            time.sleep(2)

        # Every DAG registered, all paused, no run created: nothing rebuilds the warehouse by surprise.
        database = home / "airflow.db"
        while True:
            with sqlite3.connect(database, timeout=30) as db:
                dags = dict(db.execute("select dag_id, is_paused from dag").fetchall())
                runs = db.execute("select count(*) from dag_run").fetchone()[0]
            if len(dags) == 3 or time.monotonic() > deadline:
                break
            time.sleep(2)
        assert dags == {"cooperation_nightly": 1, "drop_folder_watch": 1, "ducklake_maintenance": 1}
        assert runs == 0
        assert not warehouse.exists()

        sessions = {make.pid} | {session for session, _ in processes_of(home).values()}
        running = processes_of(home, sessions)
        commands = " | ".join(command for _, command in running.values())
        for part in ("airflow standalone", "airflow scheduler", "airflow dag-processor", "airflow triggerer"):
            assert part in commands, commands
        assert "airflow api_server" in commands, commands
        workers = [command for _, command in running.values() if "LocalExecutor" in command]
        assert len(workers) == max(2, os.cpu_count() or 2), commands  # Airflow's default would fork 32
        text = log.read_text(errors="replace")
        assert "FileNotFoundError" not in text
        assert f"libcoop: Airflow UI on http://localhost:{port}" in text

        make.send_signal(signal.SIGTERM)
        make.wait(timeout=STOP_TIMEOUT)
        deadline = time.monotonic() + 10
        while processes_of(home, sessions) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert processes_of(home, sessions) == {}
        text = log.read_text(errors="replace")
        assert "standalone | Shutting down components" in text
        assert "standalone | Complete" in text
        assert health(port) is None
    finally:
        for pid in processes_of(home, sessions):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if make.poll() is None:
            make.kill()
            make.wait()
