-- Every cooperation activity spread evenly over the calendar years of its period: one row per
-- activity and year. A row reporting a total over a period ("33 business meetings, 1981-2015")
-- counts 1/35 of itself in each of its 35 years, so a per-year or per-decade question does not put
-- the whole total in its start year. The allocated_* measures are estimates by construction; the
-- facts keep the reported totals. A membership is a state, not a total over its years: it is
-- counted whole in the year joined, as in the charts. An activity with no known date keeps one row
-- with no year.
with

activities as (

    select * from {{ ref('fct_cooperation_activity') }}
    -- Incremental by file version (dbt_project.yml): only the versions not built yet.
    {{ new_file_versions() }}

),

dates as (

    select * from {{ ref('dim_date') }}

),

periods as (

    select
        activities.activity_key,
        activities.activity_family,
        activities.activity_type,
        activities.country_key,
        activities.partner_country_key,
        activities.institution_key,
        activities.partner_institution_key,
        activities.delegations,
        activities.participants,
        activities.quantity,
        activities.amount_usd,
        activities.file_path,
        activities.content_hash,
        start_dates.year as period_start_year,
        -- The end period's year holds its last day whatever its precision (2015 or 2015-05).
        case
            when activities.activity_family = 'membership' then start_dates.year
            else greatest(start_dates.year, coalesce(end_dates.year, start_dates.year))
        end as period_end_year
    from activities
    left join dates as start_dates
        on activities.date_key = start_dates.date_key
    left join dates as end_dates
        on activities.end_date_key = end_dates.date_key

),

years as (

    -- Columns named, not *: the lineage parser (libcoop.lineage) follows named columns only.
    select
        activity_key,
        activity_family,
        activity_type,
        country_key,
        partner_country_key,
        institution_key,
        partner_institution_key,
        delegations,
        participants,
        quantity,
        amount_usd,
        file_path,
        content_hash,
        period_start_year,
        period_end_year,
        coalesce(period_end_year - period_start_year + 1, 1) as period_years,
        unnest(
            case
                when period_start_year is null then [cast(null as integer)]
                else generate_series(period_start_year, period_end_year)
            end
        ) as activity_year
    from periods

),

final as (

    select
        {{ surrogate_key(['activity_key', 'activity_year']) }} as activity_year_key,
        activity_key,
        cast(activity_year as integer) as activity_year,
        activity_family,
        activity_type,
        country_key,
        partner_country_key,
        institution_key,
        partner_institution_key,
        period_start_year,
        period_end_year,
        cast(period_years as integer) as period_years,
        cast(1 as double) / period_years as allocation_share,
        cast(1 as double) / period_years as allocated_activities,
        cast(delegations as double) / period_years as allocated_delegations,
        cast(participants as double) / period_years as allocated_participants,
        cast(quantity as double) / period_years as allocated_quantity,
        amount_usd / period_years as allocated_amount_usd,
        file_path,
        content_hash
    from years

)

select * from final
