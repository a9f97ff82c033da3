-- Organizations: the curated list (seed `organizations`), every organization name the alias
-- seeds could not resolve (is_resolved = false), and the unknown member 'UNKNOWN'.
with

organizations as (

    select * from {{ ref('organizations') }}

),

organization_names as (

    select * from {{ ref('int_organization_names_resolved') }}

),

curated as (

    select
        acronym as organization_natural_key,
        acronym,
        organization_name,
        true as is_resolved,
        false as is_unknown_member
    from organizations
    where acronym <> {{ unknown_organization_acronym() }}

),

unresolved as (

    select
        organization_natural_key,
        -- An unresolved name is shown as written, e.g. an acronym the seeds do not know yet.
        organization_name as acronym,
        organization_name,
        false as is_resolved,
        false as is_unknown_member
    from organization_names
    where not is_resolved

),

unknown_member as (

    select
        {{ unknown_organization_acronym() }} as organization_natural_key,
        {{ unknown_organization_acronym() }} as acronym,
        'Unknown or not applicable' as organization_name,
        false as is_resolved,
        true as is_unknown_member

),

unioned as (

    select * from curated
    union all
    select * from unresolved
    union all
    select * from unknown_member

),

final as (

    select
        {{ surrogate_key(['organization_natural_key']) }} as organization_key,
        organization_natural_key,
        acronym,
        organization_name,
        is_resolved,
        is_unknown_member
    from unioned

)

select * from final
