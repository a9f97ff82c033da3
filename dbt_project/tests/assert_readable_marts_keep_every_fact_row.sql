-- The readable views (marts.visits, marts.donations, marts.memberships, marts.country_pair_exchanges)
-- show every fact row and add up to the facts: a join that lost a row would answer questions
-- wrongly without anybody noticing. Every row has its key once, and a name and a country on
-- each side ('(unknown)' for the unknown member, never NULL). Returns one row per mismatch.
-- A night compares the rows of the files it changed (the facts are built by file version, the
-- views show them row for row); the country pairs add up over every visit.
with

fct_visits as (

    select * from {{ ref('fct_visit') }}
    {{ rows_of_changed_files() }}

),

fct_donations as (

    select * from {{ ref('fct_donation') }}
    {{ rows_of_changed_files() }}

),

fct_memberships as (

    select * from {{ ref('fct_membership') }}
    {{ rows_of_changed_files() }}

),

visits as (

    select * from {{ ref('visits') }}
    {{ rows_of_changed_files() }}

),

donations as (

    select * from {{ ref('donations') }}
    {{ rows_of_changed_files() }}

),

memberships as (

    select * from {{ ref('memberships') }}
    {{ rows_of_changed_files() }}

),

all_fct_visits as (

    select * from {{ ref('fct_visit') }}

),

country_pairs as (

    select * from {{ ref('country_pair_exchanges') }}

),

fact_totals as (

    select
        count(*) as visit_rows,
        coalesce(sum(delegations), 0) as delegations
    from all_fct_visits

),

pair_totals as (

    select
        coalesce(sum(visits), 0) as visit_rows,
        coalesce(sum(delegations_hosted_by_a + delegations_hosted_by_b), 0) as delegations
    from country_pairs

),

checks as (

    select
        'visits' as readable_mart,
        count(*) as expected_value,
        (select count(*) as n from visits) as actual_value
    from fct_visits

    union all

    select
        'donations' as readable_mart,
        count(*) as expected_value,
        (select count(*) as n from donations) as actual_value
    from fct_donations

    union all

    select
        'memberships' as readable_mart,
        count(*) as expected_value,
        (select count(*) as n from memberships) as actual_value
    from fct_memberships

    union all

    select
        'country_pair_exchanges visits' as readable_mart,
        fact_totals.visit_rows as expected_value,
        pair_totals.visit_rows as actual_value
    from fact_totals
    cross join pair_totals

    union all

    select
        'country_pair_exchanges delegations' as readable_mart,
        fact_totals.delegations as expected_value,
        pair_totals.delegations as actual_value
    from fact_totals
    cross join pair_totals

    union all

    select
        'visits: distinct keys' as readable_mart,
        count(*) as expected_value,
        count(distinct visit_key) as actual_value
    from visits

    union all

    select
        'donations: distinct keys' as readable_mart,
        count(*) as expected_value,
        count(distinct donation_key) as actual_value
    from donations

    union all

    select
        'memberships: distinct keys' as readable_mart,
        count(*) as expected_value,
        count(distinct membership_key) as actual_value
    from memberships

    union all

    select
        'visits without a name or a country' as readable_mart,
        0 as expected_value,
        count(*) as actual_value
    from visits
    where
        host_institution is null or guest_institution is null
        or host_country is null or guest_country is null or start_year is null or end_date is null

    union all

    select
        'donations without a name or a country' as readable_mart,
        0 as expected_value,
        count(*) as actual_value
    from donations
    where
        donor is null or recipient is null
        or donor_country is null or recipient_country is null or start_year is null

    union all

    select
        'memberships without a name or a country' as readable_mart,
        0 as expected_value,
        count(*) as actual_value
    from memberships
    where institution is null or country is null or organization is null or joined_year is null

    union all

    select
        'visits ending before they start' as readable_mart,
        0 as expected_value,
        count(*) as actual_value
    from visits
    where end_date < start_date

),

final as (

    select * from checks
    where actual_value != expected_value

)

select * from final
