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

{{ readable_label_imports() }},

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
        {{ readable_institution_side('member', '', 'institution') }},
        member_organizations.acronym as organization,
        member_organizations.organization_name as organization_full_name,
        cast(year(memberships.joined_date) as integer) as joined_year,
        cast(year(memberships.left_date) as integer) as left_year
    from memberships
    {{ readable_institution_side_joins('member', '', 'memberships') }}
    inner join organization_labels as member_organizations
        on memberships.organization_key = member_organizations.organization_key

),

final as (

    select
        membership_key,
        institution,
        institution_native,
        institution_type,
        institution_wikidata,
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
