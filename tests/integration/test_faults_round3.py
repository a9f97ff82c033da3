"""Hostile and unlucky input, round 3 (issue 30), in one real run published to a DuckLake whose
target carries a password: the run publishes although

- a country folder cannot be read (discovery runs as the user nobody, the folder mode 000),
- a file is deleted by its coordinator between discovery and its check (the real check is wrapped),
- a CSV of 100,000 columns lies in the drop (refused in seconds, not minutes),
- a folder is named ``Laos/`` and a file's name holds an ESC sequence;

and then no output holds the password: not stdout or stderr of ``libcoop run`` and ``libcoop
summary``, not the log, not a file under the run's folders (Parquet data, the local DuckDB copy,
Data Docs, lineage events, reports), not a row of any table of the lake, of the local warehouse,
of its audit store or of the PostgreSQL catalog. Nor does a failed run's error. Skipped, saying
so, only when PostgreSQL is unreachable."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import pytest

from libcoop import pipeline
from libcoop.cli import main
from libcoop.ingest import load
from libcoop.warehouse import lake
from tests.helpers.postgres import admin, fresh_databases, lake_target
from tests.integration.airflow_env import REPO
from tests.unit.test_hostile_drop_folder import as_nobody

pytestmark = pytest.mark.integration

SECRET = "s3cr3t-XYZ"
WIDE = "VN/visits_wide.csv"


@pytest.fixture
def catalog():
    with fresh_databases("libcoop_secret") as (name,):
        yield name


@pytest.fixture
def root():
    """In /tmp, traversable by nobody (pytest's tmp folders are root's only)."""
    folder = Path(tempfile.mkdtemp(prefix="libcoop-round3-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def hostile_drop(raw: Path) -> None:
    shutil.copytree(REPO / "raw" / "incoming", raw / "incoming")
    for folder in (raw, *raw.rglob("*")):
        folder.chmod(0o755 if folder.is_dir() else 0o644)
    incoming = raw / "incoming"
    header = (incoming / "CN" / "visits.csv").read_text(encoding="utf-8").splitlines()[0]
    wide = header + "," + ",".join(f"extra{i:06d}" for i in range(100_000)) + "\n"
    (incoming / WIDE).write_text(wide, encoding="utf-8")
    shutil.copytree(incoming / "JP", incoming / "Laos")
    late = (incoming / "CN" / "visits.csv").read_text(encoding="utf-8") + "\n"  # not a copy of the bytes
    (incoming / "KR" / "visits_late.csv").write_text(late, encoding="utf-8")
    shutil.copy(incoming / "CN" / "visits.csv", incoming / "VN" / "visits\x1b[2J.csv")


def every_text(con: duckdb.DuckDBPyConnection, database: str) -> str:
    """Every row of every table of ``database``, as text."""
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ?", [database]
    ).fetchall()
    assert tables, database
    parts = []
    for schema, table in tables:
        rows = con.execute(f'select cast(t as varchar) from {database}."{schema}"."{table}" as t').fetchall()
        parts += [r[0] or "" for r in rows]
    return "\n".join(parts)


def catalog_text(dbname: str) -> str:
    tables = admin(
        "select schemaname, tablename from pg_tables where schemaname not in ('pg_catalog', 'information_schema')",
        dbname,
    )
    assert tables
    return "\n".join(str(row) for s, t in tables for row in admin(f'select * from "{s}"."{t}"', dbname))


def files_holding(folder: Path, needle: bytes) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_a_hostile_drop_publishes_to_a_lake_and_no_output_holds_its_password(catalog, root, monkeypatch, capfd, caplog):
    raw = root / "raw"
    hostile_drop(raw)
    expectations = root / "expectations"
    shutil.copytree(REPO / "expectations", expectations, ignore=shutil.ignore_patterns("uncommitted"))
    target = lake_target(catalog, f"password={SECRET}")
    for name, value in {
        "LIBCOOP_RAW_DIR": str(raw),
        "LIBCOOP_WAREHOUSE": target,
        "LIBCOOP_LAKE_DATA_PATH": str(root / "lake-data"),
        "LIBCOOP_WORK_DIR": str(root / "work"),
        "LIBCOOP_EXPECTATIONS_DIR": str(expectations),
        "LIBCOOP_LINEAGE_DIR": str(root / "lineage"),
    }.items():
        monkeypatch.setenv(name, value)

    # An unreadable country folder, for an unprivileged server; a file deleted before its check.
    real_discover, real_check = pipeline.discover, load.check_file
    checked_wide: list[float] = []

    def discover_unprivileged(incoming: Path):  # type: ignore[no-untyped-def]
        real_discover(incoming)  # as root first: what it imports lazily is under /root, closed to nobody
        (incoming / "SG").chmod(0o000)
        try:
            with as_nobody():
                return real_discover(incoming)
        finally:
            (incoming / "SG").chmod(0o755)

    def coordinator_deletes_first(drop, folder):  # type: ignore[no-untyped-def]
        if drop.relative_path == "KR/visits_late.csv":
            drop.path.unlink(missing_ok=True)
        started = time.monotonic()
        try:
            return real_check(drop, folder)
        finally:
            if drop.relative_path == WIDE:
                checked_wide.append(time.monotonic() - started)

    monkeypatch.setattr(pipeline, "discover", discover_unprivileged)
    monkeypatch.setattr(load, "check_file", coordinator_deletes_first)
    caplog.set_level(logging.INFO)

    assert main(["-v", "run"]) == 0
    run_out, run_err = capfd.readouterr()
    assert "libcoop run" in run_out and ": published" in run_out.splitlines()[0]
    assert "rejected:" in run_out and WIDE in run_out
    assert "VN/visits\\x1b[2J.csv" in run_out and "\x1b" not in run_out + run_err
    assert "Laos/visits.csv" in run_out and "SG/" in run_out and "KR/visits_late.csv" in run_out
    assert checked_wide and checked_wide[0] < 5, checked_wide
    paths_lake = lake.parse(target, str(root / "lake-data"), str(root / "work"))
    with lake.connect(paths_lake, read_only=True) as con:
        reasons = dict(
            con.execute("select file_path, message from lake.audit.file_loads where outcome = 'skipped'").fetchall()
        )
    assert reasons["Laos/visits.csv"].endswith("move the files to LA/")
    assert "Permission denied" in reasons["SG/"]
    assert "removed during the run" in reasons["KR/visits_late.csv"]

    assert main(["summary"]) == 0
    summary_out, summary_err = capfd.readouterr()
    assert "password=***" in summary_out

    # A failed run (a catalog that does not exist): its error names the target, not the password.
    monkeypatch.setenv("LIBCOOP_WAREHOUSE", target.replace(catalog, catalog + "_missing"))
    monkeypatch.setenv("LIBCOOP_WORK_DIR", str(root / "work-missing"))
    assert main(["run"]) == 1
    failed_out, failed_err = capfd.readouterr()
    assert "nothing was published" in failed_err

    outputs = {
        "run stdout": run_out, "run stderr": run_err, "summary stdout": summary_out,
        "summary stderr": summary_err, "failed run": failed_out + failed_err, "log": caplog.text,
    }  # fmt: skip
    assert {name: SECRET in text for name, text in outputs.items()} == dict.fromkeys(outputs, False)
    assert files_holding(root, SECRET.encode()) == []
    with lake.connect(paths_lake, read_only=True) as con:
        assert SECRET not in every_text(con, "lake")
    for warehouse in (w for w in (root / "work").rglob("*.duckdb") if w.is_file() and not w.is_symlink()):
        with duckdb.connect(str(warehouse), read_only=True) as con:
            name = con.execute("select current_database()").fetchone()[0]
            assert SECRET not in every_text(con, name), warehouse
    assert SECRET not in catalog_text(catalog)
    assert os.listdir(root / "lineage"), "lineage events were written"
