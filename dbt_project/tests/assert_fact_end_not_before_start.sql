-- Every fact ends no earlier than it starts. Dates stand for periods (a 'year' date is
-- 1 January of that year), so an end is compared by the last day of its period:
-- start 2015-06-15 (day) and end 2015 (year) is a valid pair.
with

memberships as (

    select * from {{ ref('fct_membership') }}

),

visits as (

    select * from {{ ref('fct_visit') }}

),

donations as (

    select * from {{ ref('fct_donation') }}

),

periods as (

    select
        'fct_membership' as fact_table,
        membership_key as fact_key,
        file_path,
        source_row_number,
        joined_date as start_date,
        left_date as end_date,
        {{ period_end('left_date', 'left_date_precision') }} as end_period_last_day
    from memberships

    union all

    select
        'fct_visit' as fact_table,
        visit_key as fact_key,
        file_path,
        source_row_number,
        start_date,
        end_date,
        {{ period_end('end_date', 'end_date_precision') }} as end_period_last_day
    from visits

    union all

    select
        'fct_donation' as fact_table,
        donation_key as fact_key,
        file_path,
        source_row_number,
        start_date,
        end_date,
        {{ period_end('end_date', 'end_date_precision') }} as end_period_last_day
    from donations

),

final as (

    select * from periods
    where end_period_last_day < start_date

)

select * from final
