{#
    The three kinds of fact and the institutions each names: what the models and tests that treat
    every kind alike loop over (int_institution_mentions_unioned, dim_date, tests/assert_fact_*.sql,
    tests/assert_readable_marts_keep_every_fact_row.sql, macros/tests_on_changed_files.sql), so a
    new kind is added here once instead of in each of them.

    fact_tables(): the kind (raw table, staging model and readable view stg_raw__<kind>, <kind>), its
    family (fct_cooperation_activity), its intermediate model, its fact table, key column, start and
    end date columns (each with its <column>_precision).
    fact_institution_sides(): one entry per institution a fact names: its kind and family, fact
    table, key column, role, column prefix (institution_key, institution_version_key), the name and
    country columns of the staging model, and the activity date column.
#}
{% macro fact_tables() -%}
    {{ return([
        {'kind': 'memberships', 'family': 'membership', 'resolved': 'int_memberships_resolved',
         'name': 'fct_membership', 'key': 'membership_key', 'start': 'joined_date', 'end': 'left_date'},
        {'kind': 'visits', 'family': 'visit', 'resolved': 'int_visits_resolved',
         'name': 'fct_visit', 'key': 'visit_key', 'start': 'start_date', 'end': 'end_date'},
        {'kind': 'donations', 'family': 'donation', 'resolved': 'int_donations_converted',
         'name': 'fct_donation', 'key': 'donation_key', 'start': 'start_date', 'end': 'end_date'},
    ]) }}
{%- endmacro %}

{% macro fact_institution_sides() -%}
    {{ return([
        {'kind': 'memberships', 'family': 'membership', 'fact': 'fct_membership', 'key': 'membership_key',
         'role': 'member', 'prefix': '', 'name': 'institution_name', 'country': 'country_iso2',
         'date': 'joined_date'},
        {'kind': 'visits', 'family': 'visit', 'fact': 'fct_visit', 'key': 'visit_key',
         'role': 'host', 'prefix': 'host_', 'name': 'host_institution_name', 'country': 'host_country_iso2',
         'date': 'start_date'},
        {'kind': 'visits', 'family': 'visit', 'fact': 'fct_visit', 'key': 'visit_key',
         'role': 'guest', 'prefix': 'guest_', 'name': 'guest_institution_name', 'country': 'guest_country_iso2',
         'date': 'start_date'},
        {'kind': 'donations', 'family': 'donation', 'fact': 'fct_donation', 'key': 'donation_key',
         'role': 'donor', 'prefix': 'donor_', 'name': 'donor_name', 'country': 'donor_country_iso2',
         'date': 'start_date'},
        {'kind': 'donations', 'family': 'donation', 'fact': 'fct_donation', 'key': 'donation_key',
         'role': 'recipient', 'prefix': 'recipient_', 'name': 'recipient_institution_name',
         'country': 'recipient_country_iso2', 'date': 'start_date'},
    ]) }}
{%- endmacro %}
