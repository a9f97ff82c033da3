with

source as (

    select * from {{ source('raw', 'file_versions') }}

),

renamed as (

    select
        cast(file_path as varchar) as file_path,
        cast(content_hash as varchar) as content_hash,
        cast(country_code as varchar) as reporting_country_iso2,
        cast(kind as varchar) as kind,
        cast(load_id as varchar) as load_id,
        cast(loaded_at as timestamp) as loaded_at,
        cast(row_count as integer) as row_count,
        cast(is_current as boolean) as is_current

    from source

)

select * from renamed
