-- Memberships with their institution, organization, country and date keys.
with

memberships as (

    select * from {{ ref('stg_raw__memberships') }}

),

institution_names as (

    select * from {{ ref('int_institution_names_resolved') }}

),

institution_versions as (

    select * from {{ ref('int_institutions_versioned') }}

),

organization_names as (

    select * from {{ ref('int_organization_names_resolved') }}

),

countries as (

    select * from {{ ref('stg_ref__countries') }}

),

normalized as (

    select
        *,
        {{ normalize_name('institution_name') }} as institution_name_normalized,
        {{ normalize_name('organization_name') }} as organization_name_normalized,
        coalesce(country_iso2, {{ unknown_country_iso2() }}) as country_iso2_or_unknown
    from memberships

),

resolved as (

    select
        {{ surrogate_key([
            'normalized.file_path',
            "coalesce('id:' || normalized.record_id, 'row:' || normalized.source_row_number)",
        ]) }} as membership_key,
        coalesce(
            institution_names.institution_key,
            {{ surrogate_key([unknown_institution_code()]) }}
        ) as institution_key,
        coalesce(
            organization_names.organization_key,
            {{ surrogate_key([unknown_organization_acronym()]) }}
        ) as organization_key,
        {{ surrogate_key([
            'coalesce(countries.iso2, ' ~ unknown_country_iso2() ~ ')'
        ]) }} as country_key,
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
        normalized.file_path,
        normalized.source_row_number,
        normalized.record_id,
        normalized.source,
        normalized.notes,
        normalized.reporting_country_iso2,
        normalized.content_hash,
        normalized.load_id
    from normalized
    left join institution_names
        on
            normalized.institution_name_normalized = institution_names.institution_name_normalized
            and normalized.country_iso2_or_unknown = institution_names.country_iso2
    left join organization_names
        on normalized.organization_name_normalized = organization_names.organization_name_normalized
    left join countries
        on normalized.country_iso2 = countries.iso2

),

-- The version of the member institution valid when the membership started.
final as (

    select
        resolved.*,
        member_versions.institution_version_key
    from resolved
    left join institution_versions as member_versions
        on
            resolved.institution_key = member_versions.institution_key
            and {{ institution_version_valid_at('member_versions', 'resolved.joined_date') }}

)

select * from final
