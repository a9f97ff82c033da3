"""libcoop.quality without running a validation: the report, the suites as code, the parameters."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from libcoop import quality
from libcoop.ingest.load import ensure_audit_tables
from libcoop.quality import ExpectationOutcome, QualityReport
from libcoop.quality.marts_suites import GROUP_MISMATCHES
from tests.helpers.contract import CONTRACT_TABLES

REPO = Path(__file__).resolve().parents[2]


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
    con.execute("create view raw.current_memberships as select * from range(2)")
    con.execute("create view raw.current_visits as select range as delegations, 10 as participants from range(3)")
    con.execute("create view raw.current_donations as select 1 as quantity from range(0)")

    parameters = quality.expectation_parameters(con, dt.date(2024, 2, 29))

    assert parameters == {
        "earliest_plausible_date": pd.Timestamp("1900-01-01", tz="UTC"),
        "max_plausible_date": pd.Timestamp("2025-02-28", tz="UTC"),
        "rows_in_raw_current_memberships": 2,
        "rows_in_raw_current_visits": 3,
        "rows_in_raw_current_donations": 0,
        "rows_in_raw_current_activities": 5,
        "delegations_in_raw_current_visits": 0 + 1 + 2,
        "participants_in_raw_current_visits": 30,
        "quantity_in_raw_current_donations": 0,  # no rows: the sum is 0, as GX sums an empty column
    }


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        ({"observed_value": 2}, "2"),
        # The frames' integers with NULLs are floats, their dates midnight UTC: shown as written.
        ({"unexpected_count": 2, "partial_unexpected_list": [-3.0, 2.5]}, "unexpected: -3, 2.5"),
        (
            {"unexpected_count": 1, "partial_unexpected_list": [pd.Timestamp("2031-01-01", tz="UTC")]},
            "unexpected: 2031-01-01",
        ),
        (
            {"unexpected_count": 12, "partial_unexpected_list": list(range(12))},
            "unexpected: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...",
        ),
        ({"unexpected_count": 2, "partial_unexpected_list": [None, float("nan")]}, "missing on 2 rows"),
        ({"unexpected_count": 0, "partial_unexpected_list": []}, None),
    ],
)
def test_observed_value_in_a_few_words(details: dict, expected: str | None) -> None:
    assert quality.batches.observed_value_of({"raised_exception": False}, details) == expected


def test_observed_value_shows_the_error_of_a_check_that_could_not_run() -> None:
    info = {"metric-id": {"raised_exception": True, "exception_message": 'The column "x" does not exist.'}}
    assert quality.batches.observed_value_of(info, {}) == 'error: The column "x" does not exist.'


# --- the suites as code (imports great_expectations: a few seconds, once) -------------------


@pytest.fixture(scope="module")
def suites() -> dict:
    return {spec.name: spec.build() for spec in quality.reads._suite_specs()}


def test_suite_names(suites: dict) -> None:
    assert tuple(suites) == quality.SUITE_NAMES
    assert {"raw_memberships", "raw_visits", "raw_donations"} <= set(suites)
    marts = {name.removeprefix(quality.MARTS_SUITE_PREFIX) for name in suites if name.startswith("marts_")}
    assert marts == CONTRACT_TABLES  # one marts suite per table of the contract


def test_every_expectation_carries_its_severity_and_plain_words(suites: dict) -> None:
    for name, suite in suites.items():
        assert suite.expectations, name
        for expectation in suite.expectations:
            severity = expectation.meta["severity"]
            assert severity in ("critical", "warning"), (name, expectation.expectation_type)
            assert expectation.severity.value == severity
            # Data Docs render the description as a template: a '$' would be read as a parameter.
            assert expectation.description and "$" not in expectation.description, (name, expectation.expectation_type)


def test_every_expectation_of_every_suite_says_in_words_what_its_failure_found(suites: dict) -> None:
    """The front page's sentences come from the suites themselves (meta "problem"), never a second list."""
    for name, suite in suites.items():
        for expectation in suite.expectations:
            problem = expectation.meta.get(quality.results.PROBLEM_META)
            where = (name, expectation.expectation_type, getattr(expectation, "column", None))
            assert isinstance(problem, str) and len(problem) > 15, where
            row_by_row = expectation.expectation_type.startswith(
                ("expect_column_values_", "expect_column_pair_values_", "expect_compound_columns_")
            )
            # A row-by-row check counts its failing rows ("3 visits ..."), but for a check of a whole currency
            # or organization, whose failing summary rows are not rows; a table-level one says what it saw.
            counted = row_by_row and getattr(expectation, "column", None) not in GROUP_MISMATCHES
            assert ("{rows}" in problem) == counted, where
            assert ("{observed}" in problem) == (not row_by_row), where
            assert not set(problem.replace("{rows}", "").replace("{observed}", "")) & set("{}$"), where


