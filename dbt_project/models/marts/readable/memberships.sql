-- Memberships as people read them: one row per fct_membership row, the member institution by
-- name (English and native script), its country and the organization by name, the join and
-- leave years. A view over the marts; its references carry no database name, so it still works
-- when a BI tool opens the published file under another name.
with

memberships as (

    select * from {{ ref('fct_membership').include(database=false) }}

),

organizations as (

    select * from {{ ref('dim_organization').include(database=false) }}

),

institutions as (

    select * from {{ ref('dim_institution').include(database=false) }}

),

native_names as (

    select * from {{ ref('institution_native_names').include(database=false) }}

),

countries as (

    select * from {{ ref('dim_country').include(database=false) }}

),

institution_labels as (

    select
        institutions.institution_key,
        institutions.institution_type,
        native_names.native_name,
        case
            when institutions.is_unknown_member then {{ unknown_label() }}
            else institutions.institution_name
        end as institution_name
    from institutions
    left join native_names
        on institutions.institution_code = native_names.institution_code

),

country_labels as (

    select
        country_key,
        iso2,
        case when is_unknown_member then {{ unknown_label() }} else country_name end as country_name
    from countries

),

organization_labels as (

    select
        organization_key,
        case when is_unknown_member then {{ unknown_label() }} else acronym end as acronym,
        case when is_unknown_member then {{ unknown_label() }} else organization_name end as organization_name
    from organizations

),

resolved as (

    select
        memberships.*,
        members.institution_name as institution,
        members.native_name as institution_native,
        members.institution_type,
        member_countries.country_name as country,
        member_countries.iso2 as country_iso2,
        member_organizations.acronym as organization,
        member_organizations.organization_name as organization_full_name,
        cast(year(memberships.joined_date) as integer) as joined_year,
        cast(year(memberships.left_date) as integer) as left_year
    from memberships
    inner join institution_labels as members
        on memberships.institution_key = members.institution_key
    inner join country_labels as member_countries
        on memberships.country_key = member_countries.country_key
    inner join organization_labels as member_organizations
        on memberships.organization_key = member_organizations.organization_key

),

final as (

    select
        membership_key,
        institution,
        institution_native,
        institution_type,
        country,
        country_iso2,
        organization,
        organization_full_name,
        membership_type,
        joined_year,
        joined_date,
        joined_date_precision,
        left_year,
        left_date,
        left_date_precision,
        is_active,
        institution_name as institution_as_written,
        organization_name as organization_as_written,
        source,
        file_path,
        record_id
    from resolved

)

select * from final
