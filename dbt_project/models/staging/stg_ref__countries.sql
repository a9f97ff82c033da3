with

source as (

    select * from {{ source('ref', 'countries') }}

),

renamed as (

    select
        cast(iso2 as varchar) as iso2,
        cast(iso3 as varchar) as iso3,
        cast(country_name as varchar) as country_name,
        cast(un_subregion as varchar) as un_subregion,
        cast(continent as varchar) as continent

    from source

)

select * from renamed
