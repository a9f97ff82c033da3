-- How much did foundations give to ASEAN national libraries per year?
-- Donor and recipient types are those valid at each donation's start date; a donation over
-- several years counts in its start year. donation_count includes gifts with no amount (books,
-- equipment): compare it with amount_usd_count.
with

donations as (

    select * from {{ ref('agg_donation_by_institution_type_year') }}

),

final as (

    select
        donation_year,
        sum(donation_count) as donation_count,
        sum(amount_usd_count) as amount_usd_count,
        sum(amount_usd) as amount_usd,
        sum(quantity) as quantity
    from donations
    where
        donor_institution_type = 'foundation'
        and recipient_institution_type = 'national_library'
        and is_recipient_asean
    group by donation_year

)

select * from final
order by donation_year
