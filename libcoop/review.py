"""Candidates for the institution names the alias seeds could not resolve, and the rules that keep
them safe.

dbt lists those names in ``review.review_unresolved_institutions`` (each one is an institution of
its own in ``marts.dim_institution``, with ``is_resolved = false``). The dbt Python model
``review.unresolved_institution_candidates`` (dbt_project/models/review/) ranks every such name
with these functions against every known spelling of a curated institution (the aliases of
``seeds/institution_aliases.csv``, native names included, and each institution's own code, name
and acronym, as dbt resolves them), so that a data steward sees at a glance which alias to add.
``libcoop check`` gives coordinators the same candidates (``libcoop.ingest.suggestions``).

A candidate a coordinator follows becomes data, so a wrong one is worse than none (contract
section 1, "name resolution stays within the row's stated country"):

- only institutions of the row's own country are candidates (a row saying ``LA`` never gets the
  National Library of Viet Nam);
- names are compared by their *units*: words in scripts that separate words, single characters in
  Han, Kana, Hangul and Thai, Han characters folded to one form by OpenCC (``図書館`` is
  ``图书馆``), diacritics and the words of the country's own name ignored (``Korea``, ``Việt Nam``);
- a spelling and a name that each have a unit the other lacks name two things (``국회도서관`` and
  ``국립중앙도서관``, ``Bình Dương`` and ``Bình Định``): that spelling is no candidate; a word may be
  misspelt (``Libary``), a Han, Hangul or Kana character may not;
- a name may hold at most one word (or two ideographic characters) more than an institution's
  spellings, and never a word of another institution's spellings (``Assembly``, ``Diet``) or of
  another country's name; when one candidate's spelling covers the name with nothing more,
  those that would add words (``National Library`` -> ``National Assembly Library``) are dropped;
- a name of no more than four Han, Hangul or Kana characters needs a higher score.

Scores are rapidfuzz's ``WRatio`` (0 to 100) of the folded forms; each institution is scored by its
closest spelling that passes the rules.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from rapidfuzz import fuzz

UNKNOWN_INSTITUTION_CODE = "UNKNOWN"

# Below these scores (0-100) a candidate is more misleading than helpful.
CANDIDATE_SCORE = 70
SHORT_IDEOGRAPHIC_SCORE = 90
SHORT_IDEOGRAPHIC_UNITS = 4
# Two words are one misspelt word from this similarity (rapidfuzz ratio) and length on: "libary"
# is "library", but "dinh" is not "binh" (75) nor "duong" (44).
WORD_SIMILARITY = 85
WORD_MIN_LENGTH = 5
# Words that name no institution in particular.
FILLER_WORDS = frozenset({"the", "of", "and", "for", "in", "to", "at"})

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


# --- units -------------------------------------------------------------------------------------


@cache
def _han_folders() -> tuple:  # type: ignore[type-arg]
    import opencc

    # Japanese forms to traditional, then traditional to simplified: 図書館, 圖書館 -> 图书馆.
    return opencc.OpenCC("jp2t"), opencc.OpenCC("t2s")


def _is_ideographic(char: str) -> bool:
    """A character that is a unit of its own: Han, Kana, Hangul, Thai, Lao, Khmer, Myanmar."""
    name = unicodedata.name(char, "")
    return name.startswith(("CJK ", "HIRAGANA", "KATAKANA", "HANGUL", "THAI", "LAO ", "KHMER", "MYANMAR")) or (
        0x3400 <= ord(char) <= 0x9FFF
    )


def fold(text: str) -> str:
    """The form names are compared in: NFKC, Han characters in one form, lower case, no
    diacritics (Latin), punctuation as spaces, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text)
    if any(_is_ideographic(c) for c in text):
        japanese, simplified = _han_folders()
        text = simplified.convert(japanese.convert(text))
    text = text.lower().replace("đ", "d")
    kept, base = [], ""
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.category(char) != "Mn":
            base = char
        elif base.isascii():  # a Latin letter's diacritic; Thai or Devanagari vowel signs stay
            continue
        kept.append(char)
    stripped = "".join(kept)
    # NFC again: Hangul syllables were split into jamo by NFD.
    text = unicodedata.normalize("NFC", stripped)
    # Punctuation as spaces; the vowel signs of Thai or Devanagari (marks) are letters' parts.
    spaced = "".join(c if c.isalnum() or unicodedata.category(c) in ("Mn", "Mc") else " " for c in text)
    return " ".join(spaced.split())


def units(text: str, country_iso2: str | None = None) -> tuple[str, ...]:
    """The words and ideographic characters of ``text`` (folded), without filler words and the
    names of ``country_iso2`` (its Latin words, and its names in ideographic scripts: 대한민국)."""
    folded = fold(text)
    words, names = country_words(country_iso2)
    for name in names:
        folded = folded.replace(name, " ")
    found: list[str] = []
    for token in folded.split():
        word = ""
        for char in token:
            if _is_ideographic(char):
                if word:
                    found.append(word)
                    word = ""
                found.append(char)
            else:
                word += char
        if word:
            found.append(word)
    return tuple(u for u in found if u not in FILLER_WORDS and u not in words)


@cache
def country_words(country_iso2: str | None) -> tuple[frozenset[str], tuple[str, ...]]:
    """The Latin words of a country's names ('viet', 'nam', 'vietnam', 'socialist'...) and its
    names written without spaces (대한민국, 中国), longest first: they name the country, not an
    institution of it. Nothing for no country."""
    if not country_iso2:
        return frozenset(), ()
    from libcoop.reference import country_names

    words: set[str] = set()
    names: set[str] = set()
    for name, code in country_names().items():
        if code == country_iso2:
            folded = fold(name)
            if folded.isascii():
                words |= set(folded.split())
            elif " " not in folded and len(folded) >= 2:
                names.add(folded)
    return frozenset(words), tuple(sorted(names, key=len, reverse=True))


