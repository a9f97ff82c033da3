"""Messages a librarian can act on (issue 32): each hostile file below is made of real bytes, and
the test asserts the words the coordinator reads, never the reader's own ('state machine',
'strict_mode', 'Expected Number of Columns')."""

from __future__ import annotations

from libcoop.ingest.check import MAX_PROBLEM_EXAMPLES
from libcoop.ingest.reports import render
from tests.conftest import MEMBERSHIPS_HEADER
from tests.unit.test_contract_rules import check, csv_of, problems

ROWS = ("m1,NLV,VN,IFLA,member,2000,,s", "m2,NLV,VN,CDNL,member,2001,,s", "m3,NLV,VN,CONSAL,member,2002,,s")
READERS_WORDS = ("state machine", "strict_mode", "Expected Number of Columns", "Invalid unicode", "CSV Error")


def _no_readers_words(report: str) -> None:
    assert not [w for w in READERS_WORDS if w.lower() in report.lower()], report


def test_cr_only_line_ends_are_read(drop):
    data = "\r".join((MEMBERSHIPS_HEADER, *ROWS)).encode() + b"\r"
    checked = check(drop, "VN/memberships.csv", data)
    assert checked.accepted, problems(checked)
    assert checked.rows.column("organization").to_pylist() == ["IFLA", "CDNL", "CONSAL"]
    assert checked.rows.column("source_row_number").to_pylist() == [2, 3, 4]


def test_mixed_line_ends_are_read(drop):
    data = (MEMBERSHIPS_HEADER + "\r\n" + ROWS[0] + "\n" + ROWS[1] + "\r" + ROWS[2] + "\r\n").encode()
    checked = check(drop, "VN/memberships.csv", data)
    assert checked.accepted, problems(checked)
    assert checked.rows.column("organization").to_pylist() == ["IFLA", "CDNL", "CONSAL"]


def test_a_ten_megabyte_cell_is_refused_in_words_naming_its_line(drop):
    data = csv_of(MEMBERSHIPS_HEADER, ROWS[0], f'm2,"{"x" * 10_000_000}",VN,IFLA,,2000,,s').encode()
    checked = check(drop, "VN/memberships.csv", data)
    assert not checked.accepted
    report = render(checked)
    _no_readers_words(report)
    assert "not the same number of fields" not in report
    assert "line 3" in report or "row 3" in report


def test_an_unclosed_quote_is_named_with_its_line(drop):
    data = csv_of(MEMBERSHIPS_HEADER, ROWS[0], 'm2,"NLV,VN,IFLA,member,2001,,s', ROWS[2]).encode()
    checked = check(drop, "VN/memberships.csv", data)
    assert not checked.accepted
    report = render(checked)
    _no_readers_words(report)
    assert 'quote (")' in report


def test_a_line_with_too_many_fields_is_named_in_words(drop):
    data = csv_of(MEMBERSHIPS_HEADER, ROWS[0], ROWS[1] + ",extra,extra").encode()
    checked = check(drop, "VN/memberships.csv", data)
    assert [(p.rule, p.row) for p in checked.problems] == [("malformed_csv", 3)]
    report = render(checked)
    _no_readers_words(report)
    assert "- line 3, " in report and "this line has more fields than the header" in report


def test_one_row_follows_and_two_rows_follow(drop):
    one = render(check(drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, ROWS[0])), dry_run=True)
    two = render(check(drop, "VN/memberships_b.csv", csv_of(MEMBERSHIPS_HEADER, *ROWS[:2])), dry_run=True)
    assert "OK, 1 row follows the contract" in one
    assert "OK, 2 rows follow the contract" in two


def test_many_unknown_columns_are_one_line_of_the_report(drop):
    # 150: a file may have up to 200 columns (libcoop.ingest.bounds refuses wider ones before reading).
    extra = [f"x{i}" for i in range(150)]
    header = MEMBERSHIPS_HEADER + "," + ",".join(extra)
    checked = check(drop, "VN/memberships.csv", csv_of(header, ROWS[0] + "," * len(extra)))
    assert checked.accepted, problems(checked)
    report = render(checked)
    assert "150 unknown columns ignored, e.g. 'x0', 'x1', 'x2', 'x3', 'x4', ..." in report
    assert len(report.splitlines()) < 10


def test_thousands_of_problems_list_only_the_first_ones(drop):
    rows = [f"m{i},NLV,VN,IFLA,member,next year,,s" for i in range(1000)]
    checked = check(drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, *rows))
    report = render(checked)
    assert "1000 x this is not a date" in report
    assert report.count("- row ") == MAX_PROBLEM_EXAMPLES
    assert f"Only the first {MAX_PROBLEM_EXAMPLES} problems are listed" in report
