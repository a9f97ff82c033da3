"""The file data context, the validation of a build, and the results per country."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime as dt
import json
import logging
import numbers
import shutil
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

# Never phone home: Great Expectations reads this when it sets up analytics (the context file says
# analytics_enabled: false too).
from libcoop.quality import by_file
from libcoop.quality.by_file import FileResult
from libcoop.quality.reads import _columns_of, _quote, _suite_specs, _SuiteSpec, expectation_parameters, run_files
from libcoop.quality.results import (
    BATCH_DEFINITION_NAME,
    DATASOURCE_NAME,
    FAILING_ROWS_SHOWN,
    KEEP_RUNS,
    PROBLEM_META,
    RAW_ROW_COLUMNS,
    CountryCheck,
    CountryFile,
    CountryProblem,
    CountryView,
    ExpectationOutcome,
    FailingRow,
    QualityReport,
    _as_text,
    _count,
    _is_missing,
    _severity,
)
from libcoop.quality.site import _build_data_docs, _prune_results
from libcoop.quality.suites import _plain_description
from libcoop.settings import keep_great_expectations_offline

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from great_expectations import ExpectationSuite, ValidationDefinition
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.data_context import FileDataContext


log = logging.getLogger(__name__)

# --- the file data context ------------------------------------------------------------------------


def warehouse_context(template: Path, state_dir: Path) -> Path:
    """The Great Expectations context a warehouse validates with: its own copy of the committed
    context ``template``, under ``state_dir`` (beside the warehouse file). Its stores (validation
    results, the Data Docs site) then hold only that warehouse's runs: two warehouses built from
    one checkout never list each other's results, and the checkout's context is never written."""
    config = state_dir / "gx" / "great_expectations.yml"
    if not config.is_file():
        staging = state_dir.with_name(f".{state_dir.name}.{time.time_ns()}.tmp")
        shutil.copytree(template, staging, ignore=shutil.ignore_patterns("uncommitted"))
        state_dir.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(state_dir, ignore_errors=True)  # a copy cut short by a kill: never half a context
        staging.rename(state_dir)
    return state_dir


def open_context(context_dir: Path) -> FileDataContext:
    """The file data context under ``context_dir`` (created when missing), quiet and offline."""
    keep_great_expectations_offline()  # before Great Expectations is imported
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    gx_logger = logging.getLogger("great_expectations")
    if gx_logger.level == logging.NOTSET:  # its INFO lines (hundreds per run) drown the run log
        gx_logger.setLevel(logging.WARNING)
    context = gx.get_context(mode="file", project_root_dir=context_dir)
    variables = context.variables
    bars = variables.progress_bars  # a ProgressBarsConfig, or a dict once read back from the file
    quiet = bars is not None and not (bars.get("globally") if isinstance(bars, dict) else bars.globally)
    sites = variables.data_docs_sites or {}
    plain = all(not site.get("show_how_to_buttons", True) for site in sites.values())
    if variables.analytics_enabled is not False or not quiet or not plain:
        # No tqdm bars in the Airflow logs, no newsletter and tutorial links in our Data Docs.
        # Saved once into great_expectations.yml; later runs find it so and write nothing.
        variables.analytics_enabled = False
        variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        for site in sites.values():
            site["show_how_to_buttons"] = False
        variables.data_docs_sites = sites
        variables.save()
    return context


def register_suites(context: FileDataContext) -> dict[str, ValidationDefinition]:
    """Write every suite, its data asset and its validation definition into the context.

    Idempotent: when the code has not changed, the files under ``gx/`` stay byte-identical.
    """
    import great_expectations as gx
    from great_expectations.exceptions import DataContextError

    if DATASOURCE_NAME in context.data_sources.all():
        datasource = context.data_sources.get(DATASOURCE_NAME)
    else:
        datasource = context.data_sources.add_pandas(name=DATASOURCE_NAME)
    definitions = {}
    for spec in _suite_specs():
        if spec.relation in datasource.get_asset_names():
            asset = datasource.get_asset(spec.relation)
        else:
            asset = datasource.add_dataframe_asset(name=spec.relation)
        if BATCH_DEFINITION_NAME in {bd.name for bd in asset.batch_definitions}:
            batch_definition = asset.get_batch_definition(BATCH_DEFINITION_NAME)
        else:
            batch_definition = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION_NAME)
        try:
            context.suites.get(spec.name)
        except DataContextError:
            # Created first, then updated below: on creation GX draws random expectation ids, and
            # the update puts back the deterministic ones.
            context.suites.add(spec.build())
        # The ids of the suite, the definition and the data are drawn once, when first added,
        # and kept by every later add_or_update.
        definition = gx.ValidationDefinition(name=spec.name, data=batch_definition, suite=spec.build())
        definitions[spec.name] = context.validation_definitions.add_or_update(definition)
    return definitions


# --- validation ---------------------------------------------------------------------------------


def validate_warehouse(database: Path, run_id: str, context_dir: Path, *, keep_runs: int = KEEP_RUNS) -> QualityReport:
    """Run every suite on the DuckDB file ``database`` (opened read-only) and build the Data Docs.

    The suites are (re)registered in the file context under ``context_dir`` first; the validation
    results and the Data Docs site go to its ``gx/uncommitted/`` folder, which keeps the results
    of the last ``keep_runs`` runs (this one included). The report also holds what each reporting
    country's page shows (``report.countries``); ``publish_data_docs`` writes them out.
    """
    from great_expectations.core.run_identifier import RunIdentifier

    started = time.perf_counter()
    validated_at = dt.datetime.now(dt.UTC)
    context = open_context(context_dir)
    definitions = register_suites(context)
    run_identifier = RunIdentifier(run_name=run_id, run_time=validated_at)
    outcomes: list[ExpectationOutcome] = []
    country_checks: dict[str, list[CountryCheck]] = {}
    country_rows: dict[str, dict[str, int]] = {}
    named: dict[str, ExpectationSuiteValidationResult] = {}  # results whose failing rows got their file and row
    with _read_only(database) as con:
        parameters = expectation_parameters(con, validated_at.date())
    file_results: list[FileResult] = []
    for spec in _suite_specs():
        definition = definitions[spec.name]
        if spec.kind is not None:  # a raw suite: by file version (libcoop.quality.by_file)
            raw = _validate_raw(spec, definition, database, parameters, run_identifier, validated_at)
            named[spec.name] = raw.result
            outcomes.extend(raw.outcomes)
            file_results.extend(raw.file_results)
            for country, rows in raw.country_rows.items():
                country_rows.setdefault(country, {})[spec.kind] = rows
            for country, checks in raw.country_checks.items():
                country_checks.setdefault(country, []).extend(checks)
            continue
        # A connection per suite: DuckDB keeps the memory a query over 1M rows used until its
        # connection closes (230 MB after a fact's frame), and the next suite's frame comes on top.
        with _read_only(database) as con:
            frame = _read_frame(con, spec.query(con), _columns_checked(definition.suite, spec))
        result_format = _result_format()
        with _arrow_strings():
            result = definition.run(
                batch_parameters={"dataframe": frame},
                expectation_parameters=parameters,
                run_id=run_identifier,
                result_format=result_format,
            )
        if _name_failing_rows(result, frame, spec):
            named[spec.name] = result
        suite_outcomes = [_outcome(spec, r) for r in result.results]
        outcomes.extend(suite_outcomes)
        if spec.lineage and "reporting_country" in frame.columns:
            for country, rows in frame["reporting_country"].value_counts().items():
                if spec.kind is not None:
                    country_rows.setdefault(str(country), {})[spec.kind] = int(rows)
            by_country = _country_checks(spec, definition, frame, result, suite_outcomes, parameters, result_format)
            for country, checks in by_country.items():
                country_checks.setdefault(country, []).extend(checks)
        _release_batches(definition)
        del frame
    with _read_only(database) as con:
        countries = _country_views(con, country_rows, country_checks)
        files = run_files(con, run_id)
    _prune_results(context, keep_runs)
    data_docs_dir, pages = _build_data_docs(
        context, run_id, fresh=named, outcomes=tuple(outcomes), validated_at=validated_at
    )
    report = QualityReport(
        run_id,
        tuple(outcomes),
        data_docs_dir,
        validated_at,
        countries=countries,
        validation_pages=pages,
        files=files,
        file_results=tuple(file_results),
    )
    log.info("%s (%.1f s); Data Docs: %s", report.summary(), time.perf_counter() - started, data_docs_dir)
    for outcome in report.critical_failures + report.warnings:
        log.warning(
            "%s %s: %s (%s, observed: %s)",
            outcome.severity,
            outcome.suite,
            outcome.description,
            outcome.expectation,
            outcome.observed_value,
        )
    return report


@dataclasses.dataclass
class _RawSuite:
    result: ExpectationSuiteValidationResult  # the suite's results, every file version's added up
    outcomes: list[ExpectationOutcome]
    file_results: list[FileResult]
    country_rows: dict[str, int] = dataclasses.field(default_factory=dict)
    country_checks: dict[str, list[CountryCheck]] = dataclasses.field(default_factory=dict)


def _validate_raw(
    spec: _SuiteSpec,
    definition: ValidationDefinition,
    database: Path,
    parameters: dict[str, Any],
    run_identifier: Any,
    validated_at: dt.datetime,
) -> _RawSuite:
    """A raw suite on each file version in force that has no results yet, as its own batch (its
    rows only in memory); the results of the others carried forward from audit.dq_file_results.

    The suite is also run on no rows, which gives GX's stored result of this run, its Data Docs
    page: its counts are then those of every file version, added up."""
    max_date = parameters["max_plausible_date"].date()
    columns = _columns_checked(definition.suite, spec)
    result_format = _result_format()
    with _read_only(database) as con:
        versions = by_file.file_versions(con, str(spec.kind))
        kept = by_file.previous_results(con, spec.name)
        carried = {
            v: kept[(v.file_path, v.content_hash)]
            for v in versions
            if (v.file_path, v.content_hash) in kept
            and by_file.still_holds(con, spec, definition, v, kept[(v.file_path, v.content_hash)], max_date)
        }
        empty = _read_frame(con, f"select * from ({spec.query(con)}) limit 0", columns)
        with _arrow_strings():
            template = definition.run(
                batch_parameters={"dataframe": empty},
                expectation_parameters=parameters,
                run_id=run_identifier,
                result_format=result_format,
            )
        results: list[FileResult] = []
        for version in versions:
            if version in carried:
                results.extend(carried[version])
                continue
            path = version.file_path.replace("'", "''")
            frame = _read_frame(con, f"select * from ({spec.query(con)}) where file_path = '{path}'", columns)
            batch = definition.batch_definition.get_batch(batch_parameters={"dataframe": frame})
            with _arrow_strings():
                result = batch.validate(
                    definition.suite, expectation_parameters=parameters, result_format=result_format
                )
            _name_failing_rows(result, frame, spec)
            results.extend(by_file.file_results(spec, result, version, max_date, run_identifier.run_name, validated_at))
            _release_batches(definition)
            del frame
    _release_batches(definition)
    log.info(
        "%s: %d file versions validated, %d carried forward", spec.name, len(versions) - len(carried), len(carried)
    )
    total = by_file.merged(template, results)
    raw = _RawSuite(total, [_outcome(spec, r) for r in total.results], results)
    for country in sorted({v.reporting_country for v in versions if v.reporting_country}):
        theirs = {(v.file_path, v.content_hash) for v in versions if v.reporting_country == country}
        raw.country_rows[country] = sum(v.rows for v in versions if v.reporting_country == country)
        mine = by_file.merged(template, [r for r in results if (r.file_path, r.content_hash) in theirs])
        raw.country_checks[country] = [
            CountryCheck(o, o.failing_rows) for o in (_outcome(spec, r) for r in mine.results)
        ]
    return raw


def _read_only(database: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the build. One DuckDB thread: rows come in the order the build
    stores them, so the failing rows a page shows are the same each time a build is validated (in
    parallel they come in no fixed order; an ORDER BY cost 0.8 GB more at 1M rows). The time is in
    GX, not in these reads."""
    return duckdb.connect(str(database), read_only=True, config={"threads": 1})


