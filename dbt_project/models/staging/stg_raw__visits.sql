with

source as (

    select * from {{ source('raw', 'current_visits') }}

),

renamed as (

    select
        -- lineage (macros/lineage.sql)
        {{ raw_lineage_columns() }},

        -- visit
        cast(activity_type as varchar) as activity_type,
        cast(host_institution as varchar) as host_institution_name,
        cast(host_country as varchar) as host_country_iso2,
        cast(guest_institution as varchar) as guest_institution_name,
        cast(guest_country as varchar) as guest_country_iso2,
        cast(delegations as bigint) as delegations,
        cast(participants as bigint) as participants,
        cast(event as varchar) as event,
        cast(program as varchar) as program,
        cast(city as varchar) as city,

        -- dates
        cast(start_date as date) as start_date,
        cast(start_date_precision as varchar) as start_date_precision,
        cast(end_date as date) as end_date,
        cast(end_date_precision as varchar) as end_date_precision

    from source

)

select * from renamed
