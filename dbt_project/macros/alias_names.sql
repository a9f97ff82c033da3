{#
    The names that resolve to a curated entry (institution or organization): every curated alias,
    plus the entry's own code, name or acronym, each in normalized form. The body of a CTE with
    the columns name_normalized and <code_column>.

    aliases: the alias seed's CTE (columns alias, <code_column>); curated: the curated list's CTE;
    own_name_columns: the columns of the curated list that name an entry too.
#}
{% macro alias_names(aliases, curated, code_column, own_name_columns) -%}
    select
        {{ normalize_name('alias') }} as name_normalized,
        {{ code_column }}
    from {{ aliases }}
    {%- for column in own_name_columns %}

    union

    select
        {{ normalize_name(column) }} as name_normalized,
        {{ code_column }}
    from {{ curated }}
    {%- endfor %}
{%- endmacro %}
