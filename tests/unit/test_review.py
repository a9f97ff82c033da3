"""libcoop.review, the scoring behind the dbt Python model review.unresolved_institution_candidates,
on small seeds and review lists (tests/integration/test_dimensional_model.py builds the model with dbt)."""

from __future__ import annotations

from libcoop.review import (
    CANDIDATE_COLUMNS,
    KnownSpelling,
    candidate_rows,
    closest_institutions,
    known_spellings,
    normalize_name,
)

INSTITUTIONS = [
    ("NLV", "National Library of Viet Nam", "national_library", "VN", "NLV"),
    ("NLC", "National Library of China", "national_library", "CN", "NLC"),
    ("NLTH", "National Library of Thailand", "national_library", "TH", None),
    ("NLK", "National Library of Korea", "national_library", "KR", "NLK"),
    ("TAF", "The Asia Foundation", "foundation", "US", "TAF"),
]
ALIASES = [
    ("National Library of Vietnam", "NLV"),
    ("Thư viện Quốc gia Việt Nam", "NLV"),
    ("中国国家图书馆", "NLC"),
    ("National Library of Korean", "NLK"),
    ("Asia Foundation", "TAF"),
    ("Library of Nowhere", "GONE"),  # an alias to a code that is not curated is ignored, as in dbt
]
UNRESOLVED = [
    ("key-nlv", "Nationl Library of Vietnam", "nationl library of vietnam", "VN"),
    ("key-taf", "The  Asia Fundation", "the asia fundation", "US"),
]


# The seed's rows as the model reads them: (institution_code, institution_name, country_iso2, acronym).
SPELLINGS = known_spellings(
    [(code, name, country, acronym) for code, name, _, country, acronym in INSTITUTIONS], ALIASES
)


def candidates(rows: list[tuple], key: str) -> list[tuple]:
    """(candidate_rank, candidate_institution_code, candidate_alias, score, is_same_country) of one name."""
    return [(row[4], row[5], row[8], row[9], row[10]) for row in rows if row[0] == key]


def test_a_misspelt_national_library_gets_its_institution_and_no_other() -> None:
    rows = candidate_rows(UNRESOLVED, SPELLINGS, limit=3)

    # Only institutions of the row's own country are candidates, and none of them is another library.
    assert candidates(rows, "key-nlv") == [(1, "NLV", "National Library of Vietnam", 98.1, True)]
    assert candidates(rows, "key-taf") == [(1, "TAF", "The Asia Foundation", 97.3, True)]


def test_the_rows_keep_the_names_and_countries_of_the_review_list() -> None:
    rows = candidate_rows(UNRESOLVED, SPELLINGS, limit=1)

    assert [dict(zip(CANDIDATE_COLUMNS, row, strict=True)) for row in rows] == [
        {
            "institution_key": "key-nlv",
            "institution_name": "Nationl Library of Vietnam",
            "institution_name_normalized": "nationl library of vietnam",
            "country_iso2": "VN",
            "candidate_rank": 1,
            "candidate_institution_code": "NLV",
            "candidate_institution_name": "National Library of Viet Nam",
            "candidate_country_iso2": "VN",
            "candidate_alias": "National Library of Vietnam",
            "score": 98.1,
            "is_same_country": True,
        },
        {
            "institution_key": "key-taf",
            "institution_name": "The  Asia Fundation",
            "institution_name_normalized": "the asia fundation",
            "country_iso2": "US",
            "candidate_rank": 1,
            "candidate_institution_code": "TAF",
            "candidate_institution_name": "The Asia Foundation",
            "candidate_country_iso2": "US",
            "candidate_alias": "The Asia Foundation",
            "score": 97.3,
            "is_same_country": True,
        },
    ]


def test_no_unresolved_name_gives_no_rows() -> None:
    assert candidate_rows([], SPELLINGS) == []


def test_the_known_spellings_are_what_dbt_resolves() -> None:
    nlk = sorted(known.spelling for known in SPELLINGS if known.institution_code == "NLK")
    # Its alias, code, name and acronym (the same as the code: one spelling); no empty acronym.
    assert nlk == ["NLK", "National Library of Korea", "National Library of Korean"]
    assert all(known.spelling.strip() for known in SPELLINGS)


def test_aliases_to_unknown_codes_are_never_candidates() -> None:
    rows = candidate_rows([("key-x", "Library of Nowhere!", "library of nowhere!", "VN")], SPELLINGS, limit=5)

    assert "GONE" not in {row[5] for row in rows}


def test_an_institution_of_another_country_is_never_a_candidate() -> None:
    spellings = [
        KnownSpelling("National Library", "NLA", "National Library of Australia", "AU"),
        KnownSpelling("National Library", "NLV", "National Library of Viet Nam", "VN"),
    ]

    assert [c.institution_code for c in closest_institutions("national library", "VN", spellings, 2)] == ["NLV"]
    assert [c.institution_code for c in closest_institutions("national library", "AU", spellings, 2)] == ["NLA"]
    assert closest_institutions("national library", "LA", spellings, 2) == []
    assert closest_institutions("national library", None, spellings, 2) == []


def test_names_are_normalized_like_the_dbt_macro() -> None:
    assert normalize_name("  The\u00a0National \t Library\u3000of  Viet Nam ") == "the national library of viet nam"
    assert normalize_name("中国国家图书馆") == "中国国家图书馆"
