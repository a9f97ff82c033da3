"""Drops that once stopped the publish, kept as named regressions: each is valid by the contract,
so it publishes; whatever is odd in it is at most a warning (docs/contract.md, "What a bad file gets")."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import DONATIONS_HEADER, MEMBERSHIPS_HEADER, VISITS_HEADER
from tests.property.warehouse import Workspace, md5, publish

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("found") / "ws")
    files = {
        # The same organization written two ways by two countries (int_organization_names_resolved
        # had one row per name, two per key: its unique tests failed the dbt build).
        "VN/memberships.csv": f"{MEMBERSHIPS_HEADER}\n"
        "m1,National Library of Viet Nam,Viet Nam,Conference of Directors of National Libraries in Asia and Oceania,member,2003,,s\n"
        # A membership left within the month it was joined, written as the month (the raw GX
        # suite compared first days: its critical period check failed).
        "m2,National Library of Viet Nam,VN,IFLA,member,2012-09-07,2012-09,s\n",
        "JP/memberships.csv": f"{MEMBERSHIPS_HEADER}\nm1,NDL,JP,CDNLAO,member,1979,,s\n",
        # A visit ending within its start year, written as the year; a billion participants (a
        # large figure: a warning); a future end date (a warning).
        "CN/visits.csv": f"{VISITS_HEADER}\n"
        "v1,delegation,NLC,CN,NDL,JP,2016-05-10,2016,1,12,,,,s\n"
        "v2,conference,NLC,CN,,,2015,2015,3,1000000000,,,,s\n"
        "v3,training,NLC,CN,Unlisted Academy of Somewhere,FR,2026-01,2031,1,5,,,,s\n",
        # VND has no ECB rate: amount_usd is NULL, flagged as a warning, never guessed.
        "VN/donations.csv": f"{DONATIONS_HEADER}\nd1,Ministry of Culture,VN,government,NLV,VN,funding,,,50000000,VND,2010,,s\n",
    }
    for relative, text in files.items():
        path = ws.paths.incoming / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    publish(ws, "run-1")
    return ws


def test_an_organization_written_two_ways_is_one_organization(published: Workspace) -> None:
    keys = published.query(
        "select distinct organization_key from marts.fct_membership where organization_name <> 'IFLA'"
    )
    assert keys == [(md5("CDNLAO"),)]
    assert published.query("select count(*) from marts.dim_organization where acronym = 'CDNLAO'") == [(1,)]


def test_coarse_end_periods_publish_with_their_precision(published: Workspace) -> None:
    assert published.query(
        "select left_date, left_date_precision from marts.fct_membership where left_date is not null"
    ) == [(dt.date(2012, 9, 1), "month")]
    assert published.query(
        "select end_date_precision from marts.fct_visit where source_row_number = 2 and file_path = 'CN/visits.csv'"
    ) == [("year",)]


def test_what_a_coordinator_may_legitimately_write_is_at_most_a_warning(published: Workspace) -> None:
    failed = published.query(
        "select severity, count(*) from audit.dq_results where run_id = 'run-1' and not success group by 1"
    )
    assert dict(failed).get("critical", 0) == 0
    assert dict(failed).get("warning", 0) >= 1  # the missing VND rate at least
    assert published.query("select amount_usd, is_missing_fx_rate from marts.fct_donation") == [(None, True)]
