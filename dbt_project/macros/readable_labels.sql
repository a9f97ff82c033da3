{#
    What the readable views (models/marts/readable/) show for a dimension key: the name, or
    unknown_label() for the unknown member, so nobody takes it for a country or an institution.
    References carry no database name (see the views).

    In a view: the import CTEs end with readable_label_imports(), and the CTE `resolved` selects
    readable_institution_side(...) for each side of the fact and ends with
    readable_institution_side_joins(...), as the models of macros/institution_sides.sql do.
#}

{#
    The CTEs institution_labels (institution_key, institution_type, native_name from the seed
    institution_native_names, wikidata_url: NULL without a Wikidata item, institution_name) and
    country_labels (country_key, iso2, country_name).
#}
{% macro readable_label_imports() -%}
institution_labels as (

    select
        institutions.institution_key,
        institutions.institution_type,
        native_names.native_name,
        'https://www.wikidata.org/wiki/' || institutions.wikidata_qid as wikidata_url,
        case
            when institutions.is_unknown_member then {{ unknown_label() }}
            else institutions.institution_name
        end as institution_name
    from {{ ref('dim_institution').include(database=false) }} as institutions
    left join {{ ref('institution_native_names').include(database=false) }} as native_names
        on institutions.institution_code = native_names.institution_code

),

country_labels as (

    select
        country_key,
        iso2,
        case when is_unknown_member then {{ unknown_label() }} else country_name end as country_name
    from {{ ref('dim_country').include(database=false) }}

)
{%- endmacro %}

{#
    One side of a fact (its columns carry prefix: '' for the member, 'host_', 'donor_'...) as a
    view shows it: the institution as <label>, <label>_native, <label>_type and <label>_wikidata,
    its country as <prefix>country and <prefix>country_iso2. role names the joins.
#}
{% macro readable_institution_side(role, prefix, label) -%}
    {{ role }}_labels.institution_name as {{ label }},
    {{ role }}_labels.native_name as {{ label }}_native,
    {{ role }}_labels.institution_type as {{ label }}_type,
    {{ role }}_labels.wikidata_url as {{ label }}_wikidata,
    {{ role }}_countries.country_name as {{ prefix }}country,
    {{ role }}_countries.iso2 as {{ prefix }}country_iso2
{%- endmacro %}

{# The joins behind readable_institution_side: inner, as every key of a fact has its dimension row. #}
{% macro readable_institution_side_joins(role, prefix, relation) -%}
    inner join institution_labels as {{ role }}_labels
        on {{ relation }}.{{ prefix }}institution_key = {{ role }}_labels.institution_key
    inner join country_labels as {{ role }}_countries
        on {{ relation }}.{{ prefix }}country_key = {{ role }}_countries.country_key
{%- endmacro %}
