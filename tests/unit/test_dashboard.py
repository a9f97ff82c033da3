"""The dashboard's figure queries, charts and pages on a tiny DuckDB file, and its publication.

The tiny marts hold only the columns the dashboard reads. Figures expected here are counted by
hand from the rows below."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from libcoop.cli import main
from libcoop.dashboard import charts, dashboard_target, staged_dashboard
from libcoop.dashboard.build import FONT_NAME, _views, render_pages
from libcoop.dashboard.figures import compute, headline_values, reporting_countries
from libcoop.dashboard.fonts import font_source
from libcoop.settings import Paths
from libcoop.warehouse.publish import publish as publish_build
from libcoop.warehouse.publish import rollback

TINY_MARTS = """
create schema marts;
create table marts.dim_country (country_key varchar, iso2 varchar, country_name varchar);
insert into marts.dim_country values ('k-vn', 'VN', 'Viet Nam'), ('k-jp', 'JP', 'Japan'), ('k-cn', 'CN', 'China'),
    ('k-us', 'US', 'United States'), ('k-zz', 'ZZ', 'Unknown');
create table marts.dim_date (date_key integer, date_day date, year integer);
insert into marts.dim_date values (20100101, date '2010-01-01', 2010), (20110101, date '2011-01-01', 2011), (-1, null, null);
create table marts.dim_institution (institution_key varchar, institution_code varchar, institution_name varchar,
    institution_type varchar, country_iso2 varchar, wikidata_qid varchar);
insert into marts.dim_institution values
    ('i-nlv', 'NLV', 'National Library of Viet Nam', 'national_library', 'VN', null),
    ('i-ndl', 'NDL', 'National Diet Library', 'national_library', 'JP', 'Q477675'),
    ('i-nlc', 'NLC', 'National Library of China', 'national_library', 'CN', 'Q732353'),
    ('i-taf', 'TAF', 'The Asia Foundation', 'foundation', 'US', null),
    ('i-unk', 'UNKNOWN', 'unknown', 'unknown', 'ZZ', null);
create table marts.dim_organization (organization_key varchar, acronym varchar, organization_name varchar);
insert into marts.dim_organization values ('o-ifla', 'IFLA', 'International Federation of Library Associations and Institutions');
create table marts.fct_visit (activity_type varchar, host_institution_key varchar, guest_institution_key varchar,
    host_country_key varchar, guest_country_key varchar, start_date_key integer, delegations bigint,
    participants bigint, host_institution_name varchar, guest_institution_name varchar, reporting_country_iso2 varchar);
insert into marts.fct_visit values
    ('delegation', 'i-nlv', 'i-ndl', 'k-vn', 'k-jp', 20100101, 2, 10, 'Thư viện Quốc gia Việt Nam', 'NDL', 'VN'),
    ('delegation', 'i-ndl', 'i-nlv', 'k-jp', 'k-vn', 20110101, 1, null, 'National Diet Library', 'NLV', 'JP'),
    ('business_exchange', 'i-ndl', 'i-nlc', 'k-jp', 'k-cn', 20110101, 3, 7, '国立国会図書館', '中国国家图书馆', 'JP'),
    ('conference', 'i-nlv', 'i-unk', 'k-vn', 'k-zz', 20100101, 5, 20, 'NLV', null, 'VN');
create table marts.fct_donation (donor_institution_key varchar, recipient_institution_key varchar,
    donor_country_key varchar, recipient_country_key varchar, donation_type varchar, project varchar, quantity bigint,
    amount double, currency varchar, amount_usd double, start_date_key integer, donor_name varchar,
    recipient_institution_name varchar, reporting_country_iso2 varchar);
insert into marts.fct_donation values
    ('i-taf', 'i-nlv', 'k-us', 'k-vn', 'funding', 'reading rooms', null, 1000, 'USD', 1000, 20100101, 'TAF', 'NLV', 'VN'),
    ('i-taf', 'i-nlv', 'k-us', 'k-vn', 'funding', 'old rate', null, 5000000, 'VND', null, 20110101, 'TAF', 'NLV', 'VN'),
    ('i-taf', 'i-nlv', 'k-us', 'k-vn', 'books', 'books', 300, null, null, null, 20110101, 'TAF', '<b>NLV</b>', 'VN'),
    ('i-taf', 'i-nlv', 'k-us', 'k-vn', 'equipment', 'computers', 2, null, null, null, -1, 'TAF', 'NLV', 'VN');
