"""What a run leaves for people to read: the Data Docs site and one page per reporting country."""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
import shutil
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from libcoop.quality.reads import SUITE_NAMES, _suite_specs
from libcoop.quality.results import (
    CRITICAL,
    DATA_DOCS_DIRNAME,
    WARNING,
    CountryView,
    ExpectationOutcome,
    QualityReport,
    _as_text,
    _count,
)
from libcoop.warehouse.publish import replace_folder

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


def _build_data_docs(context: FileDataContext, run_id: str) -> tuple[Path | None, dict[str, str]]:
    """Render this run's validation results and the suites.

    Returns the site's folder and this run's validation result page of each suite (relative to
    the site). The values in the stored results come from coordinators' files: they are
    HTML-escaped first, since Great Expectations renders them unescaped.
    """
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    store = context.validation_results_store
    latest: dict[str, Any] = {}  # suite -> the key of its newest result of this run (a retried run has several)
    for key in store.list_keys():
        if key.run_id.run_name != run_id:
            continue
        suite = key.expectation_suite_identifier.name
        if suite not in latest or key.run_id.run_time > latest[suite].run_id.run_time:
            latest[suite] = key
    for key in latest.values():
        stored = store.get(key)
        for expectation_result in stored.results:
            expectation_result.result = _escape_results(expectation_result.result or {})
            if isinstance(expectation_result.exception_info, Mapping):
                expectation_result.exception_info = _escape_results(expectation_result.exception_info)
        store.set(key, stored)
    resources: list[Any] = list(latest.values())
    resources += [ExpectationSuiteIdentifier(name=name) for name in SUITE_NAMES]
    sites = context.build_data_docs(resource_identifiers=resources)
    site_dir = None
    for url in sites.values():
        parsed = urlparse(url)
        if parsed.scheme == "file":
            site_dir = Path(unquote(parsed.path)).parent
            break
    pages: dict[str, str] = {}
    if site_dir is not None:
        for suite, key in latest.items():
            for site in context.get_docs_sites_urls(resource_identifier=key, only_if_exists=True):
                parsed = urlparse(site.get("site_url") or "")
                page = Path(unquote(parsed.path))
                if parsed.scheme == "file" and page.is_relative_to(site_dir):
                    pages[suite] = page.relative_to(site_dir).as_posix()
                    break
    return site_dir, pages


def data_docs_target(warehouse: Path) -> Path:
    """Where a run publishes the Data Docs: ``data_docs/`` beside the warehouse file."""
    return warehouse.parent / DATA_DOCS_DIRNAME


