-- Institutions: the curated list (seed `institutions`), every name the alias seeds could not
-- resolve (is_resolved = false), and the unknown member 'UNKNOWN' for empty or unknown sides.
with

institutions as (

    select * from {{ ref('institutions') }}

),

institution_names as (

    select * from {{ ref('int_institution_names_resolved') }}

),

countries as (

    select * from {{ ref('stg_ref__countries') }}

),

curated as (

    select
        institution_code as institution_natural_key,
        institution_code,
        institution_name,
        coalesce(institution_type, 'unknown') as institution_type,
        acronym,
        coalesce(country_iso2, {{ unknown_country_iso2() }}) as country_iso2,
        true as is_resolved,
        false as is_unknown_member
    from institutions
    where institution_code <> {{ unknown_institution_code() }}

),

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
        false as is_unknown_member
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
        true as is_unknown_member

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
        unioned.is_unknown_member
    from unioned
    left join countries
        on unioned.country_iso2 = countries.iso2

)

select * from final
