-- Every version of every institution (SCD type 2): what the curated list said of an institution
-- (name, type, country, acronym) over time. Facts carry the key of the version valid at their
-- activity date (`*_institution_version_key`), dim_institution the current one.
with

institution_versions as (

    select * from {{ ref('int_institutions_versioned') }}

),

final as (

    select
        institution_version_key,
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
        version_number,
        valid_from,
        valid_to,
        is_current,
        recorded_from,
        recorded_to
    from institution_versions

)

select * from final
