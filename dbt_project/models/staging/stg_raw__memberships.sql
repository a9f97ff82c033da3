with

source as (

    select * from {{ source('raw', 'current_memberships') }}

),

renamed as (

    select
        -- lineage (macros/lineage.sql)
        {{ raw_lineage_columns() }},

        -- membership
        cast(institution as varchar) as institution_name,
        cast(country as varchar) as country_iso2,
        cast(organization as varchar) as organization_name,
        cast(membership_type as varchar) as membership_type,

        -- dates
        cast(joined as date) as joined_date,
        cast(joined_precision as varchar) as joined_date_precision,
        cast("left" as date) as left_date,
        cast(left_precision as varchar) as left_date_precision

    from source

)

select * from renamed