@cache
def any_country_words() -> frozenset[str]:
    """The Latin words of every country's names: a name of one country's row that holds another
    country's name ('National Library of Vietnam' on a row of LA) is no institution of the row's."""
    from libcoop.reference import country_names

    return frozenset(word for name in country_names() if (folded := fold(name)).isascii() for word in folded.split())


def _same_unit(a: str, b: str) -> bool:
    if a == b:
        return True
    if min(len(a), len(b)) < WORD_MIN_LENGTH or not (a.isalpha() and b.isalpha()) or _is_ideographic(a[0]):
        return False
    return fuzz.ratio(a, b) >= WORD_SIMILARITY


def _unmatched(these: Iterable[str], those: Iterable[str]) -> set[str]:
    others = set(those)
    return {u for u in these if u not in others and not any(_same_unit(u, o) for o in others)}


def _weight(foreign: Iterable[str]) -> float:
    """How much a name says beyond a spelling: a word counts 1, an ideographic character 1/2."""
    return sum(0.5 if _is_ideographic(unit[0]) else 1 for unit in foreign)


# --- candidates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    known: KnownSpelling
    folded: str
    units: tuple[str, ...]


@dataclass
class SpellingIndex:
    """The known spellings by country, folded once, and the units each institution is written with."""

    by_country: dict[str | None, list[_Prepared]] = field(default_factory=dict)
    vocabulary: dict[str, set[str]] = field(default_factory=dict)  # institution code -> units
    owners: set[str] = field(default_factory=set)  # the units of every institution, any country

    @classmethod
    def of(cls, spellings: Iterable[KnownSpelling]) -> SpellingIndex:
        index = cls()
        for known in spellings:
            prepared = _Prepared(known, fold(known.spelling), units(known.spelling, known.country_iso2))
            index.by_country.setdefault(known.country_iso2, []).append(prepared)
            index.vocabulary.setdefault(known.institution_code, set()).update(prepared.units)
            index.owners.update(prepared.units)
        return index


def closest_institutions(
    name: str,
    country_iso2: str | None,
    spellings: Iterable[KnownSpelling] | SpellingIndex,
    limit: int = 3,
) -> list[Candidate]:
    """The ``limit`` curated institutions of ``country_iso2`` that ``name`` may safely stand for,
    best first (higher score, then by code); none when no country is given or none is close enough."""
    index = spellings if isinstance(spellings, SpellingIndex) else SpellingIndex.of(spellings)
    prepared = index.by_country.get(country_iso2, []) if country_iso2 else []
    query_units = units(name, country_iso2)
    if not prepared or not query_units:
        return []
    query = fold(name)
    ideographic = all(_is_ideographic(u[0]) for u in query_units)
    cutoff = SHORT_IDEOGRAPHIC_SCORE if ideographic and len(query_units) <= SHORT_IDEOGRAPHIC_UNITS else CANDIDATE_SCORE
    best: dict[str, tuple[Candidate, int]] = {}  # code -> candidate, units its spelling adds
    for spelling in prepared:
        code = spelling.known.institution_code
        missing, extra = _unmatched(query_units, spelling.units), _unmatched(spelling.units, query_units)
        if missing and extra:
            continue  # each names something the other does not: two institutions
        foreign = [unit for unit in missing if unit not in index.vocabulary[code]]
        if _weight(foreign) > 1 or any(unit in any_country_words() or unit in index.owners for unit in foreign):
            # More than a word its spellings never hold, or a word of another institution's
            # spellings ("Assembly", "Diet") or of another country's name: another institution.
            continue
        score = round(float(fuzz.WRatio(query, spelling.folded)), 1)
        if score < cutoff:
            continue
        candidate = Candidate(code, spelling.known.institution_name, country_iso2, spelling.known.spelling, score, True)
        current = best.get(code)
        if (
            current is None
            or (score, -len(extra)) > (current[0].score, -current[1])
            or ((score, len(extra)) == (current[0].score, current[1]) and spelling.known.spelling < current[0].spelling)
        ):
            best[code] = (candidate, len(extra))
    if any(added == 0 for _, added in best.values()):
        best = {code: found for code, found in best.items() if found[1] == 0}
    ranked = sorted((c for c, _ in best.values()), key=lambda c: (-c.score, c.institution_code))
    return ranked[: max(limit, 0)]


def known_spellings(
    institutions: Iterable[tuple[str, str, str | None, str | None]],
    aliases: Iterable[tuple[str, str]],
) -> list[KnownSpelling]:
    """Every spelling that resolves to a curated institution, as dbt resolves names: the aliases
    ``(alias, institution_code)`` to a curated code, and each institution's own code, name and
    acronym. ``institutions`` are ``(institution_code, institution_name, country_iso2, acronym)``
    rows of the seed; the unknown member and empty spellings are no candidates."""
    institutions = list(institutions)
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
    closest curated institutions of the row's country for every ``(institution_key,
    institution_name, institution_name_normalized, country_iso2)`` of the review list, best first."""
    index = SpellingIndex.of(spellings)
    rows = []
    for institution_key, name, name_normalized, country in sorted(unresolved):
        for rank, candidate in enumerate(closest_institutions(name, country, index, limit), start=1):
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
