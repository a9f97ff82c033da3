"""The incremental dbt build (models keyed by file version) equals a full refresh of the same drop.

Three nights on a copy of the sample drop in tmp_path, each load -> dbt build -> publish with the
fingerprint recorded, as `libcoop run` does minus the validation: the first builds everything,
the second sees one file changed and one removed, the third the changed file restored to its
earlier version and the removed one back. After the second and third night the build is copied and
rebuilt with --full-refresh; every table of the intermediate, marts and review schemas must hold
the same rows in both.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from libcoop.fingerprint import built_by_same_code, record_fingerprint
from libcoop.pipeline import RunSummary, load_step, record_run
from libcoop.settings import PROJECT_ROOT, Paths, resolve_paths
from libcoop.transform.dbt_build import Selection, build_marts, changed_sources, dbt_state_dir
from libcoop.warehouse.publish import discard_build, publish

pytestmark = pytest.mark.integration

SAMPLE_DROP = PROJECT_ROOT / "raw" / "incoming"
CHANGED = "CN/visits.csv"
REMOVED = "VN/memberships.csv"
# CN-V-01: 33 delegations, 166 participants become 34 and 170.
BEFORE, AFTER = ",Japan,1981,2015-05,33,166,", ",Japan,1981,2015-05,34,170,"
SCHEMAS = ("intermediate", "marts", "review")
INCREMENTAL = {
    "int_institution_mentions_unioned",
    "int_memberships_resolved",
    "int_visits_resolved",
    "int_donations_converted",
    "fct_membership",
    "fct_visit",
    "fct_donation",
    "fct_cooperation_activity",
    "fct_activity_year_allocated",
}


# What restricts them to the files of the last load (dbt_project/macros/tests_on_changed_files.sql):
# the files it loaded or restored, named as literals.
CHANGED_FILES_FILTER = f"file_path in ('{CHANGED}')"
ANY_FILES_FILTER = "file_path in ('"
# The singular tests that compare facts with what is made of them, row by row, and their filter
# (the removed files too: a removed version's leftovers must show).
BY_FILE_SINGULAR_TESTS = {
    "test.libcoop.assert_allocated_measures_add_up_to_facts",
    "test.libcoop.assert_readable_marts_keep_every_fact_row",
}
SINGULAR_FILTER = f"where file_path in ('{CHANGED}', '{REMOVED}')"


def night(paths: Paths, run_id: str) -> tuple[bool, Path | None, dict[str, tuple[str, str]], dict[str, str]]:
    """Load, build (incremental when the code built the published warehouse, as build_step does),
    publish. Returns whether dbt refreshed fully, a full-refresh rebuild of the same build for
    comparison, the generic tests of fct_visit in the build: (status, compiled SQL) by test id, and
    the compiled SQL of every node dbt built, by id."""
    build, _ = load_step(paths, run_id)
    try:
        full_refresh = not built_by_same_code(build)
        selection = Selection() if full_refresh else changed_sources(build)
        build_marts(build, full_refresh=full_refresh, select=selection.select, exclude=selection.exclude)
        results = json.loads((dbt_state_dir(build) / "build_run_results.json").read_text())["results"]
        built = {r["unique_id"]: r["compiled_code"] or "" for r in results}
        tests_of_fct_visit = {
            r["unique_id"]: (r["status"], r["compiled_code"])
            for r in results
            if r["unique_id"].startswith("test.")
            and r["relation_name"] is None
            and re.search(r"_fct_visit[._]", r["unique_id"])
        }
        fresh = None
        if not full_refresh:
            # Beside the build, so dbt reuses its state folder (and its parse).
            fresh = build.parent.parent / f"{run_id}-fresh" / build.name
            fresh.parent.mkdir()
            shutil.copyfile(build, fresh)
            build_marts(fresh, full_refresh=True)
        with duckdb.connect(str(build)) as con:
            record_run(con, RunSummary(run_id, "published", build), dt.datetime.now(dt.UTC))
            record_fingerprint(con, run_id)
        publish(paths, build)
        return full_refresh, fresh, tests_of_fct_visit, built
    finally:
        discard_build(build)


def differences(built: Path, fresh: Path) -> dict[str, tuple[int, int, int]]:
    """Per table: (rows, rows only in the incremental build, rows only in the full refresh), for
    every table whose rows differ; also each table's row count, to see nothing is empty."""
    with duckdb.connect(str(built), read_only=True) as con:
        con.execute(f"attach '{fresh}' as fresh (read_only)")
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database() "
            f"and schema_name in {SCHEMAS} order by all"
        ).fetchall()
        counts = {}
        for schema, table in tables:
            name = f"{schema}.{table}"
            only_built = con.execute(
                f"select count(*) from (select * from {name} except all select * from fresh.{name})"
            ).fetchone()[0]
            only_fresh = con.execute(
                f"select count(*) from (select * from fresh.{name} except all select * from {name})"
            ).fetchone()[0]
            rows = con.execute(f"select count(*) from {name}").fetchone()[0]
            counts[name] = (rows, only_built, only_fresh)
    return counts


