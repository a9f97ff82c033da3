-- Donations with their donor and recipient institution, country and date keys, and the amount
-- converted to US dollars at the yearly average rate of the start year (NULL, and flagged, when
-- no rate is known: never guessed).
with

donations as (

    select * from {{ ref('stg_raw__donations') }}
    -- Incremental by file version (dbt_project.yml): only the versions not built yet.
    {{ new_file_versions() }}

),

-- The institutions, their versions and the countries the sides resolve through.
{{ institution_side_imports() }},

fx_rates as (

    select * from {{ ref('stg_ref__fx_rates_yearly') }}

),

normalized as (

    select
        *,
        {{ institution_side_inputs('donor_', 'donor_name', 'donor_country_iso2') }},
        {{ institution_side_inputs('recipient_', 'recipient_institution_name', 'recipient_country_iso2') }},
        cast(year(start_date) as integer) as fx_rate_year
    from donations

),

converted as (

    select
        normalized.*,
        -- A dollar is a dollar in every year, even before the ECB history starts.
        case
            when normalized.currency = 'USD' then 1.0
            else fx_rates.usd_per_unit
        end as usd_per_unit
    from normalized
    left join fx_rates
        on
            normalized.currency = fx_rates.currency
            and normalized.fx_rate_year = fx_rates.rate_year

),

resolved as (

    select
        {{ fact_row_key('converted') }} as donation_key,
        {{ institution_side_keys('donor', 'donor_') }},
        {{ institution_side_keys('recipient', 'recipient_') }},
        converted.donor_type,
        converted.donation_type,
        converted.project,
        converted.description,
        converted.quantity,
        converted.amount,
        converted.currency,
        converted.fx_rate_year,
        case when converted.amount is not null then converted.usd_per_unit end as usd_per_unit,
        converted.amount * converted.usd_per_unit as amount_usd,
        coalesce(converted.amount is not null and converted.usd_per_unit is null, false) as is_missing_fx_rate,
        {{ date_key('converted.start_date') }} as start_date_key,
        {{ date_key('converted.end_date') }} as end_date_key,
        converted.start_date,
        converted.start_date_precision,
        converted.end_date,
        converted.end_date_precision,
        converted.donor_name,
        converted.donor_country_iso2,
        converted.recipient_institution_name,
        converted.recipient_country_iso2,
        {{ lineage_columns('converted') }}
    from converted
    {{ institution_side_joins('donor', 'donor_', 'converted', 'donor_country_iso2') }}
    {{ institution_side_joins('recipient', 'recipient_', 'converted', 'recipient_country_iso2') }}

),

-- The versions of the donor and recipient institutions valid when the donation started.
final as (

    select
        resolved.*,
        {{ institution_side_version_key('donor', 'donor_') }},
        {{ institution_side_version_key('recipient', 'recipient_') }}
    from resolved
    {{ institution_side_version_join('donor', 'donor_', 'resolved', 'start_date') }}
    {{ institution_side_version_join('recipient', 'recipient_', 'resolved', 'start_date') }}

)

select * from final
