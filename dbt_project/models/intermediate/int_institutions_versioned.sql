-- Every version of every institution and the time range it is valid for: the versions of the
-- curated list recorded by the snapshot snap_institutions (SCD type 2), plus one version for each
-- name the alias seeds could not resolve and one for the unknown member. The first version of an
-- institution is valid from the start of the history (1900-01-01), so facts older than the first
-- build find a version; a later version is valid from the build that saw the change. Facts join
-- the version valid at their activity date (macro institution_version_valid_at).
with

institution_snapshots as (

    select * from {{ ref('snap_institutions') }}

),

institution_names as (

    select * from {{ ref('int_institution_names_resolved') }}

),

countries as (

    select * from {{ ref('stg_ref__countries') }}

),

curated_snapshots as (

    select
        institution_code,
        institution_name,
        institution_type,
        acronym,
        country_iso2,
        cast(dbt_valid_from as timestamp) as recorded_from,
        cast(dbt_valid_to as timestamp) as recorded_to
    from institution_snapshots
    where institution_code <> {{ unknown_institution_code() }}

),

curated_versions as (

    select
        institution_code as institution_natural_key,
        institution_code,
        institution_name,
        coalesce(institution_type, 'unknown') as institution_type,
        acronym,
        coalesce(country_iso2, {{ unknown_country_iso2() }}) as country_iso2,
        true as is_resolved,
        false as is_unknown_member,
        recorded_from,
        recorded_to,
        row_number() over (
            partition by institution_code order by recorded_from
        ) as version_number,
        lead(recorded_from) over (
            partition by institution_code order by recorded_from
        ) as next_recorded_from
    from curated_snapshots

),

curated as (

    select
        institution_natural_key,
        institution_code,
        institution_name,
        institution_type,
        acronym,
        country_iso2,
        is_resolved,
        is_unknown_member,
        cast(version_number as integer) as version_number,
        case
            when version_number = 1 then {{ institution_history_start() }}
            else recorded_from
        end as valid_from,
        -- A version lasts until the next one starts (an institution removed from the list and
        -- added back later keeps its old version for the gap), or until it was removed.
        coalesce(next_recorded_from, recorded_to, {{ institution_history_end() }}) as valid_to,
        recorded_to is null as is_current,
        recorded_from,
        recorded_to
    from curated_versions

),

-- A name the seeds do not resolve has no curated history: one version, always valid.
unresolved as (

    select
        institution_natural_key,
        cast(null as varchar) as institution_code,
        institution_name,
        -- What the coordinator said of a donor is the best type known for an unresolved name.
        coalesce(donor_type, 'unknown') as institution_type,
        cast(null as varchar) as acronym,
        country_iso2,
        false as is_resolved,
        false as is_unknown_member,
        {{ institution_single_version() }}
    from institution_names
    where not is_resolved

),

unknown_member as (

    select
        {{ unknown_institution_code() }} as institution_natural_key,
        {{ unknown_institution_code() }} as institution_code,
        'Unknown or unspecified' as institution_name,
        'unknown' as institution_type,
        cast(null as varchar) as acronym,
        {{ unknown_country_iso2() }} as country_iso2,
        false as is_resolved,
        true as is_unknown_member,
        {{ institution_single_version() }}

),

unioned as (

    select * from curated
    union all
    select * from unresolved
    union all
    select * from unknown_member

),

final as (

    select
        {{ surrogate_key(['unioned.institution_natural_key', 'unioned.valid_from']) }} as institution_version_key,
        {{ surrogate_key(['unioned.institution_natural_key']) }} as institution_key,
        unioned.institution_natural_key,
        unioned.institution_code,
        unioned.institution_name,
        unioned.institution_type,
        unioned.acronym,
        unioned.country_iso2,
        -- A country missing from the reference list points to the unknown country.
        {{ surrogate_key(['coalesce(countries.iso2, ' ~ unknown_country_iso2() ~ ')']) }} as country_key,
        unioned.is_resolved,
        unioned.is_unknown_member,
        unioned.version_number,
        unioned.valid_from,
        unioned.valid_to,
        unioned.is_current,
        unioned.recorded_from,
        unioned.recorded_to
    from unioned
    left join countries
        on unioned.country_iso2 = countries.iso2

)

select * from final
