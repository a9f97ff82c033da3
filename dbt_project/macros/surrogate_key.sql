{#
    Stable surrogate key: md5 of the natural key parts joined with '|'.
    A NULL part becomes the empty string, so the key is never NULL.
    surrogate_key(['iso2']) is md5(iso2): a one-part key is the md5 of the natural key itself.
#}
{% macro surrogate_key(parts) -%}
    md5(
        {%- for part in parts %}
        coalesce(cast({{ part }} as varchar), '')
        {%- if not loop.last %} || '|' ||{% endif -%}
        {%- endfor %}
    )
{%- endmacro %}
