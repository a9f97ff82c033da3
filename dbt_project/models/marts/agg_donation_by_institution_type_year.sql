-- Donations per start year, donor type, recipient type and recipient country: the table behind
-- "how much did foundations give to the national libraries of ASEAN countries, per year?".
-- Types and countries are those of the institution version valid at the donation's start date.
with

donations as (

    select * from {{ ref('fct_donation') }}

),

institution_versions as (

    select * from {{ ref('dim_institution_history') }}

),

countries as (

    select * from {{ ref('dim_country') }}

),

typed as (

    select
        donations.donation_key,
        donors.institution_type as donor_institution_type,
        recipients.institution_type as recipient_institution_type,
        recipients.country_key as recipient_country_key,
        donations.quantity,
        donations.amount_usd,
        donations.is_missing_fx_rate,
        cast(year(donations.start_date) as integer) as donation_year
    from donations
    inner join institution_versions as donors
        on donations.donor_institution_version_key = donors.institution_version_key
    inner join institution_versions as recipients
        on donations.recipient_institution_version_key = recipients.institution_version_key

),

aggregated as (

    select
        donation_year,
        donor_institution_type,
        recipient_institution_type,
        recipient_country_key,
        cast(sum(quantity) as bigint) as quantity,
        count(*) as donation_count,
        sum(amount_usd) as amount_usd,
        count(amount_usd) as amount_usd_count,
        count(case when is_missing_fx_rate then 1 end) as missing_fx_rate_count
    from typed
    group by
        donation_year,
        donor_institution_type,
        recipient_institution_type,
        recipient_country_key

),

final as (

    select
        {{ surrogate_key([
            'aggregated.donation_year',
            'aggregated.donor_institution_type',
            'aggregated.recipient_institution_type',
            'aggregated.recipient_country_key',
        ]) }} as institution_type_year_key,
        aggregated.donation_year,
        aggregated.donor_institution_type,
        aggregated.recipient_institution_type,
        aggregated.recipient_country_key,
        countries.iso2 as recipient_country_iso2,
        countries.region as recipient_region,
        countries.is_asean as is_recipient_asean,
        aggregated.donation_count,
        aggregated.quantity,
        aggregated.amount_usd,
        aggregated.amount_usd_count,
        aggregated.missing_fx_rate_count
    from aggregated
    left join countries
        on aggregated.recipient_country_key = countries.country_key

)

select * from final
