"""What a run leaves for people to read: the Data Docs site and one page per reporting country."""

from __future__ import annotations

import datetime as dt
import functools
import html
import logging
import re
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment

from libcoop.layout import replace_folder
from libcoop.pages import page_environment
from libcoop.quality.reads import SUITE_NAMES, _suite_specs
from libcoop.quality.results import (
    DATA_DOCS_DIRNAME,
    WARNING,
    CountryView,
    ExpectationOutcome,
    QualityReport,
    _count,
    problem_sentence,
)

if TYPE_CHECKING:
    from great_expectations.data_context import FileDataContext


log = logging.getLogger(__name__)

# --- the Data Docs site -----------------------------------------------------------------------------


def _prune_results(context: FileDataContext, keep_runs: int) -> None:
    """Delete the validation results of all but the newest ``keep_runs`` runs (by run name).

    Building the Data Docs afterwards drops the pages of the deleted results from the site.
    """
    store = context.validation_results_store
    keys = store.list_keys()
    newest: dict[str, dt.datetime] = {}
    for key in keys:
        name, time_ = key.run_id.run_name, key.run_id.run_time
        newest[name] = max(newest[name], time_) if name in newest else time_
    kept = set(sorted(newest, key=lambda name: newest[name], reverse=True)[: max(keep_runs, 1)])
    dropped = [key for key in keys if key.run_id.run_name not in kept]
    for key in dropped:
        store.remove_key(key)
    if dropped:
        log.info("removed %d validation results of %d old runs", len(dropped), len(newest) - len(kept))


