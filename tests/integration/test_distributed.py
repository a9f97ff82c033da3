"""cooperation_nightly on a distributed Airflow 3: PostgreSQL metadata DB, Redis broker, CeleryExecutor,
and api-server, scheduler, dag-processor and a Celery worker as separate processes.

Uses the machine's PostgreSQL (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379, db 5);
skipped only when one of them does not answer. See distributed_stack.py for the Airflow 3 wiring.
The run publishes to the DuckLake target (a fresh catalog database on the same PostgreSQL), so
the Airflow tasks on the Celery worker are also what tests that target end to end; the
default target is run through Airflow by test_nightly_dag.py.
"""

from __future__ import annotations

import secrets
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from libcoop.ingest import lake_checks
from libcoop.ingest.drop_folder import discover
from libcoop.warehouse import lake
from tests.integration.airflow_env import REPO, airflow, airflow_env, prepare_metadata
from tests.integration.distributed_stack import (
    PG_HOST,
    PG_PORT,
    PG_USER,
    REDIS_HOST,
    REDIS_PORT,
    Stack,
    distributed_settings,
    forget_queue,
    free_port,
    fresh_database,
    http_ok,
    query,
    reachable,
    wait_until,
)
from tests.integration.sample_figures import nlc_ndl_business_meetings_since_1981

pytestmark = [pytest.mark.integration, pytest.mark.distributed, pytest.mark.timeout(1800)]

DAG_ID = "cooperation_nightly"
TASKS = {"discover_files", "load", "build_marts", "validate", "publish"}
WRITERS = {"load", "build_marts", "validate", "publish"}
WORKERS = ("worker-a", "worker-b")
RUN_DEADLINE = 15 * 60


def _timeline(database: str, run_id: str) -> str:
    """The run's task instances, one line each: when queued, started, ended, where, how it went."""
    rows = query(
        database,
        """
        select task_id, map_index, state, try_number, queue, hostname,
               to_char(queued_dttm, 'HH24:MI:SS'), to_char(start_date, 'HH24:MI:SS'),
               to_char(end_date, 'HH24:MI:SS'), round(duration::numeric, 1)
        from task_instance where dag_id = %s and run_id = %s order by start_date nulls last, task_id, map_index
        """,
        (DAG_ID, run_id),
    )
    header = "task_id[map] state try queue host queued started ended seconds"
    return "\n".join([header, *(f"{r[0]}[{r[1]}] " + " ".join(str(v) for v in r[2:]) for r in rows)])


@pytest.fixture(scope="module")
def distributed_run(tmp_path_factory):
    """Start the stack, run cooperation_nightly once on a copy of the sample drop, stop the stack.

    Yields the published warehouse (read-only), the metadata database name, the run id, the queue
    and the worker's log text."""
    missing = [
        f"{what} on {host}:{port}"
        for what, host, port in (("PostgreSQL", PG_HOST, PG_PORT), ("Redis", REDIS_HOST, REDIS_PORT))
        if not reachable(host, port)
    ]
    if missing:
        pytest.skip(f"the distributed test needs {' and '.join(missing)}: not reachable")

    started = time.monotonic()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        timings[name] = round(time.monotonic() - started, 1)
        print(f"[distributed] {name}: {timings[name]}s", flush=True)

    tmp = tmp_path_factory.mktemp("distributed")
    raw = tmp / "raw"
    shutil.copytree(REPO / "raw" / "incoming", raw / "incoming")
    warehouse = tmp / "warehouse" / "cooperation.duckdb"  # the DuckLake target's local copy of the build
    queue = f"libcoop_{secrets.token_hex(4)}"
    api_port = free_port()
    run_id = f"distributed__{secrets.token_hex(4)}"

    with fresh_database() as database, fresh_database("libcoop_lake_") as catalog:
        env = airflow_env(tmp, raw, warehouse, **distributed_settings(database, api_port, queue))
        target = lake.parse(
            f"ducklake:postgres:dbname={catalog} host={PG_HOST} port={PG_PORT} user={PG_USER}",
            str(tmp / "lake-data"),
            warehouse.parent,
        )
        env.update(
            LIBCOOP_WAREHOUSE=target.url,
            LIBCOOP_LAKE_DATA_PATH=target.data_path,
            LIBCOOP_WORK_DIR=str(target.work_dir),
        )
        stack = Stack(env=env, log_dir=tmp / "component-logs")
        task_logs = tmp / "airflow" / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}"
        try:
            prepare_metadata(env)  # airflow db migrate + the one-slot pool duckdb_writer
            lap("metadata migrated, pool created")

            stack.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(api_port), "--workers", "1")
            stack.start("scheduler", "scheduler", "--skip-serve-logs")
            stack.start("dag-processor", "dag-processor")
            # Two workers, as on two hosts: one task at a time each (prefetch 1), so the mapped
            # checks spread over both, and both write their verdicts to the DuckLake at once.
            for worker in WORKERS:
                stack.start(
                    worker,
                    *("celery", "worker", "--concurrency", "1", "--queues", queue, "--skip-serve-logs"),
                    *("--celery-hostname", f"{worker}-{queue}@%h", "--without-gossip", "--without-mingle"),
                )

            wait_until(
                "the api-server", lambda: http_ok(f"http://127.0.0.1:{api_port}/api/v2/monitor/health"), stack, 300
            )
            lap("api-server healthy")
            wait_until(
                f"{DAG_ID} to be parsed into the metadata DB",
                lambda: query(database, "select 1 from serialized_dag where dag_id = %s", (DAG_ID,)),
                stack,
                300,
            )
            lap("DAG parsed")

            # both at once (a run triggered while the DAG is still paused just waits queued): each CLI call
            # spends most of its time importing Airflow
            commands = (("dags", "unpause", DAG_ID), ("dags", "trigger", DAG_ID, "--run-id", run_id))
            with ThreadPoolExecutor(max_workers=2) as pool:
                results = list(pool.map(lambda args: airflow(env, *args, timeout=300), commands))
            for args, done in zip(commands, results, strict=True):
                assert done.returncode == 0, f"airflow {' '.join(args)}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
            lap("DAG unpaused and triggered")

            def finished() -> str | None:
                rows = query(database, "select state from dag_run where dag_id = %s and run_id = %s", (DAG_ID, run_id))
                state = rows[0][0] if rows else None
                return state if state in ("success", "failed") else None

            def task_files() -> tuple[Path, ...]:
                return tuple(sorted(task_logs.rglob("*.log"))) if task_logs.exists() else ()

            state = wait_until(
                f"run {run_id} to finish", finished, stack, RUN_DEADLINE, interval=5, extra_logs=task_files
            )
            lap(f"run finished: {state}")
            print(_timeline(database, run_id), flush=True)
            if state != "success":
                raise AssertionError(f"run {run_id} ended {state}\n{stack.tails(extra=task_files())}")
            worker_logs = {w: (stack.log_dir / f"{w}.log").read_text(errors="replace") for w in WORKERS}
        finally:
            stack.stop()
            forget_queue(queue)
            lap("stack stopped")

        # the DuckLake target's local copy is in the target's own folder of LIBCOOP_WORK_DIR
        with duckdb.connect(str(target.local_dir / warehouse.name), read_only=True) as con:
            yield {
                "con": con,
                "database": database,
                "run_id": run_id,
                "queue": queue,
                "worker_logs": worker_logs,
                "lake": target,
            }
    print(f"[distributed] timings: {timings}", flush=True)


