"""A total reported over a period is spread evenly over its years (marts.fct_activity_year_allocated),
built by the real dbt project from a small drop; the reported totals stay whole in the facts.

"33 business meetings, 166 people, 1981 to May 2015" is one row of fct_visit: before the allocated
measure, a per-year or per-decade question put all 33 in 1981 (issue 25)."""

from __future__ import annotations

import duckdb
import pytest

from libcoop.pipeline import load_step
from libcoop.transform.dbt_build import build_marts
from tests.conftest import GOOD_FILES
from tests.helpers.drops import load_paths, write_drop

pytestmark = pytest.mark.integration

MEETINGS_1981_2015 = (
    "v2,business_exchange,National Library of China,China,National Diet Library,Japan,1981,2015-05,33,166,"
    "business meetings,,,test"
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("allocation")
    files = {
        "CN/visits.csv": GOOD_FILES["visits"] + f"{MEETINGS_1981_2015}\n",
        "US/donations.csv": GOOD_FILES["donations"],  # 100,000 USD, 2004 to 2006
        "VN/memberships.csv": GOOD_FILES["memberships"],  # IFLA since 2000, in force
    }
    write_drop(tmp_path, files)
    paths = load_paths(tmp_path)
    build, _ = load_step(paths, "run-allocation")
    build_marts(build)  # runs the reconciliation test assert_allocated_measures_add_up_to_facts too
    return build


def query(build, sql: str) -> list[tuple]:
    with duckdb.connect(str(build), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_total_over_35_years_is_spread_evenly_over_them(warehouse) -> None:
    rows = query(
        warehouse,
        """select activity_year, period_years, allocated_activities, allocated_delegations, allocated_participants
        from marts.fct_activity_year_allocated where activity_type = 'business_exchange' and period_start_year = 1981
        order by activity_year""",
    )
    assert [r[0] for r in rows] == list(range(1981, 2016))  # May 2015 ends within 2015
    assert {r[1] for r in rows} == {35}
    for _, _, activities, delegations, participants in rows:
        assert activities == pytest.approx(1 / 35) and delegations == pytest.approx(33 / 35)
        assert participants == pytest.approx(166 / 35)
    # Per decade: the 1980s get 9 of the 35 years (1981-1989), no longer all 33 meetings.
    ((eighties,),) = query(
        warehouse,
        "select sum(allocated_delegations) from marts.fct_activity_year_allocated "
        "where activity_type = 'business_exchange' and activity_year between 1980 and 1989",
    )
    assert eighties == pytest.approx(33 * 9 / 35)
    # The fact keeps the reported total in its start year.
    assert query(
        warehouse, "select delegations, participants from marts.fct_visit where start_date_precision = 'year'"
    ) == [(33, 166)]


def test_single_year_activities_and_memberships_stay_whole(warehouse) -> None:
    rows = query(
        warehouse,
        """select activity_family, activity_year, allocated_activities, allocated_delegations, allocated_amount_usd
        from marts.fct_activity_year_allocated
        where not (activity_type = 'business_exchange' and period_start_year = 1981)
        order by activity_family, activity_year""",
    )
    assert rows == [
        ("donation", 2004, pytest.approx(1 / 3), None, pytest.approx(100000 / 3)),
        ("donation", 2005, pytest.approx(1 / 3), None, pytest.approx(100000 / 3)),
        ("donation", 2006, pytest.approx(1 / 3), None, pytest.approx(100000 / 3)),
        ("membership", 2000, 1.0, None, None),  # in force since 2000: counted in the year joined
        ("visit", 2016, 1.0, 1.0, None),
    ]


def test_allocated_sums_over_the_years_equal_the_totals(warehouse) -> None:
    allocated = query(
        warehouse,
        """select activity_family, sum(allocated_activities), sum(allocated_delegations),
        sum(allocated_participants), sum(allocated_amount_usd)
        from marts.fct_activity_year_allocated group by all order by all""",
    )
    reported = query(
        warehouse,
        """select activity_family, count(*), sum(delegations), sum(participants), sum(amount_usd)
        from marts.fct_cooperation_activity group by all order by all""",
    )
    assert len(allocated) == len(reported) == 3
    for got, want in zip(allocated, reported, strict=True):
        assert got[0] == want[0]
        assert got[1:] == tuple(None if v is None else pytest.approx(v) for v in want[1:])
