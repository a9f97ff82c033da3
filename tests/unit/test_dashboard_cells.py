"""The dashboard's figures, read from the tables ``cells`` sums the marts into once for all the pages,
equal the same figures asked of the facts directly, for every country of a generated warehouse; the
tables live only as long as they are used; and the pages are rendered once, with or without a font."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from libcoop.dashboard import build
from libcoop.dashboard.cells import TABLES, summaries
from libcoop.dashboard.figures import compute, headline_values
from tests.unit.test_dashboard import tiny_warehouse

COUNTRY_KEYS = "['k-vn', 'k-jp', 'k-cn', 'k-us', 'k-kr', 'k-zz']"
INSTITUTIONS = "['i-nlv', 'i-ndl', 'i-nlc', 'i-nlk', 'i-taf', 'i-unk']"

# Activities between any two of six countries (the same one twice, and the unknown one, included),
# a third of them over two or three years, some undated; visits, donations and memberships between
# the libraries of those countries, some with no participants or with no USD rate.
GENERATED = f"""
insert into marts.dim_country values ('k-kr', 'KR', 'Republic of Korea');
insert into marts.dim_institution values ('i-nlk', 'NLK', 'National Library of Korea', 'national_library', 'KR', null);
insert into marts.fct_cooperation_activity
select 'g' || i, (['visit', 'donation', 'membership'])[1 + i % 3], ([20100101, 20110101, -1])[1 + (i // 36) % 3],
    {COUNTRY_KEYS}[1 + i % 6], {COUNTRY_KEYS}[1 + (i // 6) % 6],
    case when i % 3 = 0 then 1 + i % 4 end, case when i % 3 = 0 and i % 5 <> 0 then i % 17 end
from range(900) as t(i);
insert into marts.fct_activity_year_allocated
with periods as (
    select a.activity_key, a.activity_family, a.country_key, a.partner_country_key, d.year,
        case when d.year is null then 1 else 1 + (cast(a.activity_key[2:] as integer) // 108) % 3 end as period
    from marts.fct_cooperation_activity as a
    inner join marts.dim_date as d on a.date_key = d.date_key
    where a.activity_key like 'g%'
)
select activity_key, unnest(case when year is null then [null] else range(year, year + period) end), activity_family,
    country_key, partner_country_key, period, 1.0 / period, year
from periods;
-- The visits are the activities of the visit family (as in dbt), between the libraries of their countries.
insert into marts.fct_visit
select 'delegation', h.institution_key, g.institution_key, a.country_key, a.partner_country_key, a.date_key,
    a.delegations, a.participants, 'host ' || a.activity_key[2:]::integer % 4,
    'guest ' || a.activity_key[2:]::integer % 3, h.country_iso2
from marts.fct_cooperation_activity as a
inner join marts.dim_country as hc on a.country_key = hc.country_key
inner join marts.dim_country as gc on a.partner_country_key = gc.country_key
inner join marts.dim_institution as h on hc.iso2 = h.country_iso2
inner join marts.dim_institution as g on gc.iso2 = g.country_iso2
where a.activity_family = 'visit' and a.activity_key like 'g%';
-- The business meetings of the national libraries of China and Japan since 1981, both ways round.
insert into marts.dim_date values (19810101, date '1981-01-01', 1981);
insert into marts.fct_cooperation_activity values
    ('m1', 'visit', 19810101, 'k-cn', 'k-jp', 33, 166), ('m2', 'visit', 19810101, 'k-jp', 'k-cn', 2, null);
insert into marts.fct_visit values
    ('business_exchange', 'i-nlc', 'i-ndl', 'k-cn', 'k-jp', 19810101, 33, 166, 'NLC', 'NDL', 'CN'),
    ('business_exchange', 'i-ndl', 'i-nlc', 'k-jp', 'k-cn', 19810101, 2, null, 'NDL', 'NLC', 'JP');
insert into marts.fct_donation
select d.institution_key, r.institution_key, dc.country_key, rc.country_key,
    case when i % 4 = 0 then 'books' else 'funding' end, 'project ' || i % 7,
    case when i % 4 = 0 then i end, 100 + i, case when i % 3 = 0 then 'VND' else 'USD' end,
    case when i % 3 = 0 then null else 100 + i end, ([20100101, 20110101])[1 + i % 2], 'donor', 'recipient',
    d.country_iso2
from range(300) as t(i)
inner join marts.dim_institution as d on d.institution_key = {INSTITUTIONS}[1 + (i // 6) % 6]
inner join marts.dim_institution as r on r.institution_key = {INSTITUTIONS}[1 + i % 6]
inner join marts.dim_country as dc on dc.iso2 = d.country_iso2
inner join marts.dim_country as rc on rc.iso2 = r.country_iso2;
insert into marts.fct_membership
select {INSTITUTIONS}[1 + i % 4], 'o-ifla', (['member', 'observer'])[1 + i % 2], 20100101, -1, i % 3 <> 0,
    'member ' || i, 'VN'
from range(40) as t(i);
"""

# The figures asked of the facts, row by row, with no table in between.
PLAIN = {
    "activities": """
        select a.activity_year as year, a.activity_family, x.iso2 as country, sum(a.allocated_activities)
        from marts.fct_activity_year_allocated as a
        inner join marts.dim_country as c on a.country_key = c.country_key
        inner join marts.dim_country as p on a.partner_country_key = p.country_key
        inner join marts.dim_country as x on x.iso2 in (c.iso2, p.iso2)
        where a.activity_year is not null and x.iso2 <> 'ZZ' and ($country is null or x.iso2 = $country)
        group by all
        union all
        select a.activity_year, a.activity_family, 'all', sum(a.allocated_activities)
        from marts.fct_activity_year_allocated as a
        inner join marts.dim_country as c on a.country_key = c.country_key
        inner join marts.dim_country as p on a.partner_country_key = p.country_key
        where a.activity_year is not null and ($country is null or $country in (c.iso2, p.iso2))
        group by all
    """,
    "spread": """
        select count(distinct a.activity_key) from marts.fct_activity_year_allocated as a
        inner join marts.dim_country as c on a.country_key = c.country_key
        inner join marts.dim_country as p on a.partner_country_key = p.country_key
        where a.period_years > 1 and ($country is null or $country in (c.iso2, p.iso2))
    """,
    "undated": """
        select count(*) from marts.fct_cooperation_activity as a
        inner join marts.dim_date as d on a.date_key = d.date_key
        inner join marts.dim_country as c on a.country_key = c.country_key
        inner join marts.dim_country as p on a.partner_country_key = p.country_key
        where d.year is null and ($country is null or $country in (c.iso2, p.iso2))
    """,
    "pairs": """
        select least(h.country_iso2, g.country_iso2), greatest(h.country_iso2, g.country_iso2), count(*),
            sum(v.delegations), sum(v.participants), count(*) - count(v.participants)
        from marts.fct_visit as v
        inner join marts.dim_institution as h on v.host_institution_key = h.institution_key
        inner join marts.dim_institution as g on v.guest_institution_key = g.institution_key
        where h.institution_type = 'national_library' and g.institution_type = 'national_library'
          and h.institution_key <> g.institution_key and ($country is null or $country in (h.country_iso2, g.country_iso2))
        group by all
    """,
    # Every name a national library of the country is reported under, other than its own.
    "libraries": """
        with named as (
            select host_institution_key as institution_key, host_institution_name as reported_name from marts.fct_visit
            union all
            select guest_institution_key, guest_institution_name from marts.fct_visit
            union all
            select donor_institution_key, donor_name from marts.fct_donation
            union all
            select recipient_institution_key, recipient_institution_name from marts.fct_donation
            union all
            select institution_key, institution_name from marts.fct_membership
        )
        select i.country_iso2, i.institution_name,
            list_sort(list_distinct(list(n.reported_name) filter (where n.reported_name <> i.institution_name)))
        from marts.dim_institution as i
        inner join named as n on i.institution_key = n.institution_key
        where i.institution_type = 'national_library' and ($country is null or i.country_iso2 = $country)
        group by all
    """,
    # The donations a page lists and charts, in the order its charts add them up in.
    "donations": """
        select d.year, dc.iso2 as donor_country, dc.country_name as donor_country_name, rc.iso2 as recipient_country,
            donor.institution_name as donor, f.donation_type, f.project, f.quantity, f.amount, f.currency, f.amount_usd,
            f.amount is not null and f.amount_usd is null as has_unconverted_amount
        from marts.fct_donation as f
        inner join marts.dim_date as d on f.start_date_key = d.date_key
        inner join marts.dim_country as dc on f.donor_country_key = dc.country_key
        inner join marts.dim_country as rc on f.recipient_country_key = rc.country_key
        inner join marts.dim_institution as donor on f.donor_institution_key = donor.institution_key
        where $country is null or $country in (dc.iso2, rc.iso2)
        order by
            year, donor_country, project, donor_country_name, recipient_country, donor, donation_type, quantity,
            amount, currency, amount_usd
    """,
    "headlines": """
        select
            (select count(*) from marts.fct_cooperation_activity as a
             inner join marts.dim_country as c on a.country_key = c.country_key
             inner join marts.dim_country as p on a.partner_country_key = p.country_key
             where $country is null or $country in (c.iso2, p.iso2)),
            (select {'delegations': sum(v.delegations), 'participants': sum(v.participants)}
             from marts.fct_visit as v
             inner join marts.dim_country as h on v.host_country_key = h.country_key
             inner join marts.dim_country as g on v.guest_country_key = g.country_key
             where $country is null or $country in (h.iso2, g.iso2)),
            (select {
                'usd': sum(f.amount_usd),
                'without_rate': count(*) filter (where f.amount is not null and f.amount_usd is null),
                'books': sum(f.quantity) filter (where f.donation_type = 'books'),
                'rows': count(*)}
             from marts.fct_donation as f
             inner join marts.dim_country as dc on f.donor_country_key = dc.country_key
             inner join marts.dim_country as rc on f.recipient_country_key = rc.country_key
             where $country is null or $country in (dc.iso2, rc.iso2)),
            (select {'in_force': count(*) filter (where m.is_active), 'rows': count(*)}
             from marts.fct_membership as m
             inner join marts.dim_institution as i on m.institution_key = i.institution_key
             where $country is null or i.country_iso2 = $country),
            (select {'meetings': sum(v.delegations), 'participants': sum(v.participants)}
             from marts.fct_visit as v
             inner join marts.dim_institution as h on v.host_institution_key = h.institution_key
             inner join marts.dim_institution as g on v.guest_institution_key = g.institution_key
             inner join marts.dim_date as d on v.start_date_key = d.date_key
             where v.activity_type = 'business_exchange' and d.year = 1981
               and h.institution_code in ('NLC', 'NDL') and g.institution_code in ('NLC', 'NDL')
               and h.institution_code <> g.institution_code)
    """,
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tiny_warehouse(tmp_path_factory.mktemp("cells") / "generated.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute(GENERATED)
    return path


def plain(con: duckdb.DuckDBPyConnection, name: str, country: str | None) -> list[tuple]:
    return sorted(con.execute(PLAIN[name], {"country": country}).fetchall(), key=repr)


@pytest.mark.parametrize("country", [None, "VN", "JP", "CN", "US", "KR", "ZZ"])
def test_every_page_s_figures_equal_those_asked_of_the_facts(generated: Path, country: str | None) -> None:
    with duckdb.connect(str(generated), read_only=True) as con:
        figures = compute(con, country)
        activities = sorted(figures.activities.itertuples(index=False, name=None), key=repr)
        expected = plain(con, "activities", country)
        assert [row[:3] for row in activities] == [row[:3] for row in expected]
        assert [row[3] for row in activities] == pytest.approx([float(row[3]) for row in expected])
        ((spread,),), ((undated,),) = plain(con, "spread", country), plain(con, "undated", country)
        assert (figures.spread_activities, figures.undated_activities) == (spread, undated)
        pairs = figures.pairs[
            ["country_a", "country_b", "visits", "delegations", "participants", "visits_without_participants"]
        ]
        assert sorted(pairs.itertuples(index=False, name=None), key=repr) == plain(con, "pairs", country)
        libraries = figures.libraries[["country", "institution_name", "reported_names"]]
        assert sorted(((c, n, list(r)) for c, n, r in libraries.itertuples(index=False, name=None)), key=repr) == plain(
            con, "libraries", country
        )
        ((activity_count, visits, donations, memberships, meetings),) = plain(con, "headlines", country)
        pd.testing.assert_frame_equal(figures.donations, con.execute(PLAIN["donations"], {"country": country}).df())
        (domestic,) = con.execute(
            "select count(*) from marts.fct_cooperation_activity where country_key = partner_country_key"
        ).fetchone()
    values = {v.headline.key: v.value for v in figures.headlines}
    assert values["activities"] == activity_count
    assert (values["delegations"], values["participants"]) == (visits["delegations"], visits["participants"])
    assert values["donations_usd"] == (None if donations["usd"] is None else pytest.approx(donations["usd"]))
    assert (values["donations_without_rate"], values["books"]) == (donations["without_rate"], donations["books"])
    assert values["memberships"] == memberships["in_force"]
    if country in (None, "CN", "JP"):
        assert (values["nlc_ndl_meetings"], values["nlc_ndl_participants"]) == (35, 166) == tuple(meetings.values())
    else:
        assert "nlc_ndl_meetings" not in values
    assert (len(figures.donations), len(figures.memberships)) == (donations["rows"], memberships["rows"])
    # The generated rows reach every rule: activities of a country with itself and with the unknown
    # one, over several years, undated; visits of unknown size; amounts with no rate.
    if country == "VN":
        assert domestic > 0 and figures.activities["country"].eq("VN").any()
        assert spread > 0 and undated > 0 and donations["without_rate"] > 0
        assert figures.pairs["visits_without_participants"].sum() > 0


def test_the_tables_are_made_once_for_a_run_of_pages_and_dropped_after(tmp_path: Path) -> None:
    path = tiny_warehouse(tmp_path / "tiny.duckdb")
    activities = "insert into marts.fct_cooperation_activity values ('a{}', 'visit', 20100101, 'k-vn', 'k-jp', 1, null)"

    def recorded(con: duckdb.DuckDBPyConnection) -> int:
        return next(v.value for v in headline_values(con) if v.headline.key == "activities")

    with duckdb.connect(str(path)) as con:
        assert recorded(con) == 9
        with summaries(con):
            con.execute(activities.format(10))
            assert recorded(con) == 9 and compute(con, "JP").headlines[0].value == 3  # the sums made on entering
        assert recorded(con) == 10  # a new block sums the marts as they are now
        con.execute(activities.format(11))
        assert compute(con).headlines[0].value == 11
        assert con.execute("select count(*) from duckdb_tables() where temporary").fetchone() == (0,)


@pytest.mark.parametrize("font", [None, Path("NotoSansCJK-Regular.ttc")])
def test_the_pages_are_rendered_once_whether_a_font_is_installed_or_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, font: Path | None
) -> None:
    """Whether a font is installed is known before the pages are rendered: no second rendering."""
    database = tiny_warehouse(tmp_path / "warehouse" / "cooperation.duckdb")
    renders: list[dict] = []
    render = build.render_pages
    monkeypatch.setattr(build, "render_pages", lambda con, **options: renders.append(options) or render(con, **options))
    monkeypatch.setattr(build, "font_source", lambda: font)
    monkeypatch.setattr(build, "vega_bundle", lambda cache_dir=None: "/* vega */")
    cut: list[tuple[str, Path]] = []

    def write_subset(characters: str, target: Path, source: Path, cache_dir: Path | None) -> Path:
        cut.append((characters, source))
        target.write_bytes(b"wOF2")
        return target

    monkeypatch.setattr(build, "write_subset", write_subset)
    index = build.build_dashboard(database, tmp_path / "site")
    assert renders == [{"with_font": font is not None}]
    assert (build.FONT_NAME in index.read_text(encoding="utf-8")) is (font is not None)
    assert (index.parent / build.ASSETS / build.FONT_NAME).exists() is (font is not None)
    if font is not None:
        ((characters, source),) = cut
        assert source == font and set("国立国会図書館") <= set(characters)  # the NDL's name, on the home page


def test_the_sums_are_kept_sorted_so_a_page_adds_them_up_in_the_same_order_every_run(generated: Path) -> None:
    """An aggregate's rows come in any order, and floats added in another order may differ in their
    last digit (the pages' chart data then too): the summed tables are kept sorted."""
    with duckdb.connect(str(generated), read_only=True) as con, summaries(con):
        for name in TABLES:
            if name not in ("donation_rows", "membership_rows"):  # rows of facts, ordered by their pages
                assert (
                    con.execute(f"from temp.{name}").fetchall()
                    == con.execute(f"from temp.{name} order by all").fetchall()
                ), name
