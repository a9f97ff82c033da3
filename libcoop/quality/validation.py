"""The file data context, the validation of a build, and the results per country."""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

# Never phone home: Great Expectations reads this when it sets up analytics (the context file says
# analytics_enabled: false too).
from libcoop.quality import batches, by_file, fact_summaries
from libcoop.quality.by_file import FileResult
from libcoop.quality.reads import _columns_of, _suite_specs, _SuiteSpec, expectation_parameters, run_files
from libcoop.quality.results import (
    BATCH_DEFINITION_NAME,
    DATASOURCE_NAME,
    KEEP_RUNS,
    CountryCheck,
    CountryFile,
    CountryProblem,
    CountryView,
    ExpectationOutcome,
    QualityReport,
)
from libcoop.quality.site import _build_data_docs, _prune_results
from libcoop.settings import keep_great_expectations_offline

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from great_expectations import ValidationDefinition
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
    with batches.read_only(database) as con:
        parameters = expectation_parameters(con, validated_at.date())
    file_results: list[FileResult] = []
    summaries: dict[str, pa.Table] = {}  # of the facts summarized by file version, kept in the build
    for spec in _suite_specs():
        definition = definitions[spec.name]
        if spec.kind is not None:  # a raw suite: by file version (libcoop.quality.by_file)
            raw = by_file.validate_raw(spec, definition, database, parameters, run_identifier, validated_at)
            named[spec.name] = raw.result
            outcomes.extend(raw.outcomes)
            file_results.extend(raw.file_results)
            for country, rows in raw.country_rows.items():
                country_rows.setdefault(country, {})[spec.kind] = rows
            for country, checks in raw.country_checks.items():
                country_checks.setdefault(country, []).extend(checks)
            continue
        # A connection per suite: DuckDB keeps the memory a large query used until its connection
        # closes, and the next suite's frame would come on top.
        columns = batches.columns_checked(definition.suite, spec)
        with batches.read_only(database) as con:
            if (fact := spec.relation.removeprefix("marts.")) in fact_summaries.BY_FILE_VERSION:
                summary = summaries[fact] = fact_summaries.summarize(con, fact)  # by file version
                shown = [name for name in summary.column_names if name != fact_summaries.FILE_KEY]
                frame = batches.arrow_frame(summary.select(batches.chosen_columns(shown, columns)))
            else:
                frame = batches.read_frame(con, spec.query(con), columns)
        result_format = batches.summary_result_format()
        result = batches.run_on_frame(definition, frame, parameters, run_identifier, result_format)
        if batches.name_failing_rows(result, frame, spec):
            named[spec.name] = result
        suite_outcomes = [batches.outcome_of(spec, r) for r in result.results]
        outcomes.extend(suite_outcomes)
        if spec.lineage and "reporting_country" in frame.columns:
            for country, rows in frame["reporting_country"].value_counts().items():
                if spec.kind is not None:
                    country_rows.setdefault(str(country), {})[spec.kind] = int(rows)
            by_country = _country_checks(spec, definition, frame, result, suite_outcomes, parameters, result_format)
            for country, checks in by_country.items():
                country_checks.setdefault(country, []).extend(checks)
        batches.release_batches(definition)
        del frame
    with batches.read_only(database) as con:
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
        fact_summaries=summaries,
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
    again, on each country's rows (not stored: these are for the country pages). Validating the
    whole suite again per country would cost as much as the validation itself.
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
        country_result = batches.validate_frame(definition, again, rows, parameters, result_format)
        batches.name_failing_rows(country_result, frame, spec)
        by_key = {_key(r.expectation_config): batches.outcome_of(spec, r) for r in country_result.results}
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
