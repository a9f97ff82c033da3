{#
    The three fact tables and the institutions each names, for the singular tests that check every
    fact alike (tests/assert_fact_*.sql) instead of repeating one union per test.

    fact_tables(): name, key column, start and end date columns (each with its <column>_precision).
    fact_institution_sides(): one entry per institution a fact names: its fact table, key column,
    role, column prefix (institution_key, institution_version_key) and activity date column.
#}
{% macro fact_tables() -%}
    {{ return([
        {'name': 'fct_membership', 'key': 'membership_key', 'start': 'joined_date', 'end': 'left_date'},
        {'name': 'fct_visit', 'key': 'visit_key', 'start': 'start_date', 'end': 'end_date'},
        {'name': 'fct_donation', 'key': 'donation_key', 'start': 'start_date', 'end': 'end_date'},
    ]) }}
{%- endmacro %}

{% macro fact_institution_sides() -%}
    {{ return([
        {'fact': 'fct_membership', 'key': 'membership_key', 'role': 'member', 'prefix': '', 'date': 'joined_date'},
        {'fact': 'fct_visit', 'key': 'visit_key', 'role': 'host', 'prefix': 'host_', 'date': 'start_date'},
        {'fact': 'fct_visit', 'key': 'visit_key', 'role': 'guest', 'prefix': 'guest_', 'date': 'start_date'},
        {'fact': 'fct_donation', 'key': 'donation_key', 'role': 'donor', 'prefix': 'donor_', 'date': 'start_date'},
        {'fact': 'fct_donation', 'key': 'donation_key', 'role': 'recipient', 'prefix': 'recipient_',
         'date': 'start_date'},
    ]) }}
{%- endmacro %}
