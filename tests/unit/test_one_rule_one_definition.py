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
    EARLIEST_YEAR,
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


RAW_SUITES = ("raw_memberships", "raw_visits", "raw_donations")


def raw_suites() -> list:
    return [quality.raw_suite(kind) for kind in ("memberships", "visits", "donations")]


def test_the_raw_suites_restate_no_rule_of_the_contract_check() -> None:
    """The contract check owns rejection: a file breaking a contract rule never reaches GX, so a GX
    expectation restating one could never fail (as donor_type's warning could not). What is left in
    the raw suites is plausibility only, as warnings, on values the contract lets through."""
    contract_columns = {c.name: c for kind in KIND_COLUMNS.values() for c in kind}
    plausible = {
        "min_value": {"$PARAMETER": "earliest_plausible_date"},
        "max_value": {"$PARAMETER": "max_plausible_date"},
    }
    seen = []
    for suite in raw_suites():
        for expectation in suite.expectations:
            config = expectation.configuration.to_json_dict()
            kwargs = config["kwargs"]
            where = (suite.name, config["type"], kwargs.get("column"))
            seen.append(where)
            assert expectation.meta["severity"] == "warning", where
            # No list, pattern, required value, period or key: those are the check's and dbt's.
            assert config["type"] == "expect_column_values_to_be_between", where
            column = contract_columns.get(kwargs["column"])
            if column is not None:  # a contract column: only the plausible dates, inside the contract's years
                assert column.type.name == "DATE", where
                assert {k: kwargs.get(k) for k in plausible} == plausible, where
            else:  # a column derived from the contract's: participants per delegation
                assert kwargs["column"] == "participants_per_delegation", where
    assert quality.EARLIEST_PLAUSIBLE_DATE.year > EARLIEST_YEAR
    assert set(quality.DELEGATION_ACTIVITY_TYPES) < set(ACTIVITY_TYPES)
    assert len(seen) == 7, seen
    assert not [e for e in quality.fact_suite("fct_donation").expectations if getattr(e, "column", None) == "amount"]


def test_donor_type_is_a_rejection_of_the_check_only() -> None:
    """It was a rejection in the check and a warning in GX that could never fire: the check keeps it."""
    (donor_type,) = [c for c in KIND_COLUMNS["donations"] if c.name == "donor_type"]
    assert donor_type.allowed == DONOR_TYPES
    assert not [e for suite in raw_suites() for e in suite.expectations if getattr(e, "column", None) == "donor_type"]


def test_the_committed_suites_are_the_suites_of_the_code() -> None:
    for suite in raw_suites():
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


def test_the_contract_check_and_the_dbt_macro_agree_on_end_periods(drop) -> None:
    """The same visits through `libcoop check` and through dbt's period_end: the same rows rejected
    (GX no longer states this rule: a file breaking it never reaches GX)."""
    rows = [f"v{i},delegation,NLV,VN,NLC,CN,{start},{end},1,3,,,,s" for i, (start, end, _) in enumerate(PERIOD_CASES)]
    drop("VN/visits.csv", "\n".join([VISITS_HEADER, *rows]) + "\n")
    (found,) = discover(drop.incoming).files
    checked = check_file(found, drop.incoming)
    rejected_by_check = {p.row - 2 for p in checked.problems if p.rule == "end_before_start"}
    assert rejected_by_check == {i for i, (_, _, valid) in enumerate(PERIOD_CASES) if not valid}

    con = duckdb.connect()
    ends_before = dbt_period_end_sql("end_day", "precision")
    rejected_by_dbt = set()
    for i, (start, end, _) in enumerate(PERIOD_CASES):
        start_day, _ = _first_and_precision(start)
        end_day, precision = _first_and_precision(end)
        (before,) = con.execute(
            f"select {ends_before} < ?::date from (select ?::date as end_day, ? as precision)",
            [start_day, end_day, precision],
        ).fetchone()
        if before:
            rejected_by_dbt.add(i)
    assert rejected_by_dbt == rejected_by_check
