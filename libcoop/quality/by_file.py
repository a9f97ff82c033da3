"""The raw suites by file version: each new file version is its own batch, its results are kept.

A raw suite's checks look at rows one by one, so a file version's results hold for as long as the
version is in force: a run validates the versions it has no results for (new or changed files),
carries forward the results of the others from ``audit.dq_file_results`` (written by
``audit.record_results``), and adds them up into the suite's results and each country's. The
memory of a raw suite is then that of its largest file, not of all its rows, and a coordinator's
page keeps its warnings on a night when another country changed a file.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import logging
import numbers
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from libcoop.quality import batches
from libcoop.quality.reads import _columns_of, _SuiteSpec
from libcoop.quality.results import FAILING_ROWS_SHOWN, CountryCheck, ExpectationOutcome, _as_text

if TYPE_CHECKING:
    from great_expectations import ValidationDefinition
    from great_expectations.core import ExpectationSuiteValidationResult


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileResult:
    """One expectation's result on the rows of one file version: a row of audit.dq_file_results, its
    columns in this order (defined in libcoop.audit)."""

    file_path: str
    content_hash: str
    reporting_country: str | None
    suite: str
    expectation_id: str
    success: bool
    result: Mapping[str, Any]  # GX's SUMMARY result, its failing rows named, values as the file wrote them
    exception_info: Mapping[str, Any] | None
    max_plausible_date: dt.date
    run_id: str
    validated_at: dt.datetime

    def row(self) -> tuple[Any, ...]:
        return (
            self.file_path,
            self.content_hash,
            self.reporting_country,
            self.suite,
            self.expectation_id,
            self.success,
            json.dumps(self.result, sort_keys=True),
            None if self.exception_info is None else json.dumps(self.exception_info, sort_keys=True),
            self.max_plausible_date,
            self.run_id,
            self.validated_at,
        )


@dataclass(frozen=True)
class _Version:
    file_path: str
    content_hash: str
    reporting_country: str | None
    rows: int


def file_versions(con: duckdb.DuckDBPyConnection, kind: str) -> list[_Version]:
    """The file versions in force of a raw kind, in file order, with their rows."""
    digest = "content_hash" if "content_hash" in _columns_of(con, "raw", f"current_{kind}") else "''"
    return [
        _Version(*row)
        for row in con.execute(
            f"select file_path, coalesce({digest}, ''), any_value(reporting_country), count(*) "
            f"from raw.current_{kind} group by all order by file_path"
        ).fetchall()
    ]


def previous_results(con: duckdb.DuckDBPyConnection, suite: str) -> dict[tuple[str, str], list[FileResult]]:
    """The results the build holds of ``suite``, by file version."""
    if not _columns_of(con, "audit", "dq_file_results"):
        return {}
    found: dict[tuple[str, str], list[FileResult]] = {}
    for row in con.execute(
        "select file_path, content_hash, reporting_country, suite, expectation_id, success, result, "
        "exception_info, max_plausible_date, run_id, validated_at from audit.dq_file_results where suite = ?",
        [suite],
    ).fetchall():
        values = list(row)
        values[6] = json.loads(values[6] or "{}")
        values[7] = None if values[7] is None else json.loads(values[7])
        found.setdefault((values[0], values[1]), []).append(FileResult(*values))
    return found


def still_holds(
    con: duckdb.DuckDBPyConnection,
    spec: _SuiteSpec,
    definition: ValidationDefinition,
    version: _Version,
    kept: list[FileResult],
    max_date: dt.date,
) -> bool:
    """Whether the kept results of ``version`` are those a validation would give tonight: the same
    expectations, and no date of the file between the upper bound they were checked with and tonight's
    (the plausible dates end one year from today, so the bound moves every day)."""
    if sorted(r.expectation_id for r in kept) != sorted(str(e.id) for e in definition.suite.expectations):
        return False
    bounds = {r.max_plausible_date for r in kept}
    if bounds == {max_date}:
        return True
    columns = [c for c in _date_columns(definition) if c in _columns_of(con, "raw", f"current_{spec.kind}")]
    if len(bounds) != 1 or not columns:
        return not columns and len(bounds) == 1
    (bound,) = bounds
    low, high = sorted((bound, max_date))
    between = " or ".join(f'"{c}" > ? and "{c}" <= ?' for c in columns)
    (moved,) = con.execute(
        f"select count(*) from raw.current_{spec.kind} where file_path = ? and ({between})",
        [version.file_path, *[d for _ in columns for d in (low, high)]],
    ).fetchone()
    return not moved


def _date_columns(definition: ValidationDefinition) -> list[str]:
    return [
        str(e.column)
        for e in definition.suite.expectations
        if isinstance(getattr(e, "max_value", None), Mapping)
        and e.max_value.get("$PARAMETER") == "max_plausible_date"
        and getattr(e, "column", None)
    ]


def _jsonable(value: Any) -> Any:
    """A value of a GX result as JSON: numbers and text as they are, anything else (a date) as the
    file wrote it (what the pages show of it)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return None if number != number else number
    return _as_text(value)


def file_results(
    spec: _SuiteSpec,
    result: ExpectationSuiteValidationResult,
    version: _Version,
    max_date: dt.date,
    run_id: str,
    validated_at: dt.datetime,
) -> list[FileResult]:
    """The results of one file version's batch, one per expectation."""
    return [
        FileResult(
            version.file_path,
            version.content_hash,
            version.reporting_country,
            spec.name,
            str(r.expectation_config.id),
            bool(r.success),
            _jsonable(dict(r.result or {})),
            _jsonable(dict(r.exception_info)) if _raised(r.exception_info) else None,
            max_date,
            run_id,
            validated_at,
        )
        for r in result.results
    ]


