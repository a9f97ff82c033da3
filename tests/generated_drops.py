"""Random drops that follow the contract (docs/contract.md section 1), for property-based tests.

A drop is a set of files written the many ways the contract allows: header case and spaces,
column order, unknown extra columns, optional columns left out, BOM, CRLF or LF, minimal or full
quoting with commas, quotes and newlines in values, CSV or XLSX (dates as text or as Excel dates
formatted to their precision), every date precision and coarser end periods, countries as codes in
any case or English names in common spellings, institutions and organizations as acronym, English
or native-script name from the curated seeds or unknown, the same entity written differently by
different countries, empty visit sides, several files per kind and country, labels.

Each generated file keeps, beside its bytes, the normalized rows it stands for, so that tests can
compare what the marts hold with what the files say (``DropFile.totals``), and break exactly one
rule in one file (``mutate``) knowing the row, column and value the report must name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import openpyxl
from hypothesis import strategies as st

from libcoop.ingest.contract import ACTIVITY_TYPES, DONATION_TYPES, DONOR_TYPES, columns_of
from libcoop.settings import DBT_PROJECT_DIR
from tests.property.freedoms import (
    DATE_STYLES,
    ENCODINGS,
    LATIN1_CITIES,
    NUMBER_STYLES,
    TITLES,
    encode,
    written_date,
    written_number,
)

SEEDS = DBT_PROJECT_DIR / "seeds"

# Spellings country_converter and pycountry resolve, per ISO code (codes in any case too).
COUNTRY_SPELLINGS: dict[str, tuple[str, ...]] = {
    "VN": ("VN", "vn", "Viet Nam", "Vietnam", "VNM"),
    "CN": ("CN", "cn", "China", "People's Republic of China"),
    "JP": ("JP", "jp", "Japan"),
    "KR": ("KR", "Republic of Korea", "South Korea"),
    "SG": ("SG", "Singapore", "sg"),
    "US": ("US", "United States", "USA"),
    "AU": ("AU", "Australia"),
    "FR": ("FR", "France"),
    "TH": ("TH", "Thailand"),
    "MY": ("MY", "Malaysia"),
}
REPORTING = ("VN", "CN", "JP", "KR", "SG")
CURRENCIES = ("USD", "usd", "EUR", "JPY", "KRW", "CNY", "SGD", "AUD", "VND", "THB")
EXTRA_COLUMNS = ("remarks", "Comment", "Tên tệp", "備考", "")
# Free text: Latin with Vietnamese diacritics, CJK, Hangul, punctuation that CSV must quote.
FREE_TEXT = st.text(
    alphabet=st.sampled_from([*"abcXYZ 019.-'&()/ăâđêôơưạảấầẩ中国图书馆日本国会図書館한국도서관", ",", '"', "\n"]),
    min_size=1,
    max_size=24,
).filter(lambda s: s.strip() != "")


def _read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _institution_spellings() -> dict[str, tuple[str, tuple[str, ...]]]:
    """code -> (country, every curated spelling: aliases, name, acronym) for the seed institutions."""
    spellings: dict[str, set[str]] = defaultdict(set)
    countries: dict[str, str] = {}
    for row in _read_seed("institutions.csv"):
        countries[row["institution_code"]] = row["country_iso2"]
        spellings[row["institution_code"]].update(v for v in (row["institution_name"], row["acronym"]) if v)
    for row in _read_seed("institution_aliases.csv"):
        spellings[row["institution_code"]].add(row["alias"])
    return {
        code: (countries[code], tuple(sorted(names)))
        for code, names in sorted(spellings.items())
        if countries.get(code) in COUNTRY_SPELLINGS
    }


def _organization_spellings() -> dict[str, tuple[str, ...]]:
    spellings: dict[str, set[str]] = defaultdict(set)
    for row in _read_seed("organizations.csv"):
        if row["acronym"] != "UNKNOWN":
            spellings[row["acronym"]].update((row["acronym"], row["organization_name"]))
    for row in _read_seed("organization_aliases.csv"):
        if row["acronym"] in spellings:
            spellings[row["acronym"]].add(row["alias"])
    return {acronym: tuple(sorted(names)) for acronym, names in sorted(spellings.items())}


INSTITUTIONS = _institution_spellings()
ORGANIZATIONS = _organization_spellings()


# --- one entity, as a coordinator writes it ------------------------------------------------------


@dataclass(frozen=True)
class Name:
    written: str
    country: str  # ISO alpha-2 of the entity
    code: str | None  # the curated code (institution) or acronym (organization) it must resolve to


@st.composite
def institutions(draw: st.DrawFn) -> Name:
    if draw(st.integers(0, 4)) == 0:  # an institution nobody curated
        country = draw(st.sampled_from(sorted(COUNTRY_SPELLINGS)))
        return Name("Unlisted " + draw(FREE_TEXT).strip(), country, None)
    code = draw(st.sampled_from(sorted(INSTITUTIONS)))
    country, spellings = INSTITUTIONS[code]
    return Name(draw(st.sampled_from(spellings)), country, code)


@st.composite
def organizations(draw: st.DrawFn) -> Name:
    if draw(st.integers(0, 5)) == 0:
        return Name("Unlisted Org " + draw(FREE_TEXT).strip(), "ZZ", None)
    acronym = draw(st.sampled_from(sorted(ORGANIZATIONS)))
    return Name(draw(st.sampled_from(ORGANIZATIONS[acronym])), "ZZ", acronym)


def country_text(draw: st.DrawFn, iso2: str) -> str:
    return draw(st.sampled_from(COUNTRY_SPELLINGS[iso2]))


def code_text(draw: st.DrawFn, code: str) -> str:
    """An accepted value as people type it: any case, spaces or hyphens for underscores."""
    style = draw(st.sampled_from(("as is", "upper", "title", "spaces", "hyphens")))
    return {
        "as is": code,
        "upper": code.upper(),
        "title": code.replace("_", " ").title(),
        "spaces": code.replace("_", " "),
        "hyphens": code.replace("_", "-"),
    }[style]


# --- dates -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    first: dt.date
    precision: str  # year, month, day

    @property
    def text(self) -> str:
        return {
            "year": f"{self.first.year:04d}",
            "month": f"{self.first.year:04d}-{self.first.month:02d}",
            "day": self.first.isoformat(),
        }[self.precision]

    @property
    def last(self) -> dt.date:
        if self.precision == "year":
            return dt.date(self.first.year, 12, 31)
        if self.precision == "month":
            following = dt.date(self.first.year + self.first.month // 12, self.first.month % 12 + 1, 1)
            return following - dt.timedelta(days=1)
        return self.first


def period_of(day: dt.date, precision: str) -> Period:
    return Period(
        {"year": dt.date(day.year, 1, 1), "month": dt.date(day.year, day.month, 1), "day": day}[precision], precision
    )


PRECISIONS = st.sampled_from(("year", "month", "day"))
YEARS = st.one_of(st.integers(1950, 2026), st.integers(1000, 2100))


@st.composite
def periods(draw: st.DrawFn) -> Period:
    year = draw(YEARS)
    day = draw(st.dates(dt.date(year, 1, 1), dt.date(year, 12, 31)))
    return period_of(day, draw(PRECISIONS))


@st.composite
def end_periods(draw: st.DrawFn, start: Period) -> Period | None:
    """Empty, or a period whose last day is not before the start (coarser ones included)."""
    if draw(st.booleans()):
        return None
    latest = min(dt.date(2100, 12, 31), start.first + dt.timedelta(days=draw(st.sampled_from((0, 40, 400, 4000)))))
    day = draw(st.dates(start.first, max(start.first, latest)))
    return period_of(day, draw(PRECISIONS))


COUNTS = st.one_of(st.integers(0, 60), st.integers(0, 1_000_000_000))


def amounts() -> st.SearchStrategy[str]:
    whole = st.one_of(st.integers(0, 500_000), st.integers(0, 10**15))
    return st.one_of(
        whole.map(str),
        st.tuples(st.integers(0, 10**9), st.integers(0, 99)).map(lambda p: f"{p[0]}.{p[1]:02d}"),
    )


# --- rows of each kind, as contract column -> (text written, normalized value) --------------------


@dataclass
class Row:
    cells: dict[str, str]  # contract column -> the text written ("" for empty)
    facts: dict[str, object]  # what the row must add to the marts (see DropFile.totals)
    names: list[Name] = field(default_factory=list)  # institutions it mentions, with the code they resolve to


@st.composite
def membership_rows(draw: st.DrawFn) -> Row:
    institution = draw(institutions())
    organization = draw(organizations())
    joined = draw(periods())
    left = draw(end_periods(joined))
    cells = {
        "institution": institution.written,
        "country": country_text(draw, institution.country),
        "organization": organization.written,
        "membership_type": draw(st.sampled_from(("", "member", "Official member", "associate", "founding member"))),
        "joined": joined.text,
        "left": left.text if left else "",
    }
    return Row(cells, {"organization": organization}, [institution])


@st.composite
def visit_rows(draw: st.DrawFn) -> Row:
    sides = draw(st.sampled_from(("both", "host", "guest")))
    host = draw(institutions()) if sides in ("both", "host") else None
    guest = draw(institutions()) if sides in ("both", "guest") else None
    start = draw(periods())
    end = draw(end_periods(start))
    delegations = draw(st.one_of(st.none(), st.integers(1, 60), st.integers(1, 1_000_000_000)))
    participants = draw(st.one_of(st.none(), COUNTS))

    def side_country(name: Name | None) -> str:
        if name is not None:
            return country_text(draw, name.country)
        # A side left empty may still carry its country ("136 delegations sent abroad" to JP).
        return country_text(draw, draw(st.sampled_from(sorted(COUNTRY_SPELLINGS)))) if draw(st.booleans()) else ""

    cells = {
        "activity_type": code_text(draw, draw(st.sampled_from(ACTIVITY_TYPES))),
        "host_institution": host.written if host else "",
        "host_country": side_country(host),
        "guest_institution": guest.written if guest else "",
        "guest_country": side_country(guest),
        "start_date": start.text,
        "end_date": end.text if end else "",
        "delegations": "" if delegations is None else str(delegations),
        "participants": "" if participants is None else str(participants),
        "event": draw(st.one_of(st.just(""), FREE_TEXT)),
        "program": draw(st.sampled_from(("", "CJKDLI", "INELI-ASEAN", "Window on China"))),
        "city": draw(st.sampled_from(("", "Hà Nội", "北京", "Tokyo", "Seoul, Korea", *LATIN1_CITIES))),
    }
    facts = {"delegations": 1 if delegations is None else delegations, "participants": participants}
    return Row(cells, facts, [n for n in (host, guest) if n is not None])


@st.composite
def donation_rows(draw: st.DrawFn) -> Row:
    donor = draw(institutions())
    recipient = draw(institutions())
    start = draw(periods())
    end = draw(end_periods(start))
    quantity = draw(st.one_of(st.none(), COUNTS))
    amount = draw(st.one_of(st.none(), amounts()))
    currency = draw(st.sampled_from(CURRENCIES)) if amount is not None else draw(st.sampled_from(("", "USD")))
    cells = {
        "donor": donor.written,
        "donor_country": country_text(draw, donor.country),
        "donor_type": draw(st.one_of(st.just(""), st.sampled_from(DONOR_TYPES).map(lambda v: code_text(draw, v)))),
        "recipient_institution": recipient.written,
        "recipient_country": country_text(draw, recipient.country),
        "donation_type": code_text(draw, draw(st.sampled_from(DONATION_TYPES))),
        "project": draw(st.one_of(st.just(""), FREE_TEXT)),
        "description": "",
        "quantity": "" if quantity is None else str(quantity),
        "amount": amount or "",
        "currency": currency,
        "start_date": start.text,
        "end_date": end.text if end else "",
    }
    facts = {"quantity": quantity, "amount": amount, "currency": currency.upper() if amount is not None else None}
    return Row(cells, facts, [donor, recipient])


ROWS = {"memberships": membership_rows, "visits": visit_rows, "donations": donation_rows}


# --- a file ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """How a file is written: everything the contract leaves free."""

    extension: str  # csv or xlsx
    columns: tuple[str, ...]  # the header, in file order: contract columns and unknown extras
    header_texts: tuple[str, ...]  # each column as written (case, spaces)
    bom: bool = False
    line_end: str = "\n"
    quote_all: bool = False
    excel_dates: bool = False  # XLSX: dates as Excel dates formatted to their precision
    # Turn 3's freedoms (tests/property/freedoms.py): the encoding saved in, names typed on a Mac,
    # title rows above the header, the local forms of dates and numbers.
    encoding: str = "utf-8"
    nfd: bool = False
    title_rows: tuple[str, ...] = ()
    date_style: str = "iso"
    number_style: str = "plain"


@dataclass
class DropFile:
    relative_path: str  # <CC>/<kind>[_<label>].<ext>
    kind: str
    layout: Layout
    rows: list[Row]

    @property
    def country(self) -> str:
        return self.relative_path.split("/")[0]

    @property
    def first_row(self) -> int:
        """The row number Excel shows the first data row under."""
        return len(self.layout.title_rows) + 2

    def content(self) -> bytes:
        return to_xlsx(self) if self.layout.extension == "xlsx" else to_csv(self)

    def cell_grid(self) -> list[list[str]]:
        """Every data row as written, in the layout's column order ('record_id' numbered)."""
        grid = []
        for number, row in enumerate(self.rows, start=1):
            cells = dict(row.cells)
            cells.setdefault("record_id", f"{self.relative_path}#{number}")
            cells.setdefault("source", f"generated {self.relative_path}")
            known = {c.name for c in columns_of(self.kind)}
            grid.append(
                [cells.get(column, "" if column in known else f"extra {number}") for column in self.layout.columns]
            )
        return grid


