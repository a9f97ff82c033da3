"""Values the contract's forms allow but no tool downstream can hold: rejected by the check,
with the rule named, instead of stopping the run later (faults issue, cases 1 and 2)."""

from __future__ import annotations

import pytest

from tests.conftest import DONATIONS_HEADER, MEMBERSHIPS_HEADER, VISITS_HEADER
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
