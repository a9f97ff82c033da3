{#
    Incremental models keyed by file version: a fact row comes from one version of one drop file
    (file_path, content_hash) and depends on nothing else of the drop (names resolve through the
    seeds, keys are md5 of natural keys), so a night recomputes only the rows of file versions it
    has not built yet. The build file is a copy of the published warehouse: the model's table
    carries over from the last night. When the code, the seeds or the reference data changed,
    libcoop builds with --full-refresh (libcoop.fingerprint.built_by_same_code).

    delete_replaced_file_versions(): pre-hook; deletes the rows of every file that has a version no
    longer in force in the table (a file replaced by a new version, removed from the drop folder,
    or replaced by the restore of an earlier version); its version in force, if any, is then no
    longer built, and new_file_versions() brings it back.
    new_file_versions(): where clause of the import CTE; the rows of the files whose version in
    force is not built yet. A model's inputs hold the versions in force only (staging reads
    raw.current_<kind>, the incremental models upstream have run their pre-hook), so the file
    path names the version.
    The models use unique_key='file_path' with incremental_strategy='delete+insert'.

    Both compare the table's distinct (file_path, content_hash) with raw.file_versions, a few
    hundred rows, when the model runs (run_query), and name the files they find as literals: DuckDB
    pushes a constant filter on file_path through the staging views and their joins down to the
    scan of the raw table, which then reads the other columns of those files only. A subquery
    there is not always pushed down (a CTE read twice is computed whole, then joined), and a per-row
    expression such as file_path || '|' || content_hash is computed on every row.
    dbt renders the model's SQL before its pre-hook runs: new_file_versions() counts a file with a
    replaced version in the table as not built, as the table will be once the pre-hook ran.
#}
{% macro delete_replaced_file_versions() -%}
    {%- if is_incremental() and file_versions_known() -%}
        {%- set replaced = file_path_literals(replaced_file_versions()) -%}
        {%- if replaced -%}
            delete from {{ this }} where file_path in ({{ replaced | join(', ') }})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro new_file_versions() -%}
    {%- if is_incremental() and file_versions_known() -%}
        where {{ file_path_in(unbuilt_file_versions()) }}
    {%- endif -%}
{%- endmacro %}

{#
    Whether the build holds raw.file_versions (every build libcoop loads does): without it, as in a
    warehouse made by hand, the model rebuilds all its rows (delete+insert by file_path keeps that
    right) and dbt docs can still compile it.
#}
{% macro file_versions_known() -%}
    {{ return(load_relation(source('raw', 'file_versions')) is not none) }}
{%- endmacro %}

{# The files of which the model's table holds a version no longer in force. #}
{% macro replaced_file_versions() -%}
    select distinct built.file_path
    from (select distinct file_path, content_hash from {{ this }}) as built
    left join {{ source('raw', 'file_versions') }} as in_force
        on
            built.file_path = in_force.file_path
            and built.content_hash = in_force.content_hash
            and in_force.is_current
    where in_force.file_path is null
{%- endmacro %}

{#
    The files in force whose version the table does not hold, or holds beside a replaced one; of
    the model's kind when its rows all come from one kind's files (tag rows_of_<kind>).
#}
{% macro unbuilt_file_versions() -%}
    {%- set kinds = [] -%}
    {%- for tag in config.get('tags', []) if tag.startswith('rows_of_') -%}
        {%- do kinds.append("'" ~ tag[8:] ~ "'") -%}
    {%- endfor -%}
    select in_force.file_path
    from {{ source('raw', 'file_versions') }} as in_force
    left join (select distinct file_path, content_hash from {{ this }}) as built
        on
            in_force.file_path = built.file_path
            and in_force.content_hash = built.content_hash
    where
        in_force.is_current
        and (built.file_path is null or in_force.file_path in ({{ replaced_file_versions() }}))
        {%- if kinds %}
        and in_force.kind in ({{ kinds | join(', ') }})
        {%- endif %}
{%- endmacro %}

{#
    file_path_literals(query): the file paths a query selects (its first column) as SQL string
    literals, read when dbt runs the node (none when dbt only parses the project).
    file_path_in(query): the condition that a row's file_path is one of them (false when none).
#}
{% macro file_path_literals(query) -%}
    {%- set literals = [] -%}
    {%- if execute -%}
        {%- for path in run_query(query ~ ' order by 1').columns[0].values() -%}
            {%- do literals.append("'" ~ path | replace("'", "''") ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(literals) }}
{%- endmacro %}

{% macro file_path_in(query) -%}
    {%- set literals = file_path_literals(query) -%}
    {{ return('file_path in (' ~ literals | join(', ') ~ ')' if literals else 'false') }}
{%- endmacro %}
