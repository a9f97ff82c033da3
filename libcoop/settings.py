"""Where things live: the drop folder, the warehouse, the dbt project and the GE context."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from libcoop.warehouse.lake import Lake

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
# The Airflow asset that stands for the drop folder: drop_folder_watch updates it, the nightly DAG listens.
DROP_FOLDER_ASSET = "libcoop_drop_folder"


@dataclass(frozen=True)
class Paths:
    """The folders and files one run works with."""

    raw_dir: Path
    warehouse: Path
    expectations_dir: Path
    # The DuckLake to publish to (LIBCOOP_WAREHOUSE=ducklake:postgres:...); ``warehouse`` is then the
    # local copy of the last published build, which the next run starts from (libcoop/warehouse/lake.py).
    lake: Lake | None = None

    @property
    def incoming(self) -> Path:
        return self.raw_dir / "incoming"

    @property
    def reports(self) -> Path:
        return self.raw_dir / "reports"

    @property
    def build_dir(self) -> Path:
        """Where runs build their private copy before it is published."""
        return self.warehouse.parent / ".build"

    @property
    def previous_warehouse(self) -> Path:
        """The build published before the current one, kept for rollback."""
        return self.warehouse.with_name(self.warehouse.stem + ".previous" + self.warehouse.suffix)


def resolve_paths(raw_dir: str | Path | None = None, warehouse: str | Path | None = None) -> Paths:
    """Apply the contract's defaults: arguments, then environment variables, then the project root."""
    raw = raw_dir or os.environ.get("LIBCOOP_RAW_DIR") or PROJECT_ROOT / "raw"
    wh = warehouse or os.environ.get("LIBCOOP_WAREHOUSE") or PROJECT_ROOT / "warehouse" / "cooperation.duckdb"
    gx = os.environ.get("LIBCOOP_EXPECTATIONS_DIR") or EXPECTATIONS_DIR
    lake = None
    if str(wh).startswith("ducklake:"):
        from libcoop.warehouse.lake import parse

        lake = parse(str(wh))
        wh = lake.work_dir / "cooperation.duckdb"
    return Paths(
        raw_dir=Path(raw).absolute(), warehouse=Path(wh).absolute(), expectations_dir=Path(gx).absolute(), lake=lake
    )
