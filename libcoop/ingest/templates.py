"""Blank files for coordinators: ``raw/templates/<kind>.csv`` and ``<kind>.xlsx``.

Each holds the header row of its kind and one example row. The workbook also guides the typing:
drop-down lists of the accepted values (activity_type, donor_type, donation_type, currency),
whole numbers and amounts checked as they are typed, date and code columns kept as text (so
Excel does not turn 2015-11 into a date of its own), required columns marked, and a note on each
header cell. Columns and accepted values come from ``libcoop.ingest.contract`` (and the currency codes
from ``libcoop.reference``), so a template never disagrees with the checks.

Regenerate with ``make templates`` (``python -m libcoop.ingest.templates``), which also writes the
dbt seed ``contract_accepted_values.csv`` of the contract's lists of accepted values.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Mapping
from pathlib import Path

from libcoop.ingest.contract import KINDS as CONTRACT_KINDS
from libcoop.ingest.contract import Column, ColumnType, columns_of
from libcoop.settings import dbt_project_dir, project_root

KINDS = tuple(CONTRACT_KINDS)  # memberships, visits, donations


def templates_dir() -> Path:
    """raw/templates/ of the project (the files coordinators copy), found when asked."""
    return project_root() / "raw" / "templates"


# One example row per kind (``Kind.example`` in the contract), taken from the seed documents.
# Every value must pass the contract check (the test of the templates runs `libcoop check` on them).
EXAMPLES: dict[str, Mapping[str, str]] = {name: kind.example for name, kind in CONTRACT_KINDS.items()}

HINTS: dict[ColumnType, str] = {
    ColumnType.TEXT: "Free text, in any script.",
    ColumnType.LOWER_TEXT: "Free text, e.g. member, associate, observer.",
    ColumnType.CODE: "Pick one of the values in the list.",
    ColumnType.COUNTRY: "ISO two-letter code (VN, CN, JP...) or the English name (Viet Nam...).",
    ColumnType.DATE: "A date as 2015, 2015-11 or 2015-11-10.",
    ColumnType.COUNT: "A whole number, digits only.",
    ColumnType.AMOUNT: "A number, digits and an optional decimal point; the currency goes in 'currency'.",
    ColumnType.CURRENCY: "An ISO 4217 code such as USD, EUR, JPY, KRW, CNY, SGD, AUD or VND.",
}
TEXT_TYPES = (ColumnType.DATE, ColumnType.CODE, ColumnType.CURRENCY, ColumnType.COUNTRY, ColumnType.TEXT)
TEMPLATE_ROWS = 1000  # rows the typing checks cover below the header


def example_row(kind: str) -> list[str]:
    example = EXAMPLES[kind]
    unknown = set(example) - {c.name for c in columns_of(kind)}
    if unknown:
        raise ValueError(f"{kind} example has columns the contract does not know: {sorted(unknown)}")
    return [example.get(c.name, "") for c in columns_of(kind)]


def accepted_values(column: Column) -> tuple[str, ...]:
    if column.allowed:
        return column.allowed
    if column.type is ColumnType.CURRENCY:
        from libcoop.reference import currency_codes

        return tuple(currency_codes())
    return ()


def csv_text(kind: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.name for c in columns_of(kind)])
    writer.writerow(example_row(kind))
    return out.getvalue()


def write_xlsx(kind: str, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = kind
    lists = None  # a second sheet with the accepted values, when the kind has lists
    columns = columns_of(kind)
    sheet.append([c.name for c in columns])
    sheet.append(example_row(kind))
    sheet.freeze_panes = "A2"
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    list_column = 0
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        cells = f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"
        header = sheet.cell(row=1, column=index)
        header.font = Font(bold=True)
        hint = HINTS[column.type]
        if column.required:
            header.fill = required_fill
            hint = "Required. " + hint
        header.comment = Comment(hint, "libcoop")
        sheet.column_dimensions[letter].width = max(12, len(column.name) + 4)
        if column.type in TEXT_TYPES:
            for row in range(2, TEMPLATE_ROWS + 2):
                sheet.cell(row=row, column=index).number_format = "@"
        values = accepted_values(column)
        if values:
            lists = lists or book.create_sheet("accepted values")
            list_column += 1
            list_letter = get_column_letter(list_column)
            lists.cell(row=1, column=list_column, value=column.name).font = Font(bold=True)
            for row, value in enumerate(values, start=2):
                lists.cell(row=row, column=list_column, value=value)
            rule = DataValidation(
                type="list",
                formula1=f"{quote_sheetname(lists.title)}!${list_letter}$2:${list_letter}${len(values) + 1}",
                allow_blank=not column.required,
            )
            rule.error = f"Use one of the accepted values of {column.name} (see the list)."
        elif column.type is ColumnType.COUNT:
            rule = DataValidation(type="whole", operator="greaterThanOrEqual", formula1=str(column.minimum))
            rule.error = f"A whole number of at least {column.minimum}, digits only."
        elif column.type is ColumnType.AMOUNT:
            rule = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
            rule.error = "A number of at least 0, without currency signs or separators."
        else:
            continue
        rule.errorTitle = f"Not accepted in {column.name}"
        rule.prompt = hint
        rule.showErrorMessage = True
        rule.showInputMessage = True
        sheet.add_data_validation(rule)
        rule.add(cells)
    book.save(path)


def write_templates(folder: Path | None = None) -> list[Path]:
    """Write ``<kind>.csv`` and ``<kind>.xlsx`` for every kind into ``folder`` (default
    raw/templates/); return the paths."""
    folder = folder or templates_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in KINDS:
        path = folder / f"{kind}.csv"
        path.write_bytes(csv_text(kind).encode("utf-8"))
        written.append(path)
        path = folder / f"{kind}.xlsx"
        write_xlsx(kind, path)
        written.append(path)
    return written


ACCEPTED_VALUES_SEED = "contract_accepted_values.csv"


def accepted_values_csv() -> str:
    """The contract's lists of accepted values as a dbt seed (kind, column_name, accepted_value), so
    the dbt tests of the marts read the lists the check enforces instead of restating them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["kind", "column_name", "accepted_value"])
    for name, kind in CONTRACT_KINDS.items():
        for column in kind.columns:
            writer.writerows([name, column.name, value] for value in column.allowed)
    return out.getvalue()


def write_accepted_values_seed(seeds: Path | None = None) -> Path:
    """Write ``contract_accepted_values.csv`` into ``seeds`` (default dbt_project/seeds/)."""
    path = (seeds or dbt_project_dir() / "seeds") / ACCEPTED_VALUES_SEED
    path.write_bytes(accepted_values_csv().encode("utf-8"))
    return path


if __name__ == "__main__":
    for written in write_templates(Path(sys.argv[1]) if len(sys.argv) > 1 else templates_dir()):
        print(written)
    print(write_accepted_values_seed())
