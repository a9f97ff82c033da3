"""Values the contract's forms allow but no tool downstream can hold: rejected by the check,
with the rule named, instead of stopping the run later (faults issue, cases 1 and 2)."""

from __future__ import annotations

import csv
import io
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libcoop.ingest import bounds
from libcoop.ingest.drop_folder import discover
from tests.conftest import DONATIONS_HEADER, GOOD_VISIT, MEMBERSHIPS_HEADER, VISITS_HEADER
from tests.unit.test_contract_rules import check, csv_of, problems


@pytest.mark.parametrize("joined", ["0000", "0999", "2101", "0001-01-01"])
def test_a_year_outside_1000_to_2100_is_rejected(drop, joined):
    checked = check(drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, f"m1,NLV,VN,IFLA,member,{joined},,s"))
    assert problems(checked) == [("date_out_of_range", 2, "joined", joined)]


@pytest.mark.parametrize("joined", ["1000", "2100-12-31"])
def test_the_bounds_themselves_are_accepted(drop, joined):
    checked = check(drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, f"m1,NLV,VN,IFLA,member,{joined},,s"))
    assert checked.accepted, problems(checked)


@pytest.mark.parametrize("count", ["12345678901234567890", "1000000001", "9" * 400])
def test_a_count_beyond_a_billion_is_rejected_not_a_crash(drop, count):
    row = f"v1,delegation,NLV,VN,NLC,CN,2015,,1,{count},,,,s"
    checked = check(drop, "VN/visits.csv", csv_of(VISITS_HEADER, row))
    assert problems(checked) == [("number_too_large", 2, "participants", count[:120])]


def test_a_billion_is_still_a_count(drop):
    checked = check(drop, "VN/visits.csv", csv_of(VISITS_HEADER, "v1,delegation,NLV,VN,NLC,CN,2015,,1,1000000000,,,,s"))
    assert checked.accepted, problems(checked)
    assert checked.rows.column("participants").to_pylist() == [1_000_000_000]


@pytest.mark.parametrize("amount", ["1" + "0" * 400, "1000000000000001", "99999999999999999.5"])
def test_an_amount_beyond_10_to_the_15_is_rejected_not_infinite(drop, amount):
    row = f"d1,Ford Foundation,US,foundation,NLV,VN,funding,,,{amount},USD,2004,,s"
    checked = check(drop, "VN/donations.csv", csv_of(DONATIONS_HEADER, row))
    assert problems(checked) == [("number_too_large", 2, "amount", amount[:120])]


@pytest.mark.parametrize(
    ("start", "end"), [("2016-05-10", "2016"), ("2016-05-10", "2016-05"), ("2012-09-07", "2012-09")]
)
def test_an_end_period_is_compared_by_its_last_day(drop, start, end):
    row = f"v1,delegation,NLV,VN,NLC,CN,{start},{end},1,3,,,,s"
    checked = check(drop, "VN/visits.csv", csv_of(VISITS_HEADER, row))
    assert checked.accepted, problems(checked)


def test_an_end_period_before_the_start_is_rejected(drop):
    row = "v1,delegation,NLV,VN,NLC,CN,2016-05-10,2016-04,1,3,,,,s"
    checked = check(drop, "VN/visits.csv", csv_of(VISITS_HEADER, row))
    assert [p[0] for p in problems(checked)] == ["end_before_start"]


# --- the shape of a file, bounded before it is read (issue 30: "one small file holds the night
# hostage": 100,000 columns cost a run 8 minutes, a 600,000-character name 18) -----------------

HOST = "National Library of China"


def timed_check(drop, relative: str, content: str | bytes):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    checked = check(drop, relative, content)
    return checked, time.monotonic() - started


def test_a_file_of_100000_columns_is_refused_in_seconds(drop):
    header = VISITS_HEADER + "," + ",".join(f"extra{i:06d}" for i in range(100_000))
    content = csv_of(header, GOOD_VISIT + "," * 100_000)
    assert len(content) > 1_300_000
    checked, seconds = timed_check(drop, "VN/visits.csv", content)
    assert problems(checked) == [("too_many_columns", 1, None, None)]
    assert checked.problems[0].detail == f"100,014 columns; a file has at most {bounds.MAX_COLUMNS}"
    assert seconds < 5


