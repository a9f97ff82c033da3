"""
### ducklake_maintenance

DuckLake's own maintenance of the DuckLake target, weekly by default (`LIBCOOP_LAKE_MAINTENANCE_CRON`,
default `0 3 * * 0`: Sundays 03:00, in `LIBCOOP_SCHEDULE_TIMEZONE`): **maintain** calls
`libcoop.warehouse.lake_maintenance.maintain_target`, the same as `libcoop maintain`. It expires
the snapshots older than the last `LIBCOOP_KEEP_BUILDS` published builds (rollback keeps working),
merges adjacent small files and deletes the files no snapshot references any more.

Skipped when `LIBCOOP_WAREHOUSE` is not a DuckLake. It takes the warehouse's run lock: while a
nightly run holds the warehouse it fails and is retried later. The logic lives in the `libcoop`
package; this file only declares when.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronTriggerTimetable, dag, task

from libcoop.notify import notify_failure
from libcoop.settings import lake_maintenance_cron, schedule_timezone


@dag(
    dag_id="ducklake_maintenance",
    schedule=CronTriggerTimetable(lake_maintenance_cron(), timezone=schedule_timezone()),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["libcoop", "ducklake", "maintenance"],
    default_args={
        "owner": "libcoop",
        "retries": 3,
        "retry_delay": timedelta(minutes=30),
        "execution_timeout": timedelta(hours=2),
        "on_failure_callback": notify_failure,
    },
    doc_md=__doc__,
)
def ducklake_maintenance() -> None:
    @task
    def maintain() -> str:
        """Expire, merge, clean up; what was done, for the task's log and XCom."""
        from airflow.sdk.exceptions import AirflowSkipException

        from libcoop.settings import resolve_paths
        from libcoop.warehouse.lake_maintenance import maintain_target

        if resolve_paths().lake is None:
            raise AirflowSkipException("LIBCOOP_WAREHOUSE is not a DuckLake: nothing to maintain")
        return maintain_target().render()

    maintain()


ducklake_maintenance()