def written(drop: DropFile, column: str, text: str, *, typed_numbers: bool = False) -> str:
    """A cell as the layout writes it: dates and numbers in its local forms."""
    if column in DATE_COLUMNS:
        return written_date(text, drop.layout.date_style)
    if column in NUMBER_COLUMNS and not typed_numbers:
        return written_number(text, drop.layout.number_style)
    return text


def to_csv(drop: DropFile) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        lineterminator=drop.layout.line_end,
        quoting=csv.QUOTE_ALL if drop.layout.quote_all else csv.QUOTE_MINIMAL,
    )
    for title in drop.layout.title_rows:
        buffer.write(drop.layout.line_end) if not title else writer.writerow([title])
    writer.writerow(drop.layout.header_texts)
    writer.writerows(
        [written(drop, column, text) for column, text in zip(drop.layout.columns, row, strict=True)]
        for row in drop.cell_grid()
    )
    layout = drop.layout
    return encode(buffer.getvalue(), drop.country, layout.encoding, bom=layout.bom, nfd=layout.nfd)


DATE_COLUMNS = {c.name for kind in ROWS for c in columns_of(kind) if c.type.value == "date"}
COUNT_COLUMNS = {"delegations", "participants", "quantity"}
NUMBER_COLUMNS = {*COUNT_COLUMNS, "amount"}
EXCEL_FORMATS = {"year": "yyyy", "month": "mmm-yy", "day": "yyyy-mm-dd"}


