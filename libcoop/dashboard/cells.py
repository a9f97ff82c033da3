"""The marts summed once for all the pages of the dashboard, in small temporary tables the pages read.

A page shows what one country takes part in (or every country), so its figures are sums over the
rows involving that country. Scanning and joining the large facts again for each page made the
dashboard cost pages times rows; here the sums per pair of countries (per year, family and pair
for the chart) are made once, or its few rows the pages list are joined to their names once, and
``figures`` takes from these tables what involves a page's country. Where dbt already sums the
facts (``agg_activity_by_country_pair_year``, ``agg_visit_by_institution_pair_year``), the tables
add up those aggregates' few rows instead of the facts. They are temporary tables (these work on
the read-only connection the dashboard opens), made and dropped by ``summaries``: a connection
that changes the marts between two blocks never reads old sums.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

# Each table by its name, with the query that fills it. The pair tables keep both countries of a
# row (``country``, ``partner``): a page sums the pairs where its country is either. The sums are
# kept sorted (an aggregate's rows come in any order): a page adds its rows up in the same order on
# every run, to the last digit of a float. The donation and membership rows, which the pages
# order themselves, are not. The sums of dbt's aggregates are cast to the types the same sums of
# the facts have (BIGINT counts, HUGEINT sums of integers): the pages' frames, and so their charts,
# are the same.
TABLES: dict[str, str] = {
    # The chart's activities: the allocated ones (an activity over several years has a row in each;
    # one with no known date is not on the chart), per year, family and pair. ``spread`` counts the
    # activities reported over more than one year, each once (in its first year): an activity has
    # one pair, so the pairs involving a country add up to its activities, none counted twice.
    # Summed by the facts' keys first, the countries' codes joined to the few sums after.
    "activity_cells": """
        with summed as (
            select
                activity_year,
                activity_family,
                country_key,
                partner_country_key,
                sum(allocated_activities) as activities,
                count(*) filter (where period_years > 1 and activity_year = period_start_year) as spread
            from marts.fct_activity_year_allocated
            where activity_year is not null
            group by all
        )
        select s.activity_year as year, s.activity_family, c.iso2 as country, p.iso2 as partner,
            -- Rounded far below what a chart shows: a parallel sum of fractions varies in its last bits.
            round(sum(s.activities), 9) as activities,
            sum(s.spread) as spread
        from summed as s
        inner join marts.dim_country as c on s.country_key = c.country_key
        inner join marts.dim_country as p on s.partner_country_key = p.country_key
        group by all
        order by all
    """,
    # Every activity per pair, and those whose date is the unknown one (no year), from dbt's
    # aggregate of the activities per pair, year and family (a few thousand rows, not the facts).
    "activity_pairs": """
        select country_iso2 as country, partner_country_iso2 as partner,
            cast(sum(activity_count) as bigint) as activities,
            cast(coalesce(sum(activity_count) filter (where activity_year is null), 0) as bigint) as undated
        from marts.agg_activity_by_country_pair_year
        where country_iso2 is not null and partner_country_iso2 is not null
        group by all
        order by all
    """,
    # The visits' sums per pair, host first: the visit family of the same aggregate.
    "visit_pairs": """
        select country_iso2 as country, partner_country_iso2 as partner,
            cast(sum(delegations) as hugeint) as delegations,
            cast(sum(participants) as hugeint) as participants
        from marts.agg_activity_by_country_pair_year
        where activity_family = 'visit' and country_iso2 is not null and partner_country_iso2 is not null
        group by all
        order by all
    """,
    "donation_pairs": """
        select dc.iso2 as country, rc.iso2 as partner, sum(f.amount_usd) as amount_usd,
            count(*) filter (where f.amount is not null and f.amount_usd is null) as without_rate,
            sum(f.quantity) filter (where f.donation_type = 'books') as books
        from marts.fct_donation as f
        inner join marts.dim_country as dc on f.donor_country_key = dc.country_key
        inner join marts.dim_country as rc on f.recipient_country_key = rc.country_key
        group by all
        order by all
    """,
    # A membership has one side: the member's country.
    "memberships_in_force": """
        select i.country_iso2 as country, count(*) filter (where m.is_active) as memberships
        from marts.fct_membership as m
        inner join marts.dim_institution as i on m.institution_key = i.institution_key
        group by all
        order by all
    """,
    # (2) Visits between two national libraries, per unordered pair of their countries: a visit of
    # A to B and one of B to A add up in the same pair. From dbt's aggregate of the visits per
    # pair of institutions and year (unordered too), the institutions as they are now.
    "national_library_pairs": """
        with visits as (
            select
                least(h.country_iso2, g.country_iso2) as country_a,
                greatest(h.country_iso2, g.country_iso2) as country_b,
                v.visit_count,
                v.delegations,
                v.participants,
                v.participants_count
            from marts.agg_visit_by_institution_pair_year as v
            inner join marts.dim_institution as h on v.institution_key = h.institution_key
            inner join marts.dim_institution as g on v.partner_institution_key = g.institution_key
            where h.institution_type = 'national_library' and g.institution_type = 'national_library'
              and h.institution_key <> g.institution_key
        )
        select
            country_a,
            ca.country_name as country_a_name,
            country_b,
            cb.country_name as country_b_name,
            cast(sum(visit_count) as bigint) as visits,
            cast(sum(delegations) as hugeint) as delegations,
            cast(sum(participants) as hugeint) as participants,
            cast(sum(visit_count) - sum(participants_count) as bigint) as visits_without_participants
        from visits
        inner join marts.dim_country as ca on visits.country_a = ca.iso2
        inner join marts.dim_country as cb on visits.country_b = cb.iso2
        group by all
        order by all
    """,
    # The national libraries of the pairs, with every name they are reported under (native scripts) and their
    # Wikidata item (dim_institution.wikidata_qid, NULL where no source confirmed one).
    "national_libraries": """
        with named as (
            -- union, not union all: each name once before the list, whose aggregate cannot spill.
            select host_institution_key as institution_key, host_institution_name as reported_name from marts.fct_visit
            union
            select guest_institution_key, guest_institution_name from marts.fct_visit
            union
            select donor_institution_key, donor_name from marts.fct_donation
            union
            select recipient_institution_key, recipient_institution_name from marts.fct_donation
            union
            select institution_key, institution_name from marts.fct_membership
        )
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
        where i.institution_type = 'national_library'
        group by all
        order by all
    """,
    # (3) Donations with their year, donor country, amount in USD (NULL when no rate is known) and books.
    # ``row_order``: their place in the order the pages list them in (``figures.DONATIONS``), sorted
    # once here rather than on every page.
    "donation_rows": """
        select
            row_number() over (
                order by
                    d.year, dc.iso2, f.project, dc.country_name, rc.iso2, donor.institution_name, f.donation_type,
                    f.quantity, f.amount, f.currency, f.amount_usd
            ) as row_order,
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
    """,
    # (4) Memberships: which library belongs to which organization, since when (and until when).
    "membership_rows": """
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
    """,
}


@contextmanager
def summaries(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The tables of ``TABLES`` made in ``con`` for the block, dropped after it. Inside another
    such block on the same connection (``render_pages`` around every page), those already made."""
    if _made(con):
        yield
        return
    try:
        for name, sql in TABLES.items():
            con.execute(f"create temp table {name} as {sql}")
        yield
    finally:
        for name in TABLES:
            con.execute(f"drop table if exists temp.{name}")


def _made(con: duckdb.DuckDBPyConnection) -> bool:
    (found,) = con.execute(  # type: ignore[misc]
        "select count(*) from duckdb_tables() where temporary and list_contains(?, table_name)", [list(TABLES)]
    ).fetchone()
    return found == len(TABLES)