def test_a_failure_is_one_sentence_naming_its_rows_and_files() -> None:
    rows = tuple(
        quality.FailingRow(path, row, f"missing_fx_rate=VND in {year}")
        for path, row, year in [("VN/donations.csv", 9, 2015), ("VN/donations.csv", 4, 2015), ("KR/d.csv", 2, 2016)]
    )
    outcome = ExpectationOutcome(
        "marts_integrity_fct_donation",
        "expect_column_values_to_be_null",
        "missing_fx_rate",
        "warning",
        False,
        "unexpected: VND in 2015, VND in 2016",
        5,
        "a rate is known",
        "{rows} in a currency without an exchange rate for their start year",
        ("donation", "donations"),
        rows,
    )

    assert quality.results.problem_sentence(outcome) == (
        "5 donations in a currency without an exchange rate for their start year (VND in 2016, VND in 2015): "
        "KR/d.csv row 2; VN/donations.csv rows 4, 9, and 2 more."
    )
    assert quality.results.problem_sentence(outcome, rows[:1]) == (
        "5 donations in a currency without an exchange rate for their start year (VND in 2015): VN/donations.csv row 9."
    )
    one = ExpectationOutcome(
        "raw_visits", "expect_column_values_to_not_be_null", "start_date", "critical", False, None, 1, "given",
        "{rows} without start_date", ("visit", "visits"), (quality.FailingRow("SG/v.csv", 3, "start_date=(empty)"),),
    )  # fmt: skip
    assert quality.results.problem_sentence(one) == "1 visit without start_date: SG/v.csv row 3."
    table = ExpectationOutcome(
        "marts_integrity_fct_visit", "expect_table_row_count_to_equal", None, "critical", False, "2", None,
        "as many rows", "fct_visit does not have as many rows as raw.current_visits: it has {observed}",
    )  # fmt: skip
    assert quality.results.problem_sentence(table) == (
        "Fct_visit does not have as many rows as raw.current_visits: it has 2."
    )


def test_the_files_of_a_run_show_the_rows_the_build_holds_of_each() -> None:
    """An unchanged file shows the rows of its version in force, a rejected one those of its earlier version."""
    con = duckdb.connect()
    ensure_audit_tables(con)
    con.execute("create schema raw")
    for kind in ("memberships", "visits", "donations"):
        con.execute(f"create table raw.current_{kind} (file_path varchar)")
    con.execute("insert into raw.current_visits select 'VN/visits.csv' from range(7)")
    con.execute("insert into raw.current_donations select 'VN/donations.csv' from range(3)")
    loads = [
        ("run-1", "VN/visits.csv", "VN", "visits", "loaded", 7, 0, None),
        ("run-2", "VN/visits.csv", "VN", "visits", "unchanged", 0, 0, None),
        ("run-2", "VN/donations.csv", "VN", "donations", "rejected", 0, 2, "2 x bad_date"),
        ("run-2", "VN/Visits (final).csv", None, None, "skipped", None, None, "rename it to visits_final.csv"),
    ]
    for load_id, path, country, kind, outcome, rows, problems, message in loads:
        con.execute(
            "insert into audit.file_loads values (?, ?, ?, ?, ?, null, ?, ?, ?, ?)",
            [
                load_id,
                dt.datetime(2026, 1, int(load_id[-1]), tzinfo=dt.UTC),
                path,
                country,
                kind,
                outcome,
                rows,
                problems,
                message,
            ],
        )

    files = quality.reads.run_files(con, "run-2")

    assert files == (
        quality.RunFile("VN/Visits (final).csv", "VN", None, "skipped", 0, None,
                        "raw/reports/VN/Visits (final).csv.report.txt", "rename it to visits_final.csv"),
        quality.RunFile("VN/donations.csv", "VN", "donations", "rejected", 3, 2,
                        "raw/reports/VN/donations.csv.report.txt", "2 x bad_date"),
        quality.RunFile("VN/visits.csv", "VN", "visits", "unchanged", 7, 0, None, None),
    )  # fmt: skip
    # A build made without a loader run of its own: each file's latest outcome.
    assert [(f.file_path, f.outcome) for f in quality.reads.run_files(con, "rebuild")] == [
        ("VN/Visits (final).csv", "skipped"),
        ("VN/donations.csv", "rejected"),
        ("VN/visits.csv", "unchanged"),
    ]