def _arrow_strings() -> contextlib.AbstractContextManager[None]:
    """While GX validates: text made by ``astype(str)`` is Arrow-backed (pandas 3's default), so a
    regex is matched over a whole column in Arrow, not value by value in Python (raw_visits at 1M
    rows: 2.32 to 1.79 s, the same results)."""
    import pandas as pd

    return pd.option_context("future.infer_string", True)


def _release_batches(definition: ValidationDefinition) -> None:
    """Let go of the dataframes validated so far: GX's execution engine keeps every batch it loads.

    Without this the memory of a run is the sum of all its suites' tables, not the largest one.
    """
    manager = definition.batch_definition.data_asset.datasource.get_execution_engine().batch_manager
    manager.reset_batch_cache()
    manager.batch_data_cache.clear()


def _columns_checked(suite: ExpectationSuite, spec: _SuiteSpec) -> set[str] | None:
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


def _read_frame(con: duckdb.DuckDBPyConnection, sql: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """The rows of ``sql`` (only ``columns``, those it has, when given) as a dataframe for GX.

    Text columns are Arrow strings (a tenth of the memory of Python strings, and faster to
    filter). GX's pandas engine compares whole columns at once only for numpy numbers,
    nanosecond datetimes and datetimes with a time zone; any other column it checks value by
    value in Python (at 1M rows, most of a suite's time). So DATE columns are midnight UTC in
    seconds (seconds: the contract's years from 1000 on, before nanoseconds' 1677), and integer
    columns with NULLs are floats (NaN is NULL to GX). Boolean columns with NULLs are pandas'
    nullable booleans. Values shown from them read as the file wrote them (results._as_text).
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    available = list(con.sql(f"select * from ({sql}) limit 0").columns)
    chosen = available
    if columns is not None:
        wanted = set(columns)
        # A suite of table-level checks only still needs the rows: keep one column.
        chosen = [name for name in available if name in wanted] or available[:1]
    relation = con.sql(f"select {', '.join(_quote(name) for name in chosen)} from ({sql})")
    table = relation.to_arrow_table() if hasattr(relation, "to_arrow_table") else relation.arrow()
    # Each column is made what GX needs in Arrow, before pandas sees it, one column at a time:
    # pandas then builds each column once (raw_visits at 1M rows: 48 MB less at the read's peak,
    # 0.93 to 0.74 s, than converting the columns in pandas after).
    for index, field in enumerate(table.schema):
        column = table.column(index)
        if pa.types.is_date(field.type):
            column = column.cast(pa.timestamp("s", tz="UTC"))
        elif pa.types.is_integer(field.type) and column.null_count:
            column = column.cast(pa.float64())
        elif _is_text(field.type) and pc.count_distinct(column).as_py() < len(column) // 20:
            # Text of few distinct values (countries, types, precisions, file paths) as categories:
            # GX's pandas engine handles each check's column as a whole, and on categories that
            # costs codes, not strings. At 1M rows: 1.29 GB peak and 17.9 s before, 0.97 GB and
            # 12.6 s after, with the same 76 outcomes and 310 country checks, failing rows included.
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


def _result_format() -> dict[str, Any]:
    """SUMMARY results: the counts, and the first failing rows by their place in the frame.

    The file and row of those rows are added after (``_name_failing_rows``): asked to name them
    itself (``unexpected_index_column_names``), GX's pandas engine builds a dict per failing row,
    in Python, for every failing row, before it keeps the first 20 (at 1M rows with 4 warnings,
    about 90,000 rows and a sixth of the validation).
    """
    return {
        "result_format": "SUMMARY",
        "partial_unexpected_count": FAILING_ROWS_SHOWN,
        "return_unexpected_index_query": False,
    }


def _row_columns(spec: _SuiteSpec, frame: pd.DataFrame) -> list[str]:
    """The columns that say where a failing row comes from (a raw or fact suite), those ``frame`` has."""
    return [name for name in RAW_ROW_COLUMNS if name in frame.columns] if spec.lineage else []


def _name_failing_rows(result: ExpectationSuiteValidationResult, frame: pd.DataFrame, spec: _SuiteSpec) -> bool:
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


def _outcome(spec: _SuiteSpec, expectation_result: Any) -> ExpectationOutcome:
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
        observed_value=_observed_value(expectation_result.exception_info, details),
        unexpected_count=None if unexpected is None else int(unexpected),
        description=_plain_description(config.description, severity, config.type),
        problem=str((config.meta or {}).get(PROBLEM_META) or ""),
        noun=spec.noun,
        failing_rows=() if expectation_result.success else _failing_rows(expectation_result),
    )


def _observed_value(exception_info: Any, details: dict[str, Any]) -> str | None:
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


# --- per country ----------------------------------------------------------------------------------


def _country_checks(
    spec: _SuiteSpec,
    definition: ValidationDefinition,
    frame: pd.DataFrame,
    result: ExpectationSuiteValidationResult,
    suite_outcomes: list[ExpectationOutcome],
    parameters: dict[str, Any],
    result_format: dict[str, Any],
) -> dict[str, list[CountryCheck]]:
    """The raw suite's checks on each reporting country's rows.

    Every check of a raw suite looks at rows one by one (or at uniqueness among rows), so a check
    that passes on all rows passes on each country's: only the checks that failed are validated
    again, on each country's rows (not stored: these are for the country pages). At 1M rows,
    validating the whole suite again per country cost as much as the validation itself.
    """
    import great_expectations as gx

    countries = sorted(str(c) for c in frame["reporting_country"].dropna().unique())
    if result.success:
        return {country: [CountryCheck(o) for o in suite_outcomes if _on_rows(spec, o)] for country in countries}
    failed = {_key(r.expectation_config) for r in result.results if not r.success}
    failed_ids = {r.expectation_config.id for r in result.results if not r.success}
    again = gx.ExpectationSuite(
        name=f"{spec.name}.by_country",
        expectations=[copy.copy(e) for e in definition.suite.expectations if e.id in failed_ids],
    )
    checks: dict[str, list[CountryCheck]] = {}
    for country in countries:
        rows = frame[frame["reporting_country"] == country]
        batch = definition.batch_definition.get_batch(batch_parameters={"dataframe": rows})
        with _arrow_strings():
            country_result = batch.validate(again, expectation_parameters=parameters, result_format=result_format)
        _name_failing_rows(country_result, frame, spec)
        by_key = {_key(r.expectation_config): _outcome(spec, r) for r in country_result.results}
        outcomes = [
            by_key[key] if (key := _key(r.expectation_config)) in failed else whole
            for r, whole in zip(result.results, suite_outcomes, strict=True)
        ]
        checks[country] = [CountryCheck(o, o.failing_rows) for o in outcomes if _on_rows(spec, o)]
    return checks


def _key(config: Any) -> str:
    """A validated expectation by what it checked (its type and arguments, whatever the batch),
    the same for a copy of it validated on other rows."""
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    return json.dumps([config.type, kwargs], sort_keys=True, default=str)


def _on_rows(spec: _SuiteSpec, outcome: ExpectationOutcome) -> bool:
    """Whether the check says something about a country's rows: a raw check, or a fact's row by row one.

    A fact's table-level checks (its row count equals the raw layer's) hold for the whole table only.
    """
    return spec.kind is not None or outcome.unexpected_count is not None


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(_columns_of(con, schema, table))


def _country_views(
    con: duckdb.DuckDBPyConnection,
    country_rows: Mapping[str, Mapping[str, int]],
    country_checks: Mapping[str, list[CountryCheck]],
    problems_per_file: int = 50,
) -> tuple[CountryView, ...]:
    """One view per reporting country: its rows in force, its files' latest outcomes, their problems."""
    files: dict[str, list[CountryFile]] = {}
    problems: dict[str, list[CountryProblem]] = {}
    if _table_exists(con, "audit", "file_loads"):
        # The latest outcome of each file; the country of a skipped file (no country_code) is its folder.
        latest = (
            "with latest as (select coalesce(country_code, case when regexp_matches(file_path, '^[A-Za-z]{2}/') "
            "then upper(left(file_path, 2)) end) as country, * from audit.file_loads "
            "qualify row_number() over (partition by file_path order by checked_at desc) = 1) "
        )
        for code, *values in con.execute(
            latest + "select country, file_path, kind, outcome, checked_at, row_count, problem_count, message "
            "from latest where country is not null order by country, file_path"
        ).fetchall():
            files.setdefault(code, []).append(CountryFile(*values))
        if _table_exists(con, "audit", "file_rejections"):
            for code, *values in con.execute(
                latest + "select l.country, r.file_path, r.row_number, r.column_name, r.value, r.rule, "
                "r.explanation, r.advice from audit.file_rejections as r inner join latest as l "
                "on l.file_path = r.file_path and l.load_id = r.load_id and l.outcome = 'rejected' "
                "where l.country is not null "
                "qualify row_number() over (partition by r.file_path order by r.row_number nulls first) <= ? "
                "order by l.country, r.file_path, r.row_number nulls first",
                [problems_per_file],
            ).fetchall():
                problems.setdefault(code, []).append(CountryProblem(*values))
    codes = sorted(set(country_rows) | set(country_checks) | set(files))
    return tuple(
        CountryView(
            country_code=code,
            rows=dict(country_rows.get(code, {})),
            files=tuple(files.get(code, ())),
            problems=tuple(problems.get(code, ())),
            checks=tuple(country_checks.get(code, ())),
        )
        for code in codes
    )
