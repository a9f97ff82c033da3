{#
    Normalized form of a free-text name, the form aliases are matched on:
    lower case, trimmed, inner whitespace collapsed to one space.
    Unicode spaces (no-break space, ideographic space) count as whitespace too, as in Python's str.split().
#}
{% macro normalize_name(column) -%}
    lower(trim(regexp_replace({{ column }}, '[\s\p{Z}]+', ' ', 'g')))
{%- endmacro %}

{#
    Join condition: the rows of left and right speak of the same written institution name, its
    normalized form in the same country (a name resolves only among its country's institutions,
    contract section 1). Its `and` is indented for a condition on its own line under `on` or `where`.
#}
{% macro same_institution_name(left, right) -%}
    {{ left }}.institution_name_normalized = {{ right }}.institution_name_normalized
            and {{ left }}.country_iso2 = {{ right }}.country_iso2
{%- endmacro %}