def to_xlsx(drop: DropFile) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for title in drop.layout.title_rows:
        sheet.append([title] if title else [])
    sheet.append(list(drop.layout.header_texts))
    for number, values in enumerate(drop.cell_grid(), start=drop.first_row):
        for index, (column, text) in enumerate(zip(drop.layout.columns, values, strict=True), start=1):
            if text == "":
                continue
            cell = sheet.cell(row=number, column=index)
            if column in COUNT_COLUMNS:
                cell.value = int(text)  # typed as a number
            elif column in DATE_COLUMNS and drop.layout.excel_dates:
                precision = {4: "year", 7: "month"}.get(len(text), "day")
                day = dt.date.fromisoformat(text + {"year": "-01-01", "month": "-01"}.get(precision, ""))
                cell.value = dt.datetime(day.year, day.month, day.day)
                cell.number_format = EXCEL_FORMATS[precision]
            else:
                text = written(drop, column, text, typed_numbers=True)
                cell.value = unicodedata.normalize("NFD", text) if drop.layout.nfd else text
                cell.data_type = "s"  # a text cell, never a formula
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@st.composite
def layouts(draw: st.DrawFn, kind: str) -> Layout:
    known = [c for c in columns_of(kind)]
    chosen = [c.name for c in known if c.required or draw(st.booleans())]
    if kind == "visits":  # every column the side rules need, so that rows can fill them
        chosen = [c.name for c in known if c.required or c.name.endswith(("_institution", "_country"))] + [
            c
            for c in chosen
            if not c.endswith(("_institution", "_country")) and c not in ("activity_type", "start_date")
        ]
    chosen += [e for e in EXTRA_COLUMNS if draw(st.integers(0, 6)) == 0]
    columns = tuple(draw(st.permutations(sorted(set(chosen), key=chosen.index))))

    def written(column: str) -> str:
        if not column or column not in {c.name for c in known}:
            return column
        style = draw(st.sampled_from(("lower", "upper", "title", "spaced")))
        return {"lower": column, "upper": column.upper(), "title": column.title(), "spaced": f"  {column} "}[style]

    extension = draw(st.sampled_from(("csv", "csv", "xlsx")))
    titles = draw(st.lists(st.sampled_from(TITLES), max_size=3)) if draw(st.integers(0, 3)) == 0 else []
    return Layout(
        extension=extension,
        columns=columns,
        header_texts=tuple(written(c) for c in columns),
        bom=draw(st.booleans()),
        line_end=draw(st.sampled_from(("\n", "\r\n"))),
        quote_all=draw(st.booleans()),
        excel_dates=extension == "xlsx" and draw(st.booleans()),
        encoding=draw(st.sampled_from(ENCODINGS)),
        nfd=draw(st.integers(0, 3)) == 0,
        title_rows=tuple(titles) if any(titles) else (),
        date_style=draw(st.sampled_from(DATE_STYLES)),
        number_style=draw(st.sampled_from(NUMBER_STYLES)),
    )


