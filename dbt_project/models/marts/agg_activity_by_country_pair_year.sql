-- Cooperation activities per country, partner country, start year and family: the table behind
-- "who cooperates with whom, how much, over time".
with

activities as (

    select * from {{ ref('fct_cooperation_activity') }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

countries as (

    select * from {{ ref('dim_country') }}

),

aggregated as (

    select
        activities.country_key,
        activities.partner_country_key,
        dates.year as activity_year,
        activities.activity_family,
        cast(sum(activities.delegations) as bigint) as delegations,
        cast(sum(activities.participants) as bigint) as participants,
        cast(sum(activities.quantity) as bigint) as quantity,
        count(*) as activity_count,
        sum(activities.amount_usd) as amount_usd,
        count(activities.amount_usd) as amount_usd_count
    from activities
    left join dates
        on activities.date_key = dates.date_key
    group by
        activities.country_key,
        activities.partner_country_key,
        dates.year,
        activities.activity_family

),

final as (

    select
        {{ surrogate_key([
            'aggregated.country_key',
            'aggregated.partner_country_key',
            'aggregated.activity_year',
            'aggregated.activity_family',
        ]) }} as country_pair_year_key,
        aggregated.country_key,
        aggregated.partner_country_key,
        countries.iso2 as country_iso2,
        partner_countries.iso2 as partner_country_iso2,
        aggregated.activity_year,
        aggregated.activity_family,
        aggregated.activity_count,
        aggregated.delegations,
        aggregated.participants,
        aggregated.quantity,
        aggregated.amount_usd,
        aggregated.amount_usd_count
    from aggregated
    left join countries
        on aggregated.country_key = countries.country_key
    left join countries as partner_countries
        on aggregated.partner_country_key = partner_countries.country_key

)

select * from final
