"""Rows naming an unresolved institution are warnings coordinators read (contract section 3):
read from the build's review list (a real DuckDB file), counted in the report's verdict, listed
on their country's page; no page says "0 warnings" or "Every check passed" while one exists."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb

from libcoop.quality import CountryView, ExpectationOutcome, QualityReport, read_unresolved_names
from libcoop.quality.site import _countries_index, _country_page, front_page

ROWS = [
    # reporting_country, file_path, row, family, role, name, country, date, other, other country, candidates
    ("VN", "VN/visits.csv", 3, "visit", "guest", "국립중앙도서관 (National Library of Korea)", "KR",
     dt.date(2016, 5, 3), "National Library of Viet Nam", "VN", "National Library of Korea (National Library of Korea)"),
    ("VN", "VN/donations.csv", 2, "donation", "donor", "Vietnam Publishing House", "VN",
     dt.date(2015, 1, 1), "National Library of Viet Nam", "VN", None),
    ("KR", "KR/visits.csv", 5, "visit", "host", "Thư viện tỉnh Bình Định", "VN",
     dt.date(2019, 9, 1), "National Library of Korea", "KR", None),
]  # fmt: skip


def build(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema review")
        con.execute(
            "create table review.review_unresolved_name_rows (reporting_country varchar, file_path varchar, "
            "source_row_number integer, activity_family varchar, institution_role varchar, institution_name varchar, "
            "country_iso2 varchar, activity_date date, other_institution_name varchar, other_country_iso2 varchar, "
            "candidate_names varchar, institution_key varchar)"
        )
        con.executemany(
            "insert into review.review_unresolved_name_rows values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'k')", ROWS
        )
    return path


def report_of(path: Path, shown: int = 50) -> QualityReport:
    with duckdb.connect(str(path), read_only=True) as con:
        names, counts = read_unresolved_names(con, shown)
    passed = ExpectationOutcome("raw_visits", "expect_column_values_to_not_be_null", "start_date", "critical", True,
                                None, 0, "start_date is given")  # fmt: skip
    views = tuple(CountryView(code, {"visits": 2}, (), (), ()) for code in ("KR", "VN", "CN"))
    return QualityReport("run-u", (passed,), None, countries=views, unresolved_names=names, unresolved_counts=counts)


def test_the_rows_are_read_with_their_file_row_column_and_what_they_leave_out(tmp_path: Path) -> None:
    report = report_of(build(tmp_path / "build.duckdb"))

    assert report.unresolved_counts == {"KR": 1, "VN": 2}
    first = report.unresolved_names[2]  # by country, file and row: KR's, VN/donations.csv, VN/visits.csv
    assert (first.file_path, first.row_number, first.column) == ("VN/visits.csv", 3, "guest_institution")
    assert first.left_out == (
        "the VN-KR visit of 2016-05-03 with National Library of Viet Nam (VN) is missing from every view of "
        "national libraries (its institution has no type)"
    )
    assert first.sentence.startswith(
        "VN/visits.csv row 3, column guest_institution: “국립중앙도서관 (National Library of Korea)” (KR) is not a "
        "known institution"
    )
    assert "Closest known of KR: National Library of Korea" in first.sentence
    assert report.unresolved_names[1].column == "donor"
    assert "No curated institution of VN comes close." in report.unresolved_names[1].sentence


def test_they_count_as_warnings_in_the_verdict(tmp_path: Path) -> None:
    report = report_of(build(tmp_path / "build.duckdb"))

    assert report.passed
    assert report.warning_count == 3
    assert report.summary() == "data quality: 1 check, 0 critical failures, 3 warnings (3 unresolved institution names)"


def test_no_page_says_every_check_passed_or_zero_warnings_while_one_exists(tmp_path: Path) -> None:
    report = report_of(build(tmp_path / "build.duckdb"), shown=1)

    home = front_page(report)
    assert "Every check passed" not in home
    assert "3 rows of coordinators' files name an institution" in re.sub(r"\s+", " ", home)
    vn = _country_page(report, next(v for v in report.countries if v.country_code == "VN"))
    assert 'id="warning-count">2 warnings<' in vn
    assert "VN/donations.csv" in vn and "... and 1 more rows naming unresolved institutions" in vn
    cn = _country_page(report, next(v for v in report.countries if v.country_code == "CN"))
    assert "unresolved-names" not in cn  # CN has none
    index = _countries_index(report)
    assert re.search(r'VN</a></td><td>0</td><td>0</td>\s*<td>0</td>\s*<td><span class="warning">2</span>', index)


def test_a_build_without_the_review_list_has_no_unresolved_names(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:
        assert read_unresolved_names(con) == ((), {})
