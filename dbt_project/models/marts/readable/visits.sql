-- Visits and exchanges as people read them: one row per fct_visit row, institutions and countries
-- by name (English and native script), the start year and the last day of the end period.
-- A view over the marts. Its references carry no database name, so the view still works when
-- a BI tool opens the published file under another name.
with

visits as (

    select * from {{ ref('fct_visit').include(database=false) }}

),

{{ readable_label_imports() }},

resolved as (

    select
        visits.*,
        {{ readable_institution_side('host', 'host_', 'host_institution') }},
        {{ readable_institution_side('guest', 'guest_', 'guest_institution') }},
        cast(year(visits.start_date) as integer) as start_year,
        {{ period_end('visits.end_date', 'visits.end_date_precision') }} as end_last_day
    from visits
    {{ readable_institution_side_joins('host', 'host_', 'visits') }}
    {{ readable_institution_side_joins('guest', 'guest_', 'visits') }}

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
