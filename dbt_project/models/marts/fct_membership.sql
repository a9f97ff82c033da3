-- One row per membership of an institution in an organization (current file versions only).
with

memberships as (

    select * from {{ ref('int_memberships_resolved') }}
    -- Incremental by file version (dbt_project.yml): only the versions not built yet.
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
        {{ lineage_columns() }}
    from memberships

)

select * from final
