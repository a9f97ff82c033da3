-- The aggregates lose nothing: their counts and sums equal those of the facts they summarize.
with

visits as (

    select * from {{ ref('fct_visit') }}

),

donations as (

    select * from {{ ref('fct_donation') }}

),

visit_pairs as (

    select * from {{ ref('agg_visit_by_institution_pair_year') }}

),

donation_types as (

    select * from {{ ref('agg_donation_by_institution_type_year') }}

),

visit_totals as (

    select
        count(*) as fact_rows,
        coalesce(sum(participants), 0) as fact_measure
    from visits

),

visit_pair_totals as (

    select
        coalesce(sum(visit_count), 0) as aggregated_rows,
        coalesce(sum(participants), 0) as aggregated_measure
    from visit_pairs

),

donation_totals as (

    select
        count(*) as fact_rows,
        coalesce(sum(amount_usd), 0) as fact_measure
    from donations

),

donation_type_totals as (

    select
        coalesce(sum(donation_count), 0) as aggregated_rows,
        coalesce(sum(amount_usd), 0) as aggregated_measure
    from donation_types

),

totals as (

    select
        'agg_visit_by_institution_pair_year' as aggregate_table,
        visit_totals.fact_rows,
        visit_pair_totals.aggregated_rows,
        visit_totals.fact_measure,
        visit_pair_totals.aggregated_measure
    from visit_totals
    cross join visit_pair_totals

    union all

    select
        'agg_donation_by_institution_type_year' as aggregate_table,
        donation_totals.fact_rows,
        donation_type_totals.aggregated_rows,
        donation_totals.fact_measure,
        donation_type_totals.aggregated_measure
    from donation_totals
    cross join donation_type_totals

),

final as (

    select * from totals
    where fact_rows <> aggregated_rows or abs(fact_measure - aggregated_measure) > 0.005

)

select * from final
