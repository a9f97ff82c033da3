-- The aggregates lose nothing: their counts and sums equal those of the facts they summarize.
-- Each aggregate: its fact, the column counting the fact's rows, and the measure both sum.
{%- set aggregates = [
    {'name': 'agg_visit_by_institution_pair_year', 'fact': 'fct_visit',
     'count': 'visit_count', 'measure': 'participants'},
    {'name': 'agg_donation_by_institution_type_year', 'fact': 'fct_donation',
     'count': 'donation_count', 'measure': 'amount_usd'},
] %}
with

totals as (

    {% for aggregate in aggregates %}
        select
            '{{ aggregate.name }}' as aggregate_table,
            count(*) as fact_rows,
            (
                select coalesce(sum({{ aggregate.count }}), 0) as aggregated_rows
                from {{ ref(aggregate.name) }}
            ) as aggregated_rows,
            coalesce(sum({{ aggregate.measure }}), 0) as fact_measure,
            (
                select coalesce(sum({{ aggregate.measure }}), 0) as aggregated_measure
                from {{ ref(aggregate.name) }}
            ) as aggregated_measure
        from {{ ref(aggregate.fact) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select * from totals
    where fact_rows <> aggregated_rows or abs(fact_measure - aggregated_measure) > 0.005

)

select * from final
