"""Check one drop file against the contract and normalize its rows, all in DuckDB.

Every rule is one SQL query over the file's Arrow table, so every problem of a file is found
(not only the first) at the speed of a columnar scan. Countries are resolved once per distinct
spelling, in Python, through the country libraries."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pyarrow as pa

from libcoop.ingest.contract import (
    DECIMAL_COMMA,
    EARLIEST_YEAR,
    KINDS,
    LATEST_YEAR,
    PERIODS,
    Column,
    ColumnType,
    Problem,
    columns_of,
    decimal_comma_reading,
    period_last_day_sql,
)
from libcoop.ingest.drop_folder import DropFile
from libcoop.ingest.local_forms import create_texts, local_form_notes
from libcoop.ingest.name_warnings import garbled_text_warnings, unresolved_name_warnings
from libcoop.ingest.readers import ROW_COLUMN, RawRead, duckdb_config, read_drop_file
from libcoop.ingest.suggestions import with_suggestion
from libcoop.ingest.verdict import CheckedFile, StoredRows  # noqa: F401  (re-exported: the check's verdict)
from libcoop.reference import country_readings, currency_codes, resolve_countries

log = logging.getLogger(__name__)

MAX_PROBLEM_EXAMPLES = 200  # listed one by one; beyond that, counted per rule
MAX_COLUMNS_NAMED = 5  # unknown columns named one by one; more are counted


def check_file(drop: DropFile, root: Path) -> CheckedFile:
    """Read and check ``drop`` (a file under ``root``); never raises for bad content."""
    raw = read_drop_file(drop, root)
    checked = CheckedFile(drop, problems=list(raw.problems), warnings=[f"{drop.relative_path}: {n}" for n in raw.notes])
    if raw.table is None:
        _count(checked)
        return checked
    if checked.problems:
        _count(checked)
        return checked  # broken lines: the row numbers of the others would mislead
    mapping = _map_headers(drop, raw, checked)
    if raw.table.num_rows == 0:
        checked.problems.append(Problem(drop.relative_path, "no_rows", row=raw.header_row + 1))
        _count(checked)
        return checked
    # A missing column does not hide the other problems: every column present is checked too,
    # so that the coordinator fixes the file in one round.
    header_problems = list(checked.problems)
    checked.problems = []
    _check_rows(drop, raw.table, mapping, checked)
    if header_problems:
        checked.problems = header_problems + checked.problems
        checked.rows = None
        for problem in header_problems:
            checked.problem_counts[problem.rule] = checked.problem_counts.get(problem.rule, 0) + 1
    return checked


def _count(checked: CheckedFile) -> None:
    for problem in checked.problems:
        checked.problem_counts[problem.rule] = checked.problem_counts.get(problem.rule, 0) + 1


def _map_headers(drop: DropFile, raw: RawRead, checked: CheckedFile) -> dict[str, str]:
    """Contract column name -> c<i> column of the raw table."""
    known = {c.name: c for c in columns_of(drop.kind)}
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    for index, header in enumerate(raw.headers):
        name = header.strip().lower()
        if name in mapping:
            checked.problems.append(Problem(drop.relative_path, "duplicate_column", row=raw.header_row, column=name))
        elif name in known:
            mapping[name] = f"c{index}"
        else:
            ignored.append(f"'{header.strip()}'" if header.strip() else f"(column {index + 1} has no name)")
    if len(ignored) > MAX_COLUMNS_NAMED:  # one line, not one per column of a 100,000-column file
        examples = ", ".join(ignored[:MAX_COLUMNS_NAMED])
        checked.warnings.append(f"{drop.relative_path}: {len(ignored):,} unknown columns ignored, e.g. {examples}, ...")
    else:
        checked.warnings += [f"{drop.relative_path}: unknown column {shown} ignored" for shown in ignored]
    unknown = [h for h in raw.headers if h.strip().lower() not in known]
    for column in known.values():
        if column.required and column.name not in mapping:
            problem = Problem(drop.relative_path, "missing_column", row=raw.header_row, column=column.name)
            checked.problems.append(with_suggestion(problem, drop.kind, unknown))
    for warning in checked.warnings:
        log.warning(warning)
    return mapping


def _value(column: str, mapping: dict[str, str]) -> str:
    """The trimmed text of a contract column in table ``src`` (NULL when empty or absent)."""
    return f'"{column}"' if column in mapping else "cast(null as varchar)"


def _date_parts(column: str, mapping: dict[str, str]) -> tuple[str, str, str]:
    """(first day, precision, last day) columns of a date column in table ``src``."""
    if column not in mapping:
        return "cast(null as date)", "cast(null as varchar)", "cast(null as date)"
    return f'"{column}__first"', f'"{column}__precision"', f'"{column}__last"'


def _date_sql(v: str) -> tuple[str, str, str]:
    """(first day, precision, last day) of a YYYY / YYYY-MM / YYYY-MM-DD text."""
    first = (
        f"case when regexp_full_match({v}, '\\d{{4}}') then make_date(cast({v} as integer), 1, 1) "
        f"when regexp_full_match({v}, '\\d{{4}}-\\d{{2}}') then try_cast({v} || '-01' as date) "
        f"when regexp_full_match({v}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') then try_cast({v} as date) end"
    )
    precision = (
        f"case when regexp_full_match({v}, '\\d{{4}}') then 'year' "
        f"when regexp_full_match({v}, '\\d{{4}}-\\d{{2}}') then 'month' "
        f"when regexp_full_match({v}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') then 'day' end"
    )
    return first, precision, period_last_day_sql(first, precision)


def _in_list(values: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def _normalized(column: Column, v: str) -> str:
    match column.type:
        case ColumnType.LOWER_TEXT:
            return f"lower({v})"
        case ColumnType.CODE:
            return f"lower(regexp_replace({v}, '[\\s-]+', '_', 'g'))"
        case ColumnType.COUNTRY:
            return f'"iso2__{column.name}"'  # joined in by _check_rows
        case ColumnType.COUNT:
            return f"cast({v} as bigint)"
        case ColumnType.AMOUNT:
            return f"cast({v} as double)"
        case ColumnType.CURRENCY:
            return f"upper({v})"
        case _:
            return v


def _number_queries(
    column: Column, v: str, *, number: str, negative: str, comma: str, malformed: str, too_large: str
) -> list[tuple[str, str, str, str]]:
    """The rules every number column has, in this order: negative, decimal comma, not a ``number``
    (``malformed``), and ``too_large`` (said of a ``number`` only)."""
    return [
        ("negative_number", column.name, f"{v} is not null and {negative}", ""),
        ("decimal_comma", column.name, f"{v} is not null and {comma}", ""),
        (malformed, column.name, f"{v} is not null and not {number} and not {negative} and not ({comma})", ""),
        ("number_too_large", column.name, f"{number} and ({too_large})", f"at most {column.maximum:,}"),
    ]


def _rule_queries(kind: str, mapping: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(rule, column, condition, detail) for each row-level rule of ``kind``."""
    queries: list[tuple[str, str, str, str]] = []
    for column in columns_of(kind):
        if column.name not in mapping:
            continue
        v = _value(column.name, mapping)
        name = column.name
        if column.required:
            queries.append(("required_value", name, f"{v} is null", ""))
        match column.type:
            case ColumnType.DATE:
                first, _, _ = _date_parts(name, mapping)
                queries.append(("bad_date", name, f"{v} is not null and {first} is null", ""))
                queries.append(
                    (
                        "date_out_of_range",
                        name,
                        f"year({first}) not between {EARLIEST_YEAR} and {LATEST_YEAR}",
                        f"years {EARLIEST_YEAR} to {LATEST_YEAR}",
                    )
                )
            case ColumnType.COUNT:
                whole = f"regexp_full_match({v}, '\\d+')"
                queries += _number_queries(
                    column,
                    v,
                    number=whole,
                    negative=f"regexp_full_match({v}, '-\\s*\\d+([.,]\\d+)?')",
                    comma=f"regexp_full_match({v}, '{DECIMAL_COMMA}')",
                    malformed="not_whole_number",
                    too_large=f"length(ltrim({v}, '0')) > 18 or try_cast({v} as hugeint) > {column.maximum}",
                )
                if column.minimum > 0:
                    queries.append(
                        (
                            "below_minimum",
                            name,
                            f"{whole} and try_cast({v} as hugeint) < {column.minimum}",
                            f"at least {column.minimum}",
                        )
                    )
            case ColumnType.AMOUNT:
                number = f"regexp_full_match({v}, '\\d+(\\.\\d+)?')"
                queries += _number_queries(
                    column,
                    v,
                    number=number,
                    negative=f"regexp_full_match({v}, '-\\s*\\d+(\\.\\d+)?')",
                    comma=f"not {number} and regexp_full_match({v}, '{DECIMAL_COMMA}')",
                    malformed="not_a_number",
                    too_large=(
                        f"length(ltrim(split_part({v}, '.', 1), '0')) > 16 "
                        f"or try_cast({v} as double) > {column.maximum}"
                    ),
                )
            case ColumnType.CURRENCY:
                queries.append(
                    (
                        "unknown_currency",
                        name,
                        f"{v} is not null and upper({v}) not in (select code from currencies)",
                        "",
                    )
                )
            case ColumnType.COUNTRY:
                queries.append(("unknown_country", name, f"{v} is not null and ({_normalized(column, v)}) is null", ""))
            case ColumnType.CODE:
                queries.append(
                    (
                        "not_in_list",
                        name,
                        f"{v} is not null and {_normalized(column, v)} not in {_in_list(column.allowed)}",
                        "accepted: " + ", ".join(column.allowed),
                    )
                )
            case _:
                pass
    if "record_id" in mapping:
        v = _value("record_id", mapping)
        queries.append(
            ("duplicate_record_id", "record_id", f"{v} is not null and count(*) over (partition by {v}) > 1", "")
        )
    start, end = PERIODS[kind]
    if start in mapping and end in mapping:
        start_first, _, _ = _date_parts(start, mapping)
        _, _, end_last = _date_parts(end, mapping)
        queries.append(("end_before_start", end, f"{end_last} < {start_first}", f"{start} is {{{start}}}"))
    spec = KINDS[kind]
    for column, other in spec.requires:  # e.g. donations: an amount needs its currency
        if column in mapping:
            queries.append(
                (
                    f"{column}_without_{other}",
                    other,
                    f"{_value(column, mapping)} is not null and {_value(other, mapping)} is null",
                    "",
                )
            )
    if spec.sides:  # visits: a host or a guest, each with its country
        first, second = (_value(inst, mapping) for inst, _ in spec.sides)
        queries.append(("side_missing", spec.sides[0][0], f"{first} is null and {second} is null", ""))
        for institution, country in spec.sides:
            queries.append(
                (
                    "country_for_side_missing",
                    country,
                    f"{_value(institution, mapping)} is not null and {_value(country, mapping)} is null",
                    f"{institution} is {{{institution}}}",
                )
            )
    return queries


