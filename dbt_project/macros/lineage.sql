{#
    The lineage every fact row carries from its drop file (docs/contract.md, section 2), written
    once for the three kinds instead of once per model and kind.

    raw_lineage_columns(): the staging casts and renames of the lineage columns of a raw kind
    (raw.current_<kind>), for the `renamed` CTE of stg_raw__<kind>.
    lineage_columns(relation, exclude): the lineage columns as the intermediate models and the
    facts pass them on, in their order, each qualified by relation when one is given; exclude
    leaves some out (fct_cooperation_activity keeps neither notes nor reporting_country_iso2).
    fact_row_key(relation): the natural key of a fact row, for its surrogate key: the file and
    the record id, or the row number where the coordinator gave no id.
#}
{% macro raw_lineage_columns() -%}
    cast(file_path as varchar) as file_path,
    cast(content_hash as varchar) as content_hash,
    cast(load_id as varchar) as load_id,
    cast(source_row_number as integer) as source_row_number,
    cast(reporting_country as varchar) as reporting_country_iso2,
    cast(record_id as varchar) as record_id,
    cast(source as varchar) as source,
    cast(notes as varchar) as notes
{%- endmacro %}

{% macro lineage_columns(relation=none, exclude=[]) -%}
    {%- set names = [
        'file_path', 'source_row_number', 'record_id', 'source', 'notes', 'reporting_country_iso2',
        'content_hash', 'load_id',
    ] -%}
    {%- for name in names if name not in exclude %}
    {{ relation ~ '.' if relation }}{{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro fact_row_key(relation) -%}
    {{ surrogate_key([
        relation ~ '.file_path',
        "coalesce('id:' || " ~ relation ~ ".record_id, 'row:' || " ~ relation ~ ".source_row_number)",
    ]) }}
{%- endmacro %}