def fit_to_layout(row: Row, layout: Layout) -> Row:
    """Leave out the cells of columns the file does not have (only optional ones are left out)."""
    cells = {c: v for c, v in row.cells.items() if c in layout.columns}
    facts = dict(row.facts)
    if "delegations" in row.cells and "delegations" not in layout.columns:
        facts["delegations"] = 1
    for column in ("participants", "quantity"):
        if column in row.cells and column not in layout.columns:
            facts[column] = None
    if "amount" in row.cells and "amount" not in layout.columns:
        facts["amount"] = None
        facts["currency"] = None
    if "amount" in layout.columns and "currency" not in layout.columns and row.cells.get("amount"):
        cells["amount"] = ""  # an amount needs its currency column
        facts["amount"] = None
        facts["currency"] = None
    return replace(row, cells=cells, facts=facts)


@st.composite
def drop_files(draw: st.DrawFn, max_rows: int = 8, kind: str | None = None, min_rows: int = 1) -> DropFile:
    kind = kind or draw(st.sampled_from(sorted(ROWS)))
    country = draw(st.sampled_from(REPORTING))
    layout = draw(layouts(kind))
    rows = [
        fit_to_layout(r, layout)
        for r in draw(st.lists(ROWS[kind](), min_size=min_rows, max_size=max(min_rows, max_rows)))
    ]
    label = draw(st.one_of(st.just(""), st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,11}", fullmatch=True)))
    stem = draw(st.sampled_from((kind, kind.title(), kind.upper())))
    name = f"{stem}{'_' + label if label else ''}.{layout.extension}"
    return DropFile(f"{country}/{name}", kind, layout, rows)


@st.composite
def drops(draw: st.DrawFn, max_files: int = 6, max_rows: int = 8) -> list[DropFile]:
    """Several files; distinct paths (whatever their case) and distinct bytes."""
    files = draw(st.lists(drop_files(max_rows=max_rows), min_size=1, max_size=max_files))
    seen: set[str] = set()
    unique = []
    for f in files:
        if f.relative_path.lower() not in seen:
            seen.add(f.relative_path.lower())
            unique.append(f)
    return unique


def write_drop(files: list[DropFile], incoming: Path) -> None:
    for f in files:
        path = incoming / f.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.content())


