"""Many files are checked side by side in worker processes, with the same verdicts as one by one."""

from __future__ import annotations

import pytest

from libcoop import pipeline
from libcoop.ingest.drop_folder import discover
from libcoop.ingest.staged import staged_checks
from libcoop.progress import Progress, using
from libcoop.settings import PROJECT_ROOT, Paths
from tests.conftest import GOOD_VISIT, VISITS_HEADER

pytestmark = pytest.mark.integration

FILES = pipeline.PARALLEL_CHECKS_FROM + 5


def verdicts(paths: Paths, run_id: str) -> dict[str, tuple]:
    found = discover(paths.incoming)
    staged = staged_checks(paths, run_id, found)
    return {
        path: (
            checked.accepted,
            [(p.rule, p.row, p.column, p.value) for p in checked.problems],
            checked.row_count,
        )
        for (path, _), checked in staged.items()
    }


def test_many_files_are_checked_side_by_side_with_the_verdicts_of_one_by_one(drop, tmp_path, monkeypatch, capfd):
    for n in range(FILES):
        rows = "\n".join(GOOD_VISIT.replace("v1,", f"v{n}-{i},") for i in range(n % 7 + 1))
        drop(f"JP/visits_{n:02d}.csv", f"{VISITS_HEADER}\n{rows}\n")
    drop("JP/visits_bad.csv", f"{VISITS_HEADER}\n" + GOOD_VISIT.replace("2016-11-28", "someday") + "\n")
    drop("JP/visits_extra.csv", f"{VISITS_HEADER},remarks\n{GOOD_VISIT},a note\n")
    paths = Paths(
        raw_dir=drop.raw_dir, warehouse=tmp_path / "warehouse" / "cooperation.duckdb", expectations_dir=PROJECT_ROOT
    )
    to_check = discover(paths.incoming).files
    assert len(to_check) == FILES + 2

    side_by_side: list[str] = []
    with using(Progress(side_by_side.append)):
        pipeline.check_files(paths, "run-parallel", to_check)
    monkeypatch.setattr(pipeline, "PARALLEL_CHECKS_FROM", 10_000)
    one_by_one: list[str] = []
    with using(Progress(one_by_one.append)):
        pipeline.check_files(paths, "run-sequential", to_check)

    parallel = verdicts(paths, "run-parallel")
    assert parallel == verdicts(paths, "run-sequential")
    assert len(parallel) == FILES + 2
    assert parallel["JP/visits_bad.csv"] == (False, [("bad_date", 2, "start_date", "someday")], 0)
    assert parallel["JP/visits_06.csv"] == (True, [], 7)
    # Every file reported once, counted up to the total, in either mode.
    for lines in (side_by_side, one_by_one):
        checked = [line for line in lines if line.startswith("check ")]
        assert len(checked) == FILES + 2
        assert checked[-1].startswith(f"check {FILES + 2}/{FILES + 2}: ")
    # The unknown column's warning was logged by a worker process, in the command's format, on
    # its own stderr (this process's warnings go to pytest's log capture, not to stderr).
    assert (
        "WARNING libcoop.ingest.check: JP/visits_extra.csv: unknown column 'remarks' ignored" in capfd.readouterr().err
    )
