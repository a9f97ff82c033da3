-- Donations as people read them: one row per fct_donation row, donor and recipient by name
-- (English and native script), countries by name, the amount in its currency and in US dollars,
-- and a flag where no exchange rate is known. A view over the marts; its references carry no
-- database name, so it still works when a BI tool opens the published file under another name.
with

donations as (

    select * from {{ ref('fct_donation').include(database=false) }}

),

institution_labels as (

    {{ readable_institution_labels() }}

),

country_labels as (

    {{ readable_country_labels() }}

),

resolved as (

    select
        donations.*,
        donors.institution_name as donor,
        donors.native_name as donor_native,
        donors.institution_type as donor_institution_type,
        donors.wikidata_url as donor_wikidata,
        donor_countries.country_name as donor_country,
        donor_countries.iso2 as donor_country_iso2,
        recipients.institution_name as recipient,
        recipients.native_name as recipient_native,
        recipients.institution_type as recipient_institution_type,
        recipients.wikidata_url as recipient_wikidata,
        recipient_countries.country_name as recipient_country,
        recipient_countries.iso2 as recipient_country_iso2,
        cast(year(donations.start_date) as integer) as start_year,
        {{ period_end('donations.end_date', 'donations.end_date_precision') }} as end_last_day
    from donations
    inner join institution_labels as donors
        on donations.donor_institution_key = donors.institution_key
    inner join institution_labels as recipients
        on donations.recipient_institution_key = recipients.institution_key
    inner join country_labels as donor_countries
        on donations.donor_country_key = donor_countries.country_key
    inner join country_labels as recipient_countries
        on donations.recipient_country_key = recipient_countries.country_key

),

final as (

    select
        donation_key,
        donation_type,
        donor,
        donor_native,
        donor_institution_type as donor_type,
        donor_wikidata,
        donor_country,
        donor_country_iso2,
        recipient,
        recipient_native,
        recipient_institution_type as recipient_type,
        recipient_wikidata,
        recipient_country,
        recipient_country_iso2,
        start_year,
        start_date,
        start_date_precision,
        end_last_day as end_date,
        project,
        description,
        quantity,
        amount,
        currency,
        amount_usd,
        usd_per_unit,
        fx_rate_year,
        is_missing_fx_rate,
        donor_name as donor_as_written,
        recipient_institution_name as recipient_as_written,
        source,
        file_path,
        record_id
    from resolved

)

select * from final