def _check_rows(drop: DropFile, table: pa.Table, mapping: dict[str, str], checked: CheckedFile) -> None:
    con = duckdb.connect(":memory:", config=duckdb_config(table.nbytes))
    try:
        con.execute("set enable_progress_bar = false")
        con.register("raw_rows", table)
        # Trim once, read local forms once, parse dates once: every rule below reads this table.
        create_texts(con, drop.kind, mapping, ROW_COLUMN)
        notes = local_form_notes(con, drop.kind, mapping, ROW_COLUMN)
        checked.warnings += [f"{drop.relative_path}: {note}" for note in notes]
        country_columns = [c.name for c in columns_of(drop.kind) if c.type is ColumnType.COUNTRY and c.name in mapping]
        country_values = [
            value
            for name in country_columns
            for (value,) in con.execute(f'select distinct "{name}" from texts where "{name}" is not null').fetchall()
        ]
        lookup = resolve_countries(country_values)
        con.execute("create table country_lookup (value varchar, iso2 varchar)")
        if lookup:
            con.executemany("insert into country_lookup values (?, ?)", list(lookup.items()))
        joins = "".join(
            f' left join country_lookup as "lookup__{name}" on "lookup__{name}".value = texts."{name}"'
            for name in country_columns
        )
        derived = [f'"lookup__{name}".iso2 as "iso2__{name}"' for name in country_columns]
        for column in columns_of(drop.kind):
            if column.type is ColumnType.DATE and column.name in mapping:
                first, precision, last = _date_sql(f'texts."{column.name}"')
                derived += [
                    f'{first} as "{column.name}__first"',
                    f'{precision} as "{column.name}__precision"',
                    f'{last} as "{column.name}__last"',
                ]
        extra = "".join(", " + d for d in derived)
        con.execute(f"create table src as select texts.*{extra} from texts{joins}")
        con.execute("create table currencies as select unnest(?::varchar[]) as code", [currency_codes()])

        selects = []
        for rule, column, condition, detail in _rule_queries(drop.kind, mapping):
            # "{other}" in a detail is filled in with that column's value on the row.
            detail_sql = "'" + detail.replace("'", "''") + "'"
            for other in mapping:
                if "{" + other + "}" in detail:
                    detail_sql = f"replace({detail_sql}, '{{{other}}}', coalesce({_value(other, mapping)}, ''))"
            value_sql = _value(column, mapping)
            selects.append(
                f"select {ROW_COLUMN} as row_number, '{rule}' as rule, '{column}' as column_name, "
                f"left({value_sql}, 120) as value, {detail_sql} as detail from src qualify {condition}"
                if "over (" in condition
                else f"select {ROW_COLUMN} as row_number, '{rule}' as rule, '{column}' as column_name, "
                f"left({value_sql}, 120) as value, {detail_sql} as detail from src where {condition}"
            )
        con.execute("create table problems as " + " union all ".join(selects))
        checked.problem_counts = dict(
            con.execute("select rule, count(*) from problems group by rule order by rule").fetchall()
        )
        for row_number, rule, column_name, value, detail in con.execute(
            f"select * from problems order by row_number, column_name, rule limit {MAX_PROBLEM_EXAMPLES}"
        ).fetchall():
            if rule == "decimal_comma" and value:
                detail = f"probably {decimal_comma_reading(value)}"
            readings = country_readings(value) if rule == "unknown_country" and value else []
            if readings:  # both (or all) named, never one guessed
                named = " or ".join(f"{name} ({code})" for name, code in readings)
                detail = f"this name could mean {named}: write the code of the one you mean"
                checked.problems.append(Problem(drop.relative_path, rule, row_number, column_name, value, detail))
                continue
            problem = Problem(drop.relative_path, rule, row_number, column_name, value, detail or None)
            checked.problems.append(with_suggestion(problem, drop.kind))
        checked.warnings += [f"{drop.relative_path}: {w}" for w in garbled_text_warnings(drop.kind, mapping, con)]
        checked.warnings += [f"{drop.relative_path}: {w}" for w in unresolved_name_warnings(mapping, con)]
        if not checked.problems:
            checked.rows = con.sql(_normalize_sql(drop.kind, mapping)).to_arrow_table()
    finally:
        con.close()


def _normalize_sql(kind: str, mapping: dict[str, str]) -> str:
    parts = [f"{ROW_COLUMN} as source_row_number"]
    for column in columns_of(kind):
        if column.type is ColumnType.DATE:
            first, precision, _ = _date_parts(column.name, mapping)
            parts += [f'{first} as "{column.name}"', f'{precision} as "{column.name}_precision"']
        elif column.name in mapping:
            parts.append(f'{_normalized(column, _value(column.name, mapping))} as "{column.name}"')
        else:
            parts.append(f'cast(null as {column.sql_type}) as "{column.name}"')
    sql = "select " + ", ".join(parts) + f" from src order by {ROW_COLUMN}"
    if kind == "visits":
        # The contract's defaults: one delegation, ending the day (period) it started.
        sql = (
            "select * replace (coalesce(delegations, 1) as delegations, coalesce(end_date, start_date) as end_date, "
            "coalesce(end_date_precision, start_date_precision) as end_date_precision) from (" + sql + ")"
        )
    return sql
