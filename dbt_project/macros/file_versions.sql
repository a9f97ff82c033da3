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
    hundred rows, and filter on file_path alone: DuckDB then hands the few paths to the scan of the
    large table (a join filter), which reads the other columns of those files only. A per-row
    expression such as file_path || '|' || content_hash would be computed on every row instead.
#}
{% macro delete_replaced_file_versions() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where file_path in (
            select built.file_path
            from {{ built_file_versions() }} as built
            left join {{ source('raw', 'file_versions') }} as in_force
                on
                    built.file_path = in_force.file_path
                    and built.content_hash = in_force.content_hash
                    and in_force.is_current
            where in_force.file_path is null
        )
    {%- endif -%}
{%- endmacro %}

{% macro new_file_versions() -%}
    {%- if is_incremental() -%}
        where file_path in (
            select in_force.file_path
            from {{ source('raw', 'file_versions') }} as in_force
            left join {{ built_file_versions() }} as built
                on
                    in_force.file_path = built.file_path
                    and in_force.content_hash = built.content_hash
            where in_force.is_current and built.file_path is null
        )
    {%- endif -%}
{%- endmacro %}

{# The file versions the model's table holds rows of. #}
{% macro built_file_versions() -%}
    (select distinct file_path, content_hash from {{ this }})
{%- endmacro %}
