"""What ``LIBCOOP_WAREHOUSE`` names when it is a DuckLake: its catalog, its data, its local work folder.

Only the setting, parsed and printed without its password; connecting, publishing and rolling
back are ``libcoop.warehouse.lake``'s. It lives below ``libcoop.settings``, which resolves every
run's paths with it, so that settings never imports the warehouse step (issue 27).

``choose`` is the one place that tells the two targets apart (a DuckDB file, or a DuckLake): every
layer that acts differently for them builds its two implementations and lets ``choose`` pick one
(``libcoop.targets.target_for`` the target a run publishes to; ``libcoop.ingest.staged``, below
it, where the checks' verdicts go). No other module branches on ``Paths.lake``
(``tests/unit/test_one_target_interface.py``)."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from libcoop.errors import LibcoopError
from libcoop.redact import redact

PREFIX = "ducklake:postgres:"

T = TypeVar("T")


class LakeError(LibcoopError):
    """The DuckLake target is misconfigured, or publishing to it would lose its history."""


@dataclass(frozen=True)
class Lake:
    """Where a DuckLake target lives: its catalog (a libpq string), its data, the local work folder."""

    catalog: str  # the libpq connection string of the PostgreSQL catalog
    data_path: str  # where the Parquet files go (a folder, or an object-store URL)
    work_dir: Path  # LIBCOOP_WORK_DIR: one subfolder per target (local_dir)

    @property
    def url(self) -> str:
        """What ATTACH takes: the password included, so never printed (``display`` is)."""
        return PREFIX + self.catalog

    @property
    def display(self) -> str:
        return PREFIX + redact(self.catalog)

    @property
    def local_dir(self) -> Path:
        """This target's cache: the local copy of its last published build, the runs' private
        builds. Named by the redacted connection string (a new password keeps it), so two targets
        sharing one LIBCOOP_WORK_DIR never share a build."""
        canonical = " ".join(sorted(f"{k}={v}" for k, v in _libpq_pairs(redact(self.catalog))))
        digest = hashlib.sha256((canonical or redact(self.catalog)).encode()).hexdigest()[:12]
        name = dict(_libpq_pairs(self.catalog)).get("dbname", "lake")
        return self.work_dir / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)[:40]}-{digest}"

    def __str__(self) -> str:
        return f"{self.display} (data: {self.data_path})"


_PAIR = re.compile(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)")


def _libpq_pairs(catalog: str) -> list[tuple[str, str]]:
    return [(key, value) for key, value in _PAIR.findall(catalog)]


def is_lake(target: str | os.PathLike[str] | None) -> bool:
    return str(target or "").startswith("ducklake:")


def parse_lake(target: str, data_path: str | None, work_dir: str | os.PathLike[str]) -> Lake:
    """The contract's setting with its data path and work folder as given (``libcoop.settings``
    reads them from the environment)."""
    if not target.startswith(PREFIX):
        raise LakeError(f"unsupported warehouse {target!r}: a DuckLake target is ducklake:postgres:<libpq string>")
    catalog = target.removeprefix(PREFIX).strip()
    if not catalog:
        raise LakeError("LIBCOOP_WAREHOUSE=ducklake:postgres: needs a libpq string, e.g. 'dbname=lake host=...'")
    if not data_path:
        raise LakeError("a DuckLake target needs LIBCOOP_LAKE_DATA_PATH: the folder its Parquet files go to")
    if "://" not in data_path:
        data_path = str(Path(data_path).absolute())
    work = Path(work_dir).absolute()
    return Lake(catalog=catalog, data_path=data_path, work_dir=work)


def choose(lake: Lake | None, file: Callable[[], T], ducklake: Callable[[Lake], T]) -> T:
    """``file()`` for a DuckDB file target (no lake), ``ducklake(lake)`` for a DuckLake target."""
    return file() if lake is None else ducklake(lake)


def require_lake(lake: Lake | None, refusal: str) -> Lake:
    """The DuckLake an operation of DuckLake's own needs (maintenance, converging a local copy);
    a DuckDB file target is refused with ``refusal``."""

    def refuse() -> Lake:
        raise LakeError(refusal)

    return choose(lake, refuse, lambda found: found)


def handed_on(warehouse: Path, lake: Lake | None) -> str | None:
    """What a run's step context may write of its target (an Airflow XCom): the DuckDB file's path,
    or nothing for a DuckLake, whose libpq string may hold a password: each task reads it from
    LIBCOOP_WAREHOUSE again."""
    return choose(lake, lambda: str(warehouse), lambda _lake: None)
