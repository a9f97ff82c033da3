{#
    Normalized form of a free-text name, the form aliases are matched on:
    lower case, trimmed, inner whitespace collapsed to one space.
    Unicode spaces (no-break space, ideographic space) count as whitespace too, as in Python's str.split().
#}
{% macro normalize_name(column) -%}
    lower(trim(regexp_replace({{ column }}, '[\s\p{Z}]+', ' ', 'g')))
{%- endmacro %}
