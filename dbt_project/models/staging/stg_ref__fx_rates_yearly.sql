with

source as (

    select * from {{ source('ref', 'fx_rates_yearly') }}

),

renamed as (

    select
        cast(currency as varchar) as currency,
        cast(year as integer) as rate_year,
        cast(usd_per_unit as double) as usd_per_unit,
        cast(observation_days as integer) as observation_days

    from source

)

select * from renamed
