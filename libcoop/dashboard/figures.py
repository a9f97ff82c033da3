"""What the dashboard shows, computed with SQL on the marts (read-only), for all countries or one.

Every number on the pages comes from a query of this module on the published marts (or the
build about to be published); none is typed in. ``country`` narrows a query to the activities a
country takes part in, on either side (member, host or guest, donor or recipient), whoever
reported them; ``None`` means every country.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

UNKNOWN_COUNTRY = "ZZ"

# --- the views -------------------------------------------------------------------------------------

# (1) Activities per year by family. One row per (year, family, country taking part): an activity
# between two countries counts once for each of them, and once in the "all countries" rows. An
# activity over several years is spread evenly over them (marts.fct_activity_year_allocated): "33
# meetings, 1981-2015" counts 1/35 of an activity in each year, not a whole one in 1981.
ACTIVITIES_PER_YEAR = """
with activities as (
    select a.activity_family, a.activity_year as year, a.allocated_activities, c.iso2 as country, p.iso2 as partner
    from marts.fct_activity_year_allocated as a
    inner join marts.dim_country as c on a.country_key = c.country_key
    inner join marts.dim_country as p on a.partner_country_key = p.country_key
    where a.activity_year is not null
),
taking_part as (
    -- Each country taking part, once (a domestic activity names it twice). (activity_key, year) is
    -- unique, so no DISTINCT over the rows, whose hash table grew with them (docs/benchmarks.md).
    select activity_family, year, allocated_activities, unnest(list_distinct([country, partner])) as country
    from activities
),
per_country as (
    select year, activity_family, country, sum(allocated_activities) as activities
    from taking_part
    where country <> 'ZZ' and ($country is null or country = $country)
    group by all
),
every_country as (
    select year, activity_family, 'all' as country, sum(allocated_activities) as activities
    from activities
    where $country is null or $country in (country, partner)
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
SPREAD_ACTIVITIES = """
select count(distinct a.activity_key)
from marts.fct_activity_year_allocated as a
inner join marts.dim_country as c on a.country_key = c.country_key
inner join marts.dim_country as p on a.partner_country_key = p.country_key
where a.period_years > 1 and ($country is null or $country in (c.iso2, p.iso2))
"""

# Activities the chart cannot place on a year (unknown date), counted so the page can say so.
UNDATED_ACTIVITIES = """
select count(*)
from marts.fct_cooperation_activity as a
inner join marts.dim_date as d on a.date_key = d.date_key
inner join marts.dim_country as c on a.country_key = c.country_key
inner join marts.dim_country as p on a.partner_country_key = p.country_key
where d.year is null and ($country is null or $country in (c.iso2, p.iso2))
"""

# (2) Visits between two national libraries, per unordered pair of their countries: a visit of
# A to B and one of B to A add up in the same pair.
NATIONAL_LIBRARY_PAIRS = """
with visits as (
    select
        least(h.country_iso2, g.country_iso2) as country_a,
        greatest(h.country_iso2, g.country_iso2) as country_b,
        v.delegations,
        v.participants
    from marts.fct_visit as v
    inner join marts.dim_institution as h on v.host_institution_key = h.institution_key
    inner join marts.dim_institution as g on v.guest_institution_key = g.institution_key
    where h.institution_type = 'national_library' and g.institution_type = 'national_library'
      and h.institution_key <> g.institution_key
),
final as (
    select
        country_a,
        ca.country_name as country_a_name,
        country_b,
        cb.country_name as country_b_name,
        count(*) as visits,
        sum(delegations) as delegations,
        sum(participants) as participants,
        count(*) - count(participants) as visits_without_participants
    from visits
    inner join marts.dim_country as ca on visits.country_a = ca.iso2
    inner join marts.dim_country as cb on visits.country_b = cb.iso2
    where $country is null or $country in (country_a, country_b)
    group by all
)
select * from final order by participants desc, delegations desc, country_a, country_b
"""

# The national libraries of the pairs, with every name they are reported under (native scripts)
# and their Wikidata item (dim_institution.wikidata_qid, NULL where no source confirmed one).
NATIONAL_LIBRARIES = """
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
),
final as (
    select
        i.country_iso2 as country,
        c.country_name,
        i.institution_name,
        i.wikidata_qid,
        coalesce(list_sort(list_distinct(list(n.reported_name) filter (
            where n.reported_name is not null and n.reported_name <> i.institution_name
        ))), []) as reported_names
    from marts.dim_institution as i
    inner join marts.dim_country as c on i.country_iso2 = c.iso2
    inner join named as n on i.institution_key = n.institution_key
    where i.institution_type = 'national_library' and ($country is null or i.country_iso2 = $country)
    group by all
)
select * from final order by country
"""

# (3) Donations with their year, donor country, amount in USD (NULL when no rate is known) and books.
DONATIONS = """
with final as (
    select
        d.year,
        dc.iso2 as donor_country,
        dc.country_name as donor_country_name,
        rc.iso2 as recipient_country,
        donor.institution_name as donor,
        f.donation_type,
        f.project,
        f.quantity,
        f.amount,
        f.currency,
        f.amount_usd,
        f.amount is not null and f.amount_usd is null as has_unconverted_amount
    from marts.fct_donation as f
    inner join marts.dim_date as d on f.start_date_key = d.date_key
    inner join marts.dim_country as dc on f.donor_country_key = dc.country_key
    inner join marts.dim_country as rc on f.recipient_country_key = rc.country_key
    inner join marts.dim_institution as donor on f.donor_institution_key = donor.institution_key
    where $country is null or $country in (dc.iso2, rc.iso2)
)
select * from final order by year, donor_country, project
"""

# (4) Memberships: which library belongs to which organization, since when (and until when).
MEMBERSHIPS = """
with final as (
    select
        i.institution_name as library,
        i.country_iso2 as country,
        o.acronym as organization,
        o.organization_name,
        m.membership_type,
        joined.date_day as joined,
        joined.year as joined_year,
        gone.date_day as left_on,
        m.is_active
    from marts.fct_membership as m
    inner join marts.dim_institution as i on m.institution_key = i.institution_key
    inner join marts.dim_organization as o on m.organization_key = o.organization_key
    inner join marts.dim_date as joined on m.joined_date_key = joined.date_key
    left join marts.dim_date as gone on m.left_date_key = gone.date_key
    where $country is null or i.country_iso2 = $country
)
select * from final order by library, joined, organization
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


_VISITS_OF = """
from marts.fct_visit as v
inner join marts.dim_country as h on v.host_country_key = h.country_key
inner join marts.dim_country as g on v.guest_country_key = g.country_key
where ($country is null or $country in (h.iso2, g.iso2))
"""
_DONATIONS_OF = """
from marts.fct_donation as f
inner join marts.dim_country as dc on f.donor_country_key = dc.country_key
inner join marts.dim_country as rc on f.recipient_country_key = rc.country_key
where ($country is null or $country in (dc.iso2, rc.iso2))
"""
# The business meetings of the national libraries of China (NLC) and Japan (NDL) that the NLC
# reported as totals from 1981 to May 2015 (later exchanges, such as the 35th in 2016, are
# single rows of their own and counted in the pair matrix).
_NLC_NDL_MEETINGS = """
from marts.fct_visit as v
inner join marts.dim_institution as h on v.host_institution_key = h.institution_key
inner join marts.dim_institution as g on v.guest_institution_key = g.institution_key
inner join marts.dim_date as d on v.start_date_key = d.date_key
where v.activity_type = 'business_exchange' and d.year = 1981
  and list_sort([h.institution_code, g.institution_code]) = ['NDL', 'NLC']
"""

HEADLINES: tuple[Headline, ...] = (
    Headline(
        "activities",
        "Cooperation activities recorded (memberships, visits and donations)",
        "activities",
        """select count(*) from marts.fct_cooperation_activity as a
        inner join marts.dim_country as c on a.country_key = c.country_key
        inner join marts.dim_country as p on a.partner_country_key = p.country_key
        where $country is null or $country in (c.iso2, p.iso2)""",
    ),
    Headline("delegations", "Delegations exchanged in visits", "delegations", "select sum(v.delegations)" + _VISITS_OF),
    Headline("participants", "People who took part in visits", "people", "select sum(v.participants)" + _VISITS_OF),
    Headline(
        "donations_usd",
        "Donations with an amount in US dollars (converted at the yearly rate)",
        "USD",
        "select sum(f.amount_usd)" + _DONATIONS_OF,
    ),
    Headline(
        "donations_without_rate",
        "Donations with an amount but no known USD rate (not converted, not counted as zero)",
        "donations",
        "select count(*)" + _DONATIONS_OF + " and f.amount is not null and f.amount_usd is null",
    ),
    Headline(
        "books",
        "Books given",
        "books",
        "select sum(f.quantity)" + _DONATIONS_OF + " and f.donation_type = 'books'",
    ),
    Headline(
        "memberships",
        "Memberships in force",
        "memberships",
        """select count(*) from marts.fct_membership as m
        inner join marts.dim_institution as i on m.institution_key = i.institution_key
        where m.is_active and ($country is null or i.country_iso2 = $country)""",
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
    """Run every query of the page of ``country`` (or the home page, for None)."""
    run_id, built_at = last_run(con)
    names = country_names(con)
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
