-- Institutions as they are now: the current version of every institution of the curated list
-- (seed `institutions`, its history in dim_institution_history), every name the alias seeds could
-- not resolve (is_resolved = false), and the unknown member 'UNKNOWN' for empty or unknown sides.
with

institution_versions as (

    select * from {{ ref('int_institutions_versioned') }}

),

final as (

    select
        institution_key,
        institution_natural_key,
        institution_code,
        institution_name,
        institution_type,
        acronym,
        country_iso2,
        country_key,
        is_resolved,
        is_unknown_member,
        institution_version_key,
        version_number,
        valid_from
    from institution_versions
    -- An institution removed from the curated list has no current version: it leaves the
    -- dimension (no fact can resolve to it any more) and stays in dim_institution_history.
    where is_current

)

select * from final
