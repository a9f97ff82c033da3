"""
### cooperation_nightly

The nightly build of the library-cooperation warehouse.

1. **discover_files** lists the coordinators' files in `raw/incoming/<CC>/` (strays are skipped with a warning).
2. **load** copies the published warehouse into a private build and loads every new or changed file
   version, all or nothing per file; rejected files get a report in `raw/reports/<CC>/`.
3. **build_marts** runs `dbt build` (seeds, models, tests) on the build.
4. **validate** runs the Great Expectations suites; results land in `audit.dq_results`.
5. **publish** swaps the build in as `warehouse/cooperation.duckdb` with one rename, only when
   nothing critical failed, and prints the run summary.

Every task that writes the DuckDB build runs in the one-slot pool `duckdb_writer`.
The logic lives in the `libcoop` package; this file only declares when and in what order.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, get_current_context, task

WRITER_POOL = "duckdb_writer"


@dag(
    dag_id="cooperation_nightly",
    schedule="0 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["libcoop", "warehouse", "nightly"],
    default_args={
        "owner": "libcoop",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(hours=1),
    },
    doc_md=__doc__,
)
def cooperation_nightly() -> None:
    @task
    def discover_files() -> dict[str, int]:
        """Count the data files and strays in the drop folder (the load re-reads the folder itself)."""
        from libcoop.config import resolve_paths
        from libcoop.drop_folder import discover

        found = discover(resolve_paths().incoming)
        return {"files": len(found.files), "skipped": len(found.skipped)}

    @task(pool=WRITER_POOL)
    def load(discovered: dict[str, int]) -> dict[str, object]:
        """Load new and changed file versions into a private build of the warehouse."""
        from libcoop.config import resolve_paths
        from libcoop.pipeline import file_counts, load_step, safe_run_id

        run_id = safe_run_id(get_current_context()["run_id"])
        build, result = load_step(resolve_paths(), run_id)
        return {"run_id": run_id, "build": str(build), "files": file_counts(result), "started_at": datetime.now().isoformat()}

    @task(pool=WRITER_POOL)
    def build_marts(loaded: dict[str, object]) -> int:
        """dbt build: staging, intermediate and marts models with their tests."""
        from pathlib import Path

        from libcoop.pipeline import build_step

        return build_step(Path(str(loaded["build"])))

    @task(pool=WRITER_POOL)
    def validate(loaded: dict[str, object], _built: int) -> dict[str, object]:
        """Great Expectations suites on the raw kinds and the marts."""
        from pathlib import Path

        from libcoop.config import resolve_paths
        from libcoop.pipeline import validate_step

        report = validate_step(resolve_paths(), Path(str(loaded["build"])), str(loaded["run_id"]))
        return {"passed": report.passed, "summary": report.summary()}

    @task(pool=WRITER_POOL, retries=0)
    def publish(loaded: dict[str, object], quality: dict[str, object]) -> str:
        """Swap the build in as the published warehouse, or refuse when a critical check failed."""
        from pathlib import Path

        from libcoop.config import resolve_paths
        from libcoop.pipeline import publish_step

        summary = publish_step(
            resolve_paths(),
            Path(str(loaded["build"])),
            str(loaded["run_id"]),
            dict(loaded["files"]),  # type: ignore[call-overload]
            bool(quality["passed"]),
            str(quality["summary"]),
            datetime.fromisoformat(str(loaded["started_at"])),
        )
        text = summary.render()
        print(text)
        return summary.status

    loaded = load(discover_files())
    publish(loaded, validate(loaded, build_marts(loaded)))


cooperation_nightly()
