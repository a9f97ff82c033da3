"""Encodings by plausibility and NFC on every value (docs/contract.md section 1, turn 3): each file
is made of real bytes in the encoding a coordinator's computer writes, and the test asserts the
values loaded and the words of the report."""

from __future__ import annotations

import io
import unicodedata

import openpyxl
import pytest

from libcoop.ingest.encodings import decode
from libcoop.ingest.reports import render
from tests.conftest import MEMBERSHIPS_HEADER
from tests.unit.test_contract_rules import check, csv_of, problems
from tests.unit.test_legacy_encodings import encode_as_windows

FRENCH = "Bibliothèque nationale de France"


@pytest.mark.parametrize("country", ["JP", "CN", "KR", "TW", "SG"])
def test_latin1_text_in_any_folder_loads_as_written_never_as_mojibake(drop, country):
    data = csv_of(MEMBERSHIPS_HEADER, f"m1,{FRENCH},France,IFLA,member,2000,,s").encode("latin-1")
    assert data.decode("cp932") if country == "JP" else True  # cp932 reads these bytes too: Biblioth鑷ue
    checked = check(drop, f"{country}/memberships.csv", data)
    assert checked.accepted, problems(checked)
    assert checked.rows.column("institution").to_pylist() == [FRENCH]
    report = render(checked)
    assert "read as cp1252, the Western European encoding" in report
    assert "usual encoding" not in report


def test_the_cp932_reading_of_latin1_bytes_is_judged_implausible():
    data = FRENCH.encode("latin-1")
    assert "鑷" in data.decode("cp932")  # the mojibake the JP folder used to load
    decoded = decode(data, "JP")
    assert (decoded.text, decoded.encoding) == (FRENCH, "cp1252")


def test_two_equally_plausible_readings_are_refused_naming_both(drop):
    # 'São' in cp1252 is 'Săo' in cp1258: both are letters of real alphabets; nothing decides.
    data = csv_of(MEMBERSHIPS_HEADER, "m1,Biblioteca Mário de Andrade São Paulo,Brazil,IFLA,,2000,,s").encode("cp1252")
    checked = check(drop, "VN/memberships.csv", data)
    assert [(p.rule, p.row) for p in checked.problems] == [("encoding_unclear", None)]
    report = render(checked, dry_run=True)
    assert "Report on VN/memberships.csv" in report
    assert "read as cp1258 it would say" in report and "read as cp1252 it would say" in report
    assert "either reading could be right" in report
    assert "'Save As' > 'CSV UTF-8 (Comma delimited)'" in report


def test_text_plausible_in_no_candidate_is_refused(drop):
    # Korean cp949 bytes dropped in a Singapore folder: cp1252, its one candidate, makes noise of them.
    data = csv_of(MEMBERSHIPS_HEADER, "m1,국립중앙도서관 도서관,KR,IFLA,,2000,,s").encode("cp949")
    checked = check(drop, "SG/memberships.csv", data)
    assert [p.rule for p in checked.problems] == ["encoding_unclear"]
    assert "neither reading gives plausible text" in render(checked)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read(drop, encoding):
    data = csv_of(MEMBERSHIPS_HEADER, "m1,National Library Board,SG,IFLA,,2000,,s").encode(encoding)
    checked = check(drop, "SG/memberships.csv", data)
    assert checked.accepted, problems(checked)
    assert checked.rows.column("institution").to_pylist() == ["National Library Board"]
    report = render(checked)
    assert f"read as {encoding}" in report and "usual encoding" not in report


def test_utf16_with_its_byte_order_mark_is_not_called_the_countrys_usual_encoding(drop):
    data = csv_of(MEMBERSHIPS_HEADER, "m1,国立国会図書館,JP,IFLA,,2000,,s").encode("utf-16")
    checked = check(drop, "JP/memberships.csv", data)
    assert checked.accepted, problems(checked)
    report = render(checked)
    assert "saved as UTF-16 text" in report and "usual encoding" not in report


def test_two_byte_order_marks_are_both_skipped(drop):
    data = b"\xef\xbb\xbf\xef\xbb\xbf" + csv_of(MEMBERSHIPS_HEADER, "m1,NLV,VN,IFLA,,2000,,s").encode()
    checked = check(drop, "VN/memberships.csv", data)
    assert checked.accepted, problems(checked)
    assert checked.rows.column("record_id").to_pylist() == ["m1"]
    assert "\ufeff" not in render(checked)


NFD_NAME = unicodedata.normalize("NFD", "Thư viện tỉnh Bình Dương")
NFC_NAME = unicodedata.normalize("NFC", NFD_NAME)


def _xlsx(header: str, row: list[str]) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(header.split(","))
    book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("form", ["utf-8", "cp1258", "utf-16", "xlsx"])
def test_a_name_typed_on_a_mac_is_the_same_name_from_every_reader(drop, form):
    assert NFD_NAME != NFC_NAME
    row = ["m1", NFD_NAME, "Việt Nam", "IFLA", "member", "2000", "", "s"]
    if form == "xlsx":
        checked = check(drop, "VN/memberships.xlsx", _xlsx(MEMBERSHIPS_HEADER, row))
    else:
        text = csv_of(MEMBERSHIPS_HEADER, ",".join(row))
        # cp1258 has no horn to combine: Windows writes ư whole and the tone marks combining.
        data = (
            encode_as_windows(unicodedata.normalize("NFC", text), "cp1258") if form == "cp1258" else text.encode(form)
        )
        checked = check(drop, "VN/memberships.csv", data)
    assert checked.accepted, problems(checked)
    assert checked.rows.column("institution").to_pylist() == [NFC_NAME]
    assert checked.rows.column("country").to_pylist() == ["VN"]
