"""
### drop_folder_watch

Looks at the coordinators' drop folder every `LIBCOOP_WATCH_INTERVAL_MINUTES` minutes (default 15)
and, when files were added, changed or removed since the published build, marks the
`libcoop_drop_folder` asset as updated, which starts `cooperation_nightly` (itself limited to one
run at a time). Files already rejected with the same bytes do not start a run again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, dag, task

from libcoop.settings import DROP_FOLDER_ASSET, watch_interval

DROP_FOLDER = Asset(DROP_FOLDER_ASSET)
WATCH_INTERVAL = watch_interval()


@dag(
    dag_id="drop_folder_watch",
    schedule=WATCH_INTERVAL,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["libcoop", "drop-folder"],
    default_args={"owner": "libcoop", "retries": 1, "retry_delay": timedelta(minutes=1)},
    doc_md=__doc__,
)
def drop_folder_watch() -> None:
    @task(outlets=[DROP_FOLDER])
    def detect_changes() -> list[str]:
        """Succeed (emitting the asset event) only when the drop folder holds something new."""
        from airflow.sdk.exceptions import AirflowSkipException

        from libcoop.pipeline import pending_changes
        from libcoop.settings import resolve_paths

        changes = pending_changes(resolve_paths())
        if not changes.any:
            raise AirflowSkipException("no new, changed or removed files in the drop folder")
        return [*changes.unseen, *changes.removed]

    detect_changes()


drop_folder_watch()
