with

source as (

    select * from {{ source('raw', 'current_donations') }}

),

renamed as (

    select
        -- lineage (macros/lineage.sql)
        {{ raw_lineage_columns() }},

        -- donation
        cast(donor as varchar) as donor_name,
        cast(donor_country as varchar) as donor_country_iso2,
        cast(donor_type as varchar) as donor_type,
        cast(recipient_institution as varchar) as recipient_institution_name,
        cast(recipient_country as varchar) as recipient_country_iso2,
        cast(donation_type as varchar) as donation_type,
        cast(project as varchar) as project,
        cast(description as varchar) as description,
        cast(quantity as bigint) as quantity,
        cast(amount as double) as amount,
        cast(currency as varchar) as currency,

        -- dates
        cast(start_date as date) as start_date,
        cast(start_date_precision as varchar) as start_date_precision,
        cast(end_date as date) as end_date,
        cast(end_date_precision as varchar) as end_date_precision

    from source

)

select * from renamed
