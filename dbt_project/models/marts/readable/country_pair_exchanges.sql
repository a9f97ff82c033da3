-- Visits and exchanges between two countries per start year, both directions in one row: the
-- pair is unordered, country_a is the one whose name sorts first, so Japan-Korea counts the
-- delegations Japan received from Korea and those Korea received from Japan together.
-- A total over a period (e.g. 549 delegations, 2000-2010) counts in its start year. A side left
-- empty (a multilateral conference, "delegations sent abroad") is the country '(unknown)'.
-- A view over marts.visits; integer sums are BIGINT.
with

visits as (

    select * from {{ ref('visits').include(database=false) }}

),

oriented as (

    select
        start_year,
        delegations,
        participants,
        host_country <= guest_country as is_hosted_by_a,
        least(host_country, guest_country) as country_a,
        greatest(host_country, guest_country) as country_b,
        case when host_country <= guest_country then host_country_iso2 else guest_country_iso2 end as country_a_iso2,
        case when host_country <= guest_country then guest_country_iso2 else host_country_iso2 end as country_b_iso2
    from visits

),

aggregated as (

    select
        country_a,
        country_a_iso2,
        country_b,
        country_b_iso2,
        start_year,
        cast(sum(delegations) as bigint) as delegations,
        cast(sum(participants) as bigint) as participants,
        cast(coalesce(sum(delegations) filter (where is_hosted_by_a), 0) as bigint) as delegations_hosted_by_a,
        cast(coalesce(sum(delegations) filter (where not is_hosted_by_a), 0) as bigint) as delegations_hosted_by_b,
        count(*) as visits,
        count(participants) as visits_with_participants
    from oriented
    group by
        country_a,
        country_a_iso2,
        country_b,
        country_b_iso2,
        start_year

),

final as (

    select
        country_a,
        country_a_iso2,
        country_b,
        country_b_iso2,
        start_year,
        visits,
        delegations,
        participants,
        visits_with_participants,
        delegations_hosted_by_a,
        delegations_hosted_by_b
    from aggregated

)

select * from final
