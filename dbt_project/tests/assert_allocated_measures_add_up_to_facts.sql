-- The allocation loses and invents nothing: summed over its years, each activity's allocated
-- measures equal its reported ones (fct_activity_year_allocated against fct_cooperation_activity).
-- Both are built by file version: a night compares the rows of the files it changed.
with

activities as (

    select * from {{ ref('fct_cooperation_activity') }}
    {{ rows_of_changed_files() }}

),

allocated as (

    select * from {{ ref('fct_activity_year_allocated') }}
    {{ rows_of_changed_files() }}

),

allocated_totals as (

    select
        activity_key,
        sum(allocated_activities) as activities,
        sum(allocated_delegations) as delegations,
        sum(allocated_participants) as participants,
        sum(allocated_quantity) as quantity,
        sum(allocated_amount_usd) as amount_usd
    from allocated
    group by activity_key

),

compared as (

    select
        activities.activity_key,
        allocated_totals.activities as allocated_activities,
        activities.delegations,
        allocated_totals.delegations as allocated_delegations,
        activities.participants,
        allocated_totals.participants as allocated_participants,
        activities.quantity,
        allocated_totals.quantity as allocated_quantity,
        activities.amount_usd,
        allocated_totals.amount_usd as allocated_amount_usd
    from activities
    full outer join allocated_totals
        on activities.activity_key = allocated_totals.activity_key

),

final as (

    select * from compared
    where
        activity_key is null
        or allocated_activities is null
        or abs(allocated_activities - 1) > 1e-9
        or (delegations is null) <> (allocated_delegations is null)
        or abs(delegations - allocated_delegations) > 1e-6
        or (participants is null) <> (allocated_participants is null)
        or abs(participants - allocated_participants) > 1e-6
        or (quantity is null) <> (allocated_quantity is null)
        or abs(quantity - allocated_quantity) > 1e-6
        or (amount_usd is null) <> (allocated_amount_usd is null)
        or abs(amount_usd - allocated_amount_usd) > 0.005

)

select * from final
