"""How a suite's rows become a Great Expectations batch, and its results our outcomes.

Shared by the validation of the marts suites (``libcoop.quality.validation``) and of the raw
suites by file version (``libcoop.quality.by_file``).
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from libcoop.quality.reads import _quote, _SuiteSpec
from libcoop.quality.results import (
    FAILING_ROWS_SHOWN,
    PROBLEM_META,
    RAW_ROW_COLUMNS,
    ExpectationOutcome,
    FailingRow,
    _as_text,
    _count,
    _is_missing,
    _severity,
)
from libcoop.quality.suites import _plain_description
from libcoop.settings import warehouse_config

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from great_expectations import ExpectationSuite, ValidationDefinition
    from great_expectations.core import ExpectationSuiteValidationResult


def read_only(database: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the build. One DuckDB thread: rows come in the order the build
    stores them, so the failing rows a page shows are the same each time a build is validated (in
    parallel they come in no fixed order, and an ORDER BY costs memory on large builds). The time is
    in GX, not in these reads. DuckDB's memory ceiling of the run (``settings.warehouse_config``)
    bounds the summaries of the facts, which spill past it."""
    return duckdb.connect(str(database), read_only=True, config=warehouse_config(threads=1))


def arrow_strings() -> contextlib.AbstractContextManager[None]:
    """While GX validates: text made by ``astype(str)`` is Arrow-backed (pandas 3's default), so a
    regex is matched over a whole column in Arrow, not value by value in Python: faster, with the
    same results."""
    import pandas as pd

    return pd.option_context("future.infer_string", True)


def run_on_frame(
    definition: ValidationDefinition,
    frame: pd.DataFrame,
    parameters: dict[str, Any],
    run_identifier: Any,
    result_format: dict[str, Any],
) -> ExpectationSuiteValidationResult:
    """Run ``definition`` on ``frame`` as this run: GX stores the result, the page of its Data Docs."""
    with arrow_strings():
        return definition.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=parameters,
            run_id=run_identifier,
            result_format=result_format,
        )


def validate_frame(
    definition: ValidationDefinition,
    suite: ExpectationSuite,
    frame: pd.DataFrame,
    parameters: dict[str, Any],
    result_format: dict[str, Any],
) -> ExpectationSuiteValidationResult:
    """Validate ``frame`` against ``suite`` with ``definition``'s batch, storing nothing (no Data Docs page)."""
    batch = definition.batch_definition.get_batch(batch_parameters={"dataframe": frame})
    with arrow_strings():
        return batch.validate(suite, expectation_parameters=parameters, result_format=result_format)


def release_batches(definition: ValidationDefinition) -> None:
    """Let go of the dataframes validated so far: GX's execution engine keeps every batch it loads.

    Without this the memory of a run is the sum of all its suites' tables, not the largest one.
    """
    manager = definition.batch_definition.data_asset.datasource.get_execution_engine().batch_manager
    manager.reset_batch_cache()
    manager.batch_data_cache.clear()


def columns_checked(suite: ExpectationSuite, spec: _SuiteSpec) -> set[str] | None:
    """The columns the suite's expectations name (with the row lineage of a raw or fact suite); None: all."""
    columns = set(RAW_ROW_COLUMNS) if spec.lineage else set()
    for expectation in suite.expectations:
        kwargs = expectation.configuration.to_json_dict().get("kwargs", {})
        if isinstance(kwargs.get("row_condition"), str):
            return None  # a condition in pandas' query language: its columns are not spelled out
        _collect_columns(kwargs, columns)
    return columns


