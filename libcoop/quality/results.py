"""The results of a validation: what each expectation found, per suite and per country."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CRITICAL = "critical"
WARNING = "warning"

# Plausibility bounds (warnings, not rules of the contract).
EARLIEST_PLAUSIBLE_DATE = dt.date(1900, 1, 1)
MAX_PARTICIPANTS_PER_DELEGATION = 200
# The activities whose participants travel as delegations (the others count attendees).
DELEGATION_ACTIVITY_TYPES = ("mutual_visit", "delegation", "business_exchange", "staff_exchange")
# In USD (marts.fct_donation.amount_usd): an amount in its own currency has no useful bound.
MAX_PLAUSIBLE_AMOUNT = 10_000_000

DATASOURCE_NAME = "warehouse"
BATCH_DEFINITION_NAME = "whole_table"

# The validation results (and their Data Docs pages) of this many runs are kept; older ones are
# deleted before each run's Data Docs are built.
KEEP_RUNS = 30
# The folder, beside the warehouse file, where each run publishes the Data Docs (data_docs_target).
DATA_DOCS_DIRNAME = "data_docs"
# The lineage columns of the raw layer that say which coordinator's file and row a value is from.
RAW_ROW_COLUMNS = ("reporting_country", "file_path", "source_row_number")
# How many failing rows each check lists (per suite, and per country on the country pages).
FAILING_ROWS_SHOWN = 20
# Expectation ids derived from their content, so the committed suites do not change from run to
# run: ``context.suites.add_or_update`` compares expectations *with* their ids, so a suite built
# from code (no ids) never matches the stored one and every expectation got a new uuid4 each run.
_ID_NAMESPACE = uuid.UUID("0b6f3f55-3c52-4d0e-9a55-6c1f1a4f5e21")

# The key, in an expectation's meta, of the words that say what its failure found (see problem_sentence).
PROBLEM_META = "problem"
# How many distinct failing values a sentence quotes.
VALUES_QUOTED = 5

_ISO2_PATTERN = r"^[A-Z]{2}$"
_ISO4217_PATTERN = r"^[A-Z]{3}$"


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectationOutcome:
    """The result of one expectation of one suite on one build."""

    suite: str  # e.g. "raw_visits", "marts_integrity_fct_visit"
    expectation: str  # expectation type, e.g. "expect_column_values_to_not_be_null"
    column: str | None
    severity: str  # "critical" or "warning", read from the expectation's meta
    success: bool
    observed_value: str | None
    unexpected_count: int | None
    description: str  # plain words: what is checked
    problem: str = ""  # plain words: what a failure found, "{rows} without start_date" (the meta's PROBLEM_META)
    noun: tuple[str, str] = ("row", "rows")  # what one row of the suite's data is, singular and plural
    failing_rows: tuple[FailingRow, ...] = ()  # the first rows that failed, with their file and row


@dataclass(frozen=True)
class FailingRow:
    """One row of a coordinator's file that failed a check: where it is and what it holds."""

    file_path: str | None
    row_number: int | None  # the row number the coordinator sees in Excel (header is row 1)
    value: str  # the checked value(s), e.g. "start_date=1850-01-01"


@dataclass(frozen=True)
class RunFile:
    """One file of the run as loaded (audit.file_loads), with the rows of it the build holds."""

    file_path: str
    country_code: str | None
    kind: str | None
    outcome: str  # loaded, unchanged, restored, rejected, removed, skipped
    rows: int  # rows of this file in force in the build (raw.current_*); a rejected file's earlier version
    problem_count: int | None
    report_path: str | None  # where the coordinator finds the file's report, when it has one
    message: str | None


@dataclass(frozen=True)
class CountryFile:
    """The latest outcome of one file of a reporting country (audit.file_loads)."""

    file_path: str
    kind: str | None
    outcome: str  # loaded, unchanged, restored, rejected, removed, skipped
    checked_at: dt.datetime | None
    row_count: int | None
    problem_count: int | None
    message: str | None


@dataclass(frozen=True)
class CountryProblem:
    """One problem of a rejected file (audit.file_rejections)."""

    file_path: str
    row_number: int | None
    column: str | None
    value: str | None
    rule: str
    explanation: str
    advice: str


