"""A coordinator fixes a file in one round: every problem of the file in one report, each with
what to write instead; names that will not resolve are warned about, never rejected."""

from __future__ import annotations

import pytest

from libcoop.ingest.reports import render
from libcoop.ingest.suggestions import date_suggestion
from tests.conftest import MEMBERSHIPS_HEADER
from tests.unit.test_contract_rules import check, csv_of, problems

THREE_MISTAKES_HEADER = (
    "record_id,activity type,host_institution,host_country,guest_institution,guest_country,start_date,end_date"
)


def test_three_mistakes_are_reported_in_one_round_with_two_suggestions(drop):
    content = csv_of(THREE_MISTAKES_HEADER, "v1,delegation,NLV,Viet Nam,NDL,Japna,12/05/2015,")
    checked = check(drop, "VN/visits.csv", content)
    assert problems(checked) == [
        ("missing_column", 1, "activity_type", None),
        ("unknown_country", 2, "guest_country", "Japna"),
        ("bad_date", 2, "start_date", "12/05/2015"),
    ]
    report = render(checked)
    assert "did you mean Japan (JP)?" in report
    assert "write 2015-05-12 for 12 May 2015 or 2015-12-05 for 5 December 2015" in report
    assert "your header has 'activity type': rename it to activity_type" in report


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        (
            "12/05/2015",
            "12/05/2015 can be read two ways: write 2015-05-12 for 12 May 2015 or 2015-12-05 for 5 December 2015",
        ),
        ("25/12/2015", "write 2015-12-25 (25 December 2015)"),
        ("2015/5/12", "write 2015-05-12"),
        ("May 2015", "write 2015-05"),
        ("Sept 2015", None),
        ("31/02/2015", None),
    ],
)
def test_date_suggestions(value, hint):
    assert date_suggestion(value) == hint


@pytest.mark.parametrize(
    ("written", "iso2"), [("Việt Nam", "VN"), ("中国", "CN"), ("日本", "JP"), ("대한민국", "KR"), ("Singapura", "SG")]
)
def test_country_names_in_the_coordinators_languages_are_accepted(drop, written, iso2):
    checked = check(drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, f"m1,NLV,{written},IFLA,member,2000,,s"))
    assert checked.accepted, problems(checked)
    assert checked.rows.column("country").to_pylist() == [iso2]


def test_a_bare_korea_is_not_guessed(drop):
    checked = check(drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, "m1,NLK,Korea,IFLA,member,2000,,s"))
    assert problems(checked) == [("unknown_country", 2, "country", "Korea")]


def test_an_accepted_value_misspelt_gets_the_closest_one(drop):
    header = "activity_type,host_institution,host_country,start_date"
    checked = check(drop, "VN/visits.csv", csv_of(header, "bussiness exchange,NLV,VN,2015"))
    assert problems(checked) == [("not_in_list", 2, "activity_type", "bussiness exchange")]
    assert "did you mean business_exchange?" in render(checked)


def test_a_misspelt_institution_is_a_warning_with_the_closest_curated_names(drop):
    checked = check(
        drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, "m1,Natonal Libary of Vietnam,VN,IFLA,member,2000,,s")
    )
    assert checked.accepted
    (warning,) = checked.warnings
    assert "row 2, column institution: 'Natonal Libary of Vietnam' is not a known institution name" in warning
    assert "closest known: National Library of Vietnam" in warning


def test_curated_spellings_in_any_case_and_spacing_are_not_warned_about(drop):
    rows = "\n".join(
        f"m{i},{name},VN,{org},member,2000,,s"
        for i, (name, org) in enumerate(
            [("national library of  viet nam", "ifla"), ("NLV", "CDNLAO"), ("Thư viện Quốc gia Việt Nam", "CONSAL")]
        )
    )
    checked = check(drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, rows))
    assert checked.accepted and checked.warnings == []


def test_a_misnamed_file_gets_a_note_where_reports_are_and_loses_it_once_renamed(drop, tmp_path):
    import duckdb

    from libcoop.ingest.load import load_drop
    from libcoop.settings import Paths

    paths = Paths(raw_dir=drop.raw_dir, warehouse=tmp_path / "wh" / "w.duckdb", expectations_dir=tmp_path / "gx")
    content = csv_of(MEMBERSHIPS_HEADER, "m1,NLV,VN,IFLA,member,2000,,s")
    misnamed = drop("VN/Memberships 2015 (final).csv", content)
    con = duckdb.connect()
    load_drop(con, paths, "run1")
    note = paths.reports / "VN" / "Memberships 2015 (final).csv.report.txt"
    assert "rename it to memberships_2015-final.csv" in note.read_text()
    misnamed.rename(misnamed.with_name("memberships_2015-final.csv"))
    result = load_drop(con, paths, "run2")
    assert [o.outcome for o in result.outcomes] == ["loaded"]
    assert not note.exists()


def test_check_speaks_as_a_dry_run_and_rejects_a_second_copy(drop, capsys):
    from libcoop.cli import main

    content = csv_of(MEMBERSHIPS_HEADER, "m1,NLV,VN,IFLA,member,2000,,s")
    first = drop("VN/memberships.csv", content)
    second = drop("VN/memberships_copy.csv", content)
    assert main(["check", str(first), str(second)]) == 1
    out = capsys.readouterr().out
    assert "VN/memberships.csv: OK, 1 row follows the contract; the file would be loaded." in out
    assert "This file would NOT be loaded" in out
    assert "exact copy of another file" in out and f"copy of {first}" in out