def test_a_row_of_5000_columns_under_a_good_header_is_refused_with_its_row(drop):
    content = csv_of(VISITS_HEADER, GOOD_VISIT, GOOD_VISIT.replace("v1,", "v2,") + "," * 5000)
    checked = check(drop, "VN/visits.csv", content)
    assert problems(checked) == [("too_many_columns", 3, None, None)]


def test_a_name_of_600000_characters_is_refused_in_seconds(drop):
    content = csv_of(VISITS_HEADER, GOOD_VISIT.replace(HOST, "國" * 600_000))
    assert len(content.encode("utf-8")) > 1_800_000
    checked, seconds = timed_check(drop, "VN/visits.csv", content)
    assert problems(checked) == [("cell_too_long", 2, None, None)]
    assert seconds < 5


def test_a_quoted_cell_beyond_excel_s_limit_is_refused_even_with_commas_and_newlines_inside(drop):
    description = '"' + ("a, b\n" * 7000) + '"'  # 35,000 characters, no line over 5
    row = GOOD_VISIT.replace("35th business exchange", description)
    checked = check(drop, "VN/visits.csv", csv_of(VISITS_HEADER, row))
    assert [p[0] for p in problems(checked)] == ["cell_too_long"]


def test_a_name_beyond_1000_characters_is_refused_naming_row_and_column(drop):
    name = "National Library " * 100  # 1,700 characters, with spaces like a pasted paragraph
    checked = check(drop, "VN/visits.csv", csv_of(VISITS_HEADER, GOOD_VISIT, GOOD_VISIT.replace(HOST, name)))
    (problem,) = checked.problems
    assert (problem.rule, problem.row, problem.column) == ("name_too_long", 3, "host_institution")
    assert problem.detail == "1,700 characters; a name has at most 1,000"
    assert problem.value == name[:60] + "..."


def test_a_long_description_is_not_a_name(drop):
    row = GOOD_VISIT.replace("35th business exchange", "a" * 10_000)
    checked = check(drop, "VN/visits.csv", csv_of(VISITS_HEADER, row))
    assert checked.accepted, problems(checked)


def test_too_many_rows_are_refused_before_the_read(drop, monkeypatch):
    monkeypatch.setattr(bounds, "MAX_ROWS", 3)
    rows = [GOOD_VISIT.replace("v1,", f"v{i},") for i in range(4)]
    checked = check(drop, "VN/visits.csv", csv_of(VISITS_HEADER, *rows))
    assert [(p.rule, p.detail) for p in checked.problems] == [("too_many_rows", "more than 3 rows")]
    checked = check(drop, "VN/visits_b.csv", csv_of(VISITS_HEADER, *rows[:3]))
    assert checked.accepted, problems(checked)


def test_a_utf16_file_is_bounded_too(drop):
    header = VISITS_HEADER + "," + ",".join(f"x{i}" for i in range(300))
    content = csv_of(header, GOOD_VISIT + "," * 300).encode("utf-16")
    checked = check(drop, "VN/visits.csv", content)
    assert problems(checked) == [("too_many_columns", 1, None, None)]


CELLS = st.text(st.sampled_from('ab,"\n國 '), max_size=8)


@given(
    rows=st.lists(st.tuples(st.sampled_from([0, 10, 999, 1000, 1001, 3000]), CELLS), min_size=1, max_size=6),
    chunk=st.sampled_from([64, 1 << 20]),
)
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_byte_pass_and_the_exact_pass_agree_on_names(tmp_path_factory, rows, chunk):
    """Whatever quotes, commas and line breaks the cells hold (and however the file is chunked),
    a name beyond 1,000 characters is found, and none other."""
    folder = tmp_path_factory.mktemp("bounds") / "VN"
    folder.mkdir()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["record_id", "institution", "notes"])
    for i, (length, notes) in enumerate(rows):
        writer.writerow([f"m{i}", ("N" * length), notes])
    (folder / "memberships.csv").write_text(buffer.getvalue(), encoding="utf-8")
    (found,) = discover(folder.parent).files
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bounds, "_CHUNK", chunk)
        problem = bounds.precheck(found)
    longest = max(length for length, _ in rows)
    if longest > bounds.MAX_NAME_CHARS:
        first = next(i for i, (length, _) in enumerate(rows) if length > bounds.MAX_NAME_CHARS)
        assert problem is not None and (problem.rule, problem.column) == ("name_too_long", "institution")
        assert problem.row == 2 + first  # rows as Excel numbers them, whatever line breaks the cells hold
    else:
        assert problem is None
