{#
    Fails with each value of the column that the contract does not accept for this kind of file.

    The lists live once, in libcoop.ingest.contract (what the check enforces); `make templates`
    writes them to the seed contract_accepted_values, so this test never restates them.
#}
{% test accepted_by_contract(model, column_name, kind) %}

select {{ adapter.quote(column_name) }} as rejected_value, count(*) as rows_with_it
from {{ model }}
where {{ adapter.quote(column_name) }} is not null
    and {{ adapter.quote(column_name) }} not in (
        select accepted.accepted_value
        from {{ ref('contract_accepted_values') }} as accepted
        where accepted.kind = '{{ kind }}' and accepted.column_name = '{{ column_name }}'
    )
group by 1

{% endtest %}
