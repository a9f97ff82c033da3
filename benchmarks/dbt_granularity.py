"""Measure how to run dbt inside Airflow: one `dbt build` task, or one task per model (Cosmos).

Both variants run through `airflow dags test` in a throw-away AIRFLOW_HOME, on the same build of
the sample drop, so the figures include Airflow's own cost per task. Cosmos renders its task group
from a pre-built manifest (LoadMode.DBT_MANIFEST: no `dbt ls` at DAG parse) and runs each model
then its tests (TestBehavior.AFTER_EACH) in-process (InvocationMode.DBT_RUNNER).

    python -m benchmarks.dbt_granularity
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from libcoop.pipeline import load_step
from libcoop.settings import PROJECT_ROOT, resolve_paths
from libcoop.transform.dbt_build import dbt_args, dbt_project_dir, release_duckdb

SINGLE_TASK_DAG = """
from datetime import datetime
from pathlib import Path
from airflow.sdk import dag, task

@dag(dag_id="bench_dbt_single", schedule=None, start_date=datetime(2026, 1, 1), catchup=False)
def bench_dbt_single():
    @task
    def build_marts():
        import os
        from libcoop.pipeline import build_step
        return build_step(Path(os.environ["LIBCOOP_DBT_DATABASE"]))
    build_marts()

bench_dbt_single()
"""

COSMOS_DAG = """
import os
from datetime import datetime
from pathlib import Path
from airflow.sdk import dag
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode, TestBehavior

project = Path(os.environ["BENCH_DBT_PROJECT"])

@dag(dag_id="bench_dbt_cosmos", schedule=None, start_date=datetime(2026, 1, 1), catchup=False)
def bench_dbt_cosmos():
    DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(dbt_project_path=project, manifest_path=os.environ["BENCH_MANIFEST"]),
        profile_config=ProfileConfig(
            profile_name="libcoop", target_name="dev", profiles_yml_filepath=project / "profiles.yml"
        ),
        render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.AFTER_EACH),
        execution_config=ExecutionConfig(invocation_mode=InvocationMode.DBT_RUNNER),
    )

bench_dbt_cosmos()
"""


def airflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("airflow")), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603


def timed_dag_run(env: dict[str, str], dag_id: str) -> tuple[float, int]:
    started = time.perf_counter()
    done = airflow(env, "dags", "test", dag_id)
    seconds = time.perf_counter() - started
    log = done.stdout + done.stderr
    if "state=success" not in log:
        raise RuntimeError(f"{dag_id} did not succeed:\n{log[-4000:]}")
    return seconds, log.count("new_state=success")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        paths = resolve_paths(PROJECT_ROOT / "raw", tmp / "warehouse" / "cooperation.duckdb")
        build, _ = load_step(paths, "bench")
        manifest_target = tmp / "manifest"
        from dbt.cli.main import dbtRunner

        args = dbt_args("parse", build)
        args[args.index("--target-path") + 1] = str(manifest_target)
        dbtRunner().invoke(args)
        release_duckdb()

        dags = tmp / "dags"
        dags.mkdir()
        (dags / "bench_dbt_single.py").write_text(textwrap.dedent(SINGLE_TASK_DAG))
        (dags / "bench_dbt_cosmos.py").write_text(textwrap.dedent(COSMOS_DAG))
        env = dict(
            os.environ,
            AIRFLOW_HOME=str(tmp / "airflow"),
            AIRFLOW__CORE__DAGS_FOLDER=str(dags),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__COSMOS__ENABLE_TELEMETRY="False",
            DO_NOT_TRACK="1",
            BENCH_DBT_PROJECT=str(dbt_project_dir()),
            BENCH_MANIFEST=str(manifest_target / "manifest.json"),
        )
        migrate = airflow(env, "db", "migrate")
        if migrate.returncode:
            raise RuntimeError(migrate.stderr[-3000:])
        results = {}
        for dag_id in ("bench_dbt_single", "bench_dbt_cosmos"):
            copy = tmp / f"{dag_id}.duckdb"
            shutil.copyfile(build, copy)
            env["LIBCOOP_DBT_DATABASE"] = str(copy)
            results[dag_id] = timed_dag_run(env, dag_id)
        single, cosmos = results["bench_dbt_single"], results["bench_dbt_cosmos"]
        print(f"one dbt build task : {single[0]:7.1f} s, {single[1]} task instances")
        print(f"Cosmos, per model  : {cosmos[0]:7.1f} s, {cosmos[1]} task instances")
        print(f"ratio (per model / one task): {cosmos[0] / single[0]:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
