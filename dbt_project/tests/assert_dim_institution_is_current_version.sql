-- dim_institution shows the version in force of each institution: one row per current version
-- of dim_institution_history, with the same attributes, and nothing else.
with

institutions as (

    select * from {{ ref('dim_institution') }}

),

institution_versions as (

    select * from {{ ref('dim_institution_history') }}

),

current_versions as (

    select * from institution_versions
    where is_current

),

compared as (

    select
        institutions.institution_version_key as dim_version_key,
        current_versions.institution_version_key as history_version_key,
        institutions.institution_name,
        current_versions.institution_name as history_institution_name,
        institutions.institution_type,
        current_versions.institution_type as history_institution_type,
        institutions.country_iso2,
        current_versions.country_iso2 as history_country_iso2,
        institutions.acronym,
        current_versions.acronym as history_acronym,
        coalesce(institutions.institution_key, current_versions.institution_key) as institution_key
    from institutions
    full outer join current_versions
        on institutions.institution_version_key = current_versions.institution_version_key

),

final as (

    select * from compared
    where
        dim_version_key is null
        or history_version_key is null
        or institution_name is distinct from history_institution_name
        or institution_type is distinct from history_institution_type
        or country_iso2 is distinct from history_country_iso2
        or acronym is distinct from history_acronym

)

select * from final
