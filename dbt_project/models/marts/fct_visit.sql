-- One row per reported visit or exchange: a single visit, or a total over a period.
with

visits as (

    select * from {{ ref('int_visits_resolved') }}
    -- Incremental by file version (dbt_project.yml): only the versions not built yet.
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
        {{ lineage_columns() }}
    from visits

)

select * from final