create table marts.fct_membership (institution_key varchar, organization_key varchar, membership_type varchar,
    joined_date_key integer, left_date_key integer, is_active boolean, institution_name varchar,
    reporting_country_iso2 varchar);
insert into marts.fct_membership values ('i-nlv', 'o-ifla', 'member', 20100101, -1, true, 'NLV', 'VN');
create table marts.fct_cooperation_activity (activity_key varchar, activity_family varchar, date_key integer,
    country_key varchar, partner_country_key varchar, delegations bigint, participants bigint);
insert into marts.fct_cooperation_activity values
    ('a1', 'visit', 20100101, 'k-vn', 'k-jp', 2, 10), ('a2', 'visit', 20110101, 'k-jp', 'k-vn', 1, null),
    ('a3', 'visit', 20110101, 'k-jp', 'k-cn', 3, 7), ('a4', 'visit', 20100101, 'k-vn', 'k-zz', 5, 20),
    ('a5', 'donation', 20100101, 'k-vn', 'k-us', null, null), ('a6', 'donation', 20110101, 'k-vn', 'k-us', null, null),
    ('a7', 'donation', 20110101, 'k-vn', 'k-us', null, null), ('a8', 'donation', -1, 'k-vn', 'k-us', null, null),
    ('a9', 'membership', 20100101, 'k-vn', 'k-zz', null, null);
-- The activities again, one row per year of their period (all of one year here): what the chart reads.
create table marts.fct_activity_year_allocated as
select a.activity_key, d.year as activity_year, a.activity_family, a.country_key, a.partner_country_key,
    1 as period_years, 1.0 as allocated_activities, d.year as period_start_year
from marts.fct_cooperation_activity as a inner join marts.dim_date as d on a.date_key = d.date_key;
-- dbt's aggregates the dashboard reads, as views over the facts above: the columns it reads, summed
-- at the grain of dbt_project/models/marts/agg_activity_by_country_pair_year.sql and
-- agg_visit_by_institution_pair_year.sql (whose pair of institutions is unordered; any order does here).
create view marts.agg_activity_by_country_pair_year as
select c.iso2 as country_iso2, p.iso2 as partner_country_iso2, d.year as activity_year, a.activity_family,
    count(*) as activity_count, cast(sum(a.delegations) as bigint) as delegations,
    cast(sum(a.participants) as bigint) as participants
from marts.fct_cooperation_activity as a
left join marts.dim_date as d on a.date_key = d.date_key
left join marts.dim_country as c on a.country_key = c.country_key
left join marts.dim_country as p on a.partner_country_key = p.country_key
group by all;
create view marts.agg_visit_by_institution_pair_year as
select least(v.host_institution_key, v.guest_institution_key) as institution_key,
    greatest(v.host_institution_key, v.guest_institution_key) as partner_institution_key, d.year as activity_year,
    v.activity_type, count(*) as visit_count, cast(sum(v.delegations) as bigint) as delegations,
    cast(sum(v.participants) as bigint) as participants, count(v.participants) as participants_count
