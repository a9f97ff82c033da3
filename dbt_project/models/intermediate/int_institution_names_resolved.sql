-- One row per distinct (normalized name, country) written in the facts, resolved to a canonical
-- institution through the alias seeds and the aliases curators accepted in the coordinators' door,
-- or kept as an unresolved institution of its own.
with

mentions as (

    select * from {{ ref('int_institution_mentions_unioned') }}

),

institutions as (

    select * from {{ ref('institutions') }}

),

institution_aliases as (

    select * from {{ ref('institution_aliases') }}

),

accepted_aliases as (

    select * from {{ ref('stg_door__accepted_aliases') }}

),

-- The curated aliases and those curators accepted in the door. Like every alias, an accepted one
-- resolves a name only to an institution of the name's own country (name_candidates below).
aliases as (

    select
        alias,
        institution_code
    from institution_aliases

    union all

    select
        alias,
        institution_code
    from accepted_aliases

),

-- Names that resolve: the curated aliases, plus each institution's own code, name and acronym.
alias_candidates as (

    {{ alias_names(
        'aliases', 'institutions', 'institution_code',
        own_name_columns=['institution_code', 'institution_name', 'acronym']
    ) }}

),

-- Only codes of the curated institution list can be matched (an alias to a missing code is ignored).
candidates as (

    select
        alias_candidates.name_normalized,
        institutions.institution_code,
        institutions.country_iso2 as institution_country_iso2
    from alias_candidates
    inner join institutions
        on alias_candidates.institution_code = institutions.institution_code
    where alias_candidates.name_normalized <> ''

),

distinct_names as (

    select
        institution_name_normalized,
        country_iso2,
        -- The most used spelling names an unresolved institution.
        mode(institution_name order by institution_name) as institution_name,
        mode(donor_type order by donor_type) as donor_type,
        count(*) as mention_count
    from mentions
    group by institution_name_normalized, country_iso2

),

-- A name resolves only among the institutions of the row's stated country (contract section 1):
-- an alias shared by institutions of several countries (e.g. an acronym) resolves to the one of
-- the name's own country; a name still matching several institutions stays unresolved.
name_candidates as (

    select
        distinct_names.institution_name_normalized,
        distinct_names.country_iso2,
        candidates.institution_code,
        rank() over (
            partition by distinct_names.institution_name_normalized, distinct_names.country_iso2
            order by
                case
                    when candidates.institution_country_iso2 = distinct_names.country_iso2 then 0
                    else 1
                end
        ) as candidate_rank
    from distinct_names
    inner join candidates
        on
            distinct_names.institution_name_normalized = candidates.name_normalized
            and distinct_names.country_iso2 = candidates.institution_country_iso2

),

best_candidates as (

    select
        institution_name_normalized,
        country_iso2,
        min(institution_code) as institution_code,
        count(distinct institution_code) as candidate_count
    from name_candidates
    where candidate_rank = 1
    group by institution_name_normalized, country_iso2

),

resolved as (

    select
        distinct_names.institution_name_normalized,
        distinct_names.country_iso2,
        distinct_names.institution_name,
        distinct_names.donor_type,
        distinct_names.mention_count,
        coalesce(best_candidates.candidate_count, 0) as candidate_count,
        case
            when best_candidates.candidate_count = 1 then best_candidates.institution_code
        end as institution_code
    from distinct_names
    left join best_candidates
        on
            {{ same_institution_name('distinct_names', 'best_candidates') }}

),

natural_keys as (

    select
        *,
        institution_code is not null as is_resolved,
        coalesce(
            institution_code,
            'unresolved|' || institution_name_normalized || '|' || country_iso2
        ) as institution_natural_key
    from resolved

),

final as (

    select
        {{ surrogate_key(['institution_natural_key']) }} as institution_key,
        institution_natural_key,
        institution_code,
        is_resolved,
        institution_name_normalized,
        country_iso2,
        institution_name,
        donor_type,
        mention_count,
        candidate_count
    from natural_keys

)

select * from final
