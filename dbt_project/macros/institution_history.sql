{#
    Validity ranges of institution versions (int_institutions_versioned, dim_institution_history).

    institution_history_start(): where the first version of every institution starts. The
    history is recorded from the first build on, but facts are older: their institution's first
    known version stands for all the time before it.
    institution_history_end(): the open end of the version in force.
    institution_single_version(): the version columns of an institution without curated history
    (an unresolved name, the unknown member): one version, valid over the whole history, in
    force, and never recorded by the snapshot.
    institution_version_valid_at(versions, date_column): join condition that picks, among the
    versions of one institution, the one valid on date_column (a fact older than the history's
    start takes the first version).
#}
{% macro institution_history_start() -%}
    cast('1900-01-01' as timestamp)
{%- endmacro %}

{% macro institution_history_end() -%}
    cast('9999-12-31' as timestamp)
{%- endmacro %}

{% macro institution_single_version() -%}
    1 as version_number,
    {{ institution_history_start() }} as valid_from,
    {{ institution_history_end() }} as valid_to,
    true as is_current,
    cast(null as timestamp) as recorded_from,
    cast(null as timestamp) as recorded_to
{%- endmacro %}

{% macro institution_version_valid_at(versions, date_column) -%}
    greatest(cast({{ date_column }} as timestamp), {{ institution_history_start() }}) >= {{ versions }}.valid_from
    and greatest(cast({{ date_column }} as timestamp), {{ institution_history_start() }}) < {{ versions }}.valid_to
{%- endmacro %}
