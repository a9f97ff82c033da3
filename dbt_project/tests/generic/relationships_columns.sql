{#
    Fails with one row per listed foreign key that holds values its parent column lacks, and how
    many rows hold one: dbt's `relationships` test for every foreign key of a model at once. As in
    dbt's, a NULL refers to nothing and is not checked; `where` keeps the model's rows it names.

    One test per model instead of one per column, as not_null_columns: dbt's own cost per test
    node is paid once per model, not once per foreign key (docs/benchmarks.md).
#}
{% test relationships_columns(model, references) %}

{% for reference in references %}
    select
        '{{ reference.column }}' as column_name,
        count(*) as orphan_rows
    from (
        select {{ adapter.quote(reference.column) }} as from_field
        from {{ model }}
        where {{ adapter.quote(reference.column) }} is not null
        {% if reference.where %}and ({{ reference.where }}){% endif %}
    ) as child
    left join (
        select {{ adapter.quote(reference.field) }} as to_field from {{ reference.to }}
    ) as parent on child.from_field = parent.to_field
    where parent.to_field is null
    having count(*) > 0
    {% if not loop.last %}union all{% endif %}
{% endfor %}

{% endtest %}
