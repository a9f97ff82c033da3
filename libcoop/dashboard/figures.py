"""What the dashboard shows, computed with SQL on the marts (read-only), for all countries or one.

Every number on the pages comes from a query of this module on the published marts (or the
build about to be published), most through the tables ``cells`` sums them into once for all the
pages; none is typed in. ``country`` narrows a query to the activities a country takes part in,
on either side (member, host or guest, donor or recipient), whoever reported them; ``None`` means
every country.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from libcoop.dashboard.cells import summaries

UNKNOWN_COUNTRY = "ZZ"

# --- the views -------------------------------------------------------------------------------------
# Each reads the tables ``cells`` makes once for all the pages: a page keeps the rows involving its
# country.

# Rows of a pair table involving ``$country`` (every row for None), on either side; rows of a table
# of one side (a library, a membership), of ``$country``.
INVOLVING = "where $country is null or $country in (country, partner)"
OF_COUNTRY = "where $country is null or country = $country"

# (1) Activities per year by family. One row per (year, family, country taking part): an activity
# between two countries counts once for each of them, and once in the "all countries" rows. An
# activity over several years is spread evenly over them (marts.fct_activity_year_allocated): "33
# meetings, 1981-2015" counts 1/35 of an activity in each year, not a whole one in 1981.
ACTIVITIES_PER_YEAR = f"""
with taking_part as (
    -- Each country taking part, once (a domestic activity names it twice).
    select year, activity_family, activities, unnest(list_distinct([country, partner])) as country
    from temp.activity_cells
),
per_country as (
    select year, activity_family, country, sum(activities) as activities
    from taking_part
    where country <> '{UNKNOWN_COUNTRY}' and ($country is null or country = $country)
    group by all
),
every_country as (
    select year, activity_family, 'all' as country, sum(activities) as activities
    from temp.activity_cells
    {INVOLVING}
    group by all
),
final as (
    select * from per_country
    union all
    select * from every_country
)
select * from final order by year, activity_family, country
"""

# Activities reported over more than one year (spread over them in the chart), for the page's words.
SPREAD_ACTIVITIES = f"select coalesce(sum(spread), 0) from temp.activity_cells {INVOLVING}"

# Activities the chart cannot place on a year (unknown date), counted so the page can say so.
UNDATED_ACTIVITIES = f"select coalesce(sum(undated), 0) from temp.activity_pairs {INVOLVING}"

# (2) Visits between two national libraries, per unordered pair of their countries (cells).
NATIONAL_LIBRARY_PAIRS = """
select * from temp.national_library_pairs
where $country is null or $country in (country_a, country_b)
order by participants desc, delegations desc, country_a, country_b
"""

# The national libraries of the pairs, with the names they are reported under (cells).
NATIONAL_LIBRARIES = f"select * from temp.national_libraries {OF_COUNTRY} order by country"

# (3) Donations given or received by the country (cells). Ordered to the last column (year, donor
# country, project... in cells.TABLES["donation_rows"]): the charts add their amounts up in this
# order, so a page is the same to the last digit on every run.
DONATIONS = """
select * exclude (row_order) from temp.donation_rows
where $country is null or $country in (donor_country, recipient_country)
order by row_order
"""

# (4) Memberships of the country's libraries (cells). A library can join an organization twice on
# a day under two types: the type and end break the tie, so the page does not depend on a query plan.
MEMBERSHIPS = f"""
select * from temp.membership_rows {OF_COUNTRY}
order by library, joined, organization, membership_type, left_on
"""

# --- the headline figures --------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    """One figure of the headline table: its words, its unit and the SQL that computes it."""

    key: str
    label: str
    unit: str
    sql: str
    countries: tuple[str, ...] | None = None  # shown on these country pages only (None: on all)


# The business meetings of the national libraries of China (NLC) and Japan (NDL) that the NLC
# reported as totals from 1981 to May 2015 (later exchanges, such as the 35th in 2016, are
# single rows of their own and counted in the pair matrix). From dbt's aggregate of the visits per
# pair of institutions (either way round), type and start year, not the facts.
_NLC_NDL_MEETINGS = """
from marts.agg_visit_by_institution_pair_year as v
inner join marts.dim_institution as h on v.institution_key = h.institution_key
inner join marts.dim_institution as g on v.partner_institution_key = g.institution_key
where v.activity_type = 'business_exchange' and v.activity_year = 1981
  and list_sort([h.institution_code, g.institution_code]) = ['NDL', 'NLC']
