"""Local date and number forms, and country names in their own language (docs/contract.md
section 1, turn 3): read with a note showing the reading, or refused with the readings suggested."""

from __future__ import annotations

import datetime as dt

import pytest

from libcoop.ingest.reports import render
from tests.conftest import DONATIONS_HEADER, GOOD_DONATION, MEMBERSHIPS_HEADER
from tests.unit.test_contract_rules import check, csv_of, problems


@pytest.mark.parametrize(
    ("written", "first_day", "precision", "read_as"),
    [
        ("2023/4/1", dt.date(2023, 4, 1), "day", "2023-04-01"),
        ("2023/04/01", dt.date(2023, 4, 1), "day", "2023-04-01"),
        ("2023.04", dt.date(2023, 4, 1), "month", "2023-04"),
        ("2023.4.1", dt.date(2023, 4, 1), "day", "2023-04-01"),
        ("2023年4月1日", dt.date(2023, 4, 1), "day", "2023-04-01"),
        ("2023年4月", dt.date(2023, 4, 1), "month", "2023-04"),
        ("2023년 4월 1일", dt.date(2023, 4, 1), "day", "2023-04-01"),
        ("2023년 4월", dt.date(2023, 4, 1), "month", "2023-04"),
    ],
)
def test_unambiguous_local_dates_are_read_with_a_note(drop, written, first_day, precision, read_as):
    checked = check(drop, "JP/memberships.csv", csv_of(MEMBERSHIPS_HEADER, f"m1,NDL,JP,IFLA,,{written},,s"))
    assert checked.accepted, problems(checked)
    (row,) = checked.rows.to_pylist()
    assert (row["joined"], row["joined_precision"]) == (first_day, precision)
    assert f"column joined: 1 date in a local form was read, e.g. row 2 '{written}' as {read_as}" in render(checked)


@pytest.mark.parametrize("written", ["2023/13/1", "2023/2/30", "2023年13月"])
def test_a_local_form_naming_no_real_day_is_rejected_as_written(drop, written):
    checked = check(drop, "JP/memberships.csv", csv_of(MEMBERSHIPS_HEADER, f"m1,NDL,JP,IFLA,,{written},,s"))
    assert problems(checked) == [("bad_date", 2, "joined", written)]


def test_day_first_or_month_first_stays_rejected_with_both_readings(drop):
    checked = check(drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, "m1,NLV,VN,IFLA,,03/05/2015,,s"))
    assert problems(checked) == [("bad_date", 2, "joined", "03/05/2015")]
    report = render(checked)
    assert "write 2015-05-03 for 3 May 2015 or 2015-03-05 for 5 March 2015" in report


def _donation(quantity: str, amount: str) -> str:
    return GOOD_DONATION.replace(",,100000,USD,", f",{quantity},{amount},USD,")


@pytest.mark.parametrize(
    ("quantity", "amount", "read_quantity", "read_amount"),
    [
        ('"1,500"', '"1,500,000"', 1500, 1_500_000.0),
        ("1 500", "1 500 000", 1500, 1_500_000.0),
        ("1\u00a0500", "1\u202f500\u2009000.50", 1500, 1_500_000.5),
        ('"2,062"', '"12,345.67"', 2062, 12345.67),
    ],
)
def test_thousands_groups_are_read_with_a_note(drop, quantity, amount, read_quantity, read_amount):
    checked = check(drop, "KR/donations.csv", csv_of(DONATIONS_HEADER, _donation(quantity, amount)))
    assert checked.accepted, problems(checked)
    (row,) = checked.rows.to_pylist()
    assert (row["quantity"], row["amount"]) == (read_quantity, read_amount)
    report = render(checked)
    assert "column quantity: 1 number with thousands separators was read, e.g. row 2" in report
    assert f"as {read_quantity}" in report


@pytest.mark.parametrize("amount", ["1,50,000", "1,500 000", "15,00,000"])
def test_groups_not_of_three_or_mixed_are_not_numbers(drop, amount):
    checked = check(drop, "KR/donations.csv", csv_of(DONATIONS_HEADER, _donation("", f'"{amount}"')))
    assert problems(checked) == [("not_a_number", 2, "amount", amount)]


@pytest.mark.parametrize(("amount", "reading"), [("1.234,56", "1234.56"), ("12,5", "12.5")])
def test_a_decimal_comma_is_rejected_with_its_likely_reading(drop, amount, reading):
    checked = check(drop, "VN/donations.csv", csv_of(DONATIONS_HEADER, _donation("", f'"{amount}"')))
    assert problems(checked) == [("decimal_comma", 2, "amount", amount)]
    report = render(checked)
    assert f'value "{amount}": this number uses a comma as decimal mark' in report
    assert f"(probably {reading})" in report


@pytest.mark.parametrize("padding", ["\u00a0", "\t", "\u3000", " \u00a0"])
def test_a_no_break_space_or_tab_beside_a_number_is_trimmed(drop, padding):
    checked = check(drop, "VN/donations.csv", csv_of(DONATIONS_HEADER, _donation(f"{padding}12", f"250{padding}")))
    assert checked.accepted, problems(checked)
    (row,) = checked.rows.to_pylist()
    assert (row["quantity"], row["amount"]) == (12, 250.0)


@pytest.mark.parametrize(
    ("name", "iso2"),
    [("日本", "JP"), ("中国", "CN"), ("Việt Nam", "VN"), ("대한민국", "KR"), ("Nhật Bản", "JP"), ("韓国", "KR")],
)
def test_country_names_in_their_own_language_resolve(drop, name, iso2):
    checked = check(drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, f"m1,Some library,{name},IFLA,,2000,,s"))
    assert checked.accepted, problems(checked)
    assert checked.rows.column("country").to_pylist() == [iso2]


@pytest.mark.parametrize(
    ("name", "both"),
    [
        ("Korea", ("(KP)", "(KR)")),
        ("Congo", ("(CD)", "(CG)")),
        ("コンゴ", ("(CD)", "(CG)")),
        ("刚果", ("(CD)", "(CG)")),
    ],
)
def test_a_country_name_that_could_mean_two_is_rejected_with_both(drop, name, both):
    checked = check(drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, f"m1,Some library,{name},IFLA,,2000,,s"))
    assert problems(checked) == [("unknown_country", 2, "country", name)]
    (problem,) = checked.problems
    assert problem.detail.startswith("this name could mean ")
    assert all(code in problem.detail for code in both)
    assert "did you mean" not in problem.detail
