-- Keys are stable across rebuilds (docs/contract.md, section 2): an institution's key is the md5 of
-- its natural key only, whatever its versions say. A curated institution's natural key is its
-- code, an unresolved name's 'unresolved|<normalized name>|<country iso2>'; every version of an
-- institution carries the same key.
with

institution_versions as (

    select * from {{ ref('dim_institution_history') }}

),

final as (

    select
        institution_version_key,
        institution_key,
        institution_natural_key,
        institution_code,
        is_resolved
    from institution_versions
    where
        institution_key <> md5(institution_natural_key)
        or (institution_code is not null and institution_natural_key <> institution_code)
        or (institution_code is null and institution_natural_key not like 'unresolved|%')
        or (is_resolved and institution_code is null)

)

select * from final
