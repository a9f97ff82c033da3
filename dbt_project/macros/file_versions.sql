{#
    Incremental models keyed by file version: a fact row comes from one version of one drop file
    (file_path, content_hash) and depends on nothing else of the drop (names resolve through the
    seeds, keys are md5 of natural keys), so a night recomputes only the rows of file versions it
    has not built yet. The build file is a copy of the published warehouse: the model's table
    carries over from the last night. When the code, the seeds or the reference data changed,
    libcoop builds with --full-refresh (libcoop.fingerprint.built_by_same_code).

    delete_replaced_file_versions(): pre-hook; deletes the rows of every file version no longer in
    force (a file replaced by a new version, removed from the drop folder, or replaced by the
    restore of an earlier version).
    new_file_versions(): where clause of the import CTE; the rows of versions in force not built yet.
    The models use unique_key='file_path' with incremental_strategy='delete+insert'.
#}
{% macro delete_replaced_file_versions() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where file_path || '|' || content_hash not in (
            select file_path || '|' || content_hash
            from {{ source('raw', 'file_versions') }}
            where is_current
        )
    {%- endif -%}
{%- endmacro %}

{% macro new_file_versions() -%}
    {%- if is_incremental() -%}
        where file_path || '|' || content_hash not in (
            select distinct built.file_path || '|' || built.content_hash
            from {{ this }} as built
        )
    {%- endif -%}
{%- endmacro %}
