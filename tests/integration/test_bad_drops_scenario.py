"""A night of bad drops, through the `libcoop` command: good files load; then bad versions of
some of them plus new bad files arrive, twice; the marts do not move and every report is there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import GOOD_FILES, VISITS_HEADER

pytestmark = pytest.mark.integration

LIBCOOP = str(Path(sys.executable).with_name("libcoop"))
FACTS = ("fct_membership", "fct_visit", "fct_donation", "fct_cooperation_activity", "dim_institution")


def libcoop(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LIBCOOP, *args], capture_output=True, text=True, timeout=900, check=False)


def marts_state(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        state = {}
        for table in FACTS:
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = 'marts' "
                    "and table_name = ? and column_name not in ('load_id') order by ordinal_position",
                    [table],
                ).fetchall()
            ]
            state[table] = con.execute(f"select {', '.join(columns)} from marts.{table} order by all").fetchall()
        return state


def test_bad_drops_never_change_the_marts(drop, tmp_path):
    warehouse = tmp_path / "warehouse" / "cooperation.duckdb"
    cli = ("--raw-dir", str(drop.raw_dir), "--warehouse", str(warehouse))
    drop("VN/memberships.csv", GOOD_FILES["memberships"])
    drop("CN/visits.csv", GOOD_FILES["visits"])
    drop("VN/donations.csv", GOOD_FILES["donations"])

    first = libcoop("run", *cli)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "published" in first.stdout
    before = marts_state(warehouse)
    assert len(before["fct_membership"]) == 1
    assert len(before["fct_visit"]) == 1
    assert len(before["fct_donation"]) == 1

    # A bad version of a loaded file, a new bad file, a damaged workbook, a lock file, a stray.
    drop("VN/memberships.csv", f"{GOOD_FILES['memberships']}m2,NLV,Viet Nam,CONSAL,,2000-13,,s\n")
    drop("KR/visits_2015.csv", f"{VISITS_HEADER}\nk1,mutual_visit,NLK,KR,NLC,CN,2015-11-17,2015-11-10,1,5,,,,s\n")
    drop("SG/donations.xlsx", b"PK\x03\x04 this is not really a workbook")
    drop("SG/~$donations.xlsx", b"lock")
    drop("JP/visits.txt", "notes")

    reports = {
        "VN/memberships.csv": ("row 3, column joined", "2000-13"),
        "KR/visits_2015.csv": ("row 2, column end_date", "the end date is before the start date"),
        "SG/donations.xlsx": ("the spreadsheet cannot be opened",),
    }
    for night in (2, 3):
        done = libcoop("run", *cli)
        assert done.returncode == 0, f"night {night}: {done.stderr[-3000:]}"
        assert "3 rejected" in done.stdout
        assert marts_state(warehouse) == before, f"night {night} changed the marts"
        for file, phrases in reports.items():
            folder, name = file.split("/")
            text = (drop.raw_dir / "reports" / folder / f"{name}.report.txt").read_text()
            for phrase in phrases:
                assert phrase in text, f"{file}: {phrase!r} missing from\n{text}"

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rejected = con.execute(
            "select file_path, count(*) from audit.file_rejections group by file_path order by file_path"
        ).fetchall()
        # Rejected the night they came; the next night the same bytes are not checked again and
        # nothing is rebuilt or republished (their reports still stand), so one rejection each.
        assert rejected == [("KR/visits_2015.csv", 1), ("SG/donations.xlsx", 1), ("VN/memberships.csv", 1)]
        unchanged = con.execute(
            "select file_path from audit.file_loads where outcome = 'unchanged' order by file_path"
        ).fetchall()
        # The good files' bytes never changed: loaded once, unchanged after.
        assert ("CN/visits.csv",) in unchanged and ("VN/donations.csv",) in unchanged
        (history,) = con.execute("select count(*) from raw.memberships").fetchone()
        assert history == 1

    # `libcoop check` gives the coordinator the same verdict before dropping.
    check = libcoop("check", str(drop.incoming / "KR" / "visits_2015.csv"))
    assert check.returncode == 1
    assert "the end date is before the start date" in check.stdout
    good = libcoop("check", str(drop.incoming / "CN" / "visits.csv"))
    assert good.returncode == 0, good.stdout
