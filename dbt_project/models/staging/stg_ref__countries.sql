with

source as (

    select * from {{ source('ref', 'countries') }}

),

renamed as (

    select
        cast(iso2 as varchar) as iso2,
        cast(iso3 as varchar) as iso3,
        cast(country_name as varchar) as country_name,
        cast(region as varchar) as region,
        cast(is_asean as boolean) as is_asean

    from source

)

select * from renamed
