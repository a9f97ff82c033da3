"""One memory ceiling for a run's large DuckDB queries: dbt's build, the validation, the dashboard."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from libcoop.progress import memory_mb
from libcoop.quality import batches
from libcoop.settings import DEFAULT_DUCKDB_MEMORY_LIMIT, dbt_project_dir, point_dbt_at, warehouse_config


def test_dbt_profile_falls_back_on_the_same_default():
    profile = (dbt_project_dir() / "profiles.yml").read_text(encoding="utf-8")
    assert f"env_var('LIBCOOP_DUCKDB_MEMORY_LIMIT', '{DEFAULT_DUCKDB_MEMORY_LIMIT}')" in profile


def test_the_ceiling_reaches_dbt_and_the_validation(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("LIBCOOP_DUCKDB_MEMORY_LIMIT", "123MB")
    assert warehouse_config(threads=1) == {"memory_limit": "123MB", "threads": 1}
    for name in ("LIBCOOP_DBT_DATABASE", "LIBCOOP_DBT_TEST_CHANGED_FILES"):  # restored after the test
        monkeypatch.setenv(name, "")
    point_dbt_at(tmp_path / "build.duckdb")
    assert os.environ["LIBCOOP_DUCKDB_MEMORY_LIMIT"] == "123MB"
    database = tmp_path / "build.duckdb"
    duckdb.connect(str(database)).close()
    with batches.read_only(database) as con:
        limit, threads = con.execute("select current_setting('memory_limit'), current_setting('threads')").fetchone()
    assert (limit, threads) == ("117.3 MiB", 1)  # DuckDB's words for 123 MB


def test_default_ceiling(monkeypatch):
    monkeypatch.delenv("LIBCOOP_DUCKDB_MEMORY_LIMIT", raising=False)
    assert warehouse_config() == {"memory_limit": DEFAULT_DUCKDB_MEMORY_LIMIT}


def test_phase_lines_say_the_memory_held_and_the_peak():
    held, peak = memory_mb()
    assert 10 < held <= peak