"""

# Summed over the pairs involving the country (cells): a count over none is 0, any other sum NULL
# (shown "none recorded", not 0).
HEADLINES: tuple[Headline, ...] = (
    Headline(
        "activities",
        "Cooperation activities recorded (memberships, visits and donations)",
        "activities",
        f"select coalesce(sum(activities), 0) from temp.activity_pairs {INVOLVING}",
    ),
    Headline(
        "delegations",
        "Delegations exchanged in visits",
        "delegations",
        f"select sum(delegations) from temp.visit_pairs {INVOLVING}",
    ),
    Headline(
        "participants",
        "People who took part in visits",
        "people",
        f"select sum(participants) from temp.visit_pairs {INVOLVING}",
    ),
    Headline(
        "donations_usd",
        "Donations with an amount in US dollars (converted at the yearly rate)",
        "USD",
        f"select sum(amount_usd) from temp.donation_pairs {INVOLVING}",
    ),
    Headline(
        "donations_without_rate",
        "Donations with an amount but no known USD rate (not converted, not counted as zero)",
        "donations",
        f"select coalesce(sum(without_rate), 0) from temp.donation_pairs {INVOLVING}",
    ),
    Headline(
        "books",
        "Books given",
        "books",
        f"select sum(books) from temp.donation_pairs {INVOLVING}",
    ),
    Headline(
        "memberships",
        "Memberships in force",
        "memberships",
        f"select coalesce(sum(memberships), 0) from temp.memberships_in_force {OF_COUNTRY}",
    ),
    Headline(
        "nlc_ndl_meetings",
        "Business meetings between the national libraries of China and Japan since 1981 (totals reported to 2015)",
        "meetings",
        "select sum(v.delegations)" + _NLC_NDL_MEETINGS,
        countries=("CN", "JP"),
    ),
    Headline(
        "nlc_ndl_participants",
        "People who took part in those meetings",
        "people",
        "select sum(v.participants)" + _NLC_NDL_MEETINGS,
        countries=("CN", "JP"),
    ),
)


@dataclass(frozen=True)
class HeadlineValue:
    headline: Headline
    value: float | int | None

    @property
    def text(self) -> str:
        if self.value is None:
            return "none recorded"
        if isinstance(self.value, float) and not self.value.is_integer():
            return f"{self.value:,.2f}"
        return f"{int(self.value):,}"


# --- all of it, for one page -----------------------------------------------------------------------


@dataclass
class Figures:
    """Everything one page shows, for every country (``country`` None) or one."""

    country: str | None
    country_name: str | None
    built_at: dt.datetime | None
    run_id: str | None
    activities: pd.DataFrame
    undated_activities: int
    spread_activities: int
    pairs: pd.DataFrame
    libraries: pd.DataFrame
    donations: pd.DataFrame
    memberships: pd.DataFrame
    headlines: list[HeadlineValue] = field(default_factory=list)
    all_country_names: dict[str, str] = field(default_factory=dict)  # iso2 -> name, for labels

    @property
    def unconverted_donations(self) -> pd.DataFrame:
        return self.donations[self.donations["has_unconverted_amount"]]


def _frame(con: duckdb.DuckDBPyConnection, sql: str, country: str | None) -> pd.DataFrame:
    return con.execute(sql, {"country": country}).df()


def headline_values(con: duckdb.DuckDBPyConnection, country: str | None = None) -> list[HeadlineValue]:
    """The headline figures shown on the page of ``country`` (or the home page), computed."""
    values = []
    with summaries(con):
        for headline in HEADLINES:
            if country is None or headline.countries is None or country in headline.countries:
                params = {"country": country} if "$country" in headline.sql else {}
                (value,) = con.execute(headline.sql, params).fetchone()  # type: ignore[misc]
                values.append(HeadlineValue(headline, value))
    return values


def last_run(con: duckdb.DuckDBPyConnection) -> tuple[str | None, dt.datetime | None]:
    """The run that built this warehouse (its id, when it finished), from audit.runs when there is one."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'audit' and table_name = 'runs'"
    ).fetchone()[0]  # type: ignore[index]
    if not exists:
        return None, None
    row = con.execute("select run_id, finished_at from audit.runs order by finished_at desc limit 1").fetchone()
    if row is None:
        return None, None
    finished: Any = row[1]
    if isinstance(finished, dt.datetime) and finished.tzinfo is None:
        finished = finished.replace(tzinfo=dt.UTC)
    return row[0], finished


def reporting_countries(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every country that reports (has rows in force, or files seen by the loader): one page each."""
    sql = """
        select reporting_country_iso2 from marts.fct_visit
        union select reporting_country_iso2 from marts.fct_donation
        union select reporting_country_iso2 from marts.fct_membership
    """
    has_loads = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'audit' and table_name = 'file_loads'"
    ).fetchone()[0]  # type: ignore[index]
    if has_loads:
        sql += " union select country_code from audit.file_loads"
    return sorted(c for (c,) in con.execute(sql).fetchall() if c)


def country_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("select iso2, country_name from marts.dim_country").fetchall())


def compute(con: duckdb.DuckDBPyConnection, country: str | None = None) -> Figures:
    """Run every query of the page of ``country`` (or the home page, for None). Inside a
    ``cells.summaries`` block, on the tables made once for all the pages."""
    run_id, built_at = last_run(con)
    names = country_names(con)
    with summaries(con):
        (undated,) = con.execute(UNDATED_ACTIVITIES, {"country": country}).fetchone()  # type: ignore[misc]
        (spread,) = con.execute(SPREAD_ACTIVITIES, {"country": country}).fetchone()  # type: ignore[misc]
        return Figures(
            country=country,
            country_name=names.get(country) if country else None,
            built_at=built_at,
            run_id=run_id,
            activities=_frame(con, ACTIVITIES_PER_YEAR, country),
            undated_activities=int(undated),
            spread_activities=int(spread),
            pairs=_frame(con, NATIONAL_LIBRARY_PAIRS, country),
            libraries=_frame(con, NATIONAL_LIBRARIES, country),
            donations=_frame(con, DONATIONS, country),
            memberships=_frame(con, MEMBERSHIPS, country),
            headlines=headline_values(con, country),
            all_country_names=names,
        )