def _escape_results(value: Any) -> Any:
    """``value`` with every string HTML-escaped: GX puts the checked values into its pages as they are."""
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, Mapping):
        return {key: _escape_results(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_escape_results(item) for item in value]
    return value


def _build_data_docs(
    context: FileDataContext,
    run_id: str,
    fresh: Mapping[str, Any] | None = None,
    outcomes: tuple[ExpectationOutcome, ...] = (),
    validated_at: dt.datetime | None = None,
) -> tuple[Path | None, dict[str, str]]:
    """Keep this run's validation results and write our page of each suite.

    Returns the site's folder and the page of each suite (relative to the site). ``fresh`` holds, by
    suite, results of this run changed since GX stored them (their failing rows named, a raw suite's
    file versions added up): they are stored instead, their values HTML-escaped as before. Great
    Expectations' own Data Docs are not built: their pages load scripts and styles from CDNs and a
    logo from S3 (blank offline), and they cannot show results carried forward from earlier runs;
    our pages show every check's result and need nothing from outside.
    """
    store = context.validation_results_store
    latest: dict[str, Any] = {}  # suite -> the key of its newest result of this run (a retried run has several)
    for key in store.list_keys():
        if key.run_id.run_name != run_id:
            continue
        suite = key.expectation_suite_identifier.name
        if suite not in latest or key.run_id.run_time > latest[suite].run_id.run_time:
            latest[suite] = key
    for suite, key in latest.items():
        if suite not in (fresh or {}):
            continue
        stored = (fresh or {})[suite]
        for expectation_result in stored.results:
            expectation_result.result = _escape_results(expectation_result.result or {})
            if isinstance(expectation_result.exception_info, Mapping):
                expectation_result.exception_info = _escape_results(expectation_result.exception_info)
        store.set(key, stored)
    site_dir = Path(context.root_directory) / "uncommitted" / "site"
    shutil.rmtree(site_dir, ignore_errors=True)
    (site_dir / "suites").mkdir(parents=True)
    relations = {spec.name: spec.relation for spec in _suite_specs()}
    pages: dict[str, str] = {}
    for suite in dict.fromkeys([*SUITE_NAMES, *(o.suite for o in outcomes)]):
        page = f"suites/{suite}.html"
        (site_dir / page).write_text(
            _render(
                "suite.html.j2",
                suite=suite,
                relation=relations.get(suite, ""),
                run_id=run_id,
                validated_at=_utc(validated_at),
                outcomes=[o for o in outcomes if o.suite == suite],
            ),
            encoding="utf-8",
        )
        pages[suite] = page
    return site_dir, pages


def data_docs_target(warehouse: Path) -> Path:
    """Where a run publishes the Data Docs: ``data_docs/`` beside the warehouse file."""
    return warehouse.parent / DATA_DOCS_DIRNAME


def publish_data_docs(report: QualityReport, target_dir: Path) -> Path:
    """Put the report's Data Docs site, with a page per reporting country, in ``target_dir``.

    ``target_dir`` is usually ``data_docs_target(paths.warehouse)`` (``warehouse/data_docs/``).
    The site (a page per suite) is copied to a temporary folder beside it, completed (our front
    page as ``index.html``, ``countries/index.html`` and ``countries/<CC>.html``), then swapped in
    with two renames: readers never see half of it.
    Published for every validated run, including those whose publication is blocked (their
    failures are what people must read).
    Returns the path of the home page.
    """
    source = report.data_docs_dir
    if source is None or not source.is_dir():
        raise FileNotFoundError(f"no Data Docs site to publish for run {report.run_id} (looked in {source})")
    target_dir = target_dir.absolute()
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    for leftover in target_dir.parent.glob(f".{target_dir.name}.*"):
        shutil.rmtree(leftover, ignore_errors=True)  # from a run that died while publishing
    staging = target_dir.with_name(f".{target_dir.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        shutil.copytree(source, staging)
        write_country_pages(report, staging / "countries")
        _write_front_page(staging, report)
        replace_folder(staging, target_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("Data Docs published to %s", target_dir)
    return target_dir / "index.html"


# --- pages for people -------------------------------------------------------------------------------

# What each outcome of a file means, after its one-word name.
_OUTCOME_WORDS = {
    "unchanged": "as loaded before",
    "restored": "an earlier version back in use",
    "rejected": "not loaded",
    "removed": "its rows left the warehouse",
    "skipped": "not read",
}


@functools.cache
def _environment() -> Environment:
    return page_environment("libcoop.quality", utc=_utc)


def _render(template: str, **context: Any) -> str:
    return _environment().get_template(template).render(**context)


def _verdict(report: QualityReport) -> tuple[str, str]:
    if report.passed:
        reported = f" ({_count(report.warning_count, 'warning')} reported)" if report.warning_count else ""
        return "published", f"no critical check failed: the build may be published{reported}."
    return (
        "blocked",
        f"{_count(len(report.critical_failures), 'critical check')} failed: the build is not published; "
        "the last good warehouse stays in place until the data is corrected.",
    )


def _utc(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class _Finding:
    outcome: ExpectationOutcome
    sentence: str


@dataclass(frozen=True)
class _CountryCounts:
    code: str
    files: int
    rows: int
    warnings: int
    critical: int
    rejected: int


def _findings(report: QualityReport) -> list[_Finding]:
    return [_Finding(o, problem_sentence(o)) for o in report.critical_failures + report.warnings]


def _country_counts(report: QualityReport) -> list[_CountryCounts]:
    """Files, rows, failed checks on its rows and rejected files of each reporting country."""
    files = report.files
    counts = []
    for view in report.countries:
        failed = view.failed_checks
        warnings = sum(1 for c in failed if c.outcome.severity == WARNING)
        unresolved = report.unresolved_counts.get(view.country_code, 0)
        unresolved += report.monitor_counts.get(view.country_code, 0)  # the monitors' warnings too
        if files:
            own = [f for f in files if f.country_code == view.country_code]
            n_files, rejected = len(own), sum(1 for f in own if f.outcome == "rejected")
        else:
            n_files, rejected = len(view.files), sum(1 for f in view.files if f.outcome == "rejected")
        counts.append(
            _CountryCounts(
                view.country_code,
                n_files,
                sum(view.rows.values()),
                warnings + unresolved,
                len(failed) - warnings,
                rejected,
            )
        )
    return counts


def _suite_rows(report: QualityReport) -> list[dict[str, Any]]:
    """Every suite with this run's result: the site's own lists need scripts from the internet."""
    relations = {spec.name: spec.relation for spec in _suite_specs()}
    rows = []
    for suite in dict.fromkeys([*SUITE_NAMES, *(o.suite for o in report.outcomes)]):
        outcomes = [o for o in report.outcomes if o.suite == suite]
        critical = sum(1 for o in outcomes if not o.success and o.severity != WARNING)
        warnings = sum(1 for o in outcomes if not o.success and o.severity == WARNING)
        result = "passed" if not (critical or warnings) else ("FAILED" if critical else "passed with warnings")
        css = "critical" if critical else ("warning" if warnings else "passed")
        rows.append(
            {
                "name": suite,
                "relation": relations.get(suite, ""),
                "result": result,
                "css": css,
                "checks": len(outcomes),
                "critical": critical,
                "warnings": warnings,
            }
        )
    return rows


def front_page(report: QualityReport) -> str:
    """The home page of the Data Docs: the verdict, the run's files, what failed in words, per country."""
    state, verdict = _verdict(report)
    findings = _findings(report)
    countries = _country_counts(report)
    tied = {
        (c.outcome.suite, c.outcome.expectation, c.outcome.column)
        for view in report.countries
        for c in view.failed_checks
    }
    untied = sum(1 for f in findings if (f.outcome.suite, f.outcome.expectation, f.outcome.column) not in tied)
    totals = {
        "files": len(report.files) if report.files else sum(c.files for c in countries),
        "rows": sum(c.rows for c in countries),
        "warnings": report.warning_count,
        "critical": len(report.critical_failures),
        "rejected": sum(c.rejected for c in countries),
    }
    return _render(
        "index.html.j2",
        run_id=report.run_id,
        validated_at=_utc(report.validated_at),
        state=state,
        summary=report.summary(),
        verdict=verdict,
        blocking=[f for f in findings if f.outcome.severity != WARNING],
        files=report.files,
        outcome_words=_OUTCOME_WORDS,
        findings=findings,
        unresolved=report.unresolved_names,
        unresolved_counts=report.unresolved_counts,
        n_unresolved=_count(report.unresolved_count, "row"),
        countries=countries,
        totals=totals,
        untied=untied,
        suites=_suite_rows(report),
        pages=report.validation_pages,
    )


def _country_page(report: QualityReport, view: CountryView) -> str:
    state, verdict = _verdict(report)
    failed = sorted(view.failed_checks, key=lambda c: c.outcome.severity == WARNING)
    critical = [c for c in failed if c.outcome.severity != WARNING]
    passed = [c for c in view.checks if c.outcome.success]
    rows_in_force = {f.file_path: f.rows for f in report.files}
    unresolved = [u for u in report.unresolved_names if u.reporting_country == view.country_code]
    n_unresolved = report.unresolved_counts.get(view.country_code, 0)
    monitors = [f for f in report.monitor_findings if f.country_code == view.country_code]
    warnings = len(failed) - len(critical) + n_unresolved + len(monitors)
    return _render(
        "country.html.j2",
        code=view.country_code,
        run_id=report.run_id,
        validated_at=_utc(report.validated_at),
        state=state,
        verdict=verdict,
        view=view,
        in_force=", ".join(f"{n} {kind}" for kind, n in sorted(view.rows.items())),
        n_checks=_count(len(view.checks), "check"),
        critical=critical,
        n_critical=_count(len(critical), "critical failure"),
        warnings=warnings,
        n_warnings=_count(warnings, "warning"),
        unresolved=unresolved,
        n_unresolved=n_unresolved,
        unresolved_more=max(n_unresolved - len(unresolved), 0),
        monitors=monitors,
        failed=[
            {
                "check": c,
                "sentence": problem_sentence(c.outcome, c.failing_rows),
                "more": max((c.outcome.unexpected_count or 0) - len(c.failing_rows), 0) if c.failing_rows else 0,
            }
            for c in failed
        ],
        passed=passed,
        n_passed=_count(len(passed), "check"),
        rows_of=rows_in_force,
        pages=report.validation_pages,
    )


def _countries_index(report: QualityReport) -> str:
    state, verdict = _verdict(report)
    return _render(
        "countries.html.j2",
        run_id=report.run_id,
        state=state,
        verdict=verdict,
        countries=_country_counts(report),
    )


def write_country_pages(report: QualityReport, folder: Path) -> list[Path]:
    """Write ``index.html`` and one ``<CC>.html`` per reporting country of the report into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "index.html"]
    written[0].write_text(_countries_index(report), encoding="utf-8")
    for view in report.countries:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,16}", view.country_code):
            log.warning("no country page for the unexpected country code %r", view.country_code)
            continue
        path = folder / f"{view.country_code}.html"
        path.write_text(_country_page(report, view), encoding="utf-8")
        written.append(path)
    return written


def _write_front_page(site: Path, report: QualityReport) -> None:
    """Our front page: the site's index.html."""
    (site / "index.html").write_text(front_page(report), encoding="utf-8")
