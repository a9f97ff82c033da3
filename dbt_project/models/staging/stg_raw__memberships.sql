with

source as (

    select * from {{ source('raw', 'current_memberships') }}

),

renamed as (

    select
        -- lineage
        cast(file_path as varchar) as file_path,
        cast(content_hash as varchar) as content_hash,
        cast(load_id as varchar) as load_id,
        cast(source_row_number as integer) as source_row_number,
        cast(reporting_country as varchar) as reporting_country_iso2,
        cast(record_id as varchar) as record_id,
        cast(source as varchar) as source,
        cast(notes as varchar) as notes,

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
