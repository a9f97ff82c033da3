-- Calendar days covering every date used in the facts (whole years, from 1 January of the first
-- year to 31 December of the last), plus the unknown member -1 for a missing date.
with

{% for fact in fact_tables() %}
    {{ fact.kind }} as (

        select * from {{ ref(fact.resolved) }}

    ),

{% endfor %}
-- The start and end date of every fact (the kinds: macros/facts.sql).
fact_dates as (

    {% for fact in fact_tables() %}
        select {{ fact.start }} as fact_date from {{ fact.kind }}
        union all
        select {{ fact.end }} as fact_date from {{ fact.kind }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

bounds as (

    select
        cast(date_trunc('year', min(fact_date)) as date) as first_day,
        cast(date_trunc('year', max(fact_date)) + interval 1 year - interval 1 day as date) as last_day
    from fact_dates

),

days as (

    -- No facts, no bounds: the spine is empty and only the unknown member remains.
    select cast(unnest(generate_series(first_day, last_day, interval 1 day)) as date) as date_day
    from bounds
    where first_day is not null

),

calendar as (

    select
        {{ date_key('date_day') }} as date_key,
        date_day,
        cast(year(date_day) as integer) as year,
        cast(quarter(date_day) as integer) as quarter,
        cast(month(date_day) as integer) as month,
        cast(day(date_day) as integer) as day_of_month,
        monthname(date_day) as month_name,
        cast(isodow(date_day) as integer) as iso_day_of_week,
        strftime(date_day, '%Y-%m') as year_month_label,
        false as is_unknown_member
    from days

),

unknown_member as (

    select
        {{ unknown_date_key() }} as date_key,
        cast(null as date) as date_day,
        cast(null as integer) as year,
        cast(null as integer) as quarter,
        cast(null as integer) as month,
        cast(null as integer) as day_of_month,
        'Unknown' as month_name,
        cast(null as integer) as iso_day_of_week,
        'Unknown' as year_month_label,
        true as is_unknown_member

),

final as (

    select * from calendar
    union all
    select * from unknown_member

)

select * from final
