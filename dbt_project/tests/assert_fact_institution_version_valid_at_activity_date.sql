-- Every fact points, for each of its institutions, to a version of that same institution that is
-- valid at the fact's activity date (joined date of a membership, start date of a visit or
-- donation): old facts keep the version they happened under. A fact older than the history's
-- start takes the first version.
with

memberships as (

    select * from {{ ref('fct_membership') }}

),

visits as (

    select * from {{ ref('fct_visit') }}

),

donations as (

    select * from {{ ref('fct_donation') }}

),

institution_versions as (

    select * from {{ ref('dim_institution_history') }}

),

fact_versions as (

    select
        'fct_membership' as fact_table,
        'member' as institution_role,
        membership_key as fact_key,
        institution_key,
        institution_version_key,
        joined_date as activity_date
    from memberships

    union all

    select
        'fct_visit' as fact_table,
        'host' as institution_role,
        visit_key as fact_key,
        host_institution_key as institution_key,
        host_institution_version_key as institution_version_key,
        start_date as activity_date
    from visits

    union all

    select
        'fct_visit' as fact_table,
        'guest' as institution_role,
        visit_key as fact_key,
        guest_institution_key as institution_key,
        guest_institution_version_key as institution_version_key,
        start_date as activity_date
    from visits

    union all

    select
        'fct_donation' as fact_table,
        'donor' as institution_role,
        donation_key as fact_key,
        donor_institution_key as institution_key,
        donor_institution_version_key as institution_version_key,
        start_date as activity_date
    from donations

    union all

    select
        'fct_donation' as fact_table,
        'recipient' as institution_role,
        donation_key as fact_key,
        recipient_institution_key as institution_key,
        recipient_institution_version_key as institution_version_key,
        start_date as activity_date
    from donations

),

checked as (

    select
        fact_versions.*,
        institution_versions.institution_key as version_institution_key,
        institution_versions.valid_from,
        institution_versions.valid_to
    from fact_versions
    left join institution_versions
        on fact_versions.institution_version_key = institution_versions.institution_version_key

),

final as (

    select checked.* from checked
    where
        checked.version_institution_key is null
        or checked.version_institution_key <> checked.institution_key
        or not ({{ institution_version_valid_at('checked', 'activity_date') }})

)

select * from final
