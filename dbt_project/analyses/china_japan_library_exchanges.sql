-- How many people did the libraries of China and Japan exchange since 1981?
-- Both directions (whoever hosted), libraries only (national libraries and other libraries, as
-- typed at the visit's date); a total over a period counts in its start year. visit_count
-- includes visits that give no number of participants: compare it with participants_count.
with

visit_pairs as (

    select * from {{ ref('agg_visit_by_institution_pair_year') }}

),

final as (

    select
        sum(visit_count) as visit_count,
        sum(delegations) as delegations,
        sum(participants) as participants,
        sum(participants_count) as participants_count,
        min(activity_year) as first_year,
        max(activity_year) as last_year
    from visit_pairs
    where
        country_iso2 = 'CN'
        and partner_country_iso2 = 'JP'
        and institution_type in ('national_library', 'library')
        and partner_institution_type in ('national_library', 'library')
        and activity_year >= 1981

)

select * from final
