-- One row per reported visit or exchange: a single visit, or a total over a period.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='file_path',
    pre_hook="{{ delete_replaced_file_versions() }}",
) }}

with

-- Incremental by file version (macros/file_versions.sql): only the versions not built yet.
visits as (

    select * from {{ ref('int_visits_resolved') }}
    {{ new_file_versions() }}

),

final as (

    select
        visit_key,
        activity_type,
        host_institution_key,
        guest_institution_key,
        host_institution_version_key,
        guest_institution_version_key,
        host_country_key,
        guest_country_key,
        start_date_key,
        end_date_key,
        delegations,
        participants,
        event,
        program,
        city,
        start_date,
        start_date_precision,
        end_date,
        end_date_precision,
        host_institution_name,
        guest_institution_name,
        file_path,
        source_row_number,
        record_id,
        source,
        notes,
        reporting_country_iso2,
        content_hash,
        load_id
    from visits

)

select * from final