def _collect_columns(value: Any, into: set[str]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in ("column", "column_A", "column_B") and isinstance(item, str):
                into.add(item)
            elif key == "column_list" and isinstance(item, list):
                into.update(str(c) for c in item)
            elif key == "column" and isinstance(item, Mapping) and isinstance(item.get("name"), str):
                into.add(item["name"])  # a row condition's column
            else:
                _collect_columns(item, into)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_columns(item, into)


def read_frame(con: duckdb.DuckDBPyConnection, sql: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """The rows of ``sql`` (only ``columns``, those it has, when given) as a dataframe for GX.

    Text columns are Arrow strings (far less memory than Python strings, and faster to filter).
    GX's pandas engine compares whole columns at once only for numpy numbers, nanosecond
    datetimes and datetimes with a time zone; any other column it checks value by value in Python
    (on large builds, most of a suite's time). So DATE columns are midnight UTC in seconds
    (seconds: the contract's years from 1000 on, before nanoseconds' 1677), and integer columns
    with NULLs are floats (NaN is NULL to GX). Boolean columns with NULLs are pandas'
    nullable booleans. Values shown from them read as the file wrote them (results._as_text).
    """
    chosen = chosen_columns(list(con.sql(f"select * from ({sql}) limit 0").columns), columns)
    relation = con.sql(f"select {', '.join(_quote(name) for name in chosen)} from ({sql})")
    return arrow_frame(relation.to_arrow_table() if hasattr(relation, "to_arrow_table") else relation.arrow())


def chosen_columns(available: list[str], columns: Iterable[str] | None) -> list[str]:
    """The columns of ``available`` a suite reads: those of ``columns`` (None: all)."""
    if columns is None:
        return available
    wanted = set(columns)
    # A suite of table-level checks only still needs the rows: keep one column.
    return [name for name in available if name in wanted] or available[:1]


def arrow_frame(table: pa.Table) -> pd.DataFrame:
    """``table`` (rows read from DuckDB) as the dataframe GX validates (see ``read_frame``)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    # Each column is made what GX needs in Arrow, before pandas sees it, one column at a time:
    # pandas then builds each column once, a lower peak and a faster read than converting the
    # columns in pandas after (see docs/benchmarks.md, 'Figures behind the code').
    for index, field in enumerate(table.schema):
        column = table.column(index)
        if pa.types.is_date(field.type):
            column = column.cast(pa.timestamp("s", tz="UTC"))
        elif pa.types.is_integer(field.type) and column.null_count:
            column = column.cast(pa.float64())
        elif _is_text(field.type) and pc.count_distinct(column).as_py() < len(column) // 20:
            # Text of few distinct values (countries, types, precisions, file paths) as categories:
            # GX's pandas engine handles each check's column as a whole, and on categories that
            # costs codes, not strings: less memory and time, with the same outcomes and failing
            # rows (see docs/benchmarks.md, 'Figures behind the code').
            column = column.dictionary_encode()
        else:
            continue
        table = table.set_column(index, field.name, column)
        del column
    frame = table.to_pandas(
        types_mapper=lambda t: pd.StringDtype("pyarrow") if _is_text(t) else None,
        coerce_temporal_nanoseconds=False,
    )
    for field in table.schema:
        if pa.types.is_boolean(field.type) and table.column(field.name).null_count:
            frame[field.name] = frame[field.name].astype("boolean")
    return frame


def _is_text(data_type: pa.DataType) -> bool:
    import pyarrow as pa

    return (
        pa.types.is_string(data_type)
        or pa.types.is_large_string(data_type)
        or getattr(pa.types, "is_string_view", lambda _t: False)(data_type)
    )


def summary_result_format() -> dict[str, Any]:
    """SUMMARY results: the counts, and the first failing rows by their place in the frame.

    The file and row of those rows are added after (``name_failing_rows``): asked to name them
    itself (``unexpected_index_column_names``), GX's pandas engine builds a dict per failing row,
    in Python, for every failing row, before it keeps the first 20: on a large build with a few
    warnings, a good part of the validation.
    """
    return {
        "result_format": "SUMMARY",
        "partial_unexpected_count": FAILING_ROWS_SHOWN,
        "return_unexpected_index_query": False,
    }


def _row_columns(spec: _SuiteSpec, frame: pd.DataFrame) -> list[str]:
    """The columns that say where a failing row comes from (a raw or fact suite), those ``frame`` has."""
    return [name for name in RAW_ROW_COLUMNS if name in frame.columns] if spec.lineage else []


def name_failing_rows(result: ExpectationSuiteValidationResult, frame: pd.DataFrame, spec: _SuiteSpec) -> bool:
    """Replace, in ``result``, the places in ``frame`` of the first failing rows by what GX writes when
    asked to name them: the checked columns' values and the row's file, row and country. True when
    anything was named. ``frame`` is the validated dataframe (its RangeIndex is what GX returns; a
    subset of its rows, as the country checks validate, keeps those labels)."""
    row_columns = _row_columns(spec, frame)
    if not row_columns:
        return False
    changed = False
    for expectation_result in result.results:
        details = expectation_result.result or {}
        places = details.get("partial_unexpected_index_list")
        if not places or not all(isinstance(place, numbers.Integral) for place in places):
            continue
        kwargs = expectation_result.expectation_config.kwargs
        checked = kwargs.get("column_list") or [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
        shown = [name for name in [*checked, *row_columns] if name in frame.columns]
        rows = frame.loc[list(places), shown]
        details["partial_unexpected_index_list"] = [
            {name: value for name, value in zip(shown, values, strict=True)} for values in rows.itertuples(index=False)
        ]
        details["unexpected_index_column_names"] = row_columns
        changed = True
    return changed


def outcome_of(spec: _SuiteSpec, expectation_result: Any) -> ExpectationOutcome:
    config = expectation_result.expectation_config
    kwargs = config.kwargs
    column = kwargs.get("column")
    if column is None and "column_A" in kwargs:
        column = f"{kwargs['column_A']}, {kwargs['column_B']}"
    elif column is None and "column_list" in kwargs:
        column = ", ".join(kwargs["column_list"])
    details = expectation_result.result or {}
    unexpected = details.get("unexpected_count")
    severity = _severity(config)
    return ExpectationOutcome(
        suite=spec.name,
        expectation=config.type,
        column=column,
        severity=severity,
        success=bool(expectation_result.success),
        observed_value=observed_value_of(expectation_result.exception_info, details),
        unexpected_count=None if unexpected is None else int(unexpected),
        description=_plain_description(config.description, severity, config.type),
        problem=str((config.meta or {}).get(PROBLEM_META) or ""),
        noun=spec.noun,
        failing_rows=() if expectation_result.success else _failing_rows(expectation_result),
    )


def observed_value_of(exception_info: Any, details: dict[str, Any]) -> str | None:
    """What the check saw, in a few words: a value, the first unexpected values, or the error."""
    for info in _exception_infos(exception_info):
        if info.get("raised_exception") or info.get("exception_message"):
            return f"error: {info.get('exception_message')}"
    if "observed_value" in details:
        return str(details["observed_value"])
    count = details.get("unexpected_count") or 0
    values = [v for v in details.get("partial_unexpected_list") or [] if not _is_missing(v)]
    if values:
        shown = ", ".join(_as_text(v) for v in values[:10])
        return f"unexpected: {shown}" + (", ..." if count > len(values[:10]) else "")
    if count:
        return f"missing on {_count(count, 'row')}"
    return None


def _exception_infos(exception_info: Any) -> list[dict[str, Any]]:
    """exception_info is one {raised_exception, exception_message...} or a dict of them per metric."""
    if not isinstance(exception_info, dict):
        return []
    if "raised_exception" in exception_info or "exception_message" in exception_info:
        return [exception_info]
    return [info for info in exception_info.values() if isinstance(info, dict)]


def _failing_rows(expectation_result: Any) -> tuple[FailingRow, ...]:
    """The file, row and value(s) of the first rows that failed (raw suites only)."""
    details = expectation_result.result or {}
    rows = []
    for entry in details.get("partial_unexpected_index_list") or []:
        if not isinstance(entry, Mapping):
            continue
        values = ", ".join(f"{k}={_as_text(v)}" for k, v in entry.items() if k not in RAW_ROW_COLUMNS)
        row_number = entry.get("source_row_number")
        rows.append(
            FailingRow(
                file_path=None if _is_missing(entry.get("file_path")) else str(entry.get("file_path")),
                row_number=None if _is_missing(row_number) else int(row_number),
                value=values,
            )
        )
    return tuple(rows)