def test_published_warehouse_has_the_sample_figures(distributed_run):
    con = distributed_run["con"]
    assert con.execute("select count(*) from marts.fct_visit").fetchone() == (36,)
    assert con.execute("select status from audit.runs").fetchall() == [("published",)]
    assert nlc_ndl_business_meetings_since_1981(con) == (33, 166)


def test_the_run_was_published_to_the_ducklake_as_one_snapshot(distributed_run):
    target, run_id = distributed_run["lake"], distributed_run["run_id"]
    assert [(s.kind, s.run_id) for s in lake.published_snapshots(target)] == [("publish", run_id)]
    with lake.connect(target, read_only=True) as con:
        assert con.execute("select count(*) from lake.marts.fct_visit").fetchone() == (36,)
        assert con.execute("select run_id, status from lake.audit.runs").fetchall() == [(run_id, "published")]
    # the checks handed their verdicts to the load through the lake, one per file of the drop
    verdicts = lake_checks.read_verdicts(target, run_id)
    assert sorted(v["file"] for v, _ in verdicts) == sorted(
        f.relative_path for f in discover(REPO / "raw" / "incoming").files
    )
    # the sample's rows, counted from the Parquet footers and read in full
    assert sum(rows.count for _, rows in verdicts if rows is not None) == 5 + 36 + 10
    assert sum(rows.read().num_rows for _, rows in verdicts if rows is not None) == 5 + 36 + 10


def test_every_task_ran_on_the_celery_worker(distributed_run):
    database, run_id, queue = distributed_run["database"], distributed_run["run_id"], distributed_run["queue"]
    rows = query(
        database,
        "select task_id, map_index, state, queue, hostname, pool from task_instance where dag_id = %s and run_id = %s",
        (DAG_ID, run_id),
    )
    task_ids = {r[0] for r in rows}
    assert task_ids >= TASKS
    for task_id, map_index, state, ti_queue, hostname, pool in rows:
        where = f"{task_id}[{map_index}]"
        assert state == "success", where
        assert ti_queue == queue, where  # the session's own queue: only this session's worker consumes it
        assert hostname, where
        if task_id in WRITERS:
            assert pool == "duckdb_writer", where
    # the workers received each task through Celery and handed it to the task runner
    logs = distributed_run["worker_logs"]
    for task_id in task_ids:
        assert any(f"task_id='{task_id}'" in log for log in logs.values()), task_id
    # both of them: the per-file checks, which write the DuckLake in parallel, ran on each worker
    for worker, log in logs.items():
        assert "Executing workload in Celery" in log, worker
        assert "task_id='check_file'" in log, worker
    # and reported each one to the Celery result backend (a table in the metadata database)
    (succeeded,) = query(database, "select count(*) from celery_taskmeta where status = 'SUCCESS'")[0]
    assert succeeded >= len(rows)