def scan_filters(con: duckdb.DuckDBPyConnection, sql: str, table: str) -> list[str]:
    """The filters DuckDB's plan of ``sql`` applies in its scans of ``table``, one per scan."""
    plan = json.loads(con.execute(f"explain (format json) {sql}").fetchall()[0][1])
    found = []

    def walk(node: dict) -> None:
        info = node.get("extra_info", {})
        if node.get("name") == "SEQ_SCAN" and str(info.get("Table", "")).endswith(table):
            found.append(str(info.get("Filters", "")))
        for child in node.get("children", []):
            walk(child)

    for root in plan:
        walk(root)
    return found


def test_incremental_builds_equal_full_refreshes_after_change_removal_and_restore(tmp_path, monkeypatch):
    incoming = tmp_path / "raw" / "incoming"
    shutil.copytree(SAMPLE_DROP, incoming)
    paths = resolve_paths(tmp_path / "raw", tmp_path / "warehouse" / "cooperation.duckdb")
    original = (incoming / CHANGED).read_bytes()
    removed = (incoming / REMOVED).read_bytes()
    assert original.count(BEFORE.encode()) == 1

    first_full, _, first_tests, first_built = night(paths, "night-1")
    assert first_full, "nothing to carry over: the first build refreshes fully"
    manifest = json.loads((dbt_state_dir(paths.warehouse) / "target" / "manifest.json").read_text())
    incremental = {
        node["name"] for node in manifest["nodes"].values() if node["config"]["materialized"] == "incremental"
    }
    assert incremental == INCREMENTAL

    (incoming / CHANGED).write_bytes(original.replace(BEFORE.encode(), AFTER.encode()))
    (incoming / REMOVED).unlink()
    second_full, second_fresh, second_tests, second_built = night(paths, "night-2")
    assert not second_full
    # Visits changed and memberships removed: the donations' staging, the seeds, the snapshot and
    # the reference models and dimension are those of the published build, and are not built again.
    skipped = {
        "model.libcoop.stg_raw__donations",
        "model.libcoop.dim_country",
        "seed.libcoop.institutions",
        "snapshot.libcoop.snap_institutions",
        "model.libcoop.stg_ref__countries",
    }
    assert skipped <= first_built.keys()
    assert second_built.keys() & skipped == set()
    assert {"model.libcoop.int_visits_resolved", "model.libcoop.int_memberships_resolved"} <= second_built.keys()
    # Downstream of the visits' names (int_institution_names_resolved), so built, with no new rows.
    assert {"model.libcoop.int_donations_converted", "model.libcoop.fct_donation"} <= second_built.keys()

    # The models built by file version read the changed file only, named when the model runs
    # (macros/file_versions.sql); no donations or memberships file is in force and not built.
    for model in (
        "int_visits_resolved",
        "fct_visit",
        "int_institution_mentions_unioned",
        "fct_activity_year_allocated",
    ):
        assert f"where file_path in ('{CHANGED}')" in second_built[f"model.libcoop.{model}"], model
    for model in ("int_donations_converted", "fct_donation", "int_memberships_resolved", "fct_membership"):
        assert "where false" in second_built[f"model.libcoop.{model}"], model
    assert "where file_path in (" not in first_built["model.libcoop.fct_visit"]

    # No donations file changed: the generic tests of the donations' facts, which look at the rows
    # of the changed files, are not run; nor are the tests only code can fail (tag by_construction).
    def tests_named(built: dict[str, str], prefix: str) -> set[str]:
        return {uid for uid in built if uid.startswith(f"test.libcoop.{prefix}")}

    for prefix in (
        "unique_fct_donation_donation_key",
        "not_null_columns_fct_donation",
        "unique_combination_of_columns_country_pair_exchanges",
    ):
        assert tests_named(first_built, prefix), prefix
        assert not tests_named(second_built, prefix), prefix
    assert tests_named(second_built, "unique_fct_membership_membership_key")  # the memberships file was removed
    assert tests_named(second_built, "unique_fct_visit_visit_key")
    for test in BY_FILE_SINGULAR_TESTS:
        assert ANY_FILES_FILTER not in first_built[test]
        assert second_built[test].count(SINGULAR_FILTER) >= 2, test  # facts and what is made of them
    second = differences(paths.warehouse, second_fresh)
    # The first night tested every row; the second only the rows of the changed file.
    assert first_tests.keys() == second_tests.keys()
    assert {name.split(".")[2] for name in first_tests} >= {  # the model's tests, of every kind
        "not_null_columns_fct_visit",
        "relationships_columns_fct_visit",
        "unique_fct_visit_visit_key",
        "accepted_by_contract_fct_visit_activity_type__visits",
    }
    assert not any(ANY_FILES_FILTER in sql for _, sql in first_tests.values())
    assert all(CHANGED_FILES_FILTER in sql for _, sql in second_tests.values())
    assert {status for status, _ in second_tests.values()} == {"pass"}
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        one_test = next(sql for _, sql in second_tests.values() if "not_null" in sql or "is null" in sql)
        scope = one_test[one_test.index("(select * from") : one_test.index("dbt_subquery") + len("dbt_subquery")]
        assert con.execute(f"select distinct file_path from {scope}").fetchall() == [(CHANGED,)]
        # The filter reaches the scan of fct_visit under the readable view marts.visits and its joins.
        readable = second_built["test.libcoop.assert_readable_marts_keep_every_fact_row"]
        filters = scan_filters(con, readable, "marts.fct_visit")
        assert sum(f"file_path IN ('{CHANGED}', '{REMOVED}')" in f for f in filters) >= 2, filters
    assert {name: diff for name, diff in second.items() if diff[1:] != (0, 0)} == {}
    assert second["marts.fct_membership"][0] == 0  # the only memberships file was removed
    # The filtered reconciliation still sees a wrong row of the changed file (on a copy).
    tampered = tmp_path / "tampered" / paths.warehouse.name  # the catalog the compiled SQL names
    tampered.parent.mkdir()
    shutil.copyfile(paths.warehouse, tampered)
    tampered.chmod(0o644)
    allocation = second_built["test.libcoop.assert_allocated_measures_add_up_to_facts"]
    with duckdb.connect(str(tampered)) as con:
        assert con.execute(allocation).fetchall() == []
        con.execute(
            "update marts.fct_activity_year_allocated set allocated_delegations = allocated_delegations + 1 "
            f"where file_path = '{CHANGED}' and activity_year = 1981 and activity_type = 'business_exchange'"
        )
        assert len(con.execute(allocation).fetchall()) == 1
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.execute(
            "select delegations, participants from marts.fct_visit where record_id = 'CN-V-01'"
        ).fetchall() == [(34, 170)]

    (incoming / CHANGED).write_bytes(original)
    (incoming / REMOVED).write_bytes(removed)
    third_full, third_fresh, _, _ = night(paths, "night-3")
    assert not third_full
    third = differences(paths.warehouse, third_fresh)
    assert {name: diff for name, diff in third.items() if diff[1:] != (0, 0)} == {}
    assert third["marts.fct_membership"][0] > 0
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.execute(
            "select delegations, participants from marts.fct_visit where record_id = 'CN-V-01'"
        ).fetchall() == [(33, 166)]
