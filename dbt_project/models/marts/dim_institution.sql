-- Institutions as they are now: the current version of every institution of the curated list
-- (seed `institutions`, its history in dim_institution_history), every name the alias seeds could
-- not resolve (is_resolved = false), and the unknown member 'UNKNOWN' for empty or unknown sides.
-- isil, wikidata_qid and viaf_id come from the curated seed institution_identifiers (NULL where
-- no source confirmed a value).
with

institution_versions as (

    select * from {{ ref('int_institutions_versioned') }}

),

identifiers as (

    select * from {{ ref('institution_identifiers') }}

),

final as (

    select
        institution_versions.institution_key,
        institution_versions.institution_natural_key,
        institution_versions.institution_code,
        institution_versions.institution_name,
        institution_versions.institution_type,
        institution_versions.acronym,
        institution_versions.country_iso2,
        institution_versions.country_key,
        institution_versions.is_resolved,
        institution_versions.is_unknown_member,
        institution_versions.institution_version_key,
        institution_versions.version_number,
        institution_versions.valid_from,
        identifiers.isil,
        identifiers.wikidata_qid,
        identifiers.viaf_id
    from institution_versions
    -- Only curated institutions have identifiers: an unresolved name never borrows a code's.
    left join identifiers
        on
            institution_versions.is_resolved
            and institution_versions.institution_code = identifiers.institution_code
    -- An institution removed from the curated list has no current version: it leaves the
    -- dimension (no fact can resolve to it any more) and stays in dim_institution_history.
    where institution_versions.is_current

)

select * from final
