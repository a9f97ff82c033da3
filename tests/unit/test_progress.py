"""libcoop.progress: phases with durations, counts n/N, and the filter `make run` reads Airflow through."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest

from libcoop.progress import Progress, current, duration, follow, phase, using

# Real lines of `airflow dags test cooperation_nightly` output (make run), cut to what matters.
AIRFLOW_OUTPUT = """\
2026-12-01T09:57:42.417286Z [warning  ] Could not import graphviz. Rendering graph to the graphical format will not be possible.
Run `pip install graphviz` to attempt to install it. [py.warnings] category=UserWarning filename=dag_command.py lineno=57
2026-12-01T09:57:45.394684Z [warning  ] To enable emitting Openlineage events, install apache-airflow-providers-openlineage. [cosmos.operators.local] loc=local.py:146
2026-12-01T09:58:01.523214Z [info     ] discover: started (list the new, changed and removed files of the drop folder) [libcoop.progress] loc=progress.py:73
2026-12-01T09:58:01.528087Z [warning  ] skipped README.txt: files go in a folder named after the country code, e.g. VN/ [libcoop.ingest.drop_folder] loc=drop_folder.py:89
2026-12-01T09:58:01.630761Z [info     ] discover: done in 0.1 s: 2 files to check [libcoop.progress] loc=progress.py:80
2026-12-01T09:58:02.300000Z [info     ] check: VN/visits.csv: accepted, 3 rows [libcoop.progress] loc=progress.py:95
2026-12-01T09:58:02.400000Z [info     ] check: CN/visits.csv: rejected, 2 problems [libcoop.progress] loc=progress.py:95
2026-12-01T09:58:02.981328Z [info     ] load: started (load the accepted files into a private build) [libcoop.progress] loc=progress.py:73
2026-12-01T09:58:11.000000Z [info     ] load: done in 8.2 s: files: 1 loaded, 0 restored, 0 unchanged, 1 rejected, 0 removed, 1 skipped [libcoop.progress] loc=progress.py:80
2026-12-01T09:59:45.471455Z [info     ] data quality: 114 checks, 0 critical failures, 0 warnings [libcoop.pipeline] loc=pipeline.py:190
"""


def test_follow_prints_only_the_progress_and_numbers_the_checks():
    out = io.StringIO()
    assert follow(io.StringIO(AIRFLOW_OUTPUT), out) == 6
    assert out.getvalue().splitlines() == [
        "libcoop: discover: started (list the new, changed and removed files of the drop folder)",
        "libcoop: discover: done in 0.1 s: 2 files to check",
        "libcoop: check 1/2: VN/visits.csv: accepted, 3 rows",
        "libcoop: check 2/2: CN/visits.csv: rejected, 2 problems",
        "libcoop: load: started (load the accepted files into a private build)",
        "libcoop: load: done in 8.2 s: files: 1 loaded, 0 restored, 0 unchanged, 1 rejected, 0 removed, 1 skipped",
    ]


def test_a_phase_says_when_it_starts_ends_and_what_it_did():
    lines: list[str] = []
    progress = Progress(lines.append)
    with progress.phase("load") as step:
        step.note = "1 loaded"
    assert lines[0] == "load: started (load the accepted files into a private build)"
    assert re.fullmatch(r"load: done in \d+\.\d s: 1 loaded", lines[1])


def test_a_failed_phase_says_so_and_raises():
    lines: list[str] = []
    with pytest.raises(RuntimeError, match="dbt"), Progress(lines.append).phase("build"):
        raise RuntimeError("dbt")
    assert lines[0].startswith("build: started")
    assert re.fullmatch(r"build: failed after \d+\.\d s", lines[1])


def test_decorated_steps_report_to_the_progress_in_use():
    lines: list[str] = []

    @phase("validate", note=lambda result: f"{result} checks")
    def validate() -> int:
        return 114

    with using(Progress(lines.append)):
        assert validate() == 114
    assert [line.split(" in ")[0] for line in lines] == [
        "validate: started (Great Expectations suites on the raw kinds and the marts)",
        "validate: done",
    ]
    assert lines[1].endswith(": 114 checks")
    assert current().emit != lines.append  # back to the logger outside the block


def test_counts_are_rate_limited_but_keep_the_first_and_last():
    lines: list[str] = []
    progress = Progress(lines.append, every=3600)
    for done in range(1, 101):
        progress.count("build", done, 100, "dbt nodes done")
    assert lines == ["build: 1/100 dbt nodes done", "build: 100/100 dbt nodes done"]


def test_dbt_events_count_finished_nodes():
    lines: list[str] = []
    progress = Progress(lines.append, every=0)

    def event(event_name: str, **data: object) -> SimpleNamespace:
        return SimpleNamespace(info=SimpleNamespace(name=event_name), data=SimpleNamespace(**data))

    def finished(node: str, status: str) -> SimpleNamespace:
        return event("NodeFinished", node_info=SimpleNamespace(node_name=node, node_status=status))

    progress.dbt_event(event("LogStartLine", description="sql view model staging.a", index=1, total=3))
    progress.dbt_event(event("LogModelResult", description="sql view model staging.a", status="OK", index=1, total=3))
    progress.dbt_event(finished("a", "success"))
    progress.dbt_event(event("LogTestResult", name="not_null_a_id", status="pass", index=2, num_models=3))
    progress.dbt_event(finished("not_null_a_id", "pass"))
    assert lines == [
        "build: 1/3 dbt nodes done (last: a, success)",
        "build: 2/3 dbt nodes done (last: not_null_a_id, pass)",
    ]


def test_checked_files_read_as_words():
    lines: list[str] = []
    progress = Progress(lines.append)
    progress.checked({"file": "VN/visits.csv", "accepted": True, "rows": 1, "problems": 0}, 1, 2)
    progress.checked({"file": "CN/visits.csv", "accepted": False, "rows": 0, "problems": 3})
    assert lines == ["check 1/2: VN/visits.csv: accepted, 1 row", "check: CN/visits.csv: rejected, 3 problems"]


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.04, "0.0 s"), (8.25, "8.2 s"), (65.2, "1 min 05 s"), (600, "10 min 00 s")]
)
def test_durations(seconds, text):
    assert duration(seconds) == text
