"""Break exactly one rule of the contract's section 1 in a valid generated file.

Each mutation takes a valid file (tests/generated_drops.py) and returns its bytes with one rule
broken, and the problems the report must name: (rule, row, column, value), ``...`` where any value
will do (a line number after quoted newlines, the bytes quoted in the report). Rows are numbered
as Excel shows them (header = 1)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, replace

from tests.generated_drops import DropFile, Layout, Row, to_csv

Expected = list[tuple[object, object, object, object]]


@dataclass(frozen=True)
class Broken:
    relative_path: str
    content: bytes
    expected: Expected


# Bytes-level mutations need text they can cut: UTF-8, as typed, dates and numbers in the
# contract's own forms (title rows stay: the rows named are counted from the header).
PLAIN = {"encoding": "utf-8", "nfd": False, "date_style": "iso", "number_style": "plain"}


def as_csv(f: DropFile, **changes) -> DropFile:
    """The same file written as CSV (bytes-level mutations need text)."""
    stem = f.relative_path.rsplit(".", 1)[0]
    layout = replace(f.layout, extension="csv", **{**PLAIN, **changes})
    return replace(f, relative_path=f"{stem}.csv", layout=layout)


def last_row(f: DropFile) -> int:
    return f.first_row + len(f.rows) - 1


def with_column(f: DropFile, column: str) -> DropFile:
    if column in f.layout.columns:
        return f
    layout = replace(f.layout, columns=(*f.layout.columns, column), header_texts=(*f.layout.header_texts, column))
    return replace(f, layout=layout)


def set_cells(f: DropFile, index: int, **cells: str) -> DropFile:
    for column in cells:
        f = with_column(f, column)
    rows = list(f.rows)
    rows[index] = Row({**rows[index].cells, **cells}, rows[index].facts, rows[index].names)
    return replace(f, rows=rows)


def cell_rule(kind: str, rule: str, column: str, value: str, **others: str) -> Callable[[DropFile], Broken]:
    """Write ``value`` in ``column`` of the last row (with ``others`` on that row)."""

    def mutate(f: DropFile) -> Broken:
        assert f.kind == kind
        f = as_csv(set_cells(f, len(f.rows) - 1, **{column: value}, **others))
        return Broken(f.relative_path, to_csv(f), [(rule, last_row(f), column, value or None)])

    return mutate


def missing_column(column: str) -> Callable[[DropFile], Broken]:
    def mutate(f: DropFile) -> Broken:
        keep = [i for i, c in enumerate(f.layout.columns) if c != column]
        layout = replace(
            f.layout,
            columns=tuple(f.layout.columns[i] for i in keep),
            header_texts=tuple(f.layout.header_texts[i] for i in keep),
        )
        f = as_csv(replace(f, layout=layout))
        return Broken(f.relative_path, to_csv(f), [("missing_column", f.first_row - 1, column, None)])

    return mutate


def duplicate_column(f: DropFile) -> Broken:
    column = next(c for c in f.layout.columns if c in {r for row in f.rows for r in row.cells})
    layout = replace(f.layout, columns=(*f.layout.columns, column), header_texts=(*f.layout.header_texts, column))
    f = as_csv(replace(f, layout=layout))
    return Broken(f.relative_path, to_csv(f), [("duplicate_column", f.first_row - 1, column, None)])


def duplicate_record_id(f: DropFile) -> Broken:
    f = set_cells(set_cells(f, 0, record_id="R-1"), len(f.rows) - 1, record_id="R-1")
    f = as_csv(f)
    rows = [f.first_row, last_row(f)] if len(f.rows) > 1 else []
    return Broken(f.relative_path, to_csv(f), [("duplicate_record_id", r, "record_id", "R-1") for r in rows])


def not_utf8(f: DropFile) -> Broken:
    # 0x81 0x8d: not UTF-8, and undefined in cp1252, Singapore's legacy code page
    f = as_csv(replace(f, relative_path="SG/" + f.relative_path.split("/", 1)[1]), bom=False)
    data = to_csv(f)
    cut = data.index(b"\n") + 1
    return Broken(f.relative_path, data[:cut] + b"\x81\x8d" + data[cut:], [("not_utf8", 2, None, ...)])


def encoding_unclear(f: DropFile) -> Broken:
    # 'São' in cp1252 is 'Săo' in cp1258, Viet Nam's code page: two plausible readings.
    f = as_csv(replace(f, relative_path="VN/" + f.relative_path.split("/", 1)[1]), bom=False)
    f = set_cells(f, len(f.rows) - 1, source="Biblioteca Mário de Andrade, São Paulo")
    data = to_csv(f).decode("utf-8").encode("cp1252", errors="replace")
    return Broken(f.relative_path, data, [("encoding_unclear", None, None, None)])


def too_long(rule: str, column: str, chars: int) -> Callable[[DropFile], Broken]:
    """A cell or a name beyond what the file's bounds allow (libcoop.ingest.bounds, checked with
    the header on row 1: the file has no title rows)."""

    def mutate(f: DropFile) -> Broken:
        f = as_csv(set_cells(f, len(f.rows) - 1, **{column: "Thư viện " * (chars // 9 + 1)}), title_rows=())
        return Broken(f.relative_path, to_csv(f), [(rule, last_row(f), ..., ...)])

    return mutate


def too_many_columns(f: DropFile) -> Broken:
    extra = tuple(f"extra {i}" for i in range(250))
    layout = replace(f.layout, columns=(*f.layout.columns, *extra), header_texts=(*f.layout.header_texts, *extra))
    f = as_csv(replace(f, layout=layout), title_rows=())
    return Broken(f.relative_path, to_csv(f), [("too_many_columns", 1, None, None)])


def malformed_line(f: DropFile) -> Broken:
    f = as_csv(f, bom=False, line_end="\n", quote_all=True)
    data = to_csv(f)
    return Broken(f.relative_path, data + b'"one","too","many"\n', [("malformed_csv", ..., None, ...)])


def no_rows(f: DropFile) -> Broken:
    f = as_csv(f)
    return Broken(f.relative_path, to_csv(replace(f, rows=[])), [("no_rows", f.first_row, None, None)])


def empty_file(f: DropFile) -> Broken:
    f = as_csv(f)
    return Broken(f.relative_path, b"", [("empty_file", None, None, None)])


def wrong_separator(f: DropFile) -> Broken:
    f = as_csv(f, bom=False)
    buffer = io.StringIO()
    buffer.write(";".join(f.layout.columns) + "\n")
    return Broken(f.relative_path, buffer.getvalue().encode(), [("wrong_separator", 1, None, ...)])


def unreadable_spreadsheet(f: DropFile) -> Broken:
    stem = f.relative_path.rsplit(".", 1)[0]
    return Broken(f"{stem}.xlsx", b"PK\x03\x04 this is not a workbook", [("unreadable_spreadsheet", None, None, ...)])


def _as_xlsx(f: DropFile, edit: Callable[[object], None]) -> bytes:
    """``f`` written as XLSX, its sheet passed through ``edit`` (an openpyxl worksheet)."""
    import openpyxl

    from tests.generated_drops import to_xlsx

    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(f)))
    edit(book.active)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_path(f: DropFile) -> str:
    return f.relative_path.rsplit(".", 1)[0] + ".xlsx"


def _first_required(f: DropFile) -> int:
    from libcoop.ingest.contract import columns_of

    required = {c.name for c in columns_of(f.kind) if c.required}
    return next(i for i, c in enumerate(f.layout.columns, start=1) if c in required)


def not_xlsx(f: DropFile) -> Broken:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)  # an old .xls, renamed
    return Broken(_xlsx_path(f), ole2, [("not_xlsx", None, None, None)])


def formula_without_value(f: DropFile) -> Broken:
    """A formula written by a program: openpyxl saves no result (Excel would)."""
    last = last_row(f)

    def edit(sheet) -> None:
        sheet.cell(row=last, column=1).value = "=1+1"

    return Broken(_xlsx_path(f), _as_xlsx(f, edit), [("formula_without_value", last, "A", None)])


def merged_cells(f: DropFile) -> Broken:
    column = _first_required(f)

    first = f.first_row

    def edit(sheet) -> None:
        sheet.merge_cells(start_row=first, start_column=column, end_row=first + 1, end_column=column)

    letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[column - 1]
    expected = [("merged_cells", first, None, f"{letter}{first}:{letter}{first + 1}")]
    return Broken(_xlsx_path(f), _as_xlsx(f, edit), expected)


def no_such_day(f: DropFile) -> Broken:
    """Excel's serial 60, the 29 February 1900 it counts and no calendar has."""
    column = f.layout.columns.index("joined") + 1
    last = last_row(f)

    def edit(sheet) -> None:
        sheet.cell(row=last, column=column).value = 60
        sheet.cell(row=last, column=column).number_format = "yyyy-mm-dd"

    letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[column - 1]
    return Broken(_xlsx_path(f), _as_xlsx(f, edit), [("no_such_day", last, letter, "1900-02-29")])


