"""Title rows above the header (docs/contract.md section 1, turn 3): skipped with a note, rows
numbered as Excel numbers them, and never a problem caused by reading a title as the header."""

from __future__ import annotations

import io

import openpyxl
import pytest

from libcoop.ingest.reports import render
from tests.conftest import GOOD_VISIT, MEMBERSHIPS_HEADER, VISITS_HEADER
from tests.unit.test_contract_rules import check, csv_of, problems

TITLE = "Hợp tác quốc tế của Thư viện Quốc gia Việt Nam, 2015"


def _xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_csv_title_and_notes_above_the_header_are_skipped_with_a_note(drop):
    content = csv_of(
        f'"{TITLE}"',
        "Prepared by the international cooperation office,,,",
        "",
        MEMBERSHIPS_HEADER,
        "m1,NLV,VN,IFLA,member,2000,,s",
        "m2,NLV,VN,CDNL,member,2001,,s",
    )
    checked = check(drop, "VN/memberships.csv", content)
    assert checked.accepted, problems(checked)
    assert checked.rows.column("source_row_number").to_pylist() == [5, 6]
    assert checked.rows.column("organization").to_pylist() == ["IFLA", "CDNL"]
    report = render(checked)
    assert "rows 1-3 above the header were not read (a title or notes: the header is row 4)" in report
    assert "required column" not in report and "unknown column" not in report


def test_a_problem_below_a_title_is_reported_at_its_excel_row(drop):
    content = csv_of(TITLE, MEMBERSHIPS_HEADER, "m1,NLV,VN,IFLA,member,2000,,s", "m2,NLV,VN,IFLA,member,next year,,s")
    checked = check(drop, "VN/memberships.csv", content)
    assert problems(checked) == [("bad_date", 4, "joined", "next year")]
    assert "row 1 above the header was not read" in render(checked)


def test_a_broken_line_below_a_title_is_named_by_its_line_in_the_file(drop):
    content = csv_of(TITLE, "", MEMBERSHIPS_HEADER, "m1,NLV,VN,IFLA,member,2000,,s", "m2,NLV,VN,IFLA,2001")
    checked = check(drop, "VN/memberships.csv", content)
    assert [(p.rule, p.row) for p in checked.problems] == [("malformed_csv", 5)]
    assert "this line has fewer fields than the header" in render(checked)


def test_an_xlsx_title_row_is_skipped_and_gives_no_missing_columns_or_sides(drop):
    header = VISITS_HEADER.split(",")
    content = _xlsx([[TITLE], [], header, GOOD_VISIT.split(","), GOOD_VISIT.replace("v1,", "v2,").split(",")])
    checked = check(drop, "CN/visits.xlsx", content)
    assert checked.accepted, problems(checked)
    assert checked.rows.column("source_row_number").to_pylist() == [4, 5]
    report = render(checked)
    assert "rows 1-2 above the header were not read" in report
    assert "needs a host or guest institution" not in report


def test_more_than_ten_rows_above_the_header_are_not_searched(drop):
    content = csv_of(*[f"note {n}" for n in range(11)], MEMBERSHIPS_HEADER, "m1,NLV,VN,IFLA,member,2000,,s")
    checked = check(drop, "VN/memberships.csv", content)
    assert not checked.accepted
    assert {p.rule for p in checked.problems} <= {"missing_column", "malformed_csv"}


@pytest.mark.parametrize("above", [1, 10])
def test_up_to_ten_rows_above_the_header_are_skipped(drop, above):
    content = csv_of(*[f"note {n}" for n in range(above)], MEMBERSHIPS_HEADER, "m1,NLV,VN,IFLA,member,2000,,s")
    checked = check(drop, "VN/memberships.csv", content)
    assert checked.accepted, problems(checked)
    assert checked.rows.column("source_row_number").to_pylist() == [above + 2]


def test_a_header_missing_a_column_below_a_title_is_reported_on_the_header_row(drop):
    content = csv_of(TITLE, MEMBERSHIPS_HEADER.replace("organization,", ""), "m1,NLV,VN,member,2000,,s")
    checked = check(drop, "VN/memberships.csv", content)
    assert problems(checked) == [("missing_column", 2, "organization", None)]