def test_suites_are_deterministic(suites: dict) -> None:
    again = {spec.name: spec.build() for spec in quality.reads._suite_specs()}
    for name, suite in suites.items():
        ids = [e.id for e in suite.expectations]
        assert len(set(ids)) == len(ids), name
        assert ids == [e.id for e in again[name].expectations]


def test_values_that_change_every_run_are_parameters(suites: dict) -> None:
    """Today's date and the raw row counts must not be written into the committed suites."""
    text = "".join(str(e.configuration.to_json_dict()) for s in suites.values() for e in s.expectations)
    assert str(dt.date.today().year + 1) not in text
    assert "$PARAMETER" in text


def _dbt_column_tests() -> dict[tuple[str, str], set[str]]:
    """(model, column) -> the names of dbt's generic tests on it, from the marts' YAML (a column listed
    in its model's not_null_columns test counts as not_null, one in its relationships_columns test
    as relationships)."""
    import yaml

    models = yaml.safe_load((REPO / "dbt_project" / "models" / "marts" / "_marts__models.yml").read_text())
    tests: dict[tuple[str, str], set[str]] = {}
    for model in models["models"]:
        not_null = {
            name
            for test in model.get("data_tests", [])
            if isinstance(test, dict) and "not_null_columns" in test
            for name in test["not_null_columns"]["arguments"]["column_names"]
        }
        referring = {
            reference["column"]
            for test in model.get("data_tests", [])
            if isinstance(test, dict) and "relationships_columns" in test
            for reference in test["relationships_columns"]["arguments"]["references"]
        }
        for column in model.get("columns", []):
            names = {t if isinstance(t, str) else next(iter(t)) for t in column.get("data_tests", [])}
            names |= {"not_null"} if column["name"] in not_null else set()
            tests[(model["name"], column["name"])] = names | (
                {"relationships"} if column["name"] in referring else set()
            )
    return tests


def test_the_marts_suites_do_not_repeat_the_keys_dbt_tests(suites: dict) -> None:
    """dbt holds every key (unique, not_null, relationships, accepted values): GX checks what it does not."""
    dbt = _dbt_column_tests()
    repeated = {
        "expect_column_values_to_not_be_null": "not_null",
        "expect_column_values_to_be_unique": "unique",
        "expect_column_values_to_be_in_set": "accepted_values",
    }
    for name, suite in suites.items():
        if not name.startswith(quality.MARTS_SUITE_PREFIX):
            continue
        table = name.removeprefix(quality.MARTS_SUITE_PREFIX)
        for e in suite.expectations:
            column = getattr(e, "column", None)
            assert not (column or "").startswith("orphan_"), (name, column)  # dbt's relationships
            if e.expectation_type in repeated:
                assert repeated[e.expectation_type] not in dbt.get((table, column), set()), (name, column)
    # ...and dbt does hold them: every key of every fact is not_null with a relationship to its dimension.
    for (model, column), names in dbt.items():
        if model.startswith("fct_") and column.endswith("_key") and "unique" not in names:  # not its own key
            assert {"not_null", "relationships"} <= names, (model, column)
    for dimension, key in quality.marts_suites._DIMENSION_KEYS.items():
        assert {"unique", "not_null"} <= dbt[(dimension, key)], dimension
    # amount_usd filled in whenever a rate is known: dbt's test, no longer a GX copy.
    assert (REPO / "dbt_project" / "tests" / "assert_amount_usd_present_when_rate_known.sql").is_file()
    fct_donation = suites[f"{quality.MARTS_SUITE_PREFIX}fct_donation"].expectations
    assert not [e for e in fct_donation if e.expectation_type == "expect_column_values_to_not_be_null"]


def test_every_fact_reconciles_with_the_raw_layer(suites: dict) -> None:
    for table, totals in quality.marts_suites._FACT_TOTALS.items():
        expectations = suites[f"{quality.MARTS_SUITE_PREFIX}{table}"].expectations
        # A fact's suite validates its summary, one row per file: its rows are the sum of fact_rows.
        _kinds, rows = quality.marts_suites._FACT_SOURCES[table]
        traced = [e for e in expectations if getattr(e, "column", None) == quality.marts_suites.UNTRACED_ROW]
        assert [e.meta["severity"] for e in traced] == ["critical"], table
        summed = {
            (e.column, e.min_value["$PARAMETER"])
            for e in expectations
            if e.expectation_type == "expect_column_sum_to_be_between" and e.min_value == e.max_value
        }
        assert summed == {(quality.marts_suites.FACT_ROWS, rows)} | {
            (c, f"{c}_in_raw_current_{kind}") for c, kind in totals
        }, table
    donation = suites[f"{quality.MARTS_SUITE_PREFIX}fct_donation"].expectations
    assert quality.marts_suites.CURRENCY_TOTAL_MISMATCH in {getattr(e, "column", None) for e in donation}
    membership = suites[f"{quality.MARTS_SUITE_PREFIX}fct_membership"].expectations
    assert quality.marts_suites.ORGANIZATION_COUNT_MISMATCH in {getattr(e, "column", None) for e in membership}