@dataclass(frozen=True)
class CountryCheck:
    """One expectation of a raw suite, checked on the rows of one reporting country."""

    outcome: ExpectationOutcome
    failing_rows: tuple[FailingRow, ...] = ()


@dataclass(frozen=True)
class CountryView:
    """What a coordinator needs to read about the files of their country after one validation."""

    country_code: str
    rows: Mapping[str, int]  # rows in force per kind (raw.current_*)
    files: tuple[CountryFile, ...]
    problems: tuple[CountryProblem, ...]  # of the files whose latest outcome is a rejection (first ones)
    checks: tuple[CountryCheck, ...]

    @property
    def failed_checks(self) -> tuple[CountryCheck, ...]:
        return tuple(c for c in self.checks if not c.outcome.success)


@dataclass(frozen=True)
class UnresolvedName:
    """A row of a coordinator's file naming an institution the warehouse could not resolve: a
    warning on that country's page (contract section 3), from review.review_unresolved_name_rows."""

    reporting_country: str
    file_path: str
    row_number: int
    column: str  # host_institution, guest_institution, donor, recipient_institution, institution
    name: str
    country_iso2: str | None  # the country written beside the name
    candidates: str | None  # the closest curated institutions of that country, best first
    left_out: str  # what the row's activity is missing from: "the visit of 2015-11-10 ... national-library views"

    @property
    def sentence(self) -> str:
        closest = (
            f" Closest known of {self.country_iso2}: {self.candidates}."
            if self.candidates
            else (f" No curated institution of {self.country_iso2} comes close.")
        )
        return (
            f"{self.file_path} row {self.row_number}, column {self.column}: “{self.name}” ({self.country_iso2}) is "
            f"not a known institution, so {self.left_out}.{closest} Write a known name, or ask the curators to add it."
        )


@dataclass(frozen=True)
class MonitorFinding:
    """A monitor's warning on the files of one country and kind (libcoop.quality.monitors): a feed
    gone quiet, a file version far smaller than the one it replaced, optional columns gained or lost."""

    country_code: str
    kind: str
    file_path: str | None  # None for a finding on the kind as a whole (freshness, a night's rows)
    monitor: str  # freshness, file_volume, night_volume, schema
    detail: str  # the finding in words, naming the file or the kind
    observed: float | None = None  # days without a file, rows, columns gained or lost
    threshold: float | None = None  # the setting it was compared with


