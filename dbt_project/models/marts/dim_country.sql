-- Countries of the reference list with their region (seed regions by UN sub-region, else the
-- continent), plus the unknown member 'ZZ'.
with

countries as (

    select * from {{ ref('stg_ref__countries') }}

),

regions as (

    select * from {{ ref('regions') }}

),

countries_with_regions as (

    select
        countries.iso2,
        countries.iso3,
        countries.country_name,
        coalesce(regions.region, countries.continent, 'Other') as region
    from countries
    left join regions
        on countries.un_subregion = regions.un_subregion

),

unknown_member as (

    select
        {{ unknown_country_iso2() }} as iso2,
        'ZZZ' as iso3,
        'Unknown' as country_name,
        'Unknown' as region,
        false as is_asean,
        true as is_unknown_member

),

unioned as (

    select
        iso2,
        iso3,
        country_name,
        region,
        region = 'ASEAN' as is_asean,
        false as is_unknown_member
    from countries_with_regions
    where iso2 <> {{ unknown_country_iso2() }}

    union all

    select * from unknown_member

),

final as (

    select
        {{ surrogate_key(['iso2']) }} as country_key,
        iso2,
        iso3,
        country_name,
        region,
        is_asean,
        is_unknown_member
    from unioned

)

select * from final
