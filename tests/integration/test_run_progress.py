"""`libcoop run` as an engineer sees it: each phase as it starts and ends with its duration,
files checked n/N, dbt nodes n/N, no third-party noise, and a summary that names the files and
says where the reports, the Data Docs and the dbt docs are."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GOOD_MEMBERSHIP, GOOD_VISIT, MEMBERSHIPS_HEADER, VISITS_HEADER

pytestmark = pytest.mark.integration

LIBCOOP = str(Path(sys.executable).with_name("libcoop"))


def test_run_shows_its_phases_and_names_the_files(drop, tmp_path):
    drop("CN/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT}\n")
    drop("VN/memberships.csv", f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n")
    drop("KR/visits.csv", f"{VISITS_HEADER}\nk1,mutual_visit,NLK,KR,NLC,CN,2015-11-17,2015-11-10,1,5,,,,s\n")
    warehouse = tmp_path / "warehouse" / "cooperation.duckdb"
    done = subprocess.run(
        [LIBCOOP, "run", "--raw-dir", str(drop.raw_dir), "--warehouse", str(warehouse)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    progress = [line.removeprefix("libcoop: ") for line in done.stderr.splitlines() if line.startswith("libcoop: ")]

    phases = [
        line.split(":")[0] for line in progress if re.search(r": (started|done in [\d.]+ s|done in \d+ min)", line)
    ]
    assert phases == [p for name in ("discover", "check", "load", "build", "validate", "publish") for p in (name,) * 2]
    assert "discover: done in" in progress[1] and progress[1].endswith(": 3 files to check")
    checks = [line for line in progress if line.startswith("check ")]
    assert checks == [
        "check 1/3: CN/visits.csv: accepted, 1 row",
        "check 2/3: KR/visits.csv: rejected, 1 problem",
        "check 3/3: VN/memberships.csv: accepted, 1 row",
    ]
    nodes = [re.match(r"build: (\d+)/(\d+) dbt nodes done", line) for line in progress]
    counts = [(int(m[1]), int(m[2])) for m in nodes if m]
    assert counts[0][0] == 1 and counts[-1][0] == counts[-1][1] > 100  # first and last node
    assert re.search(r"build: done in .*: (\d+) dbt nodes passed", done.stderr)[1] == str(counts[-1][1])

    # Quiet about the libraries underneath, and each of libcoop's own warnings once.
    for noise in ("graphviz", "openlineage", "Openlineage", "cosmos", "Warning:", "DeprecationWarning"):
        assert noise not in done.stderr, done.stderr
    others = [line for line in done.stderr.splitlines() if not line.startswith("libcoop: ")]
    assert len(others) == len(set(others)), others

    out = done.stdout
    report = drop.raw_dir / "reports" / "KR" / "visits.csv.report.txt"
    assert report.exists()
    assert "    loaded:\n      CN/visits.csv\n      VN/memberships.csv\n" in out
    assert f"    rejected:\n      KR/visits.csv (report: {report})\n" in out
    assert f"  data docs: {warehouse.parent / 'data_docs' / 'index.html'}\n" in out
    assert f"  dbt docs: {warehouse.parent / 'dbt_docs' / 'index.html'}" in out

    # The published summary says the same, read from the warehouse.
    summary = subprocess.run(
        [LIBCOOP, "summary", "--warehouse", str(warehouse)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"LIBCOOP_RAW_DIR": str(drop.raw_dir), "PATH": "/usr/bin:/bin"},
    )
    assert summary.returncode == 0, summary.stderr
    assert "    loaded:\n      CN/visits.csv\n      VN/memberships.csv\n" in summary.stdout
    assert f"KR/visits.csv (report: {report})" in summary.stdout