# --- what the files add up to ---------------------------------------------------------------------


def totals(files: list[DropFile]) -> dict[str, object]:
    """Rows per kind, and the sums the marts must reproduce."""
    rows = {kind: 0 for kind in ROWS}
    sums: dict[str, int] = defaultdict(int)
    amounts_by_currency: dict[str, float] = defaultdict(float)
    for f in files:
        rows[f.kind] += len(f.rows)
        for row in f.rows:
            for column in ("delegations", "participants", "quantity"):
                value = row.facts.get(column)
                if value is not None:
                    sums[column] += int(value)  # type: ignore[arg-type]
            if row.facts.get("amount") is not None:
                amounts_by_currency[str(row.facts["currency"])] += float(str(row.facts["amount"]))
    return {"rows": rows, "sums": dict(sums), "amounts": dict(amounts_by_currency)}


def resolved_names(files: list[DropFile]) -> dict[str, set[str]]:
    """Curated code -> every spelling of it the drop uses."""
    names: dict[str, set[str]] = defaultdict(set)
    for f in files:
        for row in f.rows:
            for name in row.names:
                if name.code is not None:
                    names[name.code].add(name.written)
    return names


def shuffled(files: list[DropFile], seed: int) -> list[DropFile]:
    copy = list(files)
    random.Random(seed).shuffle(copy)
    return copy
