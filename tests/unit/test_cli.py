"""The command line an engineer and a coordinator type: plain help, honest options, clear errors."""

from __future__ import annotations

import pytest

from libcoop.cli import build_parser, main
from libcoop.ingest.drop_folder import suggested_name
from libcoop.pipeline import safe_run_id
from tests.conftest import GOOD_VISIT, VISITS_HEADER

COMMANDS = ("run", "check", "summary", "docs", "rollback", "builds")


def help_of(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*args, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("args", [(), *((c,) for c in COMMANDS)])
def test_help_is_plain_text(capsys, args):
    text = help_of(capsys, *args)
    assert text.startswith(f"usage: libcoop {' '.join(args)}".rstrip())
    for markup in ("``", ":func:", ":class:", ".. "):
        assert markup not in text


def test_top_help_lists_every_command(capsys):
    text = help_of(capsys)
    for command in COMMANDS:
        assert f"    {command} " in text


def test_check_explains_its_argument(capsys):
    text = help_of(capsys, "check")
    assert "FILE        a drop file named like <CC>/visits_2015.csv" in text
    assert "--warehouse" not in text and "--raw-dir" not in text


@pytest.mark.parametrize("command", ["summary", "docs", "rollback", "builds"])
def test_read_only_commands_take_no_raw_dir(capsys, command):
    assert "--warehouse FILE" in help_of(capsys, command)
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([command, "--raw-dir", "raw"])
    assert done.value.code == 2
    assert "unrecognized arguments: --raw-dir raw" in capsys.readouterr().err


def test_rollback_takes_a_run_id(capsys):
    text = help_of(capsys, "rollback")
    assert "--to RUN_ID" in text and "the run whose build to put back (see libcoop builds)" in text


def test_builds_without_any_kept_says_so(capsys, tmp_path):
    assert main(["builds", "--warehouse", str(tmp_path / "cooperation.duckdb")]) == 1
    assert capsys.readouterr().err == f"no build kept beside {tmp_path / 'cooperation.duckdb'} yet\n"


def test_run_takes_both_locations(capsys):
    text = help_of(capsys, "run")
    assert "--raw-dir DIR" in text and "--warehouse FILE" in text


def test_check_a_missing_file_says_not_found(capsys, tmp_path):
    assert main(["check", str(tmp_path / "VN" / "visits.csv")]) == 1
    assert capsys.readouterr().err == f"{tmp_path / 'VN' / 'visits.csv'}: file not found\n"


def test_check_a_misnamed_file_suggests_a_name(capsys, drop):
    path = drop("VN/Visits 2015 (final).csv", f"{VISITS_HEADER}\n{GOOD_VISIT}\n")
    assert main(["check", str(path)]) == 1
    assert capsys.readouterr().err == f"{path}: not a drop file: rename it to visits_2015-final.csv\n"


def test_check_a_good_file(capsys, drop):
    path = drop("CN/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT}\n")
    assert main(["check", str(path)]) == 0
    assert capsys.readouterr().out.startswith("CN/visits.csv: OK, 1 ")


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("Visits 2015 (final).csv", "visits_2015-final.csv"),
        ("Donation NLV 2000-2012.XLSX", "donations_nlv-2000-2012.xlsx"),
        ("membership.csv", "memberships.csv"),
        ("report.csv", None),
        ("visits.xls", None),
        ("v.csv", None),
    ],
)
def test_suggested_names(name, suggestion):
    assert suggested_name(name) == suggestion


@pytest.mark.parametrize(
    ("airflow_id", "readable"),
    [
        ("manual__2026-12-01T07:29:01.414354+00:00", "manual-20261201T072901"),
        ("scheduled__2026-12-01T02:00:00+00:00", "scheduled-20261201T020000"),
        ("asset_triggered__2026-12-01T07:29:01+00:00", "asset-triggered-20261201T072901"),
        ("20261201T072901-a1b2c3", "20261201T072901-a1b2c3"),
        ("my run: 1", "my_run__1"),
    ],
)
def test_run_ids_are_readable_folder_names(airflow_id, readable):
    assert safe_run_id(airflow_id) == readable


ENTRY = """
import atexit, sys
from libcoop import cli

atexit.register(print, "the exit handlers ran")
sys.argv = ["libcoop", *sys.argv[1:]]
cli.entry()
print("not reached")
"""


def test_the_command_ends_with_main_s_code_its_output_and_the_exit_handlers(tmp_path):
    import subprocess
    import sys

    missing = subprocess.run(
        [sys.executable, "-c", ENTRY, "summary", "--warehouse", str(tmp_path / "none.duckdb")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert missing.returncode == 1  # main's code for a warehouse not built yet
    assert missing.stdout.splitlines()[-1] == "the exit handlers ran"
    assert "not reached" not in missing.stdout
    assert str(tmp_path / "none.duckdb") in missing.stderr

    checked = tmp_path / "VN" / "visits.csv"
    checked.parent.mkdir()
    checked.write_text(f"{VISITS_HEADER}\n{GOOD_VISIT}\n", encoding="utf-8")
    accepted = subprocess.run(
        [sys.executable, "-c", ENTRY, "check", str(checked)], capture_output=True, text=True, timeout=120, check=False
    )
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.splitlines()[-1] == "the exit handlers ran"
    assert accepted.stdout.startswith("VN/visits.csv: OK, 1 row follows the contract")  # flushed before the end
