"""dbt's parse shared between warehouses (libcoop.transform.dbt_build.parse_slot): a new warehouse
starts from the parse another one left in the user cache instead of parsing the whole project;
two commands at once take two slots; a write-ahead log a killed command left in a slot is not
replayed into the next build."""

from __future__ import annotations

import fcntl
from pathlib import Path

import duckdb
import pytest

from libcoop.transform.dbt_build import PARSE_FILE, dbt_command, parse_slot, release_duckdb

pytestmark = pytest.mark.integration


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("LIBCOOP_CACHE_DIR", str(folder))
    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")  # dbt says it skipped parsing at debug level
    return folder


def _parse(database: Path) -> str:
    """``dbt parse`` of the project for ``database``, through dbt_command; dbt's log of it."""
    from dbt.cli.main import dbtRunner

    database.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(database)).close()
    with dbt_command("parse", database) as args:
        try:
            outcome = dbtRunner().invoke(args)
        finally:
            release_duckdb()
    assert outcome.success, outcome.exception
    return (database.parent / ".dbt-target" / "logs" / "dbt.log").read_text(encoding="utf-8")


def test_a_new_warehouse_starts_from_the_parse_another_left(tmp_path: Path, cache: Path) -> None:
    first = _parse(tmp_path / "a" / "cooperation.duckdb")
    assert "Unable to do partial parsing because saved manifest not found. Starting full parse." in first
    (slot,) = (cache / "dbt-parse").glob("*/0")
    assert (slot / PARSE_FILE).stat().st_size > 100_000
    assert (slot / "cooperation.duckdb").resolve() == (tmp_path / "a" / "cooperation.duckdb").resolve()

    second = _parse(tmp_path / "b" / "cooperation.duckdb")  # another warehouse, never parsed
    assert "Starting full parse" not in second
    assert "Partial parsing enabled, no changes found, skipping parsing" in second
    assert (slot / "cooperation.duckdb").resolve() == (tmp_path / "b" / "cooperation.duckdb").resolve()
    # Its own target holds what dbt wrote: the manifest the lineage and the docs read.
    assert (tmp_path / "b" / ".dbt-target" / "target" / "manifest.json").stat().st_size > 100_000


def test_a_database_of_another_name_has_slots_of_its_own(tmp_path: Path, cache: Path) -> None:
    with parse_slot(tmp_path / "cooperation.duckdb") as one, parse_slot(tmp_path / "other.duckdb") as other:
        assert one.name == other.name == "0"
        assert one.parent != other.parent


def test_two_commands_at_once_take_two_slots_and_free_them(tmp_path: Path, cache: Path) -> None:
    database = tmp_path / "cooperation.duckdb"
    with parse_slot(database) as first:
        with parse_slot(database) as second:
            assert (first.name, second.name) == ("0", "1")
        # held by this command, as another process holding the lock would
        with (first / "lock").open("a") as handle, pytest.raises(BlockingIOError):
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with parse_slot(database) as again:
        assert again.name == "0"


def test_a_write_ahead_log_left_in_a_slot_is_not_replayed(tmp_path: Path, cache: Path) -> None:
    build = tmp_path / "cooperation.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create table kept as select 1 as x")
    with parse_slot(build) as slot:
        stale = slot / "cooperation.duckdb.wal"
    stale.write_bytes(b"a killed command's log")
    with parse_slot(build) as slot:
        assert not (slot / "cooperation.duckdb.wal").exists()
