"""dbt's not_null_columns and relationships_columns tests (dbt_project/tests/generic): one test node
per model for the columns that must never be NULL, and one for its foreign keys, which fail saying
which column and on how many rows."""

from __future__ import annotations

import duckdb
import pytest

from libcoop.pipeline import load_step
from libcoop.settings import PROJECT_ROOT, Paths
from libcoop.transform.dbt_build import BuildFailed, build_marts
from tests.conftest import GOOD_VISIT, VISITS_HEADER

pytestmark = pytest.mark.integration


@pytest.fixture
def build(drop, tmp_path):  # type: ignore[no-untyped-def]
    """A build of two visits whose every test passes."""
    drop("JP/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT}\n{GOOD_VISIT.replace('v1,', 'v2,', 1)}\n")
    paths = Paths(
        raw_dir=drop.raw_dir,
        warehouse=tmp_path / "warehouse" / "cooperation.duckdb",
        expectations_dir=PROJECT_ROOT / "expectations",
    )
    build, _ = load_step(paths, "run-1")
    build_marts(build)
    return build


def _failing_rows(build, test: str, model: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The rows the failing test ``test`` of ``model`` returned, as the build's error names them."""
    with pytest.raises(BuildFailed) as failed:
        build_marts(build, select=(f"{model},test_name:{test}",))
    message = str(failed.value)
    assert message.startswith(f"dbt build failed: test {test}_{model}: fail Got 2 results")
    return sorted(message.split("first failing rows: ", 1)[1].rstrip(")").split("; "))


def test_a_null_in_a_listed_column_fails_the_build_naming_the_column(build) -> None:
    with duckdb.connect(str(build)) as con:
        assert con.execute("select count(*) from marts.fct_visit").fetchone() == (2,)
        # What a faulty model would write: a visit without its guest's country, and without its key.
        con.execute("update marts.fct_visit set guest_country_key = null")
        con.execute("update marts.fct_visit set visit_key = null where source_row_number = 2")

    assert _failing_rows(build, "not_null_columns", "fct_visit") == [
        "column_name=guest_country_key, null_rows=2",
        "column_name=visit_key, null_rows=1",
    ]


def test_a_key_missing_from_its_dimension_fails_the_build_naming_the_column(build) -> None:
    """relationships_columns, the same way: one node per model for its foreign keys, a NULL key
    refers to nothing (as in dbt's relationships), and a `where` keeps the rows it names."""
    with duckdb.connect(str(build)) as con:
        # A faulty model: a host no dimension holds, a date key dim_date lacks, and a NULL end date.
        con.execute("update marts.fct_visit set host_institution_key = 'no-such-institution'")
        con.execute("update marts.fct_visit set start_date_key = 99991231 where source_row_number = 2")
        con.execute("update marts.fct_visit set end_date_key = null")
        # A version of an institution dim_institution lacks, but not the current one: where: is_current.
        con.execute(
            "update marts.dim_institution_history set institution_key = 'gone', is_current = false "
            "where institution_version_key = (select min(institution_version_key) from marts.dim_institution_history)"
        )

    assert _failing_rows(build, "relationships_columns", "fct_visit") == [
        "column_name=host_institution_key, orphan_rows=2",
        "column_name=start_date_key, orphan_rows=1",
    ]
    build_marts(build, select=("relationships_columns_dim_institution_history",))  # not current: kept out
