-- Visits and exchanges per pair of institutions (whoever hosted), start year and activity type:
-- the table behind "how many people did the libraries of China and Japan exchange since 1981?".
-- A pair is unordered: `institution` is the side whose (country, name) sorts first, so the
-- China-Japan pairs are the rows with country_iso2 'CN' and partner_country_iso2 'JP'. Names,
-- types and countries are those of the institution versions valid at the visit's start date.
-- A total over a period (e.g. 33 meetings 1981-2015) counts in its start year.
with

visits as (

    select * from {{ ref('fct_visit') }}

),

institution_versions as (

    select * from {{ ref('dim_institution_history') }}

),

-- The visits of each host and guest version, type and start year: the pair's sides are ordered
-- on these groups (per version, not per visit), then added up again.
directed as (

    select
        host_institution_version_key,
        guest_institution_version_key,
        activity_type,
        cast(year(start_date) as integer) as activity_year,
        sum(delegations) as delegations,
        sum(participants) as participants,
        count(*) as visit_count,
        count(participants) as participants_count,
        min(start_date) as first_start_date,
        max(end_date) as last_end_date
    from visits
    group by
        host_institution_version_key,
        guest_institution_version_key,
        activity_type,
        cast(year(start_date) as integer)

),

sides as (

    select
        directed.activity_type,
        directed.activity_year,
        directed.delegations,
        directed.participants,
        directed.visit_count,
        directed.participants_count,
        directed.first_start_date,
        directed.last_end_date,
        host_versions.institution_version_key as host_version_key,
        guest_versions.institution_version_key as guest_version_key,
        -- Sides sort by country, then name, then key.
        host_versions.country_iso2 || '|' || host_versions.institution_name || '|' || host_versions.institution_key
            as host_sort_key,
        guest_versions.country_iso2 || '|' || guest_versions.institution_name || '|' || guest_versions.institution_key
            as guest_sort_key
    from directed
    inner join institution_versions as host_versions
        on directed.host_institution_version_key = host_versions.institution_version_key
    inner join institution_versions as guest_versions
        on directed.guest_institution_version_key = guest_versions.institution_version_key

),

paired as (

    select
        activity_type,
        activity_year,
        delegations,
        participants,
        visit_count,
        participants_count,
        first_start_date,
        last_end_date,
        case
            when host_sort_key <= guest_sort_key then host_version_key else guest_version_key
        end as institution_version_key,
        case
            when host_sort_key <= guest_sort_key then guest_version_key else host_version_key
        end as partner_institution_version_key
    from sides

),

aggregated as (

    select
        institution_version_key,
        partner_institution_version_key,
        activity_type,
        activity_year,
        cast(sum(delegations) as bigint) as delegations,
        cast(sum(participants) as bigint) as participants,
        cast(sum(visit_count) as bigint) as visit_count,
        cast(sum(participants_count) as bigint) as participants_count,
        min(first_start_date) as first_start_date,
        max(last_end_date) as last_end_date
    from paired
    group by
        institution_version_key,
        partner_institution_version_key,
        activity_type,
        activity_year

),

final as (

    select
        {{ surrogate_key([
            'aggregated.institution_version_key',
            'aggregated.partner_institution_version_key',
            'aggregated.activity_year',
            'aggregated.activity_type',
        ]) }} as institution_pair_year_key,
        institutions.institution_key,
        aggregated.institution_version_key,
        institutions.institution_name,
        institutions.institution_type,
        institutions.country_iso2,
        partners.institution_key as partner_institution_key,
        aggregated.partner_institution_version_key,
        partners.institution_name as partner_institution_name,
        partners.institution_type as partner_institution_type,
        partners.country_iso2 as partner_country_iso2,
        aggregated.activity_year,
        aggregated.activity_type,
        aggregated.visit_count,
        aggregated.delegations,
        aggregated.participants,
        aggregated.participants_count,
        aggregated.first_start_date,
        aggregated.last_end_date
    from aggregated
    inner join institution_versions as institutions
        on aggregated.institution_version_key = institutions.institution_version_key
    inner join institution_versions as partners
        on aggregated.partner_institution_version_key = partners.institution_version_key

)

select * from final
