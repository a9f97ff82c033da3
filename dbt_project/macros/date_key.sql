{#
    Integer date key yyyymmdd of a date column; -1 (the unknown member of dim_date) when the date is NULL.
#}
{% macro date_key(column) -%}
    coalesce(cast(strftime({{ column }}, '%Y%m%d') as integer), -1)
{%- endmacro %}
