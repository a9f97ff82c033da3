-- A donation with an amount is converted whenever ref.fx_rates_yearly has a rate for its
-- currency and start year (or the currency is USD), and flagged as missing only when it has none.
with

donations as (

    select * from {{ ref('fct_donation') }}

),

fx_rates as (

    select * from {{ ref('stg_ref__fx_rates_yearly') }}

),

checked as (

    select
        donations.donation_key,
        donations.file_path,
        donations.source_row_number,
        donations.amount,
        donations.currency,
        donations.amount_usd,
        donations.is_missing_fx_rate,
        fx_rates.usd_per_unit is not null or donations.currency = 'USD' as is_rate_known
    from donations
    left join fx_rates
        on
            donations.currency = fx_rates.currency
            and year(donations.start_date) = fx_rates.rate_year
    where donations.amount is not null

),

final as (

    select * from checked
    where
        (is_rate_known and (amount_usd is null or is_missing_fx_rate))
        or (not is_rate_known and (amount_usd is not null or not is_missing_fx_rate))

)

select * from final
