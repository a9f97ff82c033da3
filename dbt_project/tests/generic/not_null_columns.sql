{#
    Fails with one row per listed column that holds a NULL, and how many rows hold one.

    One test per model instead of one dbt `not_null` per column: dbt's own cost per test node
    (compiling it, running it, logging it: about 40 ms) is paid once per model, not once per
    column, which took a build from 319 dbt nodes to 189 (docs/benchmarks.md).
#}
{% test not_null_columns(model, column_names) %}

{% for column_name in column_names %}
    select
        '{{ column_name }}' as column_name,
        count(*) as null_rows
    from {{ model }}
    where {{ adapter.quote(column_name) }} is null
    having count(*) > 0
    {% if not loop.last %}union all{% endif %}
{% endfor %}

{% endtest %}
