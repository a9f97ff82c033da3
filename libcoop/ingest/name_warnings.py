"""Warnings a checked file carries without being rejected: text that looks garbled (mojibake) and
names no curated spelling matches. Each warning is one line, without the file's path."""

from __future__ import annotations

import duckdb

from libcoop.ingest.contract import ColumnType, columns_of
from libcoop.ingest.readers import ROW_COLUMN
from libcoop.ingest.suggestions import NAME_COLUMNS, NAME_COUNTRY_COLUMNS, unresolved_name_warning
from libcoop.settings import dbt_project_dir


def _distinct_values(
    con: duckdb.DuckDBPyConnection, column: str, limit: int | None = None, *, non_ascii: bool = False
) -> list[tuple[str, int]]:
    """Each distinct value of ``column`` in table ``src`` with the first row it is on, in row order;
    with ``non_ascii``, only the values with a character beyond ASCII (more bytes than characters)."""
    only = f' and strlen("{column}") > length("{column}")' if non_ascii else ""
    sql = f'select "{column}", min({ROW_COLUMN}) from src where "{column}" is not null{only} group by 1 order by 2'
    return con.execute(sql + (f" limit {limit}" if limit else "")).fetchall()


MAX_TEXTS_CHECKED = 10_000  # distinct values per column looked at for mojibake


def garbled_text_warnings(kind: str, mapping: dict[str, str], con: duckdb.DuckDBPyConnection) -> list[str]:
    """Warn about UTF-8 text that was once decoded as cp1252 and saved again ('ThÆ° viá»‡n'): valid
    UTF-8, so the file loads, but the coordinator should know and send the original."""
    import ftfy
    from ftfy import badness

    warnings = []
    for column in columns_of(kind):
        if column.type not in (ColumnType.TEXT, ColumnType.LOWER_TEXT) or column.name not in mapping:
            continue
        # Mojibake is made of characters beyond ASCII: plain ASCII values cannot be garbled.
        for value, row in _distinct_values(con, column.name, MAX_TEXTS_CHECKED, non_ascii=True):
            if badness.is_bad(value) and (fixed := ftfy.fix_text(value)) != value:
                warnings.append(
                    f'row {row}, column {column.name}: the text "{value[:80]}" looks garbled '
                    f'(probably "{fixed[:80]}"): the file was likely opened with the wrong encoding and saved '
                    "again; please send it again saved from the original as CSV UTF-8"
                )
    return warnings


MAX_NAME_WARNINGS = 50  # unknown names listed per file


def unresolved_name_warnings(mapping: dict[str, str], con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names no curated spelling matches load as institutions of their own: say so, with the closest."""
    seeds = dbt_project_dir() / "seeds"
    warnings: list[str] = []
    for column in NAME_COLUMNS:
        if column not in mapping:
            continue
        country = NAME_COUNTRY_COLUMNS.get(column)
        iso2 = f'"iso2__{country}"' if country in mapping else "null"
        distinct = f'select "{column}", {iso2}, min({ROW_COLUMN}) from src where "{column}" is not null'
        for value, iso2_value, row in con.execute(distinct + " group by 1, 2 order by 3").fetchall():
            warning = unresolved_name_warning(column, value, row, seeds, iso2_value)
            if warning and len(warnings) < MAX_NAME_WARNINGS:
                warnings.append(warning)
    return warnings
