-- Visits and exchanges as people read them: one row per fct_visit row, institutions and countries
-- by name (English and native script), the start year and the last day of the end period.
-- A view over the marts. Its references carry no database name, so the view still works when
-- a BI tool opens the published file under another name.
with

visits as (

    select * from {{ ref('fct_visit').include(database=false) }}

),

institution_labels as (

    {{ readable_institution_labels() }}

),

country_labels as (

    {{ readable_country_labels() }}

),

resolved as (

    select
        visits.*,
        host_labels.institution_name as host_institution,
        host_labels.native_name as host_institution_native,
        host_labels.institution_type as host_institution_type,
        host_labels.wikidata_url as host_institution_wikidata,
        host_countries.country_name as host_country,
        host_countries.iso2 as host_country_iso2,
        guest_labels.institution_name as guest_institution,
        guest_labels.native_name as guest_institution_native,
        guest_labels.institution_type as guest_institution_type,
        guest_labels.wikidata_url as guest_institution_wikidata,
        guest_countries.country_name as guest_country,
        guest_countries.iso2 as guest_country_iso2,
        cast(year(visits.start_date) as integer) as start_year,
        {{ period_end('visits.end_date', 'visits.end_date_precision') }} as end_last_day
    from visits
    inner join institution_labels as host_labels
        on visits.host_institution_key = host_labels.institution_key
    inner join institution_labels as guest_labels
        on visits.guest_institution_key = guest_labels.institution_key
    inner join country_labels as host_countries
        on visits.host_country_key = host_countries.country_key
    inner join country_labels as guest_countries
        on visits.guest_country_key = guest_countries.country_key

),

final as (

    select
        visit_key,
        activity_type,
        host_institution,
        host_institution_native,
        host_institution_type,
        host_institution_wikidata,
        host_country,
        host_country_iso2,
        guest_institution,
        guest_institution_native,
        guest_institution_type,
        guest_institution_wikidata,
        guest_country,
        guest_country_iso2,
        start_year,
        start_date,
        start_date_precision,
        end_last_day as end_date,
        delegations,
        participants,
        event,
        program,
        city,
        host_institution_name as host_institution_as_written,
        guest_institution_name as guest_institution_as_written,
        source,
        file_path,
        record_id
    from resolved

)

select * from final
