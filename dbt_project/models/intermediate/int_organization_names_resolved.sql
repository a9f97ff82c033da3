-- One row per distinct organization name written in the memberships, resolved to a curated
-- organization through the alias seeds, or kept as an unresolved organization of its own.
with

memberships as (

    select * from {{ ref('stg_raw__memberships') }}

),

organizations as (

    select * from {{ ref('organizations') }}

),

organization_aliases as (

    select * from {{ ref('organization_aliases') }}

),

-- Names that resolve: the curated aliases, plus each organization's own acronym and name.
alias_candidates as (

    {{ alias_names('organization_aliases', 'organizations', 'acronym', ['acronym', 'organization_name']) }}

),

-- Only acronyms of the curated organization list can be matched.
candidates as (

    select
        alias_candidates.name_normalized,
        min(organizations.acronym) as acronym,
        count(distinct organizations.acronym) as candidate_count
    from alias_candidates
    inner join organizations
        on alias_candidates.acronym = organizations.acronym
    where alias_candidates.name_normalized <> ''
    group by alias_candidates.name_normalized

),

distinct_names as (

    select
        {{ normalize_name('organization_name') }} as organization_name_normalized,
        mode(organization_name order by organization_name) as organization_name,
        count(*) as mention_count
    from memberships
    where {{ normalize_name('organization_name') }} <> ''
    group by {{ normalize_name('organization_name') }}

),

resolved as (

    select
        distinct_names.organization_name_normalized,
        distinct_names.organization_name,
        distinct_names.mention_count,
        coalesce(candidates.candidate_count, 0) as candidate_count,
        case when candidates.candidate_count = 1 then candidates.acronym end as acronym
    from distinct_names
    left join candidates
        on distinct_names.organization_name_normalized = candidates.name_normalized

),

natural_keys as (

    select
        *,
        acronym is not null as is_resolved,
        coalesce(acronym, 'unresolved|' || organization_name_normalized) as organization_natural_key
    from resolved

),

final as (

    select
        {{ surrogate_key(['organization_natural_key']) }} as organization_key,
        organization_natural_key,
        acronym,
        is_resolved,
        organization_name_normalized,
        organization_name,
        mention_count,
        candidate_count
    from natural_keys

)

select * from final