def excel_error(f: DropFile) -> Broken:
    """A cell showing #N/A, a lookup that found nothing."""
    last = last_row(f)

    def edit(sheet) -> None:
        sheet.cell(row=last, column=1).value = "#N/A"  # openpyxl writes it as an error value

    return Broken(_xlsx_path(f), _as_xlsx(f, edit), [("excel_error", last, "A", "#N/A")])


# rule -> (kind it applies to, mutation); every rule of RULES a single file can break.
MUTATIONS: dict[str, tuple[str, Callable[[DropFile], Broken]]] = {
    "missing_column": ("visits", missing_column("activity_type")),
    "required_value": ("memberships", cell_rule("memberships", "required_value", "organization", "")),
    "bad_date": ("visits", cell_rule("visits", "bad_date", "start_date", "12/05/2015", end_date="")),
    "date_out_of_range": ("memberships", cell_rule("memberships", "date_out_of_range", "joined", "0000", left="")),
    "end_before_start": (
        "donations",
        cell_rule("donations", "end_before_start", "end_date", "2016-04", start_date="2016-05-10"),
    ),
    "negative_number": ("visits", cell_rule("visits", "negative_number", "participants", "-5")),
    "not_whole_number": ("visits", cell_rule("visits", "not_whole_number", "participants", "about 2000")),
    "decimal_comma": ("donations", cell_rule("donations", "decimal_comma", "amount", "1.234,56", currency="USD")),
    "below_minimum": ("visits", cell_rule("visits", "below_minimum", "delegations", "0")),
    "not_a_number": ("donations", cell_rule("donations", "not_a_number", "amount", "USD 100", currency="USD")),
    "number_too_large": ("donations", cell_rule("donations", "number_too_large", "quantity", "12345678901234567890")),
    "amount_without_currency": (
        "donations",
        cell_rule("donations", "amount_without_currency", "currency", "", amount="100"),
    ),
    "unknown_currency": ("donations", cell_rule("donations", "unknown_currency", "currency", "QQQ", amount="5")),
    "unknown_country": ("memberships", cell_rule("memberships", "unknown_country", "country", "Atlantis")),
    "duplicate_record_id": ("memberships", duplicate_record_id),
    "not_in_list": ("visits", cell_rule("visits", "not_in_list", "activity_type", "party")),
    "side_missing": (
        "visits",
        cell_rule("visits", "side_missing", "host_institution", "", guest_institution=""),
    ),
    "country_for_side_missing": (
        "visits",
        cell_rule("visits", "country_for_side_missing", "host_country", "", host_institution="NLV"),
    ),
    "duplicate_column": ("memberships", duplicate_column),
    "not_utf8": ("donations", not_utf8),
    "encoding_unclear": ("memberships", encoding_unclear),
    "cell_too_long": ("visits", too_long("cell_too_long", "event", 40_000)),
    "name_too_long": ("memberships", too_long("name_too_long", "institution", 2_000)),
    "too_many_columns": ("donations", too_many_columns),
    "malformed_csv": ("memberships", malformed_line),
    "no_rows": ("visits", no_rows),
    "empty_file": ("donations", empty_file),
    "wrong_separator": ("memberships", wrong_separator),
    "unreadable_spreadsheet": ("visits", unreadable_spreadsheet),
    "not_xlsx": ("donations", not_xlsx),
    "formula_without_value": ("visits", formula_without_value),
    "merged_cells": ("memberships", merged_cells),
    "no_such_day": ("memberships", no_such_day),
    "excel_error": ("donations", excel_error),
}

__all__ = ["MUTATIONS", "Broken", "Layout"]
