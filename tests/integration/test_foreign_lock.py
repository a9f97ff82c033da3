"""A foreign lock stops nothing: a BI client that opens the published file read-write (DuckDB's
default) holds a lock on it, and a run still publishes, because it never opens that file; the
published file is read-only (0444); where libcoop must read it, a lock is one plain line."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GOOD_VISIT, VISITS_HEADER
from tests.helpers.drops import libcoop_env

pytestmark = pytest.mark.integration

LIBCOOP = str(Path(sys.executable).with_name("libcoop"))
# A client that forgot read_only=True: it holds DuckDB's read-write lock until it is killed.
HOLD_READ_WRITE = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("select count(*) from marts.fct_visit").fetchall()
print("holding", flush=True)
time.sleep(600)
"""


def libcoop(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LIBCOOP, *args], env=env, capture_output=True, text=True, timeout=900, check=False)


def visits(raw: Path, name: str, count: int) -> None:
    rows = [GOOD_VISIT.replace("v1,", f"{name}-{i},") for i in range(count)]
    path = raw / "incoming" / "CN" / f"visits_{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([VISITS_HEADER, *rows]) + "\n", encoding="utf-8")


def hold(warehouse: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_READ_WRITE, str(warehouse)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
    return holder


def test_a_read_write_client_holding_the_published_file_does_not_stop_the_publish(tmp_path):
    raw = tmp_path / "raw"
    warehouse = tmp_path / "warehouse" / "cooperation.duckdb"
    env = libcoop_env(tmp_path)
    visits(raw, "first", 2)
    first = libcoop(env, "run")
    assert first.returncode == 0, first.stderr[-3000:]
    assert warehouse.stat().st_mode & 0o777 == 0o444

    holder = hold(warehouse)  # as root, 0444 does not stop it: the lock is what is tested
    try:
        visits(raw, "second", 3)
        second = libcoop(env, "run")
        assert second.returncode == 0, second.stderr[-3000:]
        assert re.search(r"libcoop run \S+: published", second.stdout)
        assert "visits_second.csv" in second.stdout
        summary = libcoop(env, "summary")  # read from the live build's own copy
        assert summary.returncode == 0, summary.stderr
        assert "fct_visit" in summary.stdout and "live: the build of run" in summary.stdout

        # Without a kept copy (a warehouse published before builds were kept), libcoop must read the
        # published file: the lock is one plain line naming the holder, never a traceback.
        shutil.rmtree(warehouse.parent / "builds")
        holder.kill()
        holder.wait()
        holder = hold(warehouse)
        for command in ("summary", "run"):
            done = libcoop(env, command)
            assert done.returncode == 1
            (line,) = done.stderr.strip().splitlines()
            assert f"(PID {holder.pid})" in line and "clients must open it read-only" in line
            assert "Traceback" not in done.stderr
    finally:
        holder.kill()
        holder.wait()
