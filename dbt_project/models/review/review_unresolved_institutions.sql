-- Work list for the curators of seeds/institution_aliases.csv: every institution name the alias
-- seeds could not resolve, with the spellings used and how many facts use it, most used first.
with

institution_names as (

    select * from {{ ref('int_institution_names_resolved') }}

),

mentions as (

    select * from {{ ref('int_institution_mentions_unioned') }}

),

unresolved_names as (

    select * from institution_names
    where not is_resolved

),

-- Only the mentions of unresolved names are counted: a handful of names among millions of mentions.
unresolved_mentions as (

    select * from mentions
    where exists (
        select 1 as found from unresolved_names
        where
            {{ same_institution_name('unresolved_names', 'mentions') }}
    )

),

usage as (

    select
        institution_name_normalized,
        country_iso2,
        count(distinct activity_family || '|' || file_path || '|' || source_row_number) as fact_count,
        count(distinct case when activity_family = 'membership' then file_path || '|' || source_row_number end)
            as membership_count,
        count(distinct case when activity_family = 'visit' then file_path || '|' || source_row_number end)
            as visit_count,
        count(distinct case when activity_family = 'donation' then file_path || '|' || source_row_number end)
            as donation_count,
        string_agg(distinct institution_role, ', ' order by institution_role) as institution_roles,
        string_agg(distinct institution_name, ' ; ' order by institution_name) as name_variants,
        string_agg(distinct file_path, ', ' order by file_path) as file_paths,
        min(activity_date) as first_activity_date,
        max(activity_date) as last_activity_date
    from unresolved_mentions
    group by institution_name_normalized, country_iso2

),

final as (

    select
        unresolved_names.institution_key,
        unresolved_names.institution_natural_key,
        unresolved_names.institution_name,
        unresolved_names.institution_name_normalized,
        unresolved_names.country_iso2,
        usage.fact_count,
        usage.membership_count,
        usage.visit_count,
        usage.donation_count,
        usage.institution_roles,
        usage.name_variants,
        usage.file_paths,
        usage.first_activity_date,
        usage.last_activity_date,
        unresolved_names.candidate_count > 1 as is_ambiguous
    from unresolved_names
    left join usage
        on
            {{ same_institution_name('unresolved_names', 'usage') }}

)

select * from final
