"""libcoop.quality without running a validation: the report, the suites as code, the parameters."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from libcoop import quality
from libcoop.quality import ExpectationOutcome, QualityReport


def _outcome(severity: str, success: bool, name: str = "expect_column_values_to_not_be_null") -> ExpectationOutcome:
    return ExpectationOutcome("raw_visits", name, "activity_type", severity, success, None, 0, "checked")


def test_report_separates_critical_failures_from_warnings() -> None:
    failed_critical = _outcome("critical", False)
    failed_warning = _outcome("warning", False)
    report = QualityReport(
        "run-1",
        (failed_critical, failed_warning, _outcome("critical", True), _outcome("warning", True)),
        None,
    )

    assert report.critical_failures == (failed_critical,)
    assert report.warnings == (failed_warning,)
    assert not report.passed
    assert report.summary() == "data quality: 4 checks, 1 critical failure, 1 warning"


def test_report_with_only_warnings_passes() -> None:
    report = QualityReport("run-1", (_outcome("warning", False), _outcome("warning", False)), Path("docs"))

    assert report.passed
    assert report.summary() == "data quality: 2 checks, 0 critical failures, 2 warnings"


def test_an_unknown_severity_counts_as_critical() -> None:
    report = QualityReport("run-1", (_outcome("info", False),), None)

    assert not report.passed


def test_importing_the_module_does_not_import_great_expectations() -> None:
    code = "import sys, libcoop.quality; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_expectation_parameters_count_the_raw_rows_and_bound_the_dates() -> None:
    con = duckdb.connect()
    con.execute("create schema raw")
    for kind, rows in (("memberships", 2), ("visits", 3), ("donations", 0)):
        con.execute(f"create view raw.current_{kind} as select * from range({rows})")

    parameters = quality.expectation_parameters(con, dt.date(2024, 2, 29))

    assert parameters == {
        "max_plausible_date": dt.date(2025, 2, 28),
        "rows_in_raw_current_memberships": 2,
        "rows_in_raw_current_visits": 3,
        "rows_in_raw_current_donations": 0,
        "rows_in_raw_current_activities": 5,
    }


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        ({"observed_value": 2}, "2"),
        ({"unexpected_count": 1, "partial_unexpected_list": [-3.0]}, "unexpected: -3.0"),
        (
            {"unexpected_count": 12, "partial_unexpected_list": list(range(12))},
            "unexpected: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...",
        ),
        ({"unexpected_count": 2, "partial_unexpected_list": [None, float("nan")]}, "missing on 2 rows"),
        ({"unexpected_count": 0, "partial_unexpected_list": []}, None),
    ],
)
def test_observed_value_in_a_few_words(details: dict, expected: str | None) -> None:
    assert quality._observed_value({"raised_exception": False}, details) == expected


def test_observed_value_shows_the_error_of_a_check_that_could_not_run() -> None:
    info = {"metric-id": {"raised_exception": True, "exception_message": 'The column "x" does not exist.'}}
    assert quality._observed_value(info, {}) == 'error: The column "x" does not exist.'


# --- the suites as code (imports great_expectations: a few seconds, once) -------------------


@pytest.fixture(scope="module")
def suites() -> dict:
    return {spec.name: spec.build() for spec in quality._suite_specs()}


def test_suite_names(suites: dict) -> None:
    assert tuple(suites) == quality.SUITE_NAMES
    assert {"raw_memberships", "raw_visits", "raw_donations"} <= set(suites)
    marts = {name.removeprefix(quality.MARTS_SUITE_PREFIX) for name in suites if name.startswith("marts_")}
    assert marts == {
        "dim_country",
        "dim_institution",
        "dim_organization",
        "dim_date",
        "fct_membership",
        "fct_visit",
        "fct_donation",
        "fct_cooperation_activity",
    }


def test_every_expectation_carries_its_severity_and_plain_words(suites: dict) -> None:
    for name, suite in suites.items():
        assert suite.expectations, name
        for expectation in suite.expectations:
            severity = expectation.meta["severity"]
            assert severity in ("critical", "warning"), (name, expectation.expectation_type)
            assert expectation.severity.value == severity
            # Data Docs render the description as a template: a '$' would be read as a parameter.
            assert expectation.description and "$" not in expectation.description, (name, expectation.expectation_type)


def test_suites_are_deterministic(suites: dict) -> None:
    again = {spec.name: spec.build() for spec in quality._suite_specs()}
    for name, suite in suites.items():
        ids = [e.id for e in suite.expectations]
        assert len(set(ids)) == len(ids), name
        assert ids == [e.id for e in again[name].expectations]


def test_values_that_change_every_run_are_parameters(suites: dict) -> None:
    """Today's date and the raw row counts must not be written into the committed suites."""
    text = "".join(str(e.configuration.to_json_dict()) for s in suites.values() for e in s.expectations)
    assert str(dt.date.today().year + 1) not in text
    assert "$PARAMETER" in text


def test_every_fact_key_is_checked_against_its_dimension(suites: dict) -> None:
    for table, references in quality._FACT_REFERENCES.items():
        checked = {
            e.column
            for e in suites[f"{quality.MARTS_SUITE_PREFIX}{table}"].expectations
            if e.expectation_type == "expect_column_values_to_be_null"
        }
        assert checked == {f"orphan_{key}" for key, _ in references}, table


def test_row_counts_reconcile_for_every_fact(suites: dict) -> None:
    for table in quality._FACT_REFERENCES:
        types = [e.expectation_type for e in suites[f"{quality.MARTS_SUITE_PREFIX}{table}"].expectations]
        assert "expect_table_row_count_to_equal" in types, table
