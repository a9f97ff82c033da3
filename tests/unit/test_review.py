"""libcoop.transform.review on a small in-memory DuckDB: the seeds dbt loads and the list of unresolved names."""

from __future__ import annotations

import duckdb
import pytest

from libcoop.transform.review import (
    CANDIDATES_TABLE,
    KnownSpelling,
    ReviewListMissing,
    closest_institutions,
    normalize_name,
    review_unresolved,
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


@pytest.fixture
def con():
    con = duckdb.connect(":memory:")
    con.execute("create schema ref_seeds")
    con.execute("create schema review")
    con.execute(
        "create table ref_seeds.institutions (institution_code varchar, institution_name varchar, "
        "institution_type varchar, country_iso2 varchar, acronym varchar)"
    )
    con.executemany("insert into ref_seeds.institutions values (?, ?, ?, ?, ?)", INSTITUTIONS)
    con.execute("create table ref_seeds.institution_aliases (alias varchar, institution_code varchar)")
    con.executemany("insert into ref_seeds.institution_aliases values (?, ?)", ALIASES)
    con.execute(
        "create table review.review_unresolved_institutions (institution_key varchar, institution_name varchar, "
        "institution_name_normalized varchar, country_iso2 varchar, fact_count bigint)"
    )
    con.executemany("insert into review.review_unresolved_institutions values (?, ?, ?, ?, 1)", UNRESOLVED)
    yield con
    con.close()


def candidates(con: duckdb.DuckDBPyConnection, key: str) -> list[tuple]:
    return con.execute(
        f"select candidate_rank, candidate_institution_code, candidate_alias, score, is_same_country "
        f"from {CANDIDATES_TABLE} where institution_key = ? order by candidate_rank",
        [key],
    ).fetchall()


def test_a_misspelt_national_library_ranks_its_institution_first(con) -> None:
    written = review_unresolved(con, limit=3)

    assert written == 6  # two names, three candidates each
    nlv = candidates(con, "key-nlv")
    assert [row[0] for row in nlv] == [1, 2, 3]
    assert nlv[0][1:3] == ("NLV", "National Library of Vietnam")
    assert nlv[0][3] > 95
    assert nlv[0][4] is True
    assert [row[3] for row in nlv] == sorted((row[3] for row in nlv), reverse=True)
    assert len({row[1] for row in nlv}) == 3, "one row per candidate institution, not per alias"
    assert candidates(con, "key-taf")[0][1] == "TAF"


def test_the_table_keeps_the_names_and_countries_of_the_review_list(con) -> None:
    review_unresolved(con, limit=1)

    rows = con.execute(
        f"select institution_key, institution_name, country_iso2, candidate_institution_code, "
        f"candidate_institution_name, candidate_country_iso2 from {CANDIDATES_TABLE} order by institution_key"
    ).fetchall()
    assert rows == [
        ("key-nlv", "Nationl Library of Vietnam", "VN", "NLV", "National Library of Viet Nam", "VN"),
        ("key-taf", "The  Asia Fundation", "US", "TAF", "The Asia Foundation", "US"),
    ]


def test_running_twice_replaces_the_candidates(con) -> None:
    first = review_unresolved(con, limit=2)
    con.execute("delete from review.review_unresolved_institutions where institution_key = 'key-taf'")
    second = review_unresolved(con, limit=2)

    assert (first, second) == (4, 2)
    assert con.execute(f"select count(*) from {CANDIDATES_TABLE}").fetchone() == (2,)


def test_no_unresolved_name_gives_an_empty_table(con) -> None:
    con.execute("delete from review.review_unresolved_institutions")

    assert review_unresolved(con) == 0
    assert con.execute(f"select count(*) from {CANDIDATES_TABLE}").fetchone() == (0,)


def test_a_warehouse_without_the_review_list_is_a_plain_error() -> None:
    with duckdb.connect(":memory:") as empty, pytest.raises(ReviewListMissing, match="run dbt build"):
        review_unresolved(empty)


def test_aliases_to_unknown_codes_are_never_candidates(con) -> None:
    con.execute(
        "insert into review.review_unresolved_institutions values ('key-x', 'Library of Nowhere!', 'x', 'ZZ', 1)"
    )
    review_unresolved(con, limit=5)

    codes = {row[1] for row in candidates(con, "key-x")}
    assert "GONE" not in codes
    assert codes <= {code for code, *_ in INSTITUTIONS}


def test_same_country_breaks_a_tie_of_scores() -> None:
    spellings = [
        KnownSpelling("National Library", "NLA", "National Library of Australia", "AU"),
        KnownSpelling("National Library", "NLV", "National Library of Viet Nam", "VN"),
    ]

    ranked = closest_institutions("national library", "VN", spellings, limit=2)

    assert [c.institution_code for c in ranked] == ["NLV", "NLA"]
    assert ranked[0].score == ranked[1].score == 100.0


def test_names_are_normalized_like_the_dbt_macro() -> None:
    assert normalize_name("  The\u00a0National \t Library\u3000of  Viet Nam ") == "the national library of viet nam"
    assert normalize_name("中国国家图书馆") == "中国国家图书馆"
