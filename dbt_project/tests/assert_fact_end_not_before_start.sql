-- Every fact ends no earlier than it starts. Dates stand for periods (a 'year' date is
-- 1 January of that year), so an end is compared by the last day of its period:
-- start 2015-06-15 (day) and end 2015 (year) is a valid pair.
with

periods as (

    {% for fact in fact_tables() %}
        select
            '{{ fact.name }}' as fact_table,
            {{ fact.key }} as fact_key,
            file_path,
            source_row_number,
            {{ fact.start }} as start_date,
            {{ fact.end }} as end_date,
            {{ period_end(fact.end, fact.end ~ '_precision') }} as end_period_last_day
        from {{ ref(fact.name) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select * from periods
    where end_period_last_day < start_date

)

select * from final
