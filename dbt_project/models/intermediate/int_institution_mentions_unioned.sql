-- One row per institution name written in a fact row: member, host, guest, donor or recipient.
with

memberships as (

    select * from {{ ref('stg_raw__memberships') }}
    -- Incremental by file version (dbt_project.yml): only the versions not built yet.
    {{ new_file_versions() }}

),

visits as (

    select * from {{ ref('stg_raw__visits') }}
    -- Incremental by file version (dbt_project.yml): only the versions not built yet.
    {{ new_file_versions() }}

),

donations as (

    select * from {{ ref('stg_raw__donations') }}
    -- Incremental by file version (dbt_project.yml): only the versions not built yet.
    {{ new_file_versions() }}

),

member_mentions as (

    select
        'membership' as activity_family,
        'member' as institution_role,
        file_path,
        source_row_number,
        record_id,
        content_hash,
        institution_name,
        country_iso2,
        cast(null as varchar) as donor_type,
        joined_date as activity_date
    from memberships

),

host_mentions as (

    select
        'visit' as activity_family,
        'host' as institution_role,
        file_path,
        source_row_number,
        record_id,
        content_hash,
        host_institution_name as institution_name,
        host_country_iso2 as country_iso2,
        cast(null as varchar) as donor_type,
        start_date as activity_date
    from visits

),

guest_mentions as (

    select
        'visit' as activity_family,
        'guest' as institution_role,
        file_path,
        source_row_number,
        record_id,
        content_hash,
        guest_institution_name as institution_name,
        guest_country_iso2 as country_iso2,
        cast(null as varchar) as donor_type,
        start_date as activity_date
    from visits

),

donor_mentions as (

    select
        'donation' as activity_family,
        'donor' as institution_role,
        file_path,
        source_row_number,
        record_id,
        content_hash,
        donor_name as institution_name,
        donor_country_iso2 as country_iso2,
        donor_type,
        start_date as activity_date
    from donations

),

recipient_mentions as (

    select
        'donation' as activity_family,
        'recipient' as institution_role,
        file_path,
        source_row_number,
        record_id,
        content_hash,
        recipient_institution_name as institution_name,
        recipient_country_iso2 as country_iso2,
        cast(null as varchar) as donor_type,
        start_date as activity_date
    from donations

),

unioned as (

    select * from member_mentions
    union all
    select * from host_mentions
    union all
    select * from guest_mentions
    union all
    select * from donor_mentions
    union all
    select * from recipient_mentions

),

final as (

    select
        activity_family,
        institution_role,
        file_path,
        source_row_number,
        record_id,
        content_hash,
        institution_name,
        {{ normalize_name('institution_name') }} as institution_name_normalized,
        coalesce(country_iso2, {{ unknown_country_iso2() }}) as country_iso2,
        donor_type,
        activity_date
    from unioned
    -- An empty side (e.g. a multilateral conference) is no name: the facts point it to the unknown member.
    where {{ normalize_name('institution_name') }} <> ''

)

select * from final
