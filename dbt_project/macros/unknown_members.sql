{#
    Natural keys of the explicit "unknown" member of each dimension. Facts point there instead of NULL.
#}
{% macro unknown_country_iso2() -%}'ZZ'{%- endmacro %}

{% macro unknown_institution_code() -%}'UNKNOWN'{%- endmacro %}

{% macro unknown_organization_acronym() -%}'UNKNOWN'{%- endmacro %}

{% macro unknown_date_key() -%}-1{%- endmacro %}

{# How the readable marts (marts.visits, marts.donations...) name an unknown member, so nobody takes it for a country. #}
{% macro unknown_label() -%}'(unknown)'{%- endmacro %}