def test_the_description_shows_severity_and_check_and_the_outcome_keeps_the_plain_words() -> None:
    labelled = quality.suites._labelled("amount is not negative", "critical", "expect_column_values_to_be_between")

    assert labelled == "amount is not negative (critical; check: expect_column_values_to_be_between)"
    assert quality.suites._labelled(labelled, "critical", "expect_column_values_to_be_between") == labelled
    assert (
        quality.suites._plain_description(labelled, "critical", "expect_column_values_to_be_between")
        == "amount is not negative"
    )


def test_every_description_ends_with_its_severity_and_check(suites: dict) -> None:
    for suite in suites.values():
        for expectation in suite.expectations:
            suffix = f" ({expectation.meta['severity']}; check: {expectation.expectation_type})"
            assert expectation.description.endswith(suffix), expectation.description


def test_amounts_are_bounded_in_usd_only(suites: dict) -> None:
    """VND 10,000,000 is a small gift: the raw amount (own currency) has no upper bound, amount_usd has."""
    raw_bounds = [e for e in suites["raw_donations"].expectations if getattr(e, "column", None) == "amount"]
    assert raw_bounds == []  # the contract check bounds it (at most 10^15, not negative); GX does not
    usd = [
        e
        for e in suites[f"{quality.MARTS_SUITE_PREFIX}fct_donation"].expectations
        if getattr(e, "column", None) == "amount_usd" and e.expectation_type == "expect_column_values_to_be_between"
    ]
    assert [(e.max_value, e.meta["severity"]) for e in usd] == [(quality.MAX_PLAUSIBLE_AMOUNT, "warning")]


def test_a_suite_reads_only_the_columns_it_checks(suites: dict) -> None:
    specs = {spec.name: spec for spec in quality.reads._suite_specs()}

    visits = quality.batches.columns_checked(suites["raw_visits"], specs["raw_visits"])
    fct_visit = quality.batches.columns_checked(suites["marts_integrity_fct_visit"], specs["marts_integrity_fct_visit"])

    checked = {"participants_per_delegation", "activity_type", "start_date", "end_date"}
    assert visits == {*checked, *quality.RAW_ROW_COLUMNS}
    assert "not_in_raw" in fct_visit and "start_day" in fct_visit
    assert "event" not in fct_visit


def test_read_frame_gives_gx_arrow_text_utc_dates_and_columns_it_compares_at_once() -> None:
    con = duckdb.connect()
    con.execute(
        "create table t as select * from (values ('VN', date '2000-01-01', 1, true, 'x'), "
        "(null, null, null, null, 'y'), ('JP', date '1066-10-14', 7, false, 'z')) as v(country, day, n, flag, unused)"
    )

    frame = quality.batches.read_frame(con, "select * from t", {"country", "day", "n", "flag", "not_there"})

    assert list(frame.columns) == ["country", "day", "n", "flag"]
    assert str(frame["country"].dtype) == "string"
    # Midnight UTC in seconds: a year the contract allows before 1677 (nanoseconds' first) too.
    assert str(frame["day"].dtype) == "datetime64[s, UTC]"
    days = frame["day"].tolist()
    assert days[0] == pd.Timestamp("2000-01-01", tz="UTC") and days[1] is pd.NaT
    assert quality.results._as_text(days[2]) == "1066-10-14"
    assert str(frame["n"].dtype) == "float64" and frame["n"].isna().tolist() == [False, True, False]
    assert str(frame["flag"].dtype) == "boolean"
    assert list(quality.batches.read_frame(con, "select * from t", set()).columns) == ["country"]


def test_values_put_into_gx_pages_are_escaped() -> None:
    escaped = quality.site._escape_results(
        {"partial_unexpected_list": ["<b>x</b>", 3], "partial_unexpected_counts": [{"value": "a&b", "count": 1}]}
    )

    assert escaped == {
        "partial_unexpected_list": ["&lt;b&gt;x&lt;/b&gt;", 3],
        "partial_unexpected_counts": [{"value": "a&amp;b", "count": 1}],
    }


