-- Memberships with their institution, organization, country and date keys.
with

memberships as (

    select * from {{ ref('stg_raw__memberships') }}
    -- Incremental by file version (dbt_project.yml): only the versions not built yet.
    {{ new_file_versions() }}

),

organization_names as (

    select * from {{ ref('int_organization_names_resolved') }}

),

-- The institutions, their versions and the countries the member resolves through.
{{ institution_side_imports() }},

normalized as (

    select
        *,
        {{ institution_side_inputs('', 'institution_name', 'country_iso2') }},
        {{ normalize_name('organization_name') }} as organization_name_normalized
    from memberships

),

resolved as (

    select
        {{ fact_row_key('normalized') }} as membership_key,
        {{ institution_side_keys('member', '') }},
        coalesce(
            organization_names.organization_key,
            {{ surrogate_key([unknown_organization_acronym()]) }}
        ) as organization_key,
        normalized.membership_type,
        {{ date_key('normalized.joined_date') }} as joined_date_key,
        {{ date_key('normalized.left_date') }} as left_date_key,
        normalized.joined_date,
        normalized.joined_date_precision,
        normalized.left_date,
        normalized.left_date_precision,
        normalized.left_date is null as is_active,
        normalized.institution_name,
        normalized.organization_name,
        normalized.country_iso2,
        {{ lineage_columns('normalized') }}
    from normalized
    {{ institution_side_joins('member', '', 'normalized', 'country_iso2') }}
    left join organization_names
        on normalized.organization_name_normalized = organization_names.organization_name_normalized

),

-- The version of the member institution valid when the membership started.
final as (

    select
        resolved.*,
        {{ institution_side_version_key('member', '') }}
    from resolved
    {{ institution_side_version_join('member', '', 'resolved', 'joined_date') }}

)

select * from final