def _raised(exception_info: Any) -> bool:
    if not isinstance(exception_info, Mapping):
        return False
    infos = [exception_info] if "raised_exception" in exception_info else list(exception_info.values())
    return any(isinstance(i, Mapping) and i.get("raised_exception") for i in infos)


def merged(
    template: ExpectationSuiteValidationResult, results: Iterable[FileResult]
) -> ExpectationSuiteValidationResult:
    """``template`` (the suite validated on no rows) with the results of ``results`` added up: the
    counts summed, the first failing rows of the files in file order."""
    by_id: dict[str, list[FileResult]] = {}
    for r in results:
        by_id.setdefault(r.expectation_id, []).append(r)
    total = copy.deepcopy(template)
    for expectation_result in total.results:
        parts = by_id.get(str(expectation_result.expectation_config.id), [])
        if not parts:
            continue
        expectation_result.result = _added_up([p.result for p in parts])
        raised = next((p.exception_info for p in parts if p.exception_info), None)
        expectation_result.exception_info = (
            dict(raised)
            if raised
            else {"raised_exception": False, "exception_message": None, "exception_traceback": None}
        )
        expectation_result.success = all(p.success for p in parts) and raised is None
    successes = sum(1 for r in total.results if r.success)
    total.success = successes == len(total.results)
    total.statistics.update(
        evaluated_expectations=len(total.results),
        successful_expectations=successes,
        unsuccessful_expectations=len(total.results) - successes,
        success_percent=100.0 * successes / len(total.results) if total.results else None,
    )
    return total


def _added_up(parts: list[Mapping[str, Any]]) -> dict[str, Any]:
    if not any("element_count" in p for p in parts):
        return dict(parts[0])
    elements = sum(int(p.get("element_count") or 0) for p in parts)
    missing = sum(int(p.get("missing_count") or 0) for p in parts)
    unexpected = sum(int(p.get("unexpected_count") or 0) for p in parts)
    present = elements - missing
    counts: Counter[Any] = Counter()
    for p in parts:
        for entry in p.get("partial_unexpected_counts") or []:
            counts[json.dumps(entry.get("value"))] += int(entry.get("count") or 0)
    added: dict[str, Any] = {
        "element_count": elements,
        "missing_count": missing,
        "missing_percent": 100.0 * missing / elements if elements else None,
        "unexpected_count": unexpected,
        "unexpected_percent": 100.0 * unexpected / present if present else None,
        "unexpected_percent_total": 100.0 * unexpected / elements if elements else None,
        "unexpected_percent_nonmissing": 100.0 * unexpected / present if present else None,
        "partial_unexpected_list": [v for p in parts for v in p.get("partial_unexpected_list") or []][
            :FAILING_ROWS_SHOWN
        ],
        "partial_unexpected_counts": [
            {"value": json.loads(v), "count": n} for v, n in counts.most_common(FAILING_ROWS_SHOWN)
        ],
    }
    index = [v for p in parts for v in p.get("partial_unexpected_index_list") or []]
    if index or any("partial_unexpected_index_list" in p for p in parts):
        added["partial_unexpected_index_list"] = index[:FAILING_ROWS_SHOWN]
    names = next((p["unexpected_index_column_names"] for p in parts if "unexpected_index_column_names" in p), None)
    if names is not None:
        added["unexpected_index_column_names"] = names
    return added


# --- the validation of a raw suite ----------------------------------------------------------------


@dataclasses.dataclass
class _RawSuite:
    result: ExpectationSuiteValidationResult  # the suite's results, every file version's added up
    outcomes: list[ExpectationOutcome]
    file_results: list[FileResult]
    country_rows: dict[str, int] = dataclasses.field(default_factory=dict)
    country_checks: dict[str, list[CountryCheck]] = dataclasses.field(default_factory=dict)


def validate_raw(
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
    columns = batches.columns_checked(definition.suite, spec)
    result_format = batches.summary_result_format()
    with batches.read_only(database) as con:
        versions = file_versions(con, str(spec.kind))
        kept = previous_results(con, spec.name)
        carried = {
            v: kept[(v.file_path, v.content_hash)]
            for v in versions
            if (v.file_path, v.content_hash) in kept
            and still_holds(con, spec, definition, v, kept[(v.file_path, v.content_hash)], max_date)
        }
        empty = batches.read_frame(con, f"select * from ({spec.query(con)}) limit 0", columns)
        template = batches.run_on_frame(definition, empty, parameters, run_identifier, result_format)
        results: list[FileResult] = []
        for version in versions:
            if version in carried:
                results.extend(carried[version])
                continue
            path = version.file_path.replace("'", "''")
            frame = batches.read_frame(con, f"select * from ({spec.query(con)}) where file_path = '{path}'", columns)
            result = batches.validate_frame(definition, definition.suite, frame, parameters, result_format)
            batches.name_failing_rows(result, frame, spec)
            results.extend(file_results(spec, result, version, max_date, run_identifier.run_name, validated_at))
            batches.release_batches(definition)
            del frame
    batches.release_batches(definition)
    log.info(
        "%s: %d file versions validated, %d carried forward", spec.name, len(versions) - len(carried), len(carried)
    )
    total = merged(template, results)
    raw = _RawSuite(total, [batches.outcome_of(spec, r) for r in total.results], results)
    for country in sorted({v.reporting_country for v in versions if v.reporting_country}):
        theirs = {(v.file_path, v.content_hash) for v in versions if v.reporting_country == country}
        raw.country_rows[country] = sum(v.rows for v in versions if v.reporting_country == country)
        mine = merged(template, [r for r in results if (r.file_path, r.content_hash) in theirs])
        raw.country_checks[country] = [
            CountryCheck(o, o.failing_rows) for o in (batches.outcome_of(spec, r) for r in mine.results)
        ]
    return raw
