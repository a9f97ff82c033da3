"""Mojibake never loads (docs/contract.md section 1, turn 3): a file saved in a legacy code page
is read as the text the coordinator typed, or refused in words; never as another text.

Latin-1 text dropped in an East Asian folder also decodes in that country's code page, and East
Asian text also decodes as cp1252: whatever the bytes, the name loaded is the name written."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from libcoop.ingest.check import check_file
from libcoop.ingest.drop_folder import discover
from libcoop.ingest.reports import render
from tests.conftest import MEMBERSHIPS_HEADER
from tests.property.freedoms import encode_as_windows

# Words as people type them: syllables of a consonant and a vowel (accented or not), a capital at
# most at the start ('Bibliothèque', 'Österreich'), not strings no language writes ('àà', 'íÄâÚ').
# (accents as often as in European languages: charset-normalizer rightly finds a word of many
# accented letters, 'babàbàbõ', messy, and a reading of it without them more plausible).
VOWELS = st.sampled_from([*"aeiouy" * 8, *"àáâãäåæèéêëìíîïòóôõöøùúûü"])
SYLLABLES = st.tuples(st.sampled_from([*"bcdfghlmnprstvz", "ch", "qu", "ss"]), VOWELS).map("".join)
WORDS = st.tuples(
    st.sampled_from(["", "B", "M", "Ö", "É", "Å"]),
    st.lists(SYLLABLES, min_size=1, max_size=4).map("".join),
    st.sampled_from(["", "n", "s", "que", "rg"]),
).map("".join)
LATIN_NAMES = st.lists(WORDS, min_size=1, max_size=4).map(" ".join)
# Each country's script, in characters its code page holds.
SCRIPTS = {
    "JP": ("cp932", "国立会図書館東京都大阪府立中央あいうえおかきくけこアイウエオ"),
    "CN": ("gb18030", "中国国家图书馆上海北京省立首都"),
    "KR": ("cp949", "국립중앙도서관서울대학교한국"),
    "VN": ("cp1258", "Thư viện Quốc gia Hà Nội tỉnh Bình Dương"),
}
EXAMPLES = settings(max_examples=max(8, settings().max_examples * 3))


def _check(country: str, data: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        incoming = Path(tmp) / "incoming"
        path = incoming / country / "memberships.csv"
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        (drop,) = discover(incoming).files
        return check_file(drop, incoming)


def _loaded_as_written_or_refused(country: str, name: str, data: bytes) -> None:
    checked = _check(country, data)
    if checked.accepted:
        assert checked.rows.column("institution").to_pylist() == [name]
    else:
        assert [p.rule for p in checked.problems] in (["encoding_unclear"], ["not_utf8"])
        assert "CSV UTF-8" in render(checked)


@EXAMPLES
@given(name=LATIN_NAMES, country=st.sampled_from(["JP", "CN", "KR", "TW", "VN", "SG"]))
def test_latin1_text_in_any_folder_loads_as_written_or_is_refused(name: str, country: str) -> None:
    assume(name.strip() == name and not name.isascii())
    data = f"{MEMBERSHIPS_HEADER}\nm1,{name},FR,IFLA,,2000,,s\n".encode("cp1252")
    _loaded_as_written_or_refused(country, name, data)


@EXAMPLES
@given(data=st.data(), country=st.sampled_from(sorted(SCRIPTS)))
def test_text_in_the_countrys_code_page_loads_as_written_or_is_refused(data: st.DataObject, country: str) -> None:
    encoding, script = SCRIPTS[country]
    name = data.draw(st.text(alphabet=st.sampled_from(sorted(set(script))), min_size=1, max_size=16))
    assume(name.strip() == name and name)
    text = f"{MEMBERSHIPS_HEADER}\nm1,{name},{country},IFLA,,2000,,s\n"
    content = encode_as_windows(text, encoding) if encoding == "cp1258" else text.encode(encoding)
    _loaded_as_written_or_refused(country, name, content)
