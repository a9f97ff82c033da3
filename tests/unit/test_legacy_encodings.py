"""CSV saved by Excel on a Vietnamese, Japanese, Chinese, Korean or Taiwanese Windows is in that
language's code page: read in the reporting country's legacy encoding, loaded, and noted
(docs/contract.md section 1). Each file is built from real bytes of that encoding."""

from __future__ import annotations

import unicodedata

import pytest

from libcoop.ingest.reports import render
from tests.conftest import MEMBERSHIPS_HEADER
from tests.property.freedoms import encode, encode_as_windows
from tests.unit.test_contract_rules import check, csv_of, problems

CASES = [
    ("JP", "cp932", "国立国会図書館", "Japan"),
    ("CN", "gb18030", "中国国家图书馆", "China"),
    ("KR", "cp949", "국립중앙도서관", "Republic of Korea"),
    ("VN", "cp1258", "Thư viện Quốc gia Việt Nam", "Viet Nam"),
    ("TW", "big5", "國家圖書館", "Taiwan"),
    ("SG", "utf-16", "National Library Board · 新加坡国家图书馆", "Singapore"),
]


@pytest.mark.parametrize(("country", "encoding", "name", "country_name"), CASES)
def test_a_file_in_its_countrys_legacy_encoding_loads_with_a_note(drop, country, encoding, name, country_name):
    text = csv_of(MEMBERSHIPS_HEADER, f"m1,{name},{country_name},IFLA,member,2000,,s")
    data = text.encode(encoding) if encoding != "cp1258" else encode_as_windows(text, encoding)
    if encoding != "utf-16":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    else:
        assert data[:2] in (b"\xff\xfe", b"\xfe\xff")  # Python writes the byte-order mark
    checked = check(drop, f"{country}/memberships.csv", data)
    assert checked.accepted, problems(checked)
    assert checked.rows.column("institution").to_pylist() == [name]
    report = render(checked)
    assert f"read as {encoding}" in report
    assert "CSV UTF-8" in report


def test_cp1258_tone_marks_are_composed_so_that_names_resolve(drop):
    data = encode_as_windows(csv_of(MEMBERSHIPS_HEADER, "m1,Thư viện Quốc gia Việt Nam,VN,IFLA,,2000,,s"), "cp1258")
    assert "ệ".encode() not in data and b"\xea\xf2" in data  # ê, then the combining dot below
    checked = check(drop, "VN/memberships.csv", data)
    assert checked.accepted, problems(checked)
    assert checked.rows.column("institution").to_pylist() == ["Thư viện Quốc gia Việt Nam"]


def test_a_messy_reading_is_refused_so_the_generators_write_such_text_in_utf8(drop):
    """Found by `make fuzz`: "Org ââ" in cp1258 reads the same in cp1252, and a charset detector
    finds both readings messy (a letter doubled with its marks): the contract refuses the file
    ("save as CSV UTF-8"), so the generators write such a name in UTF-8, where it loads as typed."""
    text = csv_of(MEMBERSHIPS_HEADER, "m1,Unlisted 0,AU,Unlisted Org ââ,,1950,,s")
    refused = check(drop, "VN/memberships.csv", encode_as_windows(text, "cp1258"))
    assert [p.rule for p in refused.problems] == ["encoding_unclear"]
    written = encode(text, "VN", "code page", bom=False, nfd=True)
    assert written.decode("utf-8") == unicodedata.normalize("NFD", text)
    accepted = check(drop, "VN/memberships.csv", written)
    assert accepted.accepted, problems(accepted)
    assert accepted.rows.column("organization").to_pylist() == ["Unlisted Org ââ"]
