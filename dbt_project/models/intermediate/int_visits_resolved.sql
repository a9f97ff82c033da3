-- Visits and exchanges with their host and guest institution, country and date keys.
-- An empty side ("many or unspecified") points to the unknown institution.
with

visits as (

    select * from {{ ref('stg_raw__visits') }}
    -- Incremental by file version (dbt_project.yml): only the versions not built yet.
    {{ new_file_versions() }}

),

-- The institutions, their versions and the countries the sides resolve through.
{{ institution_side_imports() }},

normalized as (

    select
        *,
        {{ institution_side_inputs('host_', 'host_institution_name', 'host_country_iso2') }},
        {{ institution_side_inputs('guest_', 'guest_institution_name', 'guest_country_iso2') }}
    from visits

),

resolved as (

    select
        {{ fact_row_key('normalized') }} as visit_key,
        normalized.activity_type,
        {{ institution_side_keys('host', 'host_') }},
        {{ institution_side_keys('guest', 'guest_') }},
        {{ date_key('normalized.start_date') }} as start_date_key,
        {{ date_key('normalized.end_date') }} as end_date_key,
        normalized.start_date,
        normalized.start_date_precision,
        normalized.end_date,
        normalized.end_date_precision,
        normalized.delegations,
        normalized.participants,
        normalized.event,
        normalized.program,
        normalized.city,
        normalized.host_institution_name,
        normalized.host_country_iso2,
        normalized.guest_institution_name,
        normalized.guest_country_iso2,
        {{ lineage_columns('normalized') }}
    from normalized
    {{ institution_side_joins('host', 'host_', 'normalized', 'host_country_iso2') }}
    {{ institution_side_joins('guest', 'guest_', 'normalized', 'guest_country_iso2') }}

),

-- The versions of the host and guest institutions valid when the visit started.
final as (

    select
        resolved.*,
        {{ institution_side_version_key('host', 'host_') }},
        {{ institution_side_version_key('guest', 'guest_') }}
    from resolved
    {{ institution_side_version_join('host', 'host_', 'resolved', 'start_date') }}
    {{ institution_side_version_join('guest', 'guest_', 'resolved', 'start_date') }}

)

select * from final
