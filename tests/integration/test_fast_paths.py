"""A run with nothing new answers without rebuilding; a new file still gets a full build."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import GOOD_VISIT, VISITS_HEADER
from tests.helpers.drops import libcoop_env
from tests.integration.airflow_env import REPO

pytestmark = pytest.mark.integration

LIBCOOP = str(Path(sys.executable).with_name("libcoop"))


def state(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def libcoop_run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LIBCOOP, "-v", "run"], env=env, capture_output=True, text=True, timeout=900, check=False)


def test_nothing_changed_is_answered_without_a_build_and_a_new_file_is_built(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(REPO / "raw" / "incoming", raw / "incoming")
    warehouse = tmp_path / "warehouse" / "cooperation.duckdb"
    env = libcoop_env(tmp_path)
    env["DBT_LOG_LEVEL_FILE"] = "debug"  # dbt says it skipped parsing at debug level

    first = libcoop_run(env)
    assert first.returncode == 0, first.stderr[-3000:]
    first_id = re.search(r"libcoop run (\S+): published", first.stdout).group(1)
    published = state(warehouse)
    docs = state(warehouse.parent / "dbt_docs" / "index.html")

    second = libcoop_run(env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"nothing changed since build {first_id}" in second.stdout
    assert ": unchanged" in second.stdout
    assert "unchanged" in second.stdout.split("files:")[1].splitlines()[0]  # the files in force, not reloaded
    assert "phase dbt build" not in second.stderr  # nothing rebuilt
    assert state(warehouse) == published  # nothing republished: same bytes, same mtime
    assert state(warehouse.parent / "dbt_docs" / "index.html") == docs
    assert [p.name for p in (warehouse.parent / "builds").iterdir() if p.is_dir()] == [first_id]  # none kept again
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select run_id from audit.runs").fetchall() == [(first_id,)]
        assert con.execute("select run_id from audit.build_fingerprints").fetchall() == [(first_id,)]

    rows = [GOOD_VISIT.replace("v1,", f"x{i},") for i in range(3)]
    (raw / "incoming" / "JP" / "visits_extra.csv").write_text(
        "\n".join([VISITS_HEADER, *rows]) + "\n", encoding="utf-8"
    )
    third = libcoop_run(env)
    assert third.returncode == 0, third.stderr[-3000:]
    assert ": published" in third.stdout
    assert "nothing changed" not in third.stdout
    # dbt parsed the project in the first run only: the state folder outlives the runs.
    assert "skipping parsing" in (warehouse.parent / ".dbt-target" / "logs" / "dbt.log").read_text()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select count(*) from marts.fct_visit where file_path = 'JP/visits_extra.csv'"
        ).fetchall() == [(3,)]
        assert con.execute("select count(*) from audit.runs").fetchall() == [(2,)]
    assert state(warehouse.parent / "builds" / first_id / "cooperation.duckdb")[0] == published[0]  # kept for rollback
    # Same models and seeds: the dbt docs of the first build still describe this one.
    assert "dbt docs kept" in third.stderr
    assert state(warehouse.parent / "dbt_docs" / "index.html") == docs
