{#
    The three kinds of fact and the institutions each names: what the models and tests that treat
    every kind alike loop over (int_institution_mentions_unioned, dim_date, tests/assert_fact_*.sql,
    tests/assert_readable_marts_keep_every_fact_row.sql, macros/tests_on_changed_files.sql), so a
    new kind is added here once instead of in each of them.

    fact_tables(): the kind (raw table, staging model and readable view stg_raw__<kind>, <kind>), its
    family (fct_cooperation_activity), its intermediate model, its fact table, key column, start and
    end date columns (each with its <column>_precision), and its sides: each institution it names,
    by role, column prefix (institution_key, institution_version_key, country_iso2) and the name
    column of the staging model.
    fact_institution_sides(): the sides of every kind, one entry each, with their kind's name,
    family, fact table and key column, their name and country columns, and the activity date
    column (the kind's start).
#}
{% macro fact_tables() -%}
    {{ return([
        {'kind': 'memberships', 'family': 'membership', 'resolved': 'int_memberships_resolved',
         'name': 'fct_membership', 'key': 'membership_key', 'start': 'joined_date', 'end': 'left_date',
         'sides': [
             {'role': 'member', 'prefix': '', 'name': 'institution_name'},
         ]},
        {'kind': 'visits', 'family': 'visit', 'resolved': 'int_visits_resolved',
         'name': 'fct_visit', 'key': 'visit_key', 'start': 'start_date', 'end': 'end_date',
         'sides': [
             {'role': 'host', 'prefix': 'host_', 'name': 'host_institution_name'},
             {'role': 'guest', 'prefix': 'guest_', 'name': 'guest_institution_name'},
         ]},
        {'kind': 'donations', 'family': 'donation', 'resolved': 'int_donations_converted',
         'name': 'fct_donation', 'key': 'donation_key', 'start': 'start_date', 'end': 'end_date',
         'sides': [
             {'role': 'donor', 'prefix': 'donor_', 'name': 'donor_name'},
             {'role': 'recipient', 'prefix': 'recipient_', 'name': 'recipient_institution_name'},
         ]},
    ]) }}
{%- endmacro %}

{% macro fact_institution_sides() -%}
    {%- set sides = [] -%}
    {%- for fact in fact_tables() -%}
        {%- for side in fact.sides -%}
            {%- do sides.append({
                'kind': fact.kind, 'family': fact.family, 'fact': fact.name, 'key': fact.key,
                'role': side.role, 'prefix': side.prefix, 'name': side.name,
                'country': side.prefix ~ 'country_iso2', 'date': fact.start,
            }) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(sides) }}
{%- endmacro %}
