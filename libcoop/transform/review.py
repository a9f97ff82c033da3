"""Fuzzy candidates for the institution names the alias seeds could not resolve.

dbt lists those names in ``review.review_unresolved_institutions`` (each one is an institution of
its own in ``marts.dim_institution``, with ``is_resolved = false``). The dbt Python model
``review.unresolved_institution_candidates`` (dbt_project/models/review/) scores every such name
with these functions against every known spelling of a curated institution (the aliases of
``seeds/institution_aliases.csv`` and each institution's own code, name and acronym, as dbt
resolves them) and keeps the closest institutions, so that a data steward sees at a glance which
alias to add. dbt builds it like any model: data flows one way, nothing is written after dbt.

Names are compared in the form aliases are matched on (``normalize_name``, the twin of the dbt
macro of the same name), scored with rapidfuzz's ``WRatio`` (0 to 100) after its default
processing (lower case, punctuation as spaces). Each candidate institution is scored by its
closest spelling; ties go to an institution of the name's own country.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, utils

UNKNOWN_INSTITUTION_CODE = "UNKNOWN"

# The columns of review.unresolved_institution_candidates, in order.
CANDIDATE_COLUMNS = (
    "institution_key",
    "institution_name",
    "institution_name_normalized",
    "country_iso2",
    "candidate_rank",
    "candidate_institution_code",
    "candidate_institution_name",
    "candidate_country_iso2",
    "candidate_alias",
    "score",
    "is_same_country",
)


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


def known_spellings(
    institutions: Iterable[tuple[str, str, str | None, str | None]],
    aliases: Iterable[tuple[str, str]],
) -> list[KnownSpelling]:
    """Every spelling that resolves to a curated institution, as dbt resolves names: the aliases
    ``(alias, institution_code)`` to a curated code, and each institution's own code, name and
    acronym. ``institutions`` are ``(institution_code, institution_name, country_iso2, acronym)``
    rows of the seed; the unknown member and empty spellings are no candidates."""
    curated = {code: (name, country) for code, name, country, _ in institutions if code != UNKNOWN_INSTITUTION_CODE}
    pairs = set(aliases)
    for code, name, _, acronym in institutions:
        pairs |= {(code, code), (name, code), (acronym, code)}
    return sorted(
        (
            KnownSpelling(spelling, code, *curated[code])
            for spelling, code in pairs
            if code in curated and spelling is not None and spelling.strip()
        ),
        key=lambda known: (known.spelling, known.institution_code),
    )


def candidate_rows(
    unresolved: Iterable[tuple[str, str, str, str | None]],
    spellings: list[KnownSpelling],
    limit: int = 3,
) -> list[tuple]:
    """The rows of review.unresolved_institution_candidates (``CANDIDATE_COLUMNS``): the ``limit``
    closest curated institutions of every ``(institution_key, institution_name,
    institution_name_normalized, country_iso2)`` of the review list, best first."""
    rows = []
    for institution_key, name, name_normalized, country in sorted(unresolved):
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
    return rows