from marts.fct_visit as v
left join marts.dim_date as d on v.start_date_key = d.date_key
group by all;
"""


def tiny_warehouse(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute(TINY_MARTS)
    return path


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tiny_warehouse(tmp_path / "tiny.duckdb")), read_only=True) as connection:
        yield connection


def test_activities_count_once_per_country_taking_part_and_once_in_all(con):
    rows = {(y, f, c): n for y, f, c, n in compute(con).activities.itertuples(index=False)}
    assert rows[(2010, "visit", "all")] == 2 and rows[(2010, "visit", "VN")] == 2 and rows[(2010, "visit", "JP")] == 1
    assert rows[(2011, "visit", "all")] == 2 and rows[(2011, "visit", "JP")] == 2 and rows[(2011, "visit", "CN")] == 1
    assert rows[(2010, "membership", "VN")] == 1 and rows[(2011, "donation", "US")] == 2
    assert not any(c == "ZZ" for _, _, c in rows)  # the unknown side is nobody's activity
    assert compute(con).undated_activities == 1
    japan = compute(con, "JP").activities
    assert set(japan["country"]) == {"JP", "all"} and japan[japan["country"] == "all"]["activities"].sum() == 3


def test_a_domestic_activity_counts_once_for_its_country(tmp_path):
    """Host and guest in the same country: the country took part once (figures.ACTIVITIES_PER_YEAR)."""
    path = tiny_warehouse(tmp_path / "domestic.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute(
            "insert into marts.fct_cooperation_activity values ('a10', 'visit', 20100101, 'k-vn', 'k-vn', null, null)"
        )
        con.execute(
            "insert into marts.fct_activity_year_allocated values ('a10', 2010, 'visit', 'k-vn', 'k-vn', 1, 1, 2010)"
        )
        rows = {(y, f, c): n for y, f, c, n in compute(con).activities.itertuples(index=False)}
        assert rows[(2010, "visit", "VN")] == 3 and rows[(2010, "visit", "all")] == 3
        vn = compute(con, "VN").activities
        assert vn[(vn["year"] == 2010) & (vn["activity_family"] == "visit")]["activities"].tolist() == [3, 3]


def test_an_activity_over_several_years_is_spread_evenly_over_them(tmp_path):
    """A CN-JP total reported for 2010-2011 counts half an activity in each year (issue 25), and
    the page says that activities spanning several years are spread evenly over them."""
    path = tiny_warehouse(tmp_path / "spread.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute(
            "insert into marts.fct_cooperation_activity values ('a11', 'visit', 20100101, 'k-cn', 'k-jp', null, null)"
        )
        con.execute(
            "insert into marts.fct_activity_year_allocated values "
            "('a11', 2010, 'visit', 'k-cn', 'k-jp', 2, 0.5, 2010), ('a11', 2011, 'visit', 'k-cn', 'k-jp', 2, 0.5, 2010)"
        )
        figures = compute(con, "CN")
        rows = {(y, f, c): n for y, f, c, n in figures.activities.itertuples(index=False)}
        assert rows[(2010, "visit", "CN")] == 0.5 and rows[(2011, "visit", "CN")] == 1.5
        assert figures.spread_activities == 1 and compute(con, "VN").spread_activities == 0
        chart = charts.activities_per_year(figures, with_filter=False)
        assert "activities spanning several years are spread evenly over them" in chart["title"]["subtitle"]
        page = render_pages(con, with_font=False)["countries/JP.html"]  # JP reports; CN does not here
        text = re.sub(r"\s+", " ", page)
        assert "activities spanning several years are spread evenly over them" in text
        assert "1 of the activities shown span several years" in text


def test_visits_between_national_libraries_count_both_directions_once(con):
    pairs = compute(con).pairs
    got = {
        (r.country_a, r.country_b): (r.visits, r.delegations, r.participants, r.visits_without_participants)
        for r in pairs.itertuples()
    }
    assert got == {("JP", "VN"): (2, 3, 10, 1), ("CN", "JP"): (1, 3, 7, 0)}  # the visit to nobody is not a pair
    assert list(compute(con, "CN").pairs["country_b"]) == ["JP"]
    assert compute(con, "US").pairs.empty


def test_a_national_library_links_to_its_wikidata_page_where_its_item_is_known(con):
    home = render_pages(con, with_font=False)["index.html"]
    assert '<a class="wikidata" href="https://www.wikidata.org/wiki/Q477675"' in home  # the NDL
    assert ">National Library of Viet Nam</td>" in home  # no item confirmed: its name, no link


def test_national_libraries_keep_the_names_they_are_reported_under(con):
    names = {r.country: list(r.reported_names) for r in compute(con).libraries.itertuples()}
    assert names["VN"] == ["<b>NLV</b>", "NLV", "Thư viện Quốc gia Việt Nam"]
    assert names["JP"] == ["NDL", "国立国会図書館"] and names["CN"] == ["中国国家图书馆"]


def test_headline_figures_never_count_an_amount_without_a_rate_as_zero(con):
    values = {v.headline.key: v.value for v in headline_values(con)}
    assert values["activities"] == 9
    assert values["delegations"] == 11 and values["participants"] == 37
    assert values["donations_usd"] == 1000  # the VND amount with no rate is not in it...
    assert values["donations_without_rate"] == 1  # ...it is counted apart
    assert values["books"] == 300 and values["memberships"] == 1
    assert values["nlc_ndl_meetings"] is None  # no such row here: "none recorded", not 0
    china = {v.headline.key: v.value for v in headline_values(con, "CN")}
    assert china["delegations"] == 3 and china["donations_usd"] is None  # none recorded, not 0 USD
    assert "nlc_ndl_meetings" in china
    assert "nlc_ndl_meetings" not in {v.headline.key for v in headline_values(con, "VN")}


def test_charts_have_titles_units_legends_and_the_country_filter(con):
    figures = compute(con)
    activities = charts.activities_per_year(figures, with_filter=True)
    assert activities["title"]["text"] == "Cooperation over time: activities per year"
    assert activities["encoding"]["y"]["title"] == "Activities (count, spread over their years)"
    assert activities["encoding"]["color"]["title"] == "Family"
    (param,) = activities["params"]
    assert param["bind"]["options"] == ["all", "CN", "JP", "US", "VN"]
    assert "Viet Nam (VN)" in param["bind"]["labels"]
    money = charts.donations_in_usd(figures)
    assert (
        "1 donations have an amount with no known USD rate: counted below, never as zero" in money["title"]["subtitle"]
    )
    assert [part["encoding"]["y"]["title"] for part in money["vconcat"]] == ["Amount (USD)", "Donations (count)"]
    assert charts.national_library_pairs(compute(con, "US")) is None  # no pair: words instead of an empty frame
    assert charts.memberships_timeline(figures)["layer"][0]["encoding"]["x2"]["field"] == "until"


@pytest.mark.parametrize(("country", "charts_drawn"), [(None, 5), ("VN", 5), ("JP", 2)])
def test_every_chart_follows_the_vega_lite_schema(con, country, charts_drawn):
    """The charts are written without Altair's own check (charts._spec): it is made here, on
    every chart of the home page and of two country pages."""
    import altair as alt
    import jsonschema

    figures = compute(con, country)
    specs = [
        charts.activities_per_year(figures, with_filter=country is None),
        charts.national_library_pairs(figures),
        charts.donations_in_usd(figures),
        charts.books_given(figures),
        charts.memberships_timeline(figures),
    ]
    drawn = [spec for spec in specs if spec is not None]
    assert len(drawn) == charts_drawn
    # The pages draw them without Altair's debug mode (charts.unchecked): the same specifications.
    assert [view.spec for view in _views(figures, home=country is None) if view.spec is not None] == drawn
    for spec in drawn:
        alt.TopLevelSpec.validate(spec)
    # and the check does catch a chart that breaks the schema
    with pytest.raises(jsonschema.ValidationError):
        alt.TopLevelSpec.validate({**drawn[0], "mark": {"type": "no-such-mark"}})


def test_libcoop_dashboard_writes_pages_with_their_scripts_and_font_beside_them(tmp_path, capsys):
    assert main(["dashboard", "--warehouse", str(tmp_path / "none.duckdb")]) == 1  # nothing published yet
    database = tiny_warehouse(tmp_path / "warehouse" / "cooperation.duckdb")
    with duckdb.connect(str(database), read_only=True) as con:
        assert reporting_countries(con) == ["JP", "VN"]
    assert main(["dashboard", "--warehouse", str(database)]) == 0
    site = dashboard_target(database)
    assert capsys.readouterr().out == f"dashboard: {site / 'index.html'}\n"
    index = site / "index.html"
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")) == [
        "countries/JP.html",
        "countries/VN.html",
        "index.html",
    ]
    home = index.read_text(encoding="utf-8")
    country = (site / "countries" / "VN.html").read_text(encoding="utf-8")
    assert '<script src="assets/vega-embed.js">' in home and '<script src="../assets/vega-embed.js">' in country
    # Nothing loaded from another host: no script, image, font or stylesheet (links to Wikidata are
    # for the reader to follow, never fetched by the page).
    assert not re.search(r"""(src=|<link[^>]*href=|url\()["']?(https?:)?//""", home + country)
    assert {m for m in re.findall(r'href="(https?://[^"]+)"', home + country)} <= {
        "https://www.wikidata.org/wiki/Q477675",
        "https://www.wikidata.org/wiki/Q732353",
    }
    assert (site / "assets" / "vega-embed.js").stat().st_size > 500_000
    assert "国立国会図書館" in home and "Thư viện Quốc gia Việt Nam" in country
    assert 'href="../../data_docs/countries/VN.html"' in country
    assert "&lt;b&gt;NLV&lt;/b&gt;" in home and "<b>NLV</b>" not in home  # a name from a file is text, never HTML
    if font_source() is None:
        pytest.fail("the CJK font is not installed: `make test` installs Debian's fonts-noto-cjk")
    from fontTools.ttLib import TTFont

    cmap = TTFont(site / "assets" / FONT_NAME).getBestCmap()
    page_chars = {c for c in home + country if ord(c) > 0x7F}
    assert page_chars and not [c for c in page_chars if ord(c) not in cmap]
    assert (site / "assets" / FONT_NAME).stat().st_size < 500_000  # a subset, not the 19 MB collection


def test_publish_swaps_the_dashboard_in_with_the_data_and_rollback_brings_the_previous_back(tmp_path):
    paths = Paths(
        raw_dir=tmp_path / "raw", warehouse=tmp_path / "warehouse" / "cooperation.duckdb", expectations_dir=tmp_path
    )

    def build(run: str) -> Path:
        database = tmp_path / ".build" / run / "cooperation.duckdb"
        database.parent.mkdir(parents=True)
        with duckdb.connect(str(database)) as con:
            con.execute("create table run as select ? as run_id", [run])
        staged = staged_dashboard(database)
        staged.mkdir()
        (staged / "index.html").write_text(run, encoding="utf-8")
        return database

    def published() -> tuple[str, str, str | None]:
        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            (data,) = con.execute("select run_id from run").fetchone()
        from libcoop.warehouse.builds import builds_dir, read_live  # the build live before, kept for rollback

        before = str((read_live(paths.warehouse) or {}).get("previous"))
        previous = builds_dir(paths.warehouse) / before / "dashboard" / "index.html"
        shown = (dashboard_target(paths.warehouse) / "index.html").read_text(encoding="utf-8")
        return data, shown, previous.read_text(encoding="utf-8") if previous.exists() else None

    publish_build(paths, build("first"))
    assert published() == ("first", "first", None)
    publish_build(paths, build("second"))
    assert published() == ("second", "second", "first")
    rollback(paths)
    assert published() == ("first", "first", "second")

    third = build("third")
    for leftover in staged_dashboard(third).iterdir():
        leftover.unlink()
    staged_dashboard(third).rmdir()  # its dashboard failed: none is shown beside its data
    publish_build(paths, third)
    assert not dashboard_target(paths.warehouse).exists()
    rollback(paths)
    assert published()[:2] == ("first", "first")


def test_the_chart_scripts_are_built_once_and_kept_in_the_cache_folder(tmp_path):
    from importlib.metadata import version

    from libcoop.dashboard.build import VEGA_LITE_VERSION, vega_bundle

    cache = tmp_path / ".cache"
    script = vega_bundle(cache)
    assert "vegaEmbed" in script and len(script) > 500_000
    (cached,) = cache.iterdir()
    assert cached.name == f"vega-embed-vl{VEGA_LITE_VERSION}-vl-convert{version('vl-convert-python')}.js"
    assert cached.read_text(encoding="utf-8") == script
    # The next run reads the file instead of building the script again.
    cached.write_text("/* from the cache */", encoding="utf-8")
    assert vega_bundle(cache) == "/* from the cache */"
    # An unwritable cache only costs the time: the script is still returned.
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("", encoding="utf-8")
    assert vega_bundle(blocked) == script


def test_a_large_warehouse_gets_charts_of_bounded_size_with_the_same_totals(tmp_path):
    """3,000 donations (each with an amount, a third in a currency with no rate, a third books) and
    200 memberships: the charts sum per year and donor country, the timeline shows 60, and the
    totals drawn equal the table's."""
    import altair as alt

    path = tiny_warehouse(tmp_path / "large.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute(
            """
            insert into marts.fct_donation
            select 'i-taf', 'i-nlv', 'k-us', 'k-vn', case when i % 3 = 0 then 'books' else 'funding' end,
                'project ' || i, case when i % 3 = 0 then i end, 10 + i,
                case when i % 3 = 1 then 'VND' else 'USD' end, case when i % 3 = 1 then null else 10 + i end,
                case when i % 2 = 0 then 20100101 else 20110101 end, 'TAF', 'NLV', 'VN'
            from range(3000) as t(i);
            insert into marts.fct_membership
            select 'i-nlv', 'o-ifla', 'member', case when i % 2 = 0 then 20100101 else 20110101 end, -1,
                i % 4 <> 0, 'NLV', 'VN'
            from range(200) as t(i);
            """
        )
        (usd,) = con.execute("select sum(amount_usd) from marts.fct_donation").fetchone()
        (books,) = con.execute("select sum(quantity) from marts.fct_donation where donation_type = 'books'").fetchone()
    with duckdb.connect(str(path), read_only=True) as con:
        figures = compute(con)
    money, gifts, members = (
        charts.donations_in_usd(figures),
        charts.books_given(figures),
        charts.memberships_timeline(figures),
    )
    for spec in (money, gifts, members):
        alt.TopLevelSpec.validate(spec)
        assert all(len(rows) <= charts.DETAIL_ROWS for rows in spec["datasets"].values())
    money_rows = spec_rows(money, 0)
    assert len(money_rows) == 2  # 2 years x 1 donor country
    assert sum(r["amount_usd"] for r in money_rows) == usd
    assert sum(r["donations"] for r in money_rows) == 2001  # 2,000 converted, and the tiny marts' own
    assert sum(r["donations"] for r in spec_rows(money, 1)) == 1001  # VND: 1,000, and the tiny marts' own
    assert sum(r["quantity"] for r in spec_rows(gifts)) == books
    assert len(spec_rows(members)) == charts.MEMBERSHIPS_SHOWN
    assert "showing 60 of 201 memberships" in " ".join(members["title"]["subtitle"])
    assert {r["state"] for r in spec_rows(members)} == {"in force"}


def spec_rows(spec: dict, part: int | None = None) -> list[dict]:
    """The inline rows of a chart, or of the ``part``-th chart of a vertical concatenation."""
    chart = spec if part is None else spec["vconcat"][part]
    data = chart.get("data") or spec.get("data") or chart["layer"][0].get("data")
    return spec["datasets"][data["name"]]


def test_the_cut_font_is_kept_for_the_same_characters(tmp_path):
    from libcoop.dashboard.fonts import font_source, write_subset

    if font_source() is None:
        pytest.fail("no CJK font installed: `make test` installs Debian's fonts-noto-cjk")
    cache = tmp_path / ".cache"
    first = write_subset("Hà Nội 北京", tmp_path / "a" / "font.woff2", cache_dir=cache)
    assert first is not None and first.read_bytes()[:4] == b"wOF2"
    (kept,) = cache.iterdir()
    assert kept.read_bytes() == first.read_bytes()
    # The same characters again: the kept font, not a new cut (marked here to tell them apart).
    kept.write_bytes(b"wOF2 kept")
    assert write_subset("Hà Nội 北京", tmp_path / "b" / "font.woff2", cache_dir=cache).read_bytes() == b"wOF2 kept"
    # Other characters: another cut, kept beside the first.
    other = write_subset("Hà Nội 東京", tmp_path / "c" / "font.woff2", cache_dir=cache)
    assert other.read_bytes()[:4] == b"wOF2" and other.read_bytes() != b"wOF2 kept"
    assert len(list(cache.iterdir())) == 2


def test_donations_without_a_rate_are_listed_up_to_a_bound_and_all_counted(tmp_path, monkeypatch):
    """The table under the money chart lists the first UNCONVERTED_SHOWN and says how many there are."""
    database = tiny_warehouse(tmp_path / "many.duckdb")
    with duckdb.connect(str(database)) as con:
        con.execute(
            "insert into marts.fct_donation select 'i-taf', 'i-nlv', 'k-us', 'k-vn', 'funding', 'grant ' || i, null, "
            "100 + i, 'VND', null, 20110101, 'TAF', 'NLV', 'VN' from range(3) as t(i)"
        )
    monkeypatch.setattr("libcoop.dashboard.charts.UNCONVERTED_SHOWN", 2)
    with duckdb.connect(str(database), read_only=True) as con:
        home = render_pages(con, with_font=False)["index.html"]
    table = home[
        home.index('<table id="unconverted-donations">') : home.index("</table>", home.index("unconverted-donations"))
    ]
    assert table.count("<tr><td>2011</td>") == 2  # 4 donations with no rate (1 before + 3), 2 listed
    assert "The first 2 of 4 donations with no known USD rate" in home
