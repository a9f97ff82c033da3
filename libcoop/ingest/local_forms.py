"""The local forms of dates and numbers the contract reads (docs/contract.md section 1, turn 3),
applied in SQL as a file's texts are made, and the notes that show each reading.

The forms themselves are defined once, in libcoop.ingest.contract."""

from __future__ import annotations

import duckdb

from libcoop.ingest.contract import (
    TRIMMED,
    ColumnType,
    columns_of,
    grouped_number_sql,
    local_date_sql,
)

READ_TYPES = (ColumnType.DATE, ColumnType.COUNT, ColumnType.AMOUNT)
WRITTEN = "__written"  # suffix of the column keeping a value as written, beside its reading


# Values already in the contract's own form skip the local forms' regular expressions.
_OWN_FORM = {
    ColumnType.DATE: r"\d{4}(-\d{2}){0,2}",
    ColumnType.COUNT: r"-?\d+",
    ColumnType.AMOUNT: r"-?\d+(\.\d+)?",
}


def _read(column_type: ColumnType, v: str) -> str:
    if column_type is ColumnType.DATE:
        local = local_date_sql(v)
    else:
        local = grouped_number_sql(v, column_type is ColumnType.AMOUNT)
    own = f"regexp_full_match({v}, '{_OWN_FORM[column_type]}')"
    return f"case when {v} is null or {own} then {v} else coalesce({local}, {v}) end"


def create_texts(con: duckdb.DuckDBPyConnection, kind: str, mapping: dict[str, str], row_column: str) -> None:
    """Table ``texts``: each contract column's value trimmed (spaces, tabs, no-break spaces), NULL
    when empty, local forms read; a date or number column also keeps the text as written."""
    trim = "'" + TRIMMED + "'"
    trimmed = ", ".join(f"nullif(trim({source}, {trim}), '') as \"{name}\"" for name, source in mapping.items())
    # One table made, in one pass: the trimmed values are read in a subquery.
    types = {c.name: c.type for c in columns_of(kind)}
    parts = []
    for name in mapping:
        if types.get(name) in READ_TYPES:
            parts.append(f'{_read(types[name], f"{chr(34)}{name}{chr(34)}")} as "{name}"')
            parts.append(f'"{name}" as "{name}{WRITTEN}"')
        else:
            parts.append(f'"{name}"')
    trimmed_rows = f"(select {row_column}, {trimmed} from raw_rows)"
    con.execute(f"create table texts as select {row_column}, {', '.join(parts)} from {trimmed_rows}")


def local_form_notes(con: duckdb.DuckDBPyConnection, kind: str, mapping: dict[str, str], row_column: str) -> list[str]:
    """One note per column where local forms were read: how many, and the first as written and as read."""
    notes = []
    for column in columns_of(kind):
        if column.type not in READ_TYPES or column.name not in mapping:
            continue
        name, written = f'"{column.name}"', f'"{column.name}{WRITTEN}"'
        count, row, as_written, as_read = con.execute(
            f"select count(*), min({row_column}), arg_min({written}, {row_column}), arg_min({name}, {row_column}) "
            f"from texts where {written} is distinct from {name}"
        ).fetchone()
        if not count:
            continue
        what = "date" if column.type is ColumnType.DATE else "number"
        form = "in a local form" if column.type is ColumnType.DATE else "with thousands separators"
        values = f"{count} {what}s {form} were" if count > 1 else f"1 {what} {form} was"
        notes.append(
            f"column {column.name}: {values} read, e.g. row {row} '{as_written}' as {as_read}"
            + (" (YYYY-MM-DD)" if column.type is ColumnType.DATE and len(as_read) == 10 else "")
        )
    return notes
