"""contract.KINDS is the one registry of kinds: every per-kind list derives from it, and what is
generated from it (the dbt seed of accepted values) is committed as generated."""

from __future__ import annotations

import csv
import io

import yaml

from libcoop.ingest.contract import KIND_COLUMNS, KINDS, PERIODS, RULES, VISIT_SIDES, columns_of
from libcoop.ingest.suggestions import NAME_COLUMNS, NAME_COUNTRY_COLUMNS
from libcoop.ingest.templates import ACCEPTED_VALUES_SEED, EXAMPLES, accepted_values_csv, write_accepted_values_seed
from libcoop.quality.marts_suites import _FACT_SOURCES, _FACT_START_DAYS, _FACT_TOTALS
from libcoop.settings import dbt_project_dir

SEEDS = dbt_project_dir() / "seeds"


def test_the_committed_seed_is_the_generated_one(tmp_path) -> None:
    fresh = write_accepted_values_seed(tmp_path)
    committed = SEEDS / ACCEPTED_VALUES_SEED
    assert committed.read_bytes() == fresh.read_bytes(), "stale seed: run `make templates` and commit it"


def test_the_seed_holds_every_list_of_the_contract() -> None:
    rows = list(csv.DictReader(io.StringIO(accepted_values_csv())))
    assert len(rows) == 9 + 8 + 8  # activity types, donor types, donation types
    assert {(r["kind"], r["column_name"]) for r in rows} == {
        ("visits", "activity_type"),
        ("donations", "donor_type"),
        ("donations", "donation_type"),
    }
    assert {"kind": "visits", "column_name": "activity_type", "accepted_value": "mutual_visit"} in rows


def test_the_dbt_tests_of_the_lists_read_the_seed() -> None:
    """No dbt accepted_values test restates a list of the contract: accepted_by_contract reads the seed."""
    document = yaml.safe_load((dbt_project_dir() / "models" / "marts" / "_marts__models.yml").read_text())
    uses = [
        (model["name"], column["name"], test["accepted_by_contract"]["arguments"]["kind"])
        for model in document["models"]
        for column in model.get("columns", [])
        for test in column.get("data_tests", []) or []
        if isinstance(test, dict) and "accepted_by_contract" in test
    ]
    assert sorted(uses) == [
        ("agg_visit_by_institution_pair_year", "activity_type", "visits"),
        ("fct_donation", "donation_type", "donations"),
        ("fct_donation", "donor_type", "donations"),
        ("fct_visit", "activity_type", "visits"),
    ]
    for _, column, kind in uses:
        assert [c for c in KINDS[kind].columns if c.name == column and c.allowed]


def test_every_kind_is_whole() -> None:
    for name, kind in KINDS.items():
        names = {c.name for c in columns_of(name)}
        assert set(kind.period) <= names, name
        assert set(kind.example) <= names, name
        assert {c for pair in kind.institutions + kind.sides for c in pair} <= names, name
        assert set(kind.organizations) <= names, name
        for column, other in kind.requires:
            assert {column, other} <= names and f"{column}_without_{other}" in RULES, name


def test_the_old_per_kind_lists_are_views_of_the_registry() -> None:
    assert list(KIND_COLUMNS) == ["memberships", "visits", "donations"]
    assert PERIODS == {
        "memberships": ("joined", "left"),
        "visits": ("start_date", "end_date"),
        "donations": ("start_date", "end_date"),
    }
    assert VISIT_SIDES == (("host_institution", "host_country"), ("guest_institution", "guest_country"))
    assert EXAMPLES["donations"]["currency"] == "USD"
    assert list(NAME_COLUMNS) == [
        "institution",
        "host_institution",
        "guest_institution",
        "donor",
        "recipient_institution",
        "organization",
    ]
    assert NAME_COUNTRY_COLUMNS["recipient_institution"] == "recipient_country"
    assert _FACT_SOURCES["fct_cooperation_activity"] == (tuple(KINDS), "rows_in_raw_current_activities")
    assert _FACT_TOTALS["fct_visit"] == (("delegations", "visits"), ("participants", "visits"))
    assert _FACT_TOTALS["fct_membership"] == ()
    assert _FACT_START_DAYS["fct_membership"] == ("joined_date_key", "joined_day")


def test_every_kind_has_its_raw_suite_and_its_fact_suite() -> None:
    from libcoop.quality.marts_suites import FACT_SUITES
    from libcoop.quality.suites import RAW_SUITES

    assert list(RAW_SUITES) == list(KINDS)
    assert list(FACT_SUITES) == [kind.fact_table for kind in KINDS.values()] + ["fct_cooperation_activity"]
    assert [RAW_SUITES[name]().name for name in KINDS] == [f"raw_{name}" for name in KINDS]
