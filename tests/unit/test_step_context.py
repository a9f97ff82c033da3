"""libcoop.runs.StepContext: what the DAG's tasks hand each other, as a JSON-able XCom."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from libcoop.runs import StepContext
from libcoop.settings import resolve_paths


def test_a_context_survives_its_xcom_and_gives_back_the_same_paths(tmp_path) -> None:
    paths = resolve_paths(tmp_path / "raw", tmp_path / "wh" / "cooperation.duckdb")
    started = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)
    run = StepContext.start(paths, "scheduled-20261207T020000", started)
    assert run.build is None
    with pytest.raises(ValueError, match="no build yet"):
        _ = run.build_path
    loaded = run.with_build(tmp_path / "wh" / "build.duckdb")
    again = StepContext.from_xcom(json.loads(json.dumps(loaded.to_xcom())))  # as Airflow stores it
    assert again == loaded
    assert again.run_id == "scheduled-20261207T020000"
    assert again.started == started
    assert again.build_path == tmp_path / "wh" / "build.duckdb"
    assert again.paths() == paths


def test_a_ducklake_target_is_not_written_into_the_xcom(tmp_path) -> None:
    """Its URI may hold a password: the context leaves it to LIBCOOP_WAREHOUSE."""
    paths = dataclasses.replace(resolve_paths(tmp_path / "raw", tmp_path / "cache.duckdb"), lake=object())
    run = StepContext.start(paths, "manual-1")
    assert run.warehouse is None
    assert set(run.to_xcom()) == {"run_id", "raw_dir", "warehouse", "started_at", "build"}
