{#
    The joins a fact repeats for each institution it names: the member of a membership, the host
    and guest of a visit, the donor and recipient of a donation. A "side" is one such role; its
    columns carry a prefix ('' for the member, 'host_', 'guest_', 'donor_', 'recipient_').

    In the model: the import CTEs end with institution_side_imports(), the CTE `normalized` adds
    institution_side_inputs(...) for each side, the CTE `resolved` selects institution_side_keys(...)
    and ends with institution_side_joins(...), and `final` adds institution_side_version_key(...)
    with institution_side_version_join(...).
#}

{# The import CTEs the joins below read, under the names they read them by. #}
{% macro institution_side_imports() -%}
institution_names as (

    select * from {{ ref('int_institution_names_resolved') }}

),

institution_versions as (

    select * from {{ ref('int_institutions_versioned') }}

),

countries as (

    select * from {{ ref('stg_ref__countries') }}

)
{%- endmacro %}

{# The side's name as aliases match it, and its country with the unknown member for an empty one. #}
{% macro institution_side_inputs(prefix, name_column, country_column) -%}
    {{ normalize_name(name_column) }} as {{ prefix }}name_to_resolve,
    coalesce({{ country_column }}, {{ unknown_country_iso2() }}) as {{ prefix }}country_to_resolve
{%- endmacro %}

{# The side's institution key (the unknown member when no name resolved) and country key. #}
{% macro institution_side_keys(side, prefix) -%}
    coalesce(
        {{ side }}_names.institution_key,
        {{ surrogate_key([unknown_institution_code()]) }}
    ) as {{ prefix }}institution_key,
    {{ surrogate_key([
        'coalesce(' ~ side ~ '_countries.iso2, ' ~ unknown_country_iso2() ~ ')'
    ]) }} as {{ prefix }}country_key
{%- endmacro %}

{# The joins behind institution_side_keys: the resolved names, and the country list. #}
{% macro institution_side_joins(side, prefix, relation, country_column) -%}
    left join institution_names as {{ side }}_names
        on
            {{ relation }}.{{ prefix }}name_to_resolve = {{ side }}_names.institution_name_normalized
            and {{ relation }}.{{ prefix }}country_to_resolve = {{ side }}_names.country_iso2
    left join countries as {{ side }}_countries
        on {{ relation }}.{{ country_column }} = {{ side }}_countries.iso2
{%- endmacro %}

{# The version of the side's institution valid at date_column (see institution_version_valid_at). #}
{% macro institution_side_version_key(side, prefix) -%}
    {{ side }}_versions.institution_version_key as {{ prefix }}institution_version_key
{%- endmacro %}

{% macro institution_side_version_join(side, prefix, relation, date_column) -%}
    left join institution_versions as {{ side }}_versions
        on
            {{ relation }}.{{ prefix }}institution_key = {{ side }}_versions.institution_key
            and {{ institution_version_valid_at(side ~ '_versions', relation ~ '.' ~ date_column) }}
{%- endmacro %}

{#
    The sides of a two-sided fact as fct_cooperation_activity names them: the side whose prefix is
    institution is the activity's institution (the host, the recipient), the other its partner
    (the guest, the donor). No organization takes part in a visit or a donation.
#}
{% macro activity_institution_sides(institution, partner) -%}
    {{ institution }}institution_key as institution_key,
    {{ partner }}institution_key as partner_institution_key,
    {{ institution }}institution_version_key as institution_version_key,
    {{ partner }}institution_version_key as partner_institution_version_key,
    {{ surrogate_key([unknown_organization_acronym()]) }} as organization_key,
    {{ institution }}country_key as country_key,
    {{ partner }}country_key as partner_country_key
{%- endmacro %}
