with

source as (

    select * from {{ source('door', 'accepted_aliases') }}

),

renamed as (

    select
        cast(alias as varchar) as alias,
        cast(institution_code as varchar) as institution_code,
        cast(country_code as varchar) as country_iso2,
        cast(accepted_by as varchar) as accepted_by,
        cast(accepted_at as timestamptz) as accepted_at

    from source

)

select * from renamed
