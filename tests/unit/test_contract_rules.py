"""One test per rule of the drop-folder contract (docs/contract.md section 1), each on a small file."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from libcoop.ingest.check import CheckedFile, check_file
from libcoop.ingest.drop_folder import discover
from libcoop.ingest.reports import render
from tests.conftest import (
    DONATIONS_HEADER,
    GOOD_DONATION,
    GOOD_MEMBERSHIP,
    GOOD_VISIT,
    MEMBERSHIPS_HEADER,
    VISITS_HEADER,
)


def check(drop, relative: str, content: str | bytes) -> CheckedFile:
    drop(relative, content)
    (found,) = [f for f in discover(drop.incoming).files if f.relative_path == relative]
    return check_file(found, drop.incoming)


def problems(checked: CheckedFile) -> list[tuple[str, int | None, str | None, str | None]]:
    return [(p.rule, p.row, p.column, p.value) for p in checked.problems]


def accepted(drop, relative: str, content: str | bytes) -> CheckedFile:
    """``check``, asserting that the file is accepted (its problems are the message if not)."""
    checked = check(drop, relative, content)
    assert checked.accepted, problems(checked)
    return checked


def csv_of(header: str, *rows: str) -> str:
    return "\n".join((header, *rows)) + "\n"


def test_good_visit_file_is_accepted_and_normalized(drop):
    checked = accepted(drop, "CN/visits.csv", csv_of(VISITS_HEADER, GOOD_VISIT))
    (row,) = checked.rows.to_pylist()
    assert row["host_country"] == "CN"
    assert row["guest_country"] == "JP"
    assert row["start_date"] == dt.date(2016, 11, 28)
    assert row["start_date_precision"] == "day"
    assert row["participants"] == 12
    assert row["source_row_number"] == 2


@pytest.mark.parametrize(
    ("text", "first_day", "precision"),
    [
        ("2015", dt.date(2015, 1, 1), "year"),
        ("2015-11", dt.date(2015, 11, 1), "month"),
        ("2015-11-10", dt.date(2015, 11, 10), "day"),
    ],
)
def test_three_date_precisions_keep_first_day_and_precision(drop, text, first_day, precision):
    checked = check(drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, f"m1,NLV,VN,IFLA,member,{text},,s"))
    assert checked.accepted
    (row,) = checked.rows.to_pylist()
    assert (row["joined"], row["joined_precision"]) == (first_day, precision)


@pytest.mark.parametrize("bad", ["2015-13", "15/11/2015", "2015-02-30", "next year", "2015-1"])
def test_unparsable_date_is_rejected(drop, bad):
    checked = check(drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, f"m1,NLV,VN,IFLA,member,{bad},,s"))
    assert problems(checked) == [("bad_date", 2, "joined", bad)]


def test_missing_required_column_is_rejected(drop):
    header = MEMBERSHIPS_HEADER.replace("organization,", "")
    checked = check(drop, "VN/memberships.csv", csv_of(header, "m1,NLV,VN,member,2000,,s"))
    assert problems(checked) == [("missing_column", 1, "organization", None)]


def test_empty_required_value_is_rejected(drop):
    checked = check(drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, "m1,,VN,IFLA,member,2000,,s"))
    assert problems(checked) == [("required_value", 2, "institution", None)]


def test_end_before_start_is_rejected_but_same_period_is_not(drop):
    rows = (
        GOOD_VISIT.replace("2016-12-04", "2016-11-01"),  # ends before it starts
        "v2,training,NLC,CN,,,2016-05-10,2016,1,3,,,,s",  # ends "in 2016": fine
    )
    checked = check(drop, "CN/visits.csv", csv_of(VISITS_HEADER, *rows))
    assert problems(checked) == [("end_before_start", 2, "end_date", "2016-11-01")]
    assert checked.problems[0].detail == "start_date is 2016-11-28"


@pytest.mark.parametrize(("column_index", "column"), [(9, "participants"), (8, "quantity")])
def test_negative_numbers_are_rejected(drop, column_index, column):
    if column == "participants":
        row = GOOD_VISIT.split(",")
        row[column_index] = "-5"
        checked = check(drop, "CN/visits.csv", csv_of(VISITS_HEADER, ",".join(row)))
    else:
        row = GOOD_DONATION.split(",")
        row[column_index] = "-5"
        checked = check(drop, "VN/donations.csv", csv_of(DONATIONS_HEADER, ",".join(row)))
    assert problems(checked) == [("negative_number", 2, column, "-5")]


def test_negative_amount_is_rejected(drop):
    checked = check(drop, "VN/donations.csv", csv_of(DONATIONS_HEADER, GOOD_DONATION.replace("100000", "-100")))
    assert problems(checked) == [("negative_number", 2, "amount", "-100")]


def test_amount_with_a_currency_sign_or_words_is_not_a_number(drop):
    row = GOOD_DONATION.replace("100000", '"$100,000"')
    checked = check(drop, "VN/donations.csv", csv_of(DONATIONS_HEADER, row))
    assert problems(checked) == [("not_a_number", 2, "amount", "$100,000")]


def test_zero_delegations_is_below_the_minimum_of_one(drop):
    row = GOOD_VISIT.replace(",1,12,", ",0,12,")
    checked = check(drop, "CN/visits.csv", csv_of(VISITS_HEADER, row))
    assert problems(checked) == [("below_minimum", 2, "delegations", "0")]


def test_amount_without_currency_is_rejected(drop):
    checked = check(drop, "VN/donations.csv", csv_of(DONATIONS_HEADER, GOOD_DONATION.replace(",USD,", ",,")))
    assert problems(checked) == [("amount_without_currency", 2, "currency", None)]


def test_unknown_currency_is_rejected(drop):
    checked = check(drop, "VN/donations.csv", csv_of(DONATIONS_HEADER, GOOD_DONATION.replace(",USD,", ",DOL,")))
    assert problems(checked) == [("unknown_currency", 2, "currency", "DOL")]


def test_currency_code_is_upper_cased(drop):
    checked = check(drop, "VN/donations.csv", csv_of(DONATIONS_HEADER, GOOD_DONATION.replace(",USD,", ",usd,")))
    assert checked.rows.column("currency").to_pylist() == ["USD"]


def test_unknown_country_is_rejected(drop):
    checked = check(
        drop, "VN/donations.csv", csv_of(DONATIONS_HEADER, GOOD_DONATION.replace("United States", "Atlantis"))
    )
    assert problems(checked) == [("unknown_country", 2, "donor_country", "Atlantis")]


@pytest.mark.parametrize(
    ("spelling", "iso2"),
    [
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("VN", "VN"),
        ("Republic of Korea", "KR"),
        ("South Korea", "KR"),
        ("Korea, Republic of", "KR"),
        ("Lao PDR", "LA"),
        ("U.S.A", "US"),
        ("the Netherlands", "NL"),
        ("People's Republic of China", "CN"),
    ],
)
def test_country_names_in_common_spellings_resolve(drop, spelling, iso2):
    quoted = '"' + spelling + '"' if "," in spelling else spelling
    checked = accepted(
        drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, f"m1,Some library,{quoted},IFLA,,2000,,s")
    )
    assert checked.rows.column("country").to_pylist() == [iso2]


def test_duplicate_record_id_names_every_row(drop):
    rows = (GOOD_MEMBERSHIP, GOOD_MEMBERSHIP.replace("IFLA", "CONSAL"), GOOD_MEMBERSHIP.replace("m1,", "m2,"))
    checked = check(drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, *rows))
    assert problems(checked) == [
        ("duplicate_record_id", 2, "record_id", "m1"),
        ("duplicate_record_id", 3, "record_id", "m1"),
    ]


def test_header_case_and_spaces_do_not_matter(drop):
    header = " Record_ID , INSTITUTION,Country ,organization,Membership_Type,JOINED,Left,Source"
    checked = accepted(drop, "VN/memberships.csv", csv_of(header, GOOD_MEMBERSHIP))
    assert checked.rows.column("institution").to_pylist() == ["National Library of Viet Nam"]


def test_unknown_extra_columns_are_ignored_with_a_warning(drop):
    checked = check(drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER + ",colour", GOOD_MEMBERSHIP + ",blue"))
    assert checked.accepted
    assert checked.warnings == ["VN/memberships.csv: unknown column 'colour' ignored"]
    assert "colour" not in checked.rows.column_names


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_utf8_with_and_without_bom(drop, bom):
    content = bom + csv_of(MEMBERSHIPS_HEADER, "m1,中国国家图书馆,China,IFLA,member,1981,,s").encode()
    checked = accepted(drop, "CN/memberships.csv", content)
    assert checked.rows.column("institution").to_pylist() == ["中国国家图书馆"]
    assert checked.rows.column("record_id").to_pylist() == ["m1"]


def test_bytes_that_decode_in_no_accepted_encoding_are_rejected_with_their_line(drop):
    # 0x81 is neither UTF-8 nor defined in cp1252, Singapore's legacy code page.
    content = (
        csv_of(MEMBERSHIPS_HEADER, GOOD_MEMBERSHIP, "m2,Biblioth\xe8que nationale,France,IFLA,,2000,,s")
        .encode("latin-1")
        .replace(b"\xe8", b"\x81")
    )
    checked = check(drop, "SG/memberships.csv", content)
    assert [(p.rule, p.row) for p in checked.problems] == [("not_utf8", 3)]


def test_empty_file_is_rejected(drop):
    assert problems(check(drop, "VN/visits.csv", b"")) == [("empty_file", None, None, None)]


def test_header_only_file_is_rejected(drop):
    assert problems(check(drop, "VN/visits.csv", VISITS_HEADER + "\n")) == [("no_rows", 2, None, None)]


def test_semicolon_separated_file_gets_its_own_advice(drop):
    checked = check(drop, "VN/memberships.csv", "institution;country;organization;joined\nNLV;VN;IFLA;2000\n")
    assert [p.rule for p in checked.problems] == ["wrong_separator"]


def test_row_with_too_many_fields_is_rejected_with_its_line(drop):
    checked = check(
        drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, GOOD_MEMBERSHIP, GOOD_MEMBERSHIP + ",extra,fields")
    )
    assert [(p.rule, p.row) for p in checked.problems] == [("malformed_csv", 3)]


def test_rfc4180_quoting_keeps_commas_and_newlines_inside_cells(drop):
    row = 'm1,"National Library of Korea, Seoul","Korea, Republic of",IFLA,"member,\nfull",2000,,s'
    checked = accepted(drop, "KR/memberships.csv", csv_of(MEMBERSHIPS_HEADER, row))
    assert checked.rows.column("institution").to_pylist() == ["National Library of Korea, Seoul"]


def test_not_in_list_activity_type_lists_the_accepted_values(drop):
    checked = check(drop, "CN/visits.csv", csv_of(VISITS_HEADER, GOOD_VISIT.replace("business_exchange", "party")))
    (problem,) = checked.problems
    assert (problem.rule, problem.column, problem.value) == ("not_in_list", "activity_type", "party")
    assert "mutual_visit" in problem.detail


def test_activity_type_written_in_words_is_normalized(drop):
    checked = check(
        drop, "CN/visits.csv", csv_of(VISITS_HEADER, GOOD_VISIT.replace("business_exchange", "Business exchange"))
    )
    assert checked.rows.column("activity_type").to_pylist() == ["business_exchange"]


def test_visit_needs_a_side_and_a_side_needs_its_country(drop):
    rows = ("v1,conference,,,,,2016,,1,60,,,,s", "v2,conference,NLC,,,,2016,,1,60,,,,s")
    checked = check(drop, "CN/visits.csv", csv_of(VISITS_HEADER, *rows))
    assert problems(checked) == [
        ("side_missing", 2, "host_institution", None),
        ("country_for_side_missing", 3, "host_country", None),
    ]


def test_visit_defaults_one_delegation_ending_when_it_started(drop):
    checked = check(drop, "CN/visits.csv", csv_of(VISITS_HEADER, "v1,meeting,NLC,CN,,,2012-09,,,,,,,s"))
    (row,) = checked.rows.to_pylist()
    assert (row["delegations"], row["end_date"], row["end_date_precision"]) == (1, dt.date(2012, 9, 1), "month")


def test_formula_like_cells_are_stored_as_text(drop):
    checked = check(
        drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, 'm1,NLV,VN,IFLA,member,2000,,"=HYPERLINK(""x"")"')
    )
    assert checked.rows.column("source").to_pylist() == ['=HYPERLINK("x")']


def _xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.create_sheet("notes").append(["this second sheet is ignored"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_first_sheet_is_read_with_typed_cells(drop):
    content = _xlsx(
        [
            MEMBERSHIPS_HEADER.split(","),
            ["m1", "National Library of Viet Nam", "Viet Nam", "IFLA", "member", 2000, None, "see =1+1"],
            [None] * 8,  # trailing blank row, as Excel leaves them
            ["m2", "NLV", "VN", "CDNL", "official member", dt.datetime(2007, 5, 1), None, "s"],
        ]
    )
    checked = accepted(drop, "VN/memberships_nlv.xlsx", content)
    rows = checked.rows.to_pylist()
    assert [r["joined"] for r in rows] == [dt.date(2000, 1, 1), dt.date(2007, 5, 1)]
    assert [r["joined_precision"] for r in rows] == ["year", "day"]
    assert [r["source_row_number"] for r in rows] == [2, 4]  # Excel's own row numbers
    assert rows[0]["source"] == "see =1+1"  # text, never evaluated (formulas: tests/unit/test_xlsx_as_shown.py)


def test_xlsx_errors_name_the_excel_row(drop):
    content = _xlsx([MEMBERSHIPS_HEADER.split(","), ["m1", "NLV", "Atlantis", "IFLA", None, 2000, None, "s"]])
    assert problems(check(drop, "VN/memberships.xlsx", content)) == [("unknown_country", 2, "country", "Atlantis")]


def test_damaged_xlsx_is_rejected(drop):
    content = _xlsx([MEMBERSHIPS_HEADER.split(",")])[:300]
    assert [p.rule for p in check(drop, "VN/memberships.xlsx", content).problems] == ["unreadable_spreadsheet"]


def test_decompression_bomb_xlsx_is_refused_before_inflating(drop):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<x>" + b" " * (600 * 1024 * 1024) + b"</x>")
    checked = check(drop, "VN/memberships.xlsx", out.getvalue())
    assert [p.rule for p in checked.problems] == ["too_large"]


def test_report_names_file_row_column_value_rule_and_advice(drop):
    checked = check(drop, "VN/donations.csv", csv_of(DONATIONS_HEADER, GOOD_DONATION.replace(",USD,", ",DOL,")))
    text = render(checked)
    assert "VN/donations.csv" in text
    assert 'row 2, column currency, value "DOL": this is not an ISO 4217 currency code.' in text
    assert "What to do: Use a three-letter code such as USD" in text
    assert "NOT loaded" in text


def test_every_problem_is_counted_and_examples_are_capped(drop):
    rows = [GOOD_MEMBERSHIP.replace("m1,", f"m{i},").replace(",2000,", ",20xx,") for i in range(500)]
    checked = check(drop, "VN/memberships.csv", csv_of(MEMBERSHIPS_HEADER, *rows))
    assert checked.problem_counts == {"bad_date": 500}
    assert len(checked.problems) == 200
    assert "Only the first 200 problems are listed" in render(checked)
