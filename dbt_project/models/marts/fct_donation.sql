-- One row per reported gift, grant or funded project, totalled over its period.
with

donations as (

    select * from {{ ref('int_donations_converted') }}
    -- Incremental by file version (dbt_project.yml): only the versions not built yet.
    {{ new_file_versions() }}

),

final as (

    select
        donation_key,
        donor_institution_key,
        recipient_institution_key,
        donor_institution_version_key,
        recipient_institution_version_key,
        donor_country_key,
        recipient_country_key,
        donor_type,
        donation_type,
        project,
        description,
        quantity,
        amount,
        currency,
        amount_usd,
        usd_per_unit,
        fx_rate_year,
        is_missing_fx_rate,
        start_date_key,
        end_date_key,
        start_date,
        start_date_precision,
        end_date,
        end_date_precision,
        donor_name,
        recipient_institution_name,
        {{ lineage_columns() }}
    from donations

)

select * from final