@dataclass(frozen=True)
class QualityReport:
    """Every outcome of one validation of a build, and where its Data Docs are."""

    run_id: str
    outcomes: tuple[ExpectationOutcome, ...]
    data_docs_dir: Path | None
    validated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    countries: tuple[CountryView, ...] = ()
    # This run's validation result page of each suite, relative to data_docs_dir.
    validation_pages: Mapping[str, str] = field(default_factory=dict)
    # The files of this run as loaded (the latest outcome of each file when the build has no loader run).
    files: tuple[RunFile, ...] = ()
    # The rows naming an institution the build could not resolve (the first ones of each country)...
    unresolved_names: tuple[UnresolvedName, ...] = ()
    # ...and how many such rows each reporting country has in all.
    unresolved_counts: Mapping[str, int] = field(default_factory=dict)
    # The monitors' warnings (freshness, volume, schema) per country and kind: never blocking.
    monitor_findings: tuple[MonitorFinding, ...] = ()
    # The raw suites' results per file version in force (libcoop.quality.by_file): audit.dq_file_results.
    file_results: tuple[Any, ...] = ()
    # The summaries of the facts validated by file version (libcoop.quality.fact_summaries), each an
    # Arrow table: audit.dq_fact_summary_<fact>.
    fact_summaries: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def critical_failures(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.success and o.severity != WARNING)

    @property
    def warnings(self) -> tuple[ExpectationOutcome, ...]:
        """Failed expectations of warning severity."""
        return tuple(o for o in self.outcomes if not o.success and o.severity == WARNING)

    @property
    def unresolved_count(self) -> int:
        """Rows naming an institution the build could not resolve: a warning each."""
        return sum(self.unresolved_counts.values())

    @property
    def monitor_counts(self) -> dict[str, int]:
        """The monitors' warnings of each reporting country."""
        counts: dict[str, int] = {}
        for finding in self.monitor_findings:
            counts[finding.country_code] = counts.get(finding.country_code, 0) + 1
        return counts

    @property
    def warning_count(self) -> int:
        """Failed expectations of warning severity, rows naming an unresolved institution, monitors' warnings."""
        return len(self.warnings) + self.unresolved_count + len(self.monitor_findings)

    @property
    def passed(self) -> bool:
        """True when no critical expectation failed: the build may be published."""
        return not self.critical_failures

    def summary(self) -> str:
        return (
            f"data quality: {_count(len(self.outcomes), 'check')}, "
            f"{_count(len(self.critical_failures), 'critical failure')}, "
            f"{_count(self.warning_count, 'warning')}"
            + (f" ({_count(self.unresolved_count, 'unresolved institution name')})" if self.unresolved_count else "")
            + (f" ({_count(len(self.monitor_findings), 'monitor warning')})" if self.monitor_findings else "")
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _severity(config: Any) -> str:
    """The severity in the expectation's meta; else Great Expectations' own field (critical by default)."""
    severity = (config.meta or {}).get("severity") or getattr(config, "severity", None) or CRITICAL
    return str(getattr(severity, "value", severity))


def _is_missing(value: Any) -> bool:
    # NaN is not equal to itself; pandas' NA (Arrow strings, nullable integers) has its own type.
    return value is None or (isinstance(value, float) and value != value) or type(value).__name__ == "NAType"


def _as_text(value: Any) -> str:
    """A checked value as the file wrote it: a date at midnight UTC (the validated frames') as its
    day, a whole count read as a float (the frames' integers with NULLs) as an integer."""
    if _is_missing(value):
        return "(empty)"
    if isinstance(value, dt.datetime) and value.time() == dt.time() and value.utcoffset() in (None, dt.timedelta(0)):
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return str(value)


def problem_sentence(outcome: ExpectationOutcome, failing_rows: Iterable[FailingRow] | None = None) -> str:
    """What a failed expectation found, as one sentence naming its rows and files.

    E.g. "2 donations with an amount in a currency that has no exchange rate for their start year
    (so no amount in USD) (VND in 2015): VN/donations.csv rows 2, 4." ``failing_rows`` (default:
    the outcome's own) narrows it to some rows, e.g. a country's.
    """
    rows = tuple(outcome.failing_rows if failing_rows is None else failing_rows)
    rows = tuple(sorted(rows, key=lambda r: (r.file_path or "", r.row_number or 0)))
    template = outcome.problem or f"{{rows}} fail the check: {outcome.description}"
    count = outcome.unexpected_count
    if count is None and "{rows}" in template:
        return f"The check “{outcome.description}” could not be made: {outcome.observed_value}."
    singular, plural = outcome.noun
    counted = f"{count} {singular if count == 1 else plural}"
    text = template.replace("{rows}", counted).replace("{observed}", outcome.observed_value or "nothing")
    text = text[:1].upper() + text[1:]
    prefix = f"{outcome.column}="
    values = [r.value.removeprefix(prefix) for r in rows if r.value]
    values = [v for v in dict.fromkeys(values) if v != "(empty)"]
    if values:
        text += f" ({', '.join(values[:VALUES_QUOTED])}{', ...' if len(values) > VALUES_QUOTED else ''})"
    places = _places(rows)
    if places:
        text += f": {places}"
        more = (count or 0) - len(rows)
        if failing_rows is None and more > 0:
            text += f", and {more} more"
    return text + "."


def _places(rows: Iterable[FailingRow]) -> str:
    """ "VN/visits.csv rows 4, 7, 9; CN/visits.csv row 2": the rows grouped by file, in order."""
    by_file: dict[str, list[int]] = {}
    for row in rows:
        if row.file_path is not None:
            numbers = by_file.setdefault(row.file_path, [])
            if row.row_number is not None and row.row_number not in numbers:
                numbers.append(row.row_number)
    parts = []
    for file_path, numbers in by_file.items():
        label = "row" if len(numbers) == 1 else "rows"
        parts.append(f"{file_path} {label} {', '.join(str(n) for n in numbers)}" if numbers else file_path)
    return "; ".join(parts)
