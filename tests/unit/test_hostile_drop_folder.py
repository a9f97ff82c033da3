"""No single file, folder or race stops the load, and every name is told as it is (issue 30: one
file or folder stops everyone's publish; issue 32: names that lie; issue 25: check and run agree).

Permissions are real: the tests run as root, who reads everything, so the discovery runs with the
effective user ``nobody`` (``as_nobody``) on a drop folder made in /tmp. Races are real too: the
real ``check_file`` is wrapped so that the file is deleted or rewritten just before it is read."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from libcoop.cli import main
from libcoop.ingest import load
from libcoop.ingest.check import CheckedFile
from libcoop.ingest.contract import Problem
from libcoop.ingest.drop_folder import discover, skip_reason, suggested_name
from libcoop.ingest.load import load_drop
from libcoop.ingest.reports import render
from libcoop.ingest.staged import stage_check, staged_checks
from libcoop.settings import Paths
from tests.conftest import GOOD_MEMBERSHIP, GOOD_VISIT, MEMBERSHIPS_HEADER, VISITS_HEADER

GOOD = f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n"
NEWER = f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n{GOOD_MEMBERSHIP.replace('m1,', 'm2,')}\n"
NOBODY = 65534


@contextlib.contextmanager
def as_nobody() -> Iterator[None]:
    """Run the block with the effective user nobody, as an unprivileged server would (root reads
    every file whatever its mode). Without root, the block runs as the user that runs the tests."""
    if os.geteuid() != 0:
        yield
        return
    import _strptime  # noqa: F401 - imported lazily by strptime; nobody cannot read root's Python

    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture
def env():
    """A drop folder in /tmp that nobody may traverse (pytest's own tmp folder is root's only)."""
    root = Path(tempfile.mkdtemp(prefix="libcoop-hostile-"))
    root.chmod(0o755)
    incoming = root / "raw" / "incoming"

    def write(relative: str, content: str) -> Path:
        path = incoming / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        for folder in (root / "raw", incoming, path.parent):
            folder.chmod(0o755)
        path.write_text(content, encoding="utf-8")
        path.chmod(0o644)
        return path

    paths = Paths(raw_dir=root / "raw", warehouse=root / "wh" / "w.duckdb", expectations_dir=root / "gx")
    con = duckdb.connect(":memory:")
    yield write, paths, con
    con.close()
    shutil.rmtree(root, ignore_errors=True)


def current(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(con.execute("select file_path, row_count from raw.file_versions where is_current").fetchall())


def loaded_then_changed(env) -> Path:  # type: ignore[no-untyped-def]
    """VN/memberships.csv loaded by run1, then changed on disk (NEWER): the file."""
    write, paths, con = env
    members = write("VN/memberships.csv", GOOD)
    load_drop(con, paths, "run1")
    members.write_text(NEWER, encoding="utf-8")
    return members


def outcomes(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {o.file_path: o.outcome for o in result.outcomes}


# --- unreadable files and folders --------------------------------------------------------------


def test_an_unreadable_file_is_skipped_with_its_version_kept_and_the_others_load(env, caplog):
    write, paths, con = env
    members = write("VN/memberships.csv", GOOD)
    load_drop(con, paths, "run1")
    write("CN/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT}\n")
    members.write_text(NEWER, encoding="utf-8")
    members.chmod(0o000)
    with as_nobody(), caplog.at_level(logging.WARNING):
        found = discover(paths.incoming)
    result = load_drop(con, paths, "run2", found)
    assert outcomes(result) == {"CN/visits.csv": "loaded"}  # not "removed"
    (skipped,) = result.skipped
    assert skipped.relative_path == "VN/memberships.csv" and skipped.holds
    assert "Permission denied" in skipped.reason and "stays in force" in skipped.reason
    assert current(con) == {"VN/memberships.csv": 1, "CN/visits.csv": 1}
    assert "operator: libcoop cannot read" in caplog.text and "check its permissions" in caplog.text
    note = paths.reports / "VN" / "memberships.csv.report.txt"
    assert "Permission denied" in note.read_text(encoding="utf-8")
    # Readable again: the newer version is picked up by the next run.
    members.chmod(0o644)
    assert outcomes(load_drop(con, paths, "run3")) == {"CN/visits.csv": "unchanged", "VN/memberships.csv": "loaded"}
    assert current(con)["VN/memberships.csv"] == 2


def test_an_unreadable_country_folder_is_skipped_and_its_files_stay_in_force(env):
    write, paths, con = env
    write("VN/memberships.csv", GOOD)
    write("CN/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT}\n")
    load_drop(con, paths, "run1")
    (paths.incoming / "VN").chmod(0o000)
    try:
        with as_nobody():
            found = discover(paths.incoming)
    finally:
        (paths.incoming / "VN").chmod(0o755)
    result = load_drop(con, paths, "run2", found)
    assert outcomes(result) == {"CN/visits.csv": "unchanged"}
    assert [(s.relative_path, s.holds) for s in result.skipped] == [("VN/", True)]
    assert current(con) == {"VN/memberships.csv": 1, "CN/visits.csv": 1}


def test_an_unreadable_drop_folder_withdraws_nothing(env):
    write, paths, con = env
    write("VN/memberships.csv", GOOD)
    load_drop(con, paths, "run1")
    paths.incoming.chmod(0o000)
    try:
        with as_nobody():
            found = discover(paths.incoming)
    finally:
        paths.incoming.chmod(0o755)
    assert found.files == () and found.holds("VN/memberships.csv")
    assert outcomes(load_drop(con, paths, "run2", found)) == {}
    assert current(con) == {"VN/memberships.csv": 1}


def test_a_pipe_named_like_a_data_file_is_skipped_without_blocking(env):
    write, paths, _ = env
    write("VN/memberships.csv", GOOD)
    os.mkfifo(paths.incoming / "VN" / "visits.csv")  # opening it for reading would wait for a writer
    (paths.incoming / "VN" / "donations.csv").mkdir()
    (paths.incoming / "VN" / "visits_gone.csv").symlink_to(paths.incoming / "VN" / "nowhere.csv")
    found = discover(paths.incoming)
    assert [f.relative_path for f in found.files] == ["VN/memberships.csv"]
    reasons = {s.relative_path: s.reason for s in found.skipped}
    assert reasons["VN/visits.csv"].startswith("not a regular file")
    assert reasons["VN/donations.csv"].startswith("sub-folders are not read")
    assert reasons["VN/visits_gone.csv"] == "a link to nothing"


# --- races: a hook between discovery and the check --------------------------------------------


def wrap_check(monkeypatch, before) -> None:  # type: ignore[no-untyped-def]
    """The real check_file, with ``before(drop)`` run first: a coordinator acting mid-run."""
    real = load.check_file

    def racing(drop, root):  # type: ignore[no-untyped-def]
        before(drop)
        return real(drop, root)

    monkeypatch.setattr(load, "check_file", racing)


def test_a_changed_file_deleted_before_its_check_keeps_its_version_then_is_removed(env, monkeypatch):
    _, paths, con = env
    loaded_then_changed(env)
    found = discover(paths.incoming)
    wrap_check(monkeypatch, lambda drop: drop.path.unlink())
    result = load_drop(con, paths, "run2", found)
    assert outcomes(result) == {}
    (skipped,) = result.skipped
    assert skipped.holds and "removed during the run" in skipped.reason
    assert current(con) == {"VN/memberships.csv": 1}
    monkeypatch.undo()
    assert outcomes(load_drop(con, paths, "run3")) == {"VN/memberships.csv": "removed"}


def test_a_file_rewritten_before_its_check_keeps_its_version_and_loads_next_run(env, monkeypatch):
    _, paths, con = env
    loaded_then_changed(env)
    found = discover(paths.incoming)
    newest = NEWER + GOOD_MEMBERSHIP.replace("m1,", "m3,") + "\n"
    wrap_check(monkeypatch, lambda drop: drop.path.write_text(newest, encoding="utf-8"))
    result = load_drop(con, paths, "run2", found)
    assert outcomes(result) == {}
    assert "changed while the run read it" in result.skipped[0].reason
    assert current(con) == {"VN/memberships.csv": 1}
    monkeypatch.undo()
    assert outcomes(load_drop(con, paths, "run3")) == {"VN/memberships.csv": "loaded"}
    assert current(con) == {"VN/memberships.csv": 3}


def test_a_file_deleted_before_its_staged_check_is_skipped_by_the_load(env):
    write, paths, con = env
    write("VN/memberships.csv", GOOD)
    load_drop(con, paths, "run1")
    (paths.incoming / "VN" / "memberships.csv").write_text(NEWER, encoding="utf-8")
    found = discover(paths.incoming)
    (paths.incoming / "VN" / "memberships.csv").unlink()
    verdict = stage_check(paths, "run2", found.file("VN/memberships.csv"))
    assert verdict["gone"] and not verdict["accepted"]
    result = load_drop(con, paths, "run2", found, staged_checks(paths, "run2", found))
    assert outcomes(result) == {} and result.skipped[0].holds
    assert current(con) == {"VN/memberships.csv": 1}


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["visits.csv\n", "visits.csv\r", "visits.csv\t", "visits\x1b[31m.csv"])
def test_a_name_with_a_control_character_is_not_a_data_file_and_is_shown_escaped(env, name):
    write, paths, _ = env
    write("VN/" + name, f"{VISITS_HEADER}\n{GOOD_VISIT}\n")
    found = discover(paths.incoming)
    assert found.files == ()
    (skipped,) = found.skipped
    assert skipped.relative_path.isprintable()
    assert "\\x" in skipped.relative_path
    assert "rename it to" not in skipped.reason


def test_a_folder_that_is_not_a_country_code_names_the_folder_to_use(env):
    write, paths, con = env
    write("Laos/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT}\n")
    write("vietnam/memberships.csv", GOOD)
    write("misc/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT}\n")
    (paths.incoming / "Korea").mkdir()
    result = load_drop(con, paths, "run1")
    reasons = {s.relative_path: s.reason for s in result.skipped}
    assert reasons["Laos/visits.csv"].endswith("move the files to LA/")
    assert reasons["vietnam/memberships.csv"].endswith("move the files to VN/")
    assert reasons["misc/visits.csv"].endswith("folders are named after the ISO code, e.g. VN/")
    assert "Korea/" in reasons  # an empty folder is named too
    assert result.outcomes == []
    note = paths.reports / "Laos" / "visits.csv.report.txt"
    assert "move the files to LA/" in note.read_text(encoding="utf-8")


def test_check_says_what_the_run_would_do_with_a_file_in_a_misnamed_folder(env, capsys):
    write, _, _ = env
    path = write("Laos/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT}\n")
    assert main(["check", str(path)]) == 1
    out, err = capsys.readouterr()
    assert "would be loaded" not in out
    assert err == f"{path}: not a drop file: {skip_reason('Laos', 'visits.csv')}\n"
    assert "the run does not read the folder Laos/" in err and "move the files to LA/" in err


def test_check_on_an_excel_lock_file_never_advises_overwriting_the_workbook(env, capsys):
    write, _, _ = env
    path = write("VN/~$visits.xlsx", "lock")
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Excel's lock file" in err and "ignored" in err
    assert "rename" not in err


def test_check_escapes_a_name_with_an_escape_sequence(env, capsys):
    write, _, _ = env
    path = write("VN/visits\x1b]0;owned\x07.csv", "x")
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err
    assert "visits\\x1b]0;owned\\x07.csv" in err


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("~$visits.xlsx", None),
        ("._donations.csv", None),  # macOS's shadow of donations.csv
        (".~lock.visits.csv#", None),
        ("donations.csv~", None),
        ("donations_öns–s12.csv", None),  # a rename would drop the ö
        ("visits.csv\n", None),
        ("Visits 2015 (final).csv", "visits_2015-final.csv"),
        ("Donation NLV 2000-2012.XLSX", "donations_nlv-2000-2012.xlsx"),
    ],
)
def test_suggestions_never_overwrite_a_real_file_nor_lose_letters(name, suggestion):
    assert suggested_name(name) == suggestion


def test_check_and_run_share_one_rule(env):
    write, paths, _ = env
    names = ["VN/~$visits.xlsx", "VN/.hidden.csv", "VN/Visits 2015.csv", "Laos/visits.csv", "VN/visits.csv"]
    for name in names:
        write(name, f"{VISITS_HEADER}\n{GOOD_VISIT}\n")
    found = discover(paths.incoming)
    by_run = {s.relative_path: s.reason for s in found.skipped}
    for name in names:
        folder, _, file_name = name.partition("/")
        reason = skip_reason(folder, file_name)
        if reason is None:
            assert name in {f.relative_path for f in found.files}
        else:
            assert by_run[name] == f"not read: {reason}"


def test_check_on_an_unreadable_file_says_so(env, capsys):
    write, _, _ = env
    path = write("VN/memberships.csv", GOOD)
    assert main(["check", str(path)]) == 0  # as root first: what check imports lazily is closed to nobody
    capsys.readouterr()
    path.chmod(0o000)
    with as_nobody():
        status = main(["check", str(path)])
    assert status == 1
    assert capsys.readouterr().err == f"{path}: cannot be read: Permission denied\n"


def test_a_file_rewritten_after_its_staged_check_and_before_the_load_keeps_its_version(env):
    _, paths, con = env
    members = loaded_then_changed(env)
    found = discover(paths.incoming)
    assert stage_check(paths, "run2", found.file("VN/memberships.csv"))["accepted"]
    members.write_text(NEWER + GOOD_MEMBERSHIP.replace("m1,", "m3,") + "\n", encoding="utf-8")
    result = load_drop(con, paths, "run2", found, staged_checks(paths, "run2", found))
    assert outcomes(result) == {}
    assert "changed while the run read it" in result.skipped[0].reason
    assert current(con) == {"VN/memberships.csv": 1}


def test_a_value_with_an_escape_sequence_is_escaped_in_the_report(env):
    """The readers strip invisible characters from cells; the report escapes whatever reaches it."""
    write, paths, _ = env
    path = write("VN/memberships.csv", GOOD)
    drop = discover(paths.incoming).file("VN/memberships.csv")
    problem = Problem(drop.relative_path, "bad_date", row=2, column="joined", value="2015\x1b]0;owned\x07")
    report = render(CheckedFile(drop, problems=[problem], problem_counts={"bad_date": 1}))
    assert "\x1b" not in report and "\x07" not in report
    assert 'value "2015\\x1b]0;owned\\x07"' in report
    assert path.exists()
