-- One row per membership of an institution in an organization (current file versions only).
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='file_path',
    pre_hook="{{ delete_replaced_file_versions() }}",
) }}

with

-- Incremental by file version (macros/file_versions.sql): only the versions not built yet.
memberships as (

    select * from {{ ref('int_memberships_resolved') }}
    {{ new_file_versions() }}

),

final as (

    select
        membership_key,
        institution_key,
        institution_version_key,
        organization_key,
        country_key,
        membership_type,
        joined_date_key,
        left_date_key,
        is_active,
        joined_date,
        joined_date_precision,
        left_date,
        left_date_precision,
        institution_name,
        organization_name,
        file_path,
        source_row_number,
        record_id,
        source,
        notes,
        reporting_country_iso2,
        content_hash,
        load_id
    from memberships

)

select * from final
