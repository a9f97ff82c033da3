"""Fuzzy candidates for the institution names the alias seeds could not resolve.

dbt lists those names in ``review.review_unresolved_institutions`` (each one is an institution of
its own in ``marts.dim_institution``, with ``is_resolved = false``). This step scores every such
name against every known spelling of a curated institution (the aliases of
``seeds/institution_aliases.csv`` and each institution's own code, name and acronym, as dbt
resolves them) and keeps the closest institutions in ``review.unresolved_institution_candidates``,
so that a data steward sees at a glance which alias to add.

Names are compared in the form aliases are matched on (``normalize_name``, the twin of the dbt
macro of the same name), scored with rapidfuzz's ``WRatio`` (0 to 100) after its default
processing (lower case, punctuation as spaces). Each candidate institution is scored by its
closest spelling; ties go to an institution of the name's own country.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb
from rapidfuzz import fuzz, utils

log = logging.getLogger(__name__)

REVIEW_SCHEMA = "review"
SEEDS_SCHEMA = "ref_seeds"
UNRESOLVED_TABLE = f"{REVIEW_SCHEMA}.review_unresolved_institutions"
CANDIDATES_TABLE = f"{REVIEW_SCHEMA}.unresolved_institution_candidates"
UNKNOWN_INSTITUTION_CODE = "UNKNOWN"


class ReviewListMissing(RuntimeError):
    """The warehouse has no list of unresolved names: dbt has not built it yet."""


@dataclass(frozen=True)
class KnownSpelling:
    """One way of writing a curated institution: an alias, or its own code, name or acronym."""

    spelling: str
    institution_code: str
    institution_name: str
    country_iso2: str | None


@dataclass(frozen=True)
class Candidate:
    """A curated institution an unresolved name may stand for, and the spelling that comes closest."""

    institution_code: str
    institution_name: str
    country_iso2: str | None
    spelling: str
    score: float
    is_same_country: bool


def normalize_name(text: str) -> str:
    """Lower case, trimmed, inner whitespace collapsed: the dbt macro ``normalize_name`` in Python."""
    return " ".join(text.split()).lower()


def closest_institutions(
    name: str,
    country_iso2: str | None,
    spellings: Iterable[KnownSpelling],
    limit: int = 3,
) -> list[Candidate]:
    """The ``limit`` curated institutions whose closest spelling scores highest against ``name``.

    Best first: higher score, then an institution of the name's own country, then by code."""
    query = normalize_name(name)
    best: dict[str, Candidate] = {}
    for known in spellings:
        score = fuzz.WRatio(query, normalize_name(known.spelling), processor=utils.default_process)
        current = best.get(known.institution_code)
        if current is None or score > current.score or (score == current.score and known.spelling < current.spelling):
            best[known.institution_code] = Candidate(
                institution_code=known.institution_code,
                institution_name=known.institution_name,
                country_iso2=known.country_iso2,
                spelling=known.spelling,
                score=round(float(score), 1),
                is_same_country=country_iso2 is not None and known.country_iso2 == country_iso2,
            )
    ranked = sorted(best.values(), key=lambda c: (-c.score, not c.is_same_country, c.institution_code))
    return ranked[: max(limit, 0)]


def known_spellings(con: duckdb.DuckDBPyConnection, seeds_schema: str = SEEDS_SCHEMA) -> list[KnownSpelling]:
    """Every spelling that resolves to a curated institution, read from the seeds dbt loaded."""
    rows = con.execute(
        f"""
        with institutions as (
            select institution_code, institution_name, country_iso2, acronym
            from {seeds_schema}.institutions
            where institution_code <> ?
        ),
        spellings as (
            select alias as spelling, institution_code from {seeds_schema}.institution_aliases
            union select institution_code, institution_code from institutions
            union select institution_name, institution_code from institutions
            union select acronym, institution_code from institutions
        )
        select distinct spellings.spelling, institutions.institution_code, institutions.institution_name,
            institutions.country_iso2
        from spellings
        inner join institutions on spellings.institution_code = institutions.institution_code
        where nullif(trim(spellings.spelling), '') is not null
        order by all
        """,
        [UNKNOWN_INSTITUTION_CODE],
    ).fetchall()
    return [KnownSpelling(*row) for row in rows]


def _table_exists(con: duckdb.DuckDBPyConnection, qualified_name: str) -> bool:
    schema, table = qualified_name.split(".")
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()
    return bool(found and found[0])


def review_unresolved(con: duckdb.DuckDBPyConnection, limit: int = 3) -> int:
    """Write the ``limit`` closest curated institutions of every unresolved name into
    ``review.unresolved_institution_candidates`` (replaced as a whole); return its row count."""
    if not _table_exists(con, UNRESOLVED_TABLE):
        raise ReviewListMissing(f"{UNRESOLVED_TABLE} does not exist: run dbt build on this warehouse first")
    unresolved: Sequence[tuple[str, str, str, str]] = con.execute(
        f"select institution_key, institution_name, institution_name_normalized, country_iso2 "
        f"from {UNRESOLVED_TABLE} order by institution_key"
    ).fetchall()
    spellings = known_spellings(con)
    rows = []
    for institution_key, name, name_normalized, country in unresolved:
        for rank, candidate in enumerate(closest_institutions(name, country, spellings, limit), start=1):
            rows.append(
                (
                    institution_key,
                    name,
                    name_normalized,
                    country,
                    rank,
                    candidate.institution_code,
                    candidate.institution_name,
                    candidate.country_iso2,
                    candidate.spelling,
                    candidate.score,
                    candidate.is_same_country,
                )
            )
    con.execute("begin transaction")
    try:
        con.execute(f"create schema if not exists {REVIEW_SCHEMA}")
        con.execute(
            f"""
            create or replace table {CANDIDATES_TABLE} (
                institution_key varchar not null,
                institution_name varchar,
                institution_name_normalized varchar,
                country_iso2 varchar,
                candidate_rank integer not null,
                candidate_institution_code varchar not null,
                candidate_institution_name varchar,
                candidate_country_iso2 varchar,
                candidate_alias varchar,
                score double not null,
                is_same_country boolean not null
            )
            """
        )
        if rows:
            con.executemany(f"insert into {CANDIDATES_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    log.info("%d unresolved institution names, %d fuzzy candidates in %s", len(unresolved), len(rows), CANDIDATES_TABLE)
    return len(rows)
