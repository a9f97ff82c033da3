{#
    What the readable views (models/marts/readable/) show for a dimension key: the name, or
    unknown_label() for the unknown member, so nobody takes it for a country or an institution.
    Each macro is the body of a CTE; its references carry no database name (see the views).

    readable_institution_labels(): institution_key, institution_type, native_name (seed
    institution_native_names), wikidata_url (NULL without a Wikidata item), institution_name.
    readable_country_labels(): country_key, iso2, country_name.
#}
{% macro readable_institution_labels() -%}
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
{%- endmacro %}

{% macro readable_country_labels() -%}
    select
        country_key,
        iso2,
        case when is_unknown_member then {{ unknown_label() }} else country_name end as country_name
    from {{ ref('dim_country').include(database=false) }}
{%- endmacro %}
