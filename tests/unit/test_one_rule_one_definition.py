"""Each rule of the contract is defined once, in libcoop/ingest/contract.py. Every other place that states
it (docs/contract.md's tables, the dbt tests, the dbt period macro, the Great Expectations suites,
the committed suites) is checked here against that definition, and the same rows fed to each of
them get the same verdict."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import duckdb
import jinja2
import pytest
import yaml

from libcoop import quality
from libcoop.ingest.check import check_file
from libcoop.ingest.contract import (
    ACTIVITY_TYPES,
    DATE_PRECISIONS,
    DONATION_TYPES,
    DONOR_TYPES,
    KIND_COLUMNS,
    period_last_day_sql,
)
from libcoop.ingest.drop_folder import discover
from tests.conftest import VISITS_HEADER

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "dbt_project" / "models"

# The contract's lists, by the column names that carry them anywhere downstream.
LISTS = {
    "activity_type": ACTIVITY_TYPES,
    "donation_type": DONATION_TYPES,
    "donor_type": DONOR_TYPES,
}


def contract_tables() -> dict[str, dict[str, tuple[bool, str]]]:
    """kind -> column -> (required, meaning) from the tables of docs/contract.md section 1."""
    text = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    section = text[text.index("## 1.") : text.index("## 2.")]
    tables: dict[str, dict[str, tuple[bool, str]]] = {}
    for kind, body in re.findall(r"### (\w+)\n(.*?)(?=\n### |\Z)", section, flags=re.S):
        rows = re.findall(r"^\|\s*(\w+)\s*\|\s*([^|]*?)\s*\|\s*([^|]*?)\s*\|$", body, flags=re.M)
        if rows:
            tables[kind] = {
                name: (required.strip() == "yes", meaning.strip())
                for name, required, meaning in rows
                if name != "column"
            }
    return tables


def test_the_contract_document_lists_exactly_the_columns_of_the_code() -> None:
    tables = contract_tables()
    assert set(tables) == set(KIND_COLUMNS)
    for kind, columns in KIND_COLUMNS.items():
        assert list(tables[kind]) == [c.name for c in columns], kind
        assert {n for n, (required, _) in tables[kind].items() if required} == {c.name for c in columns if c.required}


@pytest.mark.parametrize(("column", "values"), sorted(LISTS.items()))
def test_the_contract_document_lists_the_accepted_values_of_the_code(column: str, values: tuple[str, ...]) -> None:
    meanings = [m for table in contract_tables().values() for name, (_, m) in table.items() if name == column]
    assert meanings
    for meaning in meanings:
        assert [v.strip() for v in meaning.split(",")] == list(values)


def dbt_accepted_values() -> list[tuple[str, str, list[str]]]:
    """(yaml file, column, values) of every accepted_values test of the dbt project."""
    found = []
    for path in sorted(MODELS.rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in document.get("models", []):
            for column in model.get("columns", []):
                for test in column.get("data_tests", []) or []:
                    if isinstance(test, dict) and "accepted_values" in test:
                        spec = test["accepted_values"]
                        values = (spec.get("arguments") or spec)["values"]
                        found.append((path.name, column["name"], [str(v) for v in values]))
    return found


# fct_cooperation_activity.activity_type: 'membership', then the visit and the donation types.
COOPERATION_ACTIVITY_TYPES = ["membership", *ACTIVITY_TYPES, *DONATION_TYPES]


def test_dbt_accepted_values_of_contract_columns_equal_the_contract() -> None:
    checked = 0
    for path, column, values in dbt_accepted_values():
        if column == "activity_type" and values[0] == "membership":
            assert values == COOPERATION_ACTIVITY_TYPES, (path, column)
            checked += 1
        elif column in LISTS:
            assert values == list(LISTS[column]), (path, column)
            checked += 1
        elif column.endswith("_precision"):
            assert values == list(DATE_PRECISIONS), (path, column)
            checked += 1
    assert checked >= 5


def gx_value_sets() -> list[tuple[str, str, list[str]]]:
    found = []
    for suite in (quality.raw_memberships_suite(), quality.raw_visits_suite(), quality.raw_donations_suite()):
        for expectation in suite.expectations:
            if expectation.expectation_type == "expect_column_values_to_be_in_set":
                found.append((suite.name, expectation.column, list(expectation.value_set)))
    return found


def test_great_expectations_value_sets_equal_the_contract() -> None:
    sets = gx_value_sets()
    assert {column for _, column, _ in sets} >= {"activity_type", "donation_type", "donor_type"}
    for suite, column, values in sets:
        wanted = LISTS.get(column) or (DATE_PRECISIONS if column.endswith("_precision") else None)
        assert wanted is not None, (suite, column)
        assert values == list(wanted), (suite, column)


def test_the_committed_suites_are_the_suites_of_the_code() -> None:
    for suite in (quality.raw_memberships_suite(), quality.raw_visits_suite(), quality.raw_donations_suite()):
        stored = json.loads((ROOT / "expectations" / "gx" / "expectations" / f"{suite.name}.json").read_text())
        assert sorted(e["id"] for e in stored["expectations"]) == sorted(e.id for e in suite.expectations), suite.name


# --- the period rule, fed the same rows in every tool ----------------------------------------------

PERIOD_CASES = [
    # (start, end, valid by the contract)
    ("2016-05-10", "2016", True),
    ("2016-05-10", "2016-05", True),
    ("2012-09-07", "2012-09", True),
    ("2016-05-10", "2016-05-09", False),
    ("2016-05-10", "2016-04", False),
    ("2016-05-10", "2015", False),
    ("2016", "2016-01-01", True),  # a day within the start year still ends after its first day
    ("2016-12", "2016", True),
    ("2016-02-29", "2016-02", True),
]


def dbt_period_end_sql(date: str, precision: str) -> str:
    """The dbt macro period_end, rendered by Jinja as dbt renders it."""
    source = (ROOT / "dbt_project" / "macros" / "period_end.sql").read_text(encoding="utf-8")
    return jinja2.Environment().from_string(source).module.period_end(date, precision).strip()


def _first_and_precision(text: str) -> tuple[dt.date, str]:
    precision = {4: "year", 7: "month"}.get(len(text), "day")
    return dt.date.fromisoformat(text + {"year": "-01-01", "month": "-01"}.get(precision, "")), precision


@pytest.mark.parametrize("sql_of", ["contract", "dbt"])
def test_the_dbt_macro_and_the_contract_agree_on_the_last_day_of_a_period(sql_of: str) -> None:
    con = duckdb.connect()
    expression = (
        period_last_day_sql("first_day", "precision")
        if sql_of == "contract"
        else dbt_period_end_sql("first_day", "precision")
    )
    for start, end, valid in PERIOD_CASES:
        start_day, _ = _first_and_precision(start)
        end_day, precision = _first_and_precision(end)
        (last,) = con.execute(
            f"select {expression} from (select ?::date as first_day, ? as precision)", [end_day, precision]
        ).fetchone()
        assert (last >= start_day) is valid, (start, end, last)


def test_the_contract_check_and_the_raw_suite_agree_on_end_periods(drop, tmp_path: Path) -> None:
    """The same visits through `libcoop check` and through the raw GX suite's own query and expectation."""
    rows = [f"v{i},delegation,NLV,VN,NLC,CN,{start},{end},1,3,,,,s" for i, (start, end, _) in enumerate(PERIOD_CASES)]
    drop("VN/visits.csv", "\n".join([VISITS_HEADER, *rows]) + "\n")
    (found,) = discover(drop.incoming).files
    checked = check_file(found, drop.incoming)
    rejected_by_check = {p.row - 2 for p in checked.problems if p.rule == "end_before_start"}
    assert rejected_by_check == {i for i, (_, _, valid) in enumerate(PERIOD_CASES) if not valid}

    # The raw suite reads raw.current_visits through its own query: the same rows, as loaded.
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute(
        "create table raw.current_visits as select * from (values "
        + ", ".join("(?, ?::date, ?, ?::date, ?, 1, 3)" for _ in PERIOD_CASES)
        + ") as t(source_row_number, start_date, start_date_precision, end_date, end_date_precision, delegations, participants)",
        [
            value
            for i, (start, end, _) in enumerate(PERIOD_CASES)
            for value in (i, *_first_and_precision(start), *_first_and_precision(end))
        ],
    )
    (spec,) = [s for s in quality.reads._suite_specs() if s.name == "raw_visits"]
    (period,) = [
        e
        for e in quality.raw_visits_suite().expectations
        if e.expectation_type == "expect_column_pair_values_a_to_be_greater_than_b"
    ]
    failing = {
        row
        for (row,) in con.execute(
            f"select source_row_number from ({spec.query(con)}) where {period.column_A} < {period.column_B}"
        ).fetchall()
    }
    assert failing == rejected_by_check
