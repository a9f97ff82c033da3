"""The scratch world of the fault matrix (``benchmarks.faults``): a copy of the sample drop and its
expectations in a folder, the published warehouse's state as a reader finds it, and the files no
finished run should leave beside it."""

# ruff: noqa: S603 - our own libcoop command on our own scratch folders
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
LIBCOOP = str(Path(sys.executable).with_name("libcoop"))
PHASES = ("load", "build", "validate", "docs", "dashboard", "rename")
EXTRA = "JP/visits_extra.csv"
VISITS_HEADER = (
    "visit_id,activity_type,host_institution,host_country,guest_institution,guest_country,"
    "start_date,end_date,delegation_size,duration_days,description,contact_person,location,notes"
)
VISIT = (
    "{id},business_exchange,National Library of China,China,National Diet Library,Japan,2016-11-28,"
    "2016-12-04,1,12,35th business exchange,,Beijing,fault matrix"
)
# What may sit beside the published file between runs; anything else there is debris.
EXPECTED = {
    "cooperation.duckdb", "dashboard", "data_docs", "dbt_docs", ".dbt-target", ".cache", ".build",
    ".libcoop-run.lock", "blocked", "builds",
    ".gx", "lineage",  # the warehouse's own GX context and the lineage events of its runs: state, not debris
}  # fmt: skip


@dataclass
class Sandbox:
    """A drop folder (copy of the sample), its expectations and a warehouse path, in ``root``."""

    root: Path
    warehouse: Path

    @classmethod
    def create(cls, root: Path, warehouse: Path | None = None) -> Sandbox:
        shutil.copytree(REPO / "raw" / "incoming", root / "raw" / "incoming")
        shutil.copytree(REPO / "expectations", root / "expectations", ignore=shutil.ignore_patterns("uncommitted"))
        return cls(root, warehouse or root / "warehouse" / "cooperation.duckdb")

    @property
    def env(self) -> dict[str, str]:
        return dict(
            os.environ,
            LIBCOOP_RAW_DIR=str(self.root / "raw"),
            LIBCOOP_WAREHOUSE=str(self.warehouse),
            LIBCOOP_EXPECTATIONS_DIR=str(self.root / "expectations"),
            GX_ANALYTICS_ENABLED="false",
        )

    def set_extra(self, rows: int) -> None:
        """A new version of one small file, so the next run has something to build."""
        body = [VISIT.format(id=f"f{i}") for i in range(rows)]
        (self.root / "raw" / "incoming" / EXTRA).write_text("\n".join([VISITS_HEADER, *body]) + "\n", encoding="utf-8")

    def start(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [LIBCOOP, "run"], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip

    def run(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run([LIBCOOP, "run"], env=self.env, capture_output=True, text=True, timeout=1800, check=False)


@dataclass(frozen=True)
class State:
    """What a reader finds in the published file: runs, rows of the extra file, and whether the
    mart counts are those the last run recorded (a complete build)."""

    runs: int
    extra_rows: int
    complete: bool


def published_state(warehouse: Path) -> State:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (runs,) = con.execute("select count(*) from audit.runs").fetchone()  # type: ignore[misc]
        (recorded,) = con.execute("select mart_rows from audit.runs order by finished_at desc limit 1").fetchone()  # type: ignore[misc]
        tables = con.execute(  # tables and views, as pipeline.mart_row_counts counts them
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
        actual = {t: con.execute(f'select count(*) from marts."{t}"').fetchone()[0] for (t,) in tables}  # type: ignore[index]
        (extra,) = con.execute("select count(*) from marts.fct_visit where file_path = ?", [EXTRA]).fetchone()  # type: ignore[misc]
    return State(runs, extra, json.loads(recorded) == actual)


def debris(warehouse: Path) -> list[str]:
    """Files beside the published one that no finished run should leave (temporary folders, WALs, builds)."""
    from libcoop.audit import audit_store

    folder = warehouse.parent
    expected = EXPECTED | {audit_store(warehouse).name}  # the runs that were not published
    found = [p.name for p in folder.iterdir() if p.name not in expected]
    build_dir = folder / ".build"
    if build_dir.exists():
        found += [f".build/{p.name}" for p in build_dir.iterdir()]
    return sorted(found)
