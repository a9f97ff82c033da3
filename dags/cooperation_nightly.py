"""
### cooperation_nightly

The nightly build of the library-cooperation warehouse. It runs by the clock at
`LIBCOOP_SCHEDULE_CRON` in `LIBCOOP_SCHEDULE_TIMEZONE` (default `0 2 * * *` in Asia/Ho_Chi_Minh:
02:00 in Hanoi and Bangkok, 03:00 in Beijing and Singapore, 04:00 in Tokyo and Seoul), and as soon
as `drop_folder_watch` reports new files from coordinators; never two builds at once.

0. **take_lease** takes the warehouse's lease for this DAG run (`libcoop.warehouse.runlock`): a
   `libcoop run` started between two tasks refuses, naming this run; every writing task renews it.
1. **discover_files** lists the files of `raw/incoming/<CC>/` once, hashes each once, and hands on
   (XCom) that listing and the files that are new or changed since the published build (strays
   are skipped with a warning).
   **anything_to_build** ends the run there (a short circuit: the next tasks are skipped, the
   published build and its pages stay as they are) when `libcoop run` would say "nothing
   changed": no file new, changed or removed but bytes already rejected, and the same code.
2. **check_file** (one mapped task per new or changed file) checks a file against the contract
   and stages its verdict in the run's `checks/` folder (`libcoop.ingest.staged`); it does not
   touch DuckDB, so files are checked in parallel.
3. **load** copies the published warehouse into a private build and loads every accepted file
   version of the listing, all or nothing per file, with the staged verdicts; rejected files get
   a report in `raw/reports/<CC>/`.
4. **build_marts** runs `dbt build` (seeds, snapshots, models, tests) on the build.
5. **validate** runs the Great Expectations suites; results land in `audit.dq_results`.
6. **publish** swaps the build in as `warehouse/cooperation.duckdb` with one rename, only when
   nothing critical failed, and logs the run summary (also in `audit.runs`).
7. **release_lease** drops the lease, whatever happened before it (trigger rule `all_done`); a
   run that ended before its publish is recorded as `failed` in `audit.runs` (by its run id).

Each task takes the run's step context (`libcoop.runs.StepContext`: run id, drop folder,
warehouse, start, and the build once `load` made it), made once by `take_lease`, and its own
inputs; `publish` updates the asset `libcoop_warehouse`.

Every task that writes the DuckDB build runs in the one-slot pool `duckdb_writer`. With a
DuckLake target, the mapped checks write their verdicts to the lake in parallel, from any worker.
A failed task calls `libcoop.notify.notify_failure` (Airflow connection `libcoop_alerts`).
The logic lives in the `libcoop` package; this file only declares when and in what order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, get_current_context, task

from libcoop.notify import notify_failure
from libcoop.settings import DROP_FOLDER_ASSET, schedule_cron, schedule_timezone

if TYPE_CHECKING:
    from libcoop.runs import StepContext

WRITER_POOL = "duckdb_writer"
DROP_FOLDER = Asset(DROP_FOLDER_ASSET)
WAREHOUSE = Asset("libcoop_warehouse")  # what publish updates


@dag(
    dag_id="cooperation_nightly",
    # Read when the file is parsed, like every setting: the scheduler and the DAG processor need the same environment.
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(schedule_cron(), timezone=schedule_timezone()), assets=[DROP_FOLDER]
    ),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["libcoop", "warehouse", "nightly"],
    default_args={
        "owner": "libcoop",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=10),
        "execution_timeout": timedelta(hours=1),
        "on_failure_callback": notify_failure,
    },
    doc_md=__doc__,
)
def cooperation_nightly() -> None:
    @task(retries=5)
    def take_lease() -> dict[str, object]:
        """This DAG run holds the warehouse until release_lease: no `libcoop run` in between. Its
        step context (run id, paths, start) goes to every task after it."""
        from libcoop.pipeline import safe_run_id
        from libcoop.runs import StepContext
        from libcoop.settings import resolve_paths
        from libcoop.warehouse.runlock import take_lease

        paths = resolve_paths()
        run = StepContext.start(paths, safe_run_id(get_current_context()["run_id"]))
        take_lease(paths.warehouse, run.run_id)
        return run.to_xcom()

    @task
    def discover_files(context: dict[str, object]) -> list[dict[str, object]]:
        """The files new or changed since the published build (mapped over by check_file); the whole
        drop folder, listed and hashed once, goes to load as the XCom ``discovery``."""
        from libcoop.pipeline import discover_step, nothing_to_build
        from libcoop.runs import StepContext

        run = StepContext.from_xcom(context)
        paths = run.paths()
        pending = discover_step(paths, run.run_id)
        unchanged = nothing_to_build(paths, pending)
        ti = get_current_context()["ti"]
        ti.xcom_push(key="discovery", value=pending.discovery.to_json())
        ti.xcom_push(key="nothing_to_build", value=unchanged[0] if unchanged else "")
        return [drop.to_json() for drop in pending.files_to_check()] if unchanged is None else []

    # Only the tasks right after it are skipped: the others follow their trigger rules, so
    # release_lease (all_done) still runs.
    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def anything_to_build(nothing_to_build: str) -> bool:
        """Stop here when the published build would be rebuilt identical (the CLI's quiet night)."""
        if nothing_to_build:
            print(f"libcoop: {nothing_to_build}")
        return not nothing_to_build

    @task(max_active_tis_per_dagrun=4)
    def check_file(context: dict[str, object], drop: dict[str, object]) -> dict[str, object]:
        """Check one file against the contract and stage its verdict for the load."""
        from libcoop.ingest.drop_folder import DropFile
        from libcoop.pipeline import check_step
        from libcoop.runs import StepContext

        run = StepContext.from_xcom(context)
        paths = run.paths()
        return check_step(paths, run.run_id, DropFile.from_json(paths.incoming, drop))

    @task(pool=WRITER_POOL, trigger_rule="none_failed")
    def load(
        context: dict[str, object], discovery: dict[str, object], checked: list[dict[str, object]]
    ) -> dict[str, object]:
        """Load the accepted file versions into a private build of the warehouse; the step context,
        with the build, goes on to the next tasks, and the file counts (XCom ``files``) to publish."""
        from libcoop.ingest.drop_folder import Discovery
        from libcoop.pipeline import file_counts, load_step

        run = _step_context(context)
        paths = run.paths()
        # ``checked`` only orders this task after the checks: their verdicts are in the run's checks/
        # folder or the DuckLake (libcoop.ingest.staged), found by the hashes of ``discovery``.
        _renew_lease(run)
        build, result = load_step(paths, run.run_id, Discovery.from_json(paths.incoming, discovery))
        get_current_context()["ti"].xcom_push(key="files", value=file_counts(result))
        return run.with_build(build).to_xcom()

    @task(pool=WRITER_POOL)
    def build_marts(context: dict[str, object]) -> int:
        """dbt build: staging, intermediate and marts models with their tests."""
        from libcoop.pipeline import build_step, release_semaphores

        run = _step_context(context)
        _renew_lease(run)
        try:
            return build_step(run.build_path)
        finally:
            release_semaphores()  # dbt's locks: no "leaked semaphore" errors in this task's log

    @task(pool=WRITER_POOL)
    def validate(context: dict[str, object], _built: int) -> dict[str, object]:
        """Great Expectations suites on the raw kinds and the marts."""
        from libcoop.pipeline import validate_step

        run = _step_context(context)
        _renew_lease(run)
        report = validate_step(run.paths(), run.build_path, run.run_id)
        return {"passed": report.passed, "summary": report.summary()}

    # The published warehouse is an asset: a DAG reading it can be scheduled on its updates.
    @task(pool=WRITER_POOL, retries=0, outlets=[WAREHOUSE])
    def publish(context: dict[str, object], quality: dict[str, object], files: dict[str, object]) -> str:
        """Swap the build in as the published warehouse, or refuse when a critical check failed."""
        from libcoop.pipeline import publish_step, release_semaphores

        run = _step_context(context)
        _renew_lease(run)
        summary = publish_step(
            run.paths(),
            run.build_path,
            run.run_id,
            dict(files),
            bool(quality["passed"]),
            str(quality["summary"]),
            run.started,
        )
        print(summary.render())
        release_semaphores()  # those of dbt docs
        return summary.status

    @task(trigger_rule="all_done")
    def release_lease(context: dict[str, object]) -> None:
        """The warehouse is free again, whether the run published, was blocked or failed; a run that
        ended before its publish (and was not a quiet night) is a ``failed`` row of audit.runs."""
        from libcoop.pipeline import record_failure
        from libcoop.runs import StepContext
        from libcoop.warehouse.runlock import release_lease

        run = StepContext.from_xcom(context)
        paths = run.paths()
        ti = get_current_context()["ti"]
        if ti.xcom_pull(task_ids="publish") is None and not ti.xcom_pull(
            task_ids="discover_files", key="nothing_to_build"
        ):
            record_failure(
                paths, run.run_id, run.started, "the DAG run ended before its publish: see its failed task in Airflow"
            )
        release_lease(paths.warehouse, run.run_id)

    lease = take_lease()
    found = discover_files(lease)
    gate = anything_to_build(found["nothing_to_build"])
    checked = check_file.partial(context=lease).expand(drop=found)
    loaded = load(lease, found["discovery"], checked)
    gate >> [checked, loaded]
    published = publish(loaded, validate(loaded, build_marts(loaded)), loaded["files"])
    published >> release_lease(lease)


def _step_context(context: dict[str, object]) -> StepContext:
    """The run's step context, for a task whose step sends lineage events: they name this task's
    OpenLineage run as their parent and the DAG run as their root, when the provider is on."""
    from libcoop import lineage
    from libcoop.runs import StepContext

    lineage.set_parent(*_lineage_ids())
    return StepContext.from_xcom(context)


def _lineage_ids() -> tuple[str | None, str | None]:
    """This task's and this DAG run's ids in Airflow's OpenLineage events (None when it sends none)."""
    from airflow.providers.openlineage.conf import is_disabled
    from airflow.providers.openlineage.plugins.macros import lineage_parent_id, lineage_root_parent_id

    if is_disabled():
        return None, None
    ti = get_current_context()["ti"]
    return lineage_parent_id(ti), lineage_root_parent_id(ti)


def _renew_lease(run: StepContext) -> None:
    from libcoop.warehouse.runlock import take_lease

    take_lease(run.paths().warehouse, run.run_id)


cooperation_nightly()
