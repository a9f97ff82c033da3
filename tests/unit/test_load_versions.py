"""File versions in the raw history: same bytes once, changed bytes replace, bad bytes never land,
removed files leave the current views, and every version stays in the history."""

from __future__ import annotations

import os

import duckdb
import pytest

from libcoop.ingest.load import load_drop
from libcoop.ingest.reports import report_path
from libcoop.settings import resolve_paths
from tests.conftest import GOOD_MEMBERSHIP, GOOD_VISIT, MEMBERSHIPS_HEADER, VISITS_HEADER


@pytest.fixture
def env(drop, tmp_path):
    paths = resolve_paths(drop.raw_dir, tmp_path / "warehouse" / "w.duckdb")
    con = duckdb.connect(str(tmp_path / "build.duckdb"))
    yield drop, paths, con
    con.close()


def current(con, kind="memberships"):
    return con.execute(
        f"select file_path, organization, source_row_number from raw.current_{kind} order by all"
    ).fetchall()


def test_same_bytes_load_once(env):
    drop, paths, con = env
    drop("VN/memberships.csv", f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n")
    first = load_drop(con, paths, "run1")
    second = load_drop(con, paths, "run2")
    assert [o.outcome for o in first.outcomes] == ["loaded"]
    assert [o.outcome for o in second.outcomes] == ["unchanged"]
    assert con.execute("select count(*) from raw.memberships").fetchone() == (1,)
    assert current(con) == [("VN/memberships.csv", "IFLA", 2)]


def test_changed_file_replaces_its_rows_and_history_keeps_both(env):
    drop, paths, con = env
    drop("VN/memberships.csv", f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n")
    load_drop(con, paths, "run1")
    drop("VN/memberships.csv", f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP.replace('IFLA', 'CONSAL')}\n")
    load_drop(con, paths, "run2")
    assert current(con) == [("VN/memberships.csv", "CONSAL", 2)]
    history = con.execute("select load_id, organization from raw.memberships order by load_id").fetchall()
    assert history == [("run1", "IFLA"), ("run2", "CONSAL")]
    versions = con.execute("select load_id, is_current from raw.file_versions order by load_id").fetchall()
    assert versions == [("run1", False), ("run2", True)]


def test_bad_version_is_rejected_and_earlier_version_stays_in_force(env):
    drop, paths, con = env
    drop("VN/memberships.csv", f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n")
    drop("CN/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT}\n")
    load_drop(con, paths, "run1")
    drop("VN/memberships.csv", f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\nm2,NLV,Atlantis,CDNL,,2000,,s\n")
    result = load_drop(con, paths, "run2")
    assert {o.file_path: o.outcome for o in result.outcomes} == {
        "CN/visits.csv": "unchanged",
        "VN/memberships.csv": "rejected",
    }
    assert current(con) == [("VN/memberships.csv", "IFLA", 2)]
    assert con.execute("select count(*) from raw.memberships").fetchone() == (1,)
    rejection = con.execute(
        "select file_path, row_number, column_name, value, rule from audit.file_rejections"
    ).fetchall()
    assert rejection == [("VN/memberships.csv", 3, "country", "Atlantis", "unknown_country")]
    report = report_path(paths.reports, "VN/memberships.csv")
    assert report == paths.raw_dir / "reports" / "VN" / "memberships.csv.report.txt"
    assert 'row 3, column country, value "Atlantis"' in report.read_text()

    # The coordinator fixes the file: the report goes away and the new version is in force.
    drop("VN/memberships.csv", f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\nm2,NLV,Viet Nam,CDNL,,2000,,s\n")
    load_drop(con, paths, "run3")
    assert not report.exists()
    assert [r[1] for r in current(con)] == ["CDNL", "IFLA"]


def test_removed_file_leaves_current_rows_but_stays_in_history(env):
    drop, paths, con = env
    path = drop("VN/memberships.csv", f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n")
    load_drop(con, paths, "run1")
    os.remove(path)
    result = load_drop(con, paths, "run2")
    assert [o.outcome for o in result.outcomes] == ["removed"]
    assert current(con) == []
    assert con.execute("select count(*) from raw.memberships").fetchone() == (1,)


def test_restoring_earlier_bytes_brings_that_version_back_without_duplicates(env):
    drop, paths, con = env
    original = f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n"
    drop("VN/memberships.csv", original)
    load_drop(con, paths, "run1")
    drop("VN/memberships.csv", original.replace("IFLA", "CONSAL"))
    load_drop(con, paths, "run2")
    drop("VN/memberships.csv", original)
    result = load_drop(con, paths, "run3")
    assert [o.outcome for o in result.outcomes] == ["restored"]
    assert current(con) == [("VN/memberships.csv", "IFLA", 2)]


def test_exact_copy_under_another_name_is_rejected(env):
    drop, paths, con = env
    content = f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n"
    drop("VN/memberships.csv", content)
    load_drop(con, paths, "run1")
    drop("VN/memberships_copy.csv", content)
    result = load_drop(con, paths, "run2")
    assert {o.file_path: o.outcome for o in result.outcomes}["VN/memberships_copy.csv"] == "rejected"
    assert len(current(con)) == 1


def test_stray_files_are_skipped_and_audited(env):
    drop, paths, con = env
    drop("VN/memberships.csv", f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n")
    drop("VN/~$memberships.xlsx", b"lock")
    drop("VN/.DS_Store", b"\x00")
    drop("VN/notes.docx", b"x")
    drop("README.txt", "the project's guide for coordinators: not a stray")
    drop("notes.txt", "hello")
    result = load_drop(con, paths, "run1")
    assert sorted(s.relative_path for s in result.skipped) == [
        "VN/.DS_Store",
        "VN/notes.docx",
        "VN/~$memberships.xlsx",
        "notes.txt",
    ]
    skipped = con.execute("select count(*) from audit.file_loads where outcome = 'skipped'").fetchone()
    assert skipped == (4,)


def test_symlink_pointing_outside_the_drop_folder_is_refused(env, tmp_path):
    drop, paths, con = env
    secret = tmp_path / "secret.csv"
    secret.write_text(f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n")
    drop("VN/memberships.csv", f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n")
    (paths.incoming / "VN" / "visits.csv").symlink_to(secret)
    result = load_drop(con, paths, "run1")
    assert [s.relative_path for s in result.skipped] == ["VN/visits.csv"]
    assert [o.file_path for o in result.outcomes] == ["VN/memberships.csv"]


def test_the_same_file_dropped_twice_the_same_night_loads_once(env):
    drop, paths, con = env
    content = f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n"
    drop("VN/memberships.csv", content)
    drop("VN/memberships_again.csv", content)
    result = load_drop(con, paths, "run1")
    outcomes = {o.file_path: o.outcome for o in result.outcomes}
    assert outcomes == {"VN/memberships.csv": "loaded", "VN/memberships_again.csv": "rejected"}
    assert con.execute("select count(*) from raw.current_memberships").fetchone() == (1,)
    report = (paths.reports / "VN" / "memberships_again.csv.report.txt").read_text()
    assert "exact copy of another file" in report and "VN/memberships.csv" in report
