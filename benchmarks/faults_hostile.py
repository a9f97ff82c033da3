"""Hostile files for the fault matrix (issue 30: "one small file holds the night hostage"): a CSV of
100,000 columns (1.3 MB) and one holding a name of 600,000 characters (1.8 MB), each dropped beside
the sample and run through ``libcoop run``. Before their bounds were checked, they cost a run 8 and
18 minutes. The goal: rejected, named in the run's summary with a report, in seconds."""

# ruff: noqa: S603 - our own libcoop command on our own scratch folders
from __future__ import annotations

import re
import subprocess
import time

from benchmarks.faults_sandbox import LIBCOOP, VISIT, VISITS_HEADER, Sandbox, published_state

# Seconds a hostile file may add to a run and still be "seconds, not minutes": the verdict of
# ``libcoop check`` on it, imports included, and the check phase of the run it is dropped into.
GOAL_SECONDS = 30


def hostile_files() -> dict[str, str]:
    """Relative path -> content, each 1-2 MB."""
    wide = VISITS_HEADER + "," + ",".join(f"extra{i:06d}" for i in range(100_000)) + "\n"
    wide += VISIT.format(id="w1") + "," * 100_000 + "\n"
    long_name = VISIT.format(id="n1").replace("National Library of China", "國" * 600_000, 1)
    return {"VN/visits_wide.csv": wide, "VN/visits_long-name.csv": f"{VISITS_HEADER}\n{long_name}\n"}


def hostile_file(box: Sandbox, relative: str, content: str) -> dict[str, object]:
    """One run with ``relative`` added to the drop: its verdict, the check's seconds, the run's."""
    path = box.root / "raw" / "incoming" / relative
    path.write_text(content, encoding="utf-8")
    size_mb = path.stat().st_size / 2**20
    try:
        started = time.monotonic()
        checked = subprocess.run(
            [LIBCOOP, "check", str(path)], env=box.env, capture_output=True, text=True, timeout=1800, check=False
        )
        check_seconds = time.monotonic() - started
        before = published_state(box.warehouse)
        started = time.monotonic()
        run = box.run()
        run_seconds = time.monotonic() - started
        after = published_state(box.warehouse)
    finally:
        path.unlink(missing_ok=True)
    phase = re.search(r"check: done in ([\d.]+) s", run.stderr)
    rejected = f"{relative}: rejected" in run.stderr
    phase_seconds = float(phase[1]) if phase else float("inf")
    said = [line.strip() for line in (checked.stdout + checked.stderr).splitlines() if line.strip()]
    return {
        "file": f"{relative} ({size_mb:.1f} MB)",
        "verdict": next((line for line in said if line.startswith("- ")), said[0] if said else "")[:160],
        "check_s": round(check_seconds, 1),
        "run_check_phase_s": phase_seconds,
        "run_s": round(run_seconds, 1),
        "published": run.returncode == 0 and after.runs == before.runs + 1 and after.complete,
        "met": rejected and run.returncode == 0 and max(check_seconds, phase_seconds) < GOAL_SECONDS,
    }
