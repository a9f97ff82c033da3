-- The three families of cooperation in one grain: one row per membership, visit or donation.
-- institution = member, host or recipient; partner = guest or donor (unknown for memberships);
-- organization = the organization of a membership (unknown for visits and donations).
with

memberships as (

    select * from {{ ref('fct_membership') }}
    -- Incremental by file version (dbt_project.yml): only the versions not built yet.
    {{ new_file_versions() }}

),

visits as (

    select * from {{ ref('fct_visit') }}
    -- Incremental by file version (dbt_project.yml): only the versions not built yet.
    {{ new_file_versions() }}

),

donations as (

    select * from {{ ref('fct_donation') }}
    -- Incremental by file version (dbt_project.yml): only the versions not built yet.
    {{ new_file_versions() }}

),

membership_activities as (

    select
        membership_key as activity_key,
        'membership' as activity_family,
        'membership' as activity_type,
        institution_key,
        {{ surrogate_key([unknown_institution_code()]) }} as partner_institution_key,
        institution_version_key,
        {{ surrogate_key([unknown_institution_code(), institution_history_start()]) }}
            as partner_institution_version_key,
        organization_key,
        country_key,
        {{ surrogate_key([unknown_country_iso2()]) }} as partner_country_key,
        joined_date_key as date_key,
        left_date_key as end_date_key,
        joined_date_precision as date_precision,
        cast(null as bigint) as delegations,
        cast(null as bigint) as participants,
        cast(null as bigint) as quantity,
        cast(null as double) as amount_usd,
        {{ lineage_columns(exclude=['notes', 'reporting_country_iso2']) }}
    from memberships

),

visit_activities as (

    select
        visit_key as activity_key,
        'visit' as activity_family,
        activity_type,
        {{ activity_institution_sides('host_', 'guest_') }},
        start_date_key as date_key,
        end_date_key,
        start_date_precision as date_precision,
        delegations,
        participants,
        cast(null as bigint) as quantity,
        cast(null as double) as amount_usd,
        {{ lineage_columns(exclude=['notes', 'reporting_country_iso2']) }}
    from visits

),

donation_activities as (

    select
        donation_key as activity_key,
        'donation' as activity_family,
        donation_type as activity_type,
        {{ activity_institution_sides('recipient_', 'donor_') }},
        start_date_key as date_key,
        end_date_key,
        start_date_precision as date_precision,
        cast(null as bigint) as delegations,
        cast(null as bigint) as participants,
        quantity,
        amount_usd,
        {{ lineage_columns(exclude=['notes', 'reporting_country_iso2']) }}
    from donations

),

final as (

    select * from membership_activities
    union all
    select * from visit_activities
    union all
    select * from donation_activities

)

select * from final
