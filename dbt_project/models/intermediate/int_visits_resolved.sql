-- Visits and exchanges with their host and guest institution, country and date keys.
-- An empty side ("many or unspecified") points to the unknown institution.
with

visits as (

    select * from {{ ref('stg_raw__visits') }}

),

institution_names as (

    select * from {{ ref('int_institution_names_resolved') }}

),

institution_versions as (

    select * from {{ ref('int_institutions_versioned') }}

),

countries as (

    select * from {{ ref('stg_ref__countries') }}

),

normalized as (

    select
        *,
        {{ normalize_name('host_institution_name') }} as host_institution_name_normalized,
        {{ normalize_name('guest_institution_name') }} as guest_institution_name_normalized,
        coalesce(host_country_iso2, {{ unknown_country_iso2() }}) as host_country_iso2_or_unknown,
        coalesce(guest_country_iso2, {{ unknown_country_iso2() }}) as guest_country_iso2_or_unknown
    from visits

),

resolved as (

    select
        {{ surrogate_key([
            'normalized.file_path',
            "coalesce('id:' || normalized.record_id, 'row:' || normalized.source_row_number)",
        ]) }} as visit_key,
        normalized.activity_type,
        coalesce(
            host_names.institution_key,
            {{ surrogate_key([unknown_institution_code()]) }}
        ) as host_institution_key,
        coalesce(
            guest_names.institution_key,
            {{ surrogate_key([unknown_institution_code()]) }}
        ) as guest_institution_key,
        {{ surrogate_key([
            'coalesce(host_countries.iso2, ' ~ unknown_country_iso2() ~ ')'
        ]) }} as host_country_key,
        {{ surrogate_key([
            'coalesce(guest_countries.iso2, ' ~ unknown_country_iso2() ~ ')'
        ]) }} as guest_country_key,
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
        normalized.file_path,
        normalized.source_row_number,
        normalized.record_id,
        normalized.source,
        normalized.notes,
        normalized.reporting_country_iso2,
        normalized.content_hash,
        normalized.load_id
    from normalized
    left join institution_names as host_names
        on
            normalized.host_institution_name_normalized = host_names.institution_name_normalized
            and normalized.host_country_iso2_or_unknown = host_names.country_iso2
    left join institution_names as guest_names
        on
            normalized.guest_institution_name_normalized = guest_names.institution_name_normalized
            and normalized.guest_country_iso2_or_unknown = guest_names.country_iso2
    left join countries as host_countries
        on normalized.host_country_iso2 = host_countries.iso2
    left join countries as guest_countries
        on normalized.guest_country_iso2 = guest_countries.iso2

),

-- The versions of the host and guest institutions valid when the visit started.
final as (

    select
        resolved.*,
        host_versions.institution_version_key as host_institution_version_key,
        guest_versions.institution_version_key as guest_institution_version_key
    from resolved
    left join institution_versions as host_versions
        on
            resolved.host_institution_key = host_versions.institution_key
            and {{ institution_version_valid_at('host_versions', 'resolved.start_date') }}
    left join institution_versions as guest_versions
        on
            resolved.guest_institution_key = guest_versions.institution_key
            and {{ institution_version_valid_at('guest_versions', 'resolved.start_date') }}

)

select * from final
