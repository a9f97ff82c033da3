-- Donations as people read them: one row per fct_donation row, donor and recipient by name
-- (English and native script), countries by name, the amount in its currency and in US dollars,
-- and a flag where no exchange rate is known. A view over the marts; its references carry no
-- database name, so it still works when a BI tool opens the published file under another name.
with

donations as (

    select * from {{ ref('fct_donation').include(database=false) }}

),

{{ readable_label_imports() }},

resolved as (

    -- donor_type is dim_institution's, like recipient_type (readable_institution_side), not the fact's.
    select
        donations.* exclude (donor_type),
        {{ readable_institution_side('donor', 'donor_', 'donor') }},
        {{ readable_institution_side('recipient', 'recipient_', 'recipient') }},
        cast(year(donations.start_date) as integer) as start_year,
        {{ period_end('donations.end_date', 'donations.end_date_precision') }} as end_last_day
    from donations
    {{ readable_institution_side_joins('donor', 'donor_', 'donations') }}
    {{ readable_institution_side_joins('recipient', 'recipient_', 'donations') }}

),

final as (

    select
        donation_key,
        donation_type,
        donor,
        donor_native,
        donor_type,
        donor_wikidata,
        donor_country,
        donor_country_iso2,
        recipient,
        recipient_native,
        recipient_type,
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
