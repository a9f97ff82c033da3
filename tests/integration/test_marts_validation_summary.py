"""The marts suites validate each fact's summary, computed in DuckDB, not the fact's rows: one row
per file for its rows with nothing to report, one row for each flagged row.

Each mutated fact below fails the check on the same column, with the same severity, as when Great
Expectations read every fact row (libcoop before the summary); only the row count moved, from
``expect_table_row_count_to_equal`` to the sum of the summary's ``fact_rows``. Real DuckDB, real GX.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from libcoop import quality
from libcoop.quality.batches import read_frame, read_only
from libcoop.quality.reads import _suite_specs
from tests.integration.test_quality import COMMITTED_CONTEXT, build_warehouse

pytestmark = pytest.mark.integration

VISIT = "marts_integrity_fct_visit"
DONATION = "marts_integrity_fct_donation"
MEMBERSHIP = "marts_integrity_fct_membership"
ACTIVITY = "marts_integrity_fct_cooperation_activity"


@pytest.fixture
def context_dir(tmp_path: Path) -> Path:
    target = tmp_path / "expectations"
    shutil.copytree(COMMITTED_CONTEXT, target, ignore=shutil.ignore_patterns("uncommitted"))
    return target


def _failed(report: quality.QualityReport) -> list[tuple[str, str | None, str, int | None]]:
    return sorted((o.suite, o.column, o.severity, o.unexpected_count) for o in report.outcomes if not o.success)


@pytest.mark.parametrize(
    ("mutations", "failed"),
    [
        (  # a total changed: the sum of participants no longer is raw's
            ["update marts.fct_visit set participants = 60 where event = '35th business exchange'"],
            [(VISIT, "participants", "critical", None)],
        ),
        (  # a row with no raw origin (its lineage names a row raw does not hold)
            ["update marts.fct_visit set source_row_number = 99 where event = '35th business exchange'"],
            [(VISIT, "not_in_raw", "critical", 1)],
        ),
        (  # a row invented, with no file at all: one row too many, and untraced
            [
                "insert into marts.fct_visit select * replace (null as file_path, null as source_row_number) "
                "from marts.fct_visit where event = '35th business exchange'"
            ],
            [
                (VISIT, "delegations", "critical", None),
                (VISIT, "fact_rows", "critical", None),
                (VISIT, "not_in_raw", "critical", 1),
                (VISIT, "participants", "critical", None),
            ],
        ),
        (  # a row lost
            ["delete from marts.fct_cooperation_activity where activity_type = 'delegation'"],
            [
                (ACTIVITY, "delegations", "critical", None),
                (ACTIVITY, "fact_rows", "critical", None),
                (ACTIVITY, "participants", "critical", None),
            ],
        ),
        (  # an amount changed: its currency's total is not raw's
            ["update marts.fct_donation set amount = 200000 where currency = 'USD'"],
            [(DONATION, "currency_total_mismatch", "critical", 1)],
        ),
        (  # an implausible amount in USD
            ["update marts.fct_donation set amount_usd = 5e9 where currency = 'JPY'"],
            [(DONATION, "amount_usd", "warning", 1)],
        ),
        (  # a start long ago, and one far in the future, in two files
            [
                "insert into marts.dim_date values (18500101, date '1850-01-01', 1850, 1, 1, false)",
                "insert into marts.dim_date values (29990101, date '2999-01-01', 2999, 1, 1, false)",
                "update marts.fct_visit set start_date_key = 18500101 where activity_type = 'delegation'",
                "update marts.fct_visit set start_date_key = 29990101 where activity_type = 'training'",
            ],
            [(VISIT, "start_day", "warning", 2)],
        ),
        (  # one membership resolved to another organization than raw names
            ["update raw.memberships set organization = 'IFLA' where organization = 'CONSAL'"],
            [(MEMBERSHIP, "organization_count_mismatch", "critical", 1)],
        ),
    ],
    ids=["total", "untraced", "invented", "lost", "currency", "amount-usd", "dates", "organization"],
)
def test_a_mutated_fact_fails_the_same_check_as_before(
    tmp_path: Path, context_dir: Path, mutations: list[str], failed: list[tuple]
) -> None:
    warehouse = build_warehouse(tmp_path / "build.duckdb")
    with duckdb.connect(str(warehouse)) as con:
        for sql in mutations:
            con.execute(sql)

    report = quality.validate_warehouse(warehouse, "run-mutated", context_dir)

    assert _failed(report) == failed
    assert report.passed == all(severity == "warning" for _s, _c, severity, _n in failed)


def test_the_failing_files_and_rows_are_named(tmp_path: Path, context_dir: Path) -> None:
    warehouse = build_warehouse(tmp_path / "build.duckdb")
    with duckdb.connect(str(warehouse)) as con:
        # 25 rows of one file that raw does not hold: the first 20 named, then how many more.
        con.execute(
            "insert into marts.fct_visit select f.* replace (source_row_number + 100 + i as source_row_number) "
            "from marts.fct_visit as f, range(25) as t(i) where event = '35th business exchange'"
        )

    report = quality.validate_warehouse(warehouse, "run-named", context_dir)

    (untraced,) = [o for o in report.critical_failures if o.column == "not_in_raw"]
    assert untraced.unexpected_count == 25
    # The first 20 flagged rows are named by their own file and row, as a coordinator reads them.
    assert [(r.file_path, r.row_number) for r in untraced.failing_rows] == [
        ("CN/visits_2015.csv", n) for n in range(102, 122)
    ]
    rows = ", ".join(str(n) for n in range(102, 122))
    sentence = quality.results.problem_sentence(untraced)
    assert sentence.startswith("25 visits naming a file and row that raw.current_visits does not hold")
    assert sentence.endswith(f": CN/visits_2015.csv rows {rows}, and 5 more.")
    (cn,) = [v for v in report.countries if v.country_code == "CN"]
    assert "not_in_raw" in {c.outcome.column for c in cn.failed_checks}


def test_a_fact_is_read_as_one_row_per_file_whatever_its_rows(tmp_path: Path) -> None:
    """Rows with nothing to report add no summary rows: 20,000 visits over 4 files are 4 rows."""
    warehouse = build_warehouse(tmp_path / "build.duckdb")
    with duckdb.connect(str(warehouse)) as con:
        # 20,000 more visits over 4 files, in raw and in both facts: a valid build, 20,003 visits.
        con.execute(
            "insert into raw.visits select v.* replace ('CN/bench_' || (i // 5000) || '.csv' as file_path, "
            "i + 2 as source_row_number) from raw.visits as v, range(20000) as t(i) where event = '35th business exchange'"
        )
        con.execute(
            "insert into marts.fct_visit select f.* replace ('CN/bench_' || (i // 5000) || '.csv' as file_path, "
            "i + 2 as source_row_number) from marts.fct_visit as f, range(20000) as t(i) "
            "where event = '35th business exchange'"
        )
    specs = {spec.name: spec for spec in _suite_specs()}

    with read_only(warehouse) as con:
        frame = read_frame(con, specs[VISIT].query(con))

    assert len(frame) == 3 + 4  # the 3 files of the small warehouse, and the 4 new ones
    assert int(frame["fact_rows"].sum()) == 20_003
    assert int(frame["participants"].sum()) == 6 * 20_001 + 2062 + 2
    assert frame["not_in_raw"].isna().all()


def test_a_flagged_row_is_a_summary_row_of_its_own(tmp_path: Path) -> None:
    """A row a row-by-row check may fail stands apart, with its own file, row and value."""
    warehouse = build_warehouse(tmp_path / "build.duckdb")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into marts.dim_date values (18500101, date '1850-01-01', 1850, 1, 1, false)")
        con.execute("update marts.fct_visit set start_date_key = 18500101 where activity_type = 'delegation'")
        flagged = con.execute(
            "select file_path, source_row_number from marts.fct_visit where activity_type = 'delegation'"
        ).fetchall()
    specs = {spec.name: spec for spec in _suite_specs()}

    with read_only(warehouse) as con:
        frame = read_frame(con, specs[VISIT].query(con))

    apart = frame[frame["source_row_number"].notna()]
    assert [(p, int(n)) for p, n in zip(apart["file_path"], apart["source_row_number"], strict=True)] == flagged
    assert set(apart["fact_rows"]) == {1}
    assert int(frame["fact_rows"].sum()) == 3
