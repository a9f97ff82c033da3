with

source as (

    select * from {{ source('door', 'accepted_aliases') }}

),

-- alias keeps its name and type (varchar): the alias macros (macros/alias_names.sql) read a column called alias.
renamed as (

    select
        alias,
        cast(institution_code as varchar) as institution_code,
        cast(country_code as varchar) as country_iso2,
        cast(accepted_by as varchar) as accepted_by,
        cast(accepted_at as timestamptz) as accepted_at

    from source

)

select * from renamed
