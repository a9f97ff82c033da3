"""Run the project's Airflow CLI in a throw-away AIRFLOW_HOME, on a drop folder and warehouse of the test's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def airflow_env(tmp: Path, raw_dir: Path, warehouse: Path, **extra: str) -> dict[str, str]:
    expectations = tmp / "expectations"
    if not expectations.exists():
        shutil.copytree(REPO / "expectations", expectations, ignore=shutil.ignore_patterns("uncommitted"))
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(tmp / "airflow"),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        LIBCOOP_RAW_DIR=str(raw_dir),
        LIBCOOP_WAREHOUSE=str(warehouse),
        LIBCOOP_EXPECTATIONS_DIR=str(expectations),
        GX_ANALYTICS_ENABLED="false",
        **extra,
    )
    return env


def airflow(env: dict[str, str], *args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False, cwd=REPO
    )


def prepare_metadata(env: dict[str, str]) -> None:
    for args in (("db", "migrate"), ("pools", "set", "duckdb_writer", "1", "DuckDB writers, one at a time")):
        done = airflow(env, *args)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
