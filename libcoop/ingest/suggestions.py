"""What to write instead: suggestions a coordinator can act on, from the accepted values, the
country names and the curated institution and organization names (fuzzy matching by rapidfuzz).

Everything here only adds words to a report: it never changes whether a file is accepted."""

from __future__ import annotations

import calendar
import csv
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from rapidfuzz import fuzz, process, utils

from libcoop.ingest.contract import KINDS, Problem, columns_of
from libcoop.review import SpellingIndex, closest_institutions, known_spellings

# Below these scores (0-100) a guess is more confusing than helpful.
SUGGEST_SCORE = 75
NAME_SCORE = 70
NAMES_SHOWN = 3

_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_YEAR_MONTH_DAY = re.compile(r"^(\d{4})[/.](\d{1,2})(?:[/.](\d{1,2}))?$")
_MONTH_YEAR = re.compile(r"^([A-Za-z]+)\.?[\s\-/]+(\d{4})$")


def _iso(year: int, month: int, day: int | None = None) -> str | None:
    if not 1 <= month <= 12 or (day is not None and not 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    return f"{year:04d}-{month:02d}" + (f"-{day:02d}" if day is not None else "")


def _spoken(iso: str) -> str:
    year, month, *day = (int(p) for p in iso.split("-"))
    return (f"{day[0]} " if day else "") + f"{calendar.month_name[month]} {year}"


def date_suggestion(value: str) -> str | None:
    """'12/05/2015' -> both readings; '2015/5/12' -> 2015-05-12; 'May 2015' -> 2015-05."""
    text = value.strip()
    if match := _DAY_MONTH_YEAR.match(text):
        first, second, year = (int(g) for g in match.groups())
        readings = {r for r in (_iso(year, second, first), _iso(year, first, second)) if r}
        if len(readings) == 2:
            day_first, month_first = _iso(year, second, first), _iso(year, first, second)
            return (
                f"{text} can be read two ways: write {day_first} for {_spoken(day_first)} "  # type: ignore[arg-type]
                f"or {month_first} for {_spoken(month_first)}"  # type: ignore[arg-type]
            )
        if readings:
            (only,) = readings
            return f"write {only} ({_spoken(only)})"
    if match := _YEAR_MONTH_DAY.match(text):
        year, month, day = match.groups()
        iso = _iso(int(year), int(month), int(day) if day else None)
        return f"write {iso}" if iso else None
    if match := _MONTH_YEAR.match(text):
        name, year = match.groups()
        months = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
        months.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
        if name.lower() in months:
            return f"write {int(year):04d}-{months[name.lower()]:02d}"
    return None


def closest(value: str, choices: Iterable[str], score: int = SUGGEST_SCORE, limit: int = 1) -> list[str]:
    found = process.extract(
        value, list(choices), scorer=fuzz.WRatio, processor=utils.default_process, limit=limit, score_cutoff=score
    )
    return [choice for choice, _, _ in found]


def value_suggestion(problem: Problem, kind: str) -> str | None:
    """A 'did you mean' for a value outside a list of accepted values or an unknown country."""
    if problem.value is None:
        return None
    if problem.rule == "unknown_country":
        from libcoop.reference import country_names

        names = country_names()
        guess = closest(problem.value, names)
        return f"did you mean {guess[0]} ({names[guess[0]]})?" if guess else None
    if problem.rule == "not_in_list":
        column = next((c for c in columns_of(kind) if c.name == problem.column), None)
        guess = closest(problem.value, column.allowed, score=60) if column else []
        return f"did you mean {guess[0]}?" if guess else None
    if problem.rule in ("bad_date", "date_out_of_range"):
        return date_suggestion(problem.value)
    return None


def header_suggestion(missing: str, unknown_headers: Iterable[str]) -> str | None:
    """A missing column that is in the header under another spelling ('activity type', 'actvity_type')."""
    guess = closest(missing, [h for h in unknown_headers if h.strip()], score=80)
    return f"your header has '{guess[0].strip()}': rename it to {missing}" if guess else None


def with_suggestion(problem: Problem, kind: str, unknown_headers: Iterable[str] = ()) -> Problem:
    hint = (
        header_suggestion(problem.column or "", unknown_headers)
        if problem.rule == "missing_column"
        else value_suggestion(problem, kind)
    )
    if not hint:
        return problem
    detail = f"{problem.detail}; {hint}" if problem.detail else hint
    return Problem(problem.file, problem.rule, problem.row, problem.column, problem.value, detail)


# --- names the warehouse will not resolve --------------------------------------------------------

# The columns holding institution or organization names, and the seed lists that resolve them
# (``Kind.institutions`` and ``Kind.organizations`` of the contract).
NAME_COLUMNS = {column: "institutions" for kind in KINDS.values() for column, _ in kind.institutions} | {
    column: "organizations" for kind in KINDS.values() for column in kind.organizations
}
# The column giving the country of each institution column: a name resolves, and is suggested,
# only among the institutions of that country (contract section 1).
NAME_COUNTRY_COLUMNS = {column: country for kind in KINDS.values() for column, country in kind.institutions}


def normalize_name(text: str) -> str:
    """As the dbt macro normalize_name: lower case, trimmed, inner whitespace collapsed."""
    return " ".join(text.split()).lower()


def _read(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def curated_names(seeds: Path) -> dict[str, dict[str, str]]:
    """'institutions' / 'organizations' -> normalized name -> the spelling in the seeds."""

    def read(name: str, *columns: str) -> dict[str, str]:
        return {normalize_name(row[c]): row[c] for row in _read(seeds / name) for c in columns if row.get(c)}

    return {
        "institutions": read("institutions.csv", "institution_name", "acronym")
        | read("institution_aliases.csv", "alias"),
        "organizations": read("organizations.csv", "acronym", "organization_name")
        | read("organization_aliases.csv", "alias"),
    }


@cache
def institution_spellings(seeds: Path) -> SpellingIndex:
    """Every spelling that resolves to a curated institution, as dbt resolves names, by country."""
    institutions = [
        (row["institution_code"], row["institution_name"], row.get("country_iso2") or None, row.get("acronym") or None)
        for row in _read(seeds / "institutions.csv")
    ]
    aliases = [(row["alias"], row["institution_code"]) for row in _read(seeds / "institution_aliases.csv")]
    return SpellingIndex.of(known_spellings(institutions, aliases))


def _resolves(value: str, country_iso2: str | None, index: SpellingIndex) -> bool:
    """Whether dbt will resolve ``value``: a spelling of an institution of the row's country."""
    name = normalize_name(value)
    countries = [country_iso2] if country_iso2 else list(index.by_country)
    return any(normalize_name(p.known.spelling) == name for c in countries for p in index.by_country.get(c, []))


def unresolved_name_warning(
    column: str, value: str, row: int, seeds: Path, country_iso2: str | None = None
) -> str | None:
    """A warning for a name that no curated spelling matches, with the closest curated names.

    An institution's name is looked up, and candidates are given, only among the institutions of
    the row's country ``country_iso2`` (none without a country: better silence than a wrong library)."""
    what = "organization" if NAME_COLUMNS[column] == "organizations" else "institution"
    if what == "organization":
        known = curated_names(seeds).get("organizations", {})
        if not known or normalize_name(value) in known:
            return None
        close = closest(value, known.values(), score=NAME_SCORE, limit=NAMES_SHOWN)
    else:
        index = institution_spellings(seeds)
        if not index.by_country or _resolves(value, country_iso2, index):
            return None
        close = [c.spelling for c in closest_institutions(value, country_iso2, index, NAMES_SHOWN)]
    where = f" of {country_iso2}" if what == "institution" and country_iso2 else ""
    hint = f"; closest known: {', '.join(close)}" if close else ""
    return (
        f"row {row}, column {column}: '{value}' is not a known {what} name{where}, so the warehouse will count it "
        f"as a separate {what}{hint}. If it is one of these, write it that way; if it is new, ask the curators "
        "to add it"
    )
