-- Countries of the reference list, plus the unknown member 'ZZ'.
with

countries as (

    select * from {{ ref('stg_ref__countries') }}

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
        coalesce(is_asean, false) as is_asean,
        false as is_unknown_member
    from countries
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