# --- pages for people (no Great Expectations needed) ----------------------------------------------


def _report_with_a_country(tmp_path: Path, *, critical: bool) -> quality.QualityReport:
    failing = ExpectationOutcome(
        "raw_visits",
        "expect_column_values_to_be_between",
        "start_date",
        "critical" if critical else "warning",
        False,
        "unexpected: 1850-01-01",
        1,
        "start_date lies between 1900-01-01 and one year from today",
    )
    passing = _outcome("critical", True)
    view = quality.CountryView(
        country_code="VN",
        rows={"visits": 2},
        files=(
            quality.CountryFile("VN/visits_<i>2015</i>.csv", "visits", "loaded", None, 2, 0, None),
            quality.CountryFile("VN/donations.csv", "donations", "rejected", None, 0, 1, "1 x amount"),
        ),
        problems=(
            quality.CountryProblem(
                "VN/donations.csv", 4, "amount", "<script>alert(1)</script>", "amount", "not a number", "use digits"
            ),
        ),
        checks=(
            quality.CountryCheck(
                failing, (quality.FailingRow("VN/visits_<i>2015</i>.csv", 3, "start_date=1850-01-01"),)
            ),
            quality.CountryCheck(passing),
        ),
    )
    site = tmp_path / "site"
    (site / "validations").mkdir(parents=True)
    (site / "index.html").write_text("<html><head></head><body class='x'><p>GX index</p></body></html>")
    return QualityReport(
        "run-7",
        (failing, passing),
        site,
        countries=(view,),
        validation_pages={"raw_visits": "validations/raw_visits/run-7/t/page.html"},
        files=(
            quality.RunFile("VN/visits_<i>2015</i>.csv", "VN", "visits", "unchanged", 2, 0, None, None),
            quality.RunFile(
                "VN/donations.csv", "VN", "donations", "rejected", 0, 1, "raw/reports/VN/donations.csv.report.txt", "x"
            ),
        ),
    )


def test_country_pages_list_files_problems_and_failing_rows_escaped(tmp_path: Path) -> None:
    report = _report_with_a_country(tmp_path, critical=False)

    written = quality.write_country_pages(report, tmp_path / "countries")

    assert [p.name for p in written] == ["index.html", "VN.html"]
    page = (tmp_path / "countries" / "VN.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page and "<i>2015" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "VN/visits_&lt;i&gt;2015&lt;/i&gt;.csv</code> row 3: start_date=1850-01-01" in page
    assert '<span class="warning">warning</span>' in page
    assert "expect_column_values_to_be_between</code> on <code>start_date" in page
    assert '<a href="../validations/raw_visits/run-7/t/page.html">raw_visits</a>' in page
    assert "the build may be published" in page
    index = (tmp_path / "countries" / "index.html").read_text(encoding="utf-8")
    assert '<a href="VN.html">VN</a>' in index


def test_publish_data_docs_swaps_in_the_site_with_the_verdict_and_the_country_pages(tmp_path: Path) -> None:
    report = _report_with_a_country(tmp_path, critical=True)
    target = quality.data_docs_target(tmp_path / "warehouse" / "cooperation.duckdb")
    target.mkdir(parents=True)
    (target / "old.html").write_text("old")
    (target.parent / ".data_docs.dead1234.tmp").mkdir()  # left by a run that died while publishing

    index = quality.publish_data_docs(report, target)

    assert index == target / "index.html"
    assert sorted(p.name for p in target.parent.iterdir()) == ["data_docs"]
    assert sorted(p.name for p in target.iterdir()) == ["countries", "index.html", "validations"]
    home = index.read_text(encoding="utf-8")
    assert 'id="libcoop-run"' in home and "GX index" not in home
    assert "<script" not in home and "http" not in home  # nothing from outside
    assert "the build is not published" in home
    assert "<i>2015" not in home and "VN/visits_&lt;i&gt;2015&lt;/i&gt;.csv" in home
    assert "raw/reports/VN/donations.csv.report.txt" in home and "(1 problem)" in home
    assert '<a href="countries/VN.html">VN</a>' in home
    assert '<a href="validations/raw_visits/run-7/t/page.html">raw_visits</a>' in home
    assert (target / "countries" / "VN.html").is_file()
    assert (report.data_docs_dir / "index.html").read_text().count("libcoop-run") == 0  # the source is untouched


def test_publish_data_docs_needs_a_site(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run-1"):
        quality.publish_data_docs(QualityReport("run-1", (), None), tmp_path / "data_docs")