def publish_data_docs(report: QualityReport, target_dir: Path) -> Path:
    """Put the report's Data Docs site, with a page per reporting country, in ``target_dir``.

    ``target_dir`` is usually ``data_docs_target(paths.warehouse)`` (``warehouse/data_docs/``).
    The site is copied to a temporary folder beside it, completed (a banner on the home page
    with this run's verdict, ``countries/index.html`` and ``countries/<CC>.html``), then swapped
    in with two renames: readers never see half of it. Published for every validated run,
    including those whose publication is blocked (their failures are what people must read).
    Returns the path of the home page.
    """
    source = report.data_docs_dir
    if source is None or not (source / "index.html").is_file():
        raise FileNotFoundError(f"no Data Docs site to publish for run {report.run_id} (looked in {source})")
    target_dir = target_dir.absolute()
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    for leftover in target_dir.parent.glob(f".{target_dir.name}.*"):
        shutil.rmtree(leftover, ignore_errors=True)  # from a run that died while publishing
    staging = target_dir.with_name(f".{target_dir.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        shutil.copytree(source, staging)
        write_country_pages(report, staging / "countries")
        _add_banner(staging / "index.html", report)
        replace_folder(staging, target_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("Data Docs published to %s", target_dir)
    return target_dir / "index.html"


# --- pages for people -------------------------------------------------------------------------------

_PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d2733; max-width: 80rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; font-size: 0.92rem; }
th, td { border: 1px solid #c9d1da; padding: 0.35rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #eef2f6; }
.critical { color: #a4161a; font-weight: 600; } .warning { color: #8a5a00; font-weight: 600; }
.passed { color: #1b6e3a; } .failed { font-weight: 600; }
.verdict { padding: 0.75rem 1rem; border-radius: 0.3rem; margin: 1rem 0; }
.verdict.blocked { background: #fde2e1; border: 1px solid #a4161a; }
.verdict.published { background: #e3f4e8; border: 1px solid #1b6e3a; }
code { font-size: 0.9em; } .muted { color: #5b6b7b; }
"""


def _e(value: Any) -> str:
    """Text for HTML: every value on these pages may come from a coordinator's file."""
    return html.escape("" if value is None else _as_text(value))


def _verdict(report: QualityReport) -> tuple[str, str]:
    if report.passed:
        reported = f" ({_count(len(report.warnings), 'warning')} reported)" if report.warnings else ""
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


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_PAGE_STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """An HTML table; the cells are HTML already (escape values with _e)."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>\n" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody></table>"


def _severity_cell(severity: str) -> str:
    css = WARNING if severity == WARNING else CRITICAL
    return f'<span class="{css}">{_e(severity)}</span>'


def _check_cell(o: ExpectationOutcome) -> str:
    return f"<code>{_e(o.expectation)}</code>" + (f" on <code>{_e(o.column)}</code>" if o.column else "")


def _suite_link(report: QualityReport, suite: str, prefix: str = "") -> str:
    page = report.validation_pages.get(suite)
    return f'<a href="{_e(prefix + page)}">{_e(suite)}</a>' if page else _e(suite)


def _country_page(report: QualityReport, view: CountryView) -> str:
    code = view.country_code
    state, verdict = _verdict(report)
    failed = sorted(view.failed_checks, key=lambda c: c.outcome.severity == WARNING)
    critical = [c for c in failed if c.outcome.severity != WARNING]
    passed = [c for c in view.checks if c.outcome.success]
    parts = [
        f"<h1>Data quality of the files reported by {_e(code)}</h1>",
        f'<p class="muted">Run <code>{_e(report.run_id)}</code>, validated '
        f"{_e(_utc(report.validated_at))} UTC. "
        '<a href="../index.html">All Data Docs</a> · <a href="index.html">Other countries</a> · '
        f'<a href="../../dashboard/countries/{_e(code)}.html">Cooperation dashboard of {_e(code)}</a></p>',
        f'<div class="verdict {state}">Whole run: {_e(verdict)}</div>',
        "<h2>Checks on your rows</h2>",
    ]
    if view.rows:
        in_force = ", ".join(f"{n} {kind}" for kind, n in sorted(view.rows.items()))
        parts.append(f"<p>Rows in force from your files: {_e(in_force)}.</p>")
    if not view.checks:
        parts.append("<p>No rows of yours are in force: nothing to check.</p>")
    else:
        parts.append(
            f"<p>{_e(_count(len(view.checks), 'check'))} on your rows: "
            f'<span class="{"critical" if critical else ""}">{_e(_count(len(critical), "critical failure"))}</span>, '
            f'<span class="{"warning" if len(failed) > len(critical) else ""}">'
            f"{_e(_count(len(failed) - len(critical), 'warning'))}</span>. "
            "A critical failure blocks the publication of the whole warehouse; a warning is reported only.</p>"
        )
    if failed:
        rows = []
        for check in failed:
            o = check.outcome
            examples = "<br>".join(
                f"<code>{_e(r.file_path)}</code> row {_e(r.row_number)}" + (f": {_e(r.value)}" if r.value else "")
                for r in check.failing_rows
            )
            if check.failing_rows and (o.unexpected_count or 0) > len(check.failing_rows):
                examples += f"<br>... and {o.unexpected_count - len(check.failing_rows)} more"  # type: ignore[operator]
            rows.append(
                [
                    _severity_cell(o.severity),
                    _suite_link(report, o.suite, "../"),
                    _e(o.description),
                    _check_cell(o),
                    _e(o.unexpected_count if o.unexpected_count is not None else ""),
                    examples or _e(o.observed_value),
                ]
            )
        headers = ["Severity", "Data", "What is checked", "Check", "Rows failing", "Failing rows (file, row: value)"]
        parts.append('<h3>Failed</h3><div id="failed-checks">' + _table(headers, rows) + "</div>")
    if passed:
        parts.append(
            f"<details><summary>{_e(_count(len(passed), 'check'))} passed on your rows (show)</summary>"
            + _table(
                ["Severity", "Data", "What is checked", "Check"],
                [
                    [
                        _severity_cell(c.outcome.severity),
                        _e(c.outcome.suite),
                        _e(c.outcome.description),
                        _check_cell(c.outcome),
                    ]
                    for c in passed
                ],
            )
            + "</details>"
        )
    parts.append("<h2>Your files</h2>")
    if view.files:
        parts.append(
            _table(
                ["File", "Kind", "Latest outcome", "Checked (UTC)", "Rows", "Problems", "Note"],
                [
                    [
                        f"<code>{_e(f.file_path)}</code>",
                        _e(f.kind),
                        f'<span class="{"critical" if f.outcome == "rejected" else ""}">{_e(f.outcome)}</span>',
                        _e(_utc(f.checked_at)),
                        _e(f.row_count),
                        _e(f.problem_count),
                        _e(f.message),
                    ]
                    for f in view.files
                ],
            )
        )
    else:
        parts.append("<p>No file of yours has been checked yet.</p>")
    if view.problems:
        parts.append(
            "<h2>Problems in your rejected files</h2><p>A rejected file is not loaded at all; the version "
            "loaded before stays in use. The full list of each file's problems is in "
            f"<code>raw/reports/{_e(code)}/</code>.</p>"
        )
        parts.append(
            _table(
                ["File", "Row", "Column", "Value", "Problem", "What to do"],
                [
                    [
                        f"<code>{_e(p.file_path)}</code>",
                        _e(p.row_number),
                        _e(p.column),
                        _e(p.value),
                        _e(p.explanation),
                        _e(p.advice),
                    ]
                    for p in view.problems
                ],
            )
        )
    return _page(f"Data quality: {code}", "\n".join(parts))


def _countries_index(report: QualityReport) -> str:
    state, verdict = _verdict(report)
    rows = []
    for view in report.countries:
        failed = view.failed_checks
        critical = sum(1 for c in failed if c.outcome.severity != WARNING)
        rejected = sum(1 for f in view.files if f.outcome == "rejected")
        rows.append(
            [
                f'<a href="{_e(view.country_code)}.html">{_e(view.country_code)}</a>',
                _e(len(view.files)),
                _e(rejected),
                f'<span class="critical">{critical}</span>' if critical else "0",
                f'<span class="warning">{len(failed) - critical}</span>' if len(failed) - critical else "0",
            ]
        )
    body = "\n".join(
        [
            "<h1>Data quality per reporting country</h1>",
            f'<p class="muted">Run <code>{_e(report.run_id)}</code>. <a href="../index.html">All Data Docs</a></p>',
            f'<div class="verdict {state}">{_e(verdict)}</div>',
            _table(["Country", "Files", "Rejected files", "Critical failures", "Warnings"], rows)
            if rows
            else "<p>No country has files yet.</p>",
        ]
    )
    return _page("Data quality per reporting country", body)


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


def _latest_results_table(report: QualityReport) -> str:
    """Every suite with this run's result: the site's own lists need scripts from the internet."""
    relations = {spec.name: spec.relation for spec in _suite_specs()}
    suites = list(dict.fromkeys([*SUITE_NAMES, *(o.suite for o in report.outcomes)]))
    rows = []
    for suite in suites:
        outcomes = [o for o in report.outcomes if o.suite == suite]
        critical = sum(1 for o in outcomes if not o.success and o.severity != WARNING)
        warnings = sum(1 for o in outcomes if not o.success and o.severity == WARNING)
        result = "passed" if not (critical or warnings) else ("FAILED" if critical else "passed with warnings")
        css = "critical" if critical else ("warning" if warnings else "passed")
        rows.append(
            [
                _suite_link(report, suite),
                f"<code>{_e(relations.get(suite, ''))}</code>",
                f'<span class="{css}">{_e(result)}</span>',
                _e(len(outcomes)),
                _e(critical),
                _e(warnings),
                f'<a href="expectations/{_e(suite)}.html">suite</a>',
            ]
        )
    return _table(["Suite", "Protects", "Latest result", "Checks", "Critical failures", "Warnings", ""], rows)


def _add_banner(index: Path, report: QualityReport) -> None:
    """Put this run's verdict, every suite's latest result and the country pages at the top of the home page."""
    state, verdict = _verdict(report)
    links = " · ".join(
        f'<a href="countries/{_e(v.country_code)}.html">{_e(v.country_code)}</a>' for v in report.countries
    )
    failures = "".join(
        f"<li>{_severity_cell(o.severity)} {_suite_link(report, o.suite)}: {_e(o.description)} "
        f"({_check_cell(o)}, observed: {_e(o.observed_value)})</li>"
        for o in report.critical_failures + report.warnings
    )
    banner = (
        f'<div id="libcoop-run" class="libcoop"><style>{_BANNER_STYLE}</style>'
        f"<h2>Latest run <code>{_e(report.run_id)}</code>, validated "
        f"{_e(_utc(report.validated_at))} UTC</h2>"
        f'<div class="verdict {state}">{_e(report.summary())}. {_e(verdict)}</div>'
        + (f"<h3>Failed checks</h3><ul>{failures}</ul>" if failures else "")
        + "<h3>Every suite, latest result</h3>"
        + _latest_results_table(report)
        + '<p>Per reporting country: <a href="countries/index.html">all countries</a>'
        + (f" · {links}" if links else "")
        + '</p><p class="muted">Below: the results of the last runs kept, as Great Expectations lists them '
        "(that list needs its scripts from the internet).</p></div>"
    )
    text = index.read_text(encoding="utf-8")
    match = re.search(r"<body[^>]*>", text)
    if match is None:
        log.warning("no <body> in %s: the run banner is left out", index)
        return
    index.write_text(text[: match.end()] + banner + text[match.end() :], encoding="utf-8")


_BANNER_STYLE = """
.libcoop { font-family: system-ui, sans-serif; margin: 1rem; padding: 0.75rem 1rem; border: 1px solid #8899aa;
  border-radius: 4px; color: #1d2733; }
.libcoop table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.92rem; }
.libcoop th, .libcoop td { border: 1px solid #c9d1da; padding: 0.3rem 0.5rem; text-align: left; }
.libcoop th { background: #eef2f6; }
.libcoop .critical { color: #a4161a; font-weight: 600; } .libcoop .warning { color: #8a5a00; font-weight: 600; }
.libcoop .passed { color: #1b6e3a; } .libcoop .muted { color: #5b6b7b; }
.libcoop .verdict { padding: 0.5rem 0.75rem; border-radius: 0.3rem; margin: 0.5rem 0; }
.libcoop .verdict.blocked { background: #fde2e1; } .libcoop .verdict.published { background: #e3f4e8; }
"""
