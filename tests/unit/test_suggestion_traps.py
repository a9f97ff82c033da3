"""Traps for name suggestions: a candidate a coordinator follows becomes data, so no suggestion may
cross the row's country or name another institution of the same script family (contract section
1, "name resolution stays within the row's stated country"). On the curated seeds of the project,
through both doors: the review list's candidates (libcoop.review) and the warnings of
``libcoop check`` (libcoop.ingest.suggestions)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libcoop.ingest.suggestions import normalize_name, unresolved_name_warning
from libcoop.review import SpellingIndex, candidate_rows, closest_institutions, known_spellings
from libcoop.transform.dbt_build import dbt_project_dir

SEEDS = dbt_project_dir() / "seeds"


def _rows(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


INSTITUTIONS = [
    (r["institution_code"], r["institution_name"], r["country_iso2"] or None, r["acronym"] or None)
    for r in _rows("institutions.csv")
]
SPELLINGS = known_spellings(
    INSTITUTIONS, [(r["alias"], r["institution_code"]) for r in _rows("institution_aliases.csv")]
)
INDEX = SpellingIndex.of(SPELLINGS)
COUNTRY = {code: country for code, _, country, _ in INSTITUTIONS}


def codes(name: str, country: str | None) -> list[str]:
    return [c.institution_code for c in closest_institutions(name, country, INDEX, limit=3)]


# (name as written, the row's country, the only acceptable candidates in order, a wrong institution it once got)
TRAPS = [
    # The three of issue 25.
    ("Thư viện Quốc gia Lào", "LA", [], "NLV"),
    ("中国国家図書館", "CN", ["NLC"], "NDL"),  # the NLC in Japanese characters
    ("대한민국 국회도서관", "KR", ["NAL"], "NLK"),  # the National Assembly Library, not the NLK
    # A name of one country on a row of another.
    ("国立国会図書館", "CN", [], "NDL"),
    ("中国国家図書館", "JP", [], "NDL"),
    ("National Library of Vietnam", "LA", [], "NLLA"),
    ("Thư viện Quốc gia Việt Nam", "KH", [], "NLV"),
    ("National Diet Library", "CN", [], "NLC"),
    # The NLC and the NDL in several scripts.
    ("國立國會圖書館", "CN", [], "NLC"),
    ("國立國會圖書館", "JP", ["NDL"], "NLC"),
    ("中國國家圖書館", "CN", ["NLC"], "NDL"),
    ("天津図書館", "CN", ["TJL"], "NLC"),
    # Two provinces of Viet Nam one word apart.
    ("Thư viện tỉnh Bình Định", "VN", [], "BDPL"),
    ("Thu vien tinh Binh Dinh", "VN", [], "BDPL"),
    ("Thư viện tỉnh Khánh Hoà", "VN", ["KHPL"], "BDPL"),  # the tone mark placed the other way
    # Korea: the National Assembly Library, its research service, the NLK and its children's library.
    ("Korea National Assembly Library", "KR", ["NAL"], "NLK"),
    ("National Library", "KR", ["NLK"], "NAL"),
    ("국립중앙도서관 (National Library of Korea)", "KR", ["NLK"], "NAL"),
    ("National Library for Children and Young Adults", "KR", [], "NLK"),
    ("국립어린이청소년도서관", "KR", [], "NLK"),
    ("국회 입법조사처 연구실", "KR", [], "NAL"),
    # Singapore: the NLB and the university's libraries.
    ("NUS Libraries", "SG", [], "NLB"),
    ("National University of Singapore Libraries", "SG", [], "NLB"),
    ("National Library Singapore", "SG", ["NLB"], None),
    # Misspellings still find their own institution.
    ("Natonal Libary of Vietnam", "VN", ["NLV"], None),
    ("Nationl Library of Vietnam", "VN", ["NLV"], None),
]


@pytest.mark.parametrize(("name", "country", "expected", "wrong"), TRAPS)
def test_a_trap_name_gets_only_its_own_institution(name: str, country: str, expected: list[str], wrong: str) -> None:
    found = codes(name, country)

    assert found == expected
    assert wrong not in found
    assert all(COUNTRY[code] == country for code in found)


def test_the_native_names_of_the_national_assembly_resolve_and_the_review_list_never_ranks_the_nlk_first() -> None:
    # Once the review list's first candidate for 국회도서관 was the National Library of Korea.
    rows = candidate_rows([("k", "국회 도서관", "국회 도서관", "KR")], SPELLINGS)

    assert [(row[4], row[5]) for row in rows] == [(1, "NAL")]
    assert unresolved_name_warning("host_institution", "국회도서관", 2, SEEDS, "KR") is None
    assert unresolved_name_warning("host_institution", "국회입법조사처", 2, SEEDS, "KR") is None


def test_check_says_the_name_is_unknown_in_the_rows_country_without_a_vietnamese_library() -> None:
    warning = unresolved_name_warning("guest_institution", "Thư viện Quốc gia Lào", 7, SEEDS, "LA")

    assert warning is not None
    assert "row 7, column guest_institution: 'Thư viện Quốc gia Lào' is not a known institution name of LA" in warning
    assert "Việt Nam" not in warning and "closest known" not in warning


def test_check_names_a_known_name_of_another_country_as_unknown_there() -> None:
    # dbt resolves only within the row's country: the NLV on a row of LA would load unresolved.
    assert unresolved_name_warning("institution", "National Library of Viet Nam", 3, SEEDS, "VN") is None
    warning = unresolved_name_warning("institution", "National Library of Viet Nam", 3, SEEDS, "LA")
    assert warning is not None and "closest known" not in warning


def test_check_gives_the_japanese_spelling_of_the_nlc_its_own_simplified_name() -> None:
    warning = unresolved_name_warning("donor", "中国国家図書館", 4, SEEDS, "CN")

    assert warning is not None
    assert "closest known: 中国国家图书馆." in warning
    assert "国立国会図書館" not in warning


def test_no_country_no_candidate() -> None:
    assert codes("National Library of Vietnam", None) == []


# --- generated: a curated name of country A, with noise, on a row of country B ----------------

COUNTRIES = sorted({c for c in COUNTRY.values() if c} | {"LA", "KH", "TW", "FR", "ZZ"})
NAMED = [known for known in SPELLINGS if known.country_iso2]


@st.composite
def noisy(draw: st.DrawFn, text: str) -> str:
    """``text`` as a coordinator might write it: case, spaces, a letter lost or doubled, a word added."""
    chars = list(text)
    if chars and draw(st.booleans()):
        at = draw(st.integers(0, len(chars) - 1))
        chars[at : at + 1] = draw(st.sampled_from([[], [chars[at], chars[at]]]))
    written = "".join(chars)
    written = draw(st.sampled_from([written, written.upper(), written.lower(), f"  {written} "]))
    return written + draw(st.sampled_from(["", " Library", " (Hanoi)", " 도서관", " 図書館"]))


@settings(max_examples=max(settings.default.max_examples, 200))
@given(data=st.data())
def test_suggestions_for_a_row_of_another_country_never_name_an_institution_of_the_first(data: st.DataObject) -> None:
    known = data.draw(st.sampled_from(NAMED), label="curated spelling")
    other = data.draw(st.sampled_from([c for c in COUNTRIES if c != known.country_iso2]), label="row's country")
    name = data.draw(noisy(known.spelling), label="as written")
    of_first = {code for code, country in COUNTRY.items() if country == known.country_iso2}
    spellings_of_first = {normalize_name(k.spelling) for k in SPELLINGS if k.institution_code in of_first}
    spellings_of_other = {normalize_name(k.spelling) for k in SPELLINGS if k.country_iso2 == other}

    assert not set(codes(name, other)) & of_first
    warning = unresolved_name_warning("guest_institution", name, 2, Path(SEEDS), other)
    if warning and "closest known: " in warning:
        named = warning.split("closest known: ", 1)[1].split(". If it is one", 1)[0].split(", ")
        assert all(
            normalize_name(n) in spellings_of_other or normalize_name(n) not in spellings_of_first for n in named
        )
