-- Donations with their donor and recipient institution, country and date keys, and the amount
-- converted to US dollars at the yearly average rate of the start year (NULL, and flagged, when
-- no rate is known: never guessed).
with

donations as (

    select * from {{ ref('stg_raw__donations') }}

),

institution_names as (

    select * from {{ ref('int_institution_names_resolved') }}

),

institution_versions as (

    select * from {{ ref('int_institutions_versioned') }}

),

countries as (

    select * from {{ ref('stg_ref__countries') }}

),

fx_rates as (

    select * from {{ ref('stg_ref__fx_rates_yearly') }}

),

normalized as (

    select
        *,
        {{ normalize_name('donor_name') }} as donor_name_normalized,
        {{ normalize_name('recipient_institution_name') }} as recipient_institution_name_normalized,
        coalesce(donor_country_iso2, {{ unknown_country_iso2() }}) as donor_country_iso2_or_unknown,
        coalesce(recipient_country_iso2, {{ unknown_country_iso2() }}) as recipient_country_iso2_or_unknown,
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
        {{ surrogate_key([
            'converted.file_path',
            "coalesce('id:' || converted.record_id, 'row:' || converted.source_row_number)",
        ]) }} as donation_key,
        coalesce(
            donor_names.institution_key,
            {{ surrogate_key([unknown_institution_code()]) }}
        ) as donor_institution_key,
        coalesce(
            recipient_names.institution_key,
            {{ surrogate_key([unknown_institution_code()]) }}
        ) as recipient_institution_key,
        {{ surrogate_key([
            'coalesce(donor_countries.iso2, ' ~ unknown_country_iso2() ~ ')'
        ]) }} as donor_country_key,
        {{ surrogate_key([
            'coalesce(recipient_countries.iso2, ' ~ unknown_country_iso2() ~ ')'
        ]) }} as recipient_country_key,
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
        converted.file_path,
        converted.source_row_number,
        converted.record_id,
        converted.source,
        converted.notes,
        converted.reporting_country_iso2,
        converted.content_hash,
        converted.load_id
    from converted
    left join institution_names as donor_names
        on
            converted.donor_name_normalized = donor_names.institution_name_normalized
            and converted.donor_country_iso2_or_unknown = donor_names.country_iso2
    left join institution_names as recipient_names
        on
            converted.recipient_institution_name_normalized = recipient_names.institution_name_normalized
            and converted.recipient_country_iso2_or_unknown = recipient_names.country_iso2
    left join countries as donor_countries
        on converted.donor_country_iso2 = donor_countries.iso2
    left join countries as recipient_countries
        on converted.recipient_country_iso2 = recipient_countries.iso2

),

-- The versions of the donor and recipient institutions valid when the donation started.
final as (

    select
        resolved.*,
        donor_versions.institution_version_key as donor_institution_version_key,
        recipient_versions.institution_version_key as recipient_institution_version_key
    from resolved
    left join institution_versions as donor_versions
        on
            resolved.donor_institution_key = donor_versions.institution_key
            and {{ institution_version_valid_at('donor_versions', 'resolved.start_date') }}
    left join institution_versions as recipient_versions
        on
            resolved.recipient_institution_key = recipient_versions.institution_key
            and {{ institution_version_valid_at('recipient_versions', 'resolved.start_date') }}

)

select * from final
