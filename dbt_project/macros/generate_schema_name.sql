{#
    Use a model's custom schema verbatim (marts, staging, intermediate...), not prefixed with the
    target schema: BI tools and Great Expectations read `marts.*` whatever the target is.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
