-- Every fact row that names an institution the alias seeds could not resolve: the coordinator's
-- file and row, the name as written, the institution on the row's other side, and the closest
-- curated institutions of the name's own country. What the data-quality report shows each
-- reporting country as a warning (libcoop.quality.unresolved): such a row is missing from every
-- view of national libraries, since an unresolved institution has no type.
with

mentions as (

    select * from {{ ref('int_institution_mentions_unioned') }}

),

review_list as (

    select * from {{ ref('review_unresolved_institutions') }}

),

candidates as (

    select * from {{ ref('unresolved_institution_candidates') }}

),

unresolved_mentions as (

    select
        review_list.institution_key,
        mentions.activity_family,
        mentions.institution_role,
        mentions.file_path,
        mentions.source_row_number,
        mentions.institution_name,
        mentions.country_iso2,
        mentions.activity_date
    from mentions
    inner join review_list
        on
            {{ same_institution_name('mentions', 'review_list') }}

),

-- The other side of the same row: the host of a guest, the recipient of a donor.
other_sides as (

    select
        unresolved_mentions.file_path,
        unresolved_mentions.source_row_number,
        unresolved_mentions.institution_role,
        min(mentions.institution_name) as other_institution_name,
        min(mentions.country_iso2) as other_country_iso2
    from unresolved_mentions
    inner join mentions
        on
            unresolved_mentions.file_path = mentions.file_path
            and unresolved_mentions.source_row_number = mentions.source_row_number
            and unresolved_mentions.activity_family = mentions.activity_family
            and unresolved_mentions.institution_role <> mentions.institution_role
    group by all

),

candidate_names as (

    select
        institution_key,
        string_agg(
            candidate_institution_name || ' (' || candidate_alias || ')', '; ' order by candidate_rank
        ) as candidate_names
    from candidates
    group by institution_key

),

final as (

    select
        unresolved_mentions.institution_key,
        unresolved_mentions.file_path,
        unresolved_mentions.source_row_number,
        unresolved_mentions.activity_family,
        unresolved_mentions.institution_role,
        unresolved_mentions.institution_name,
        unresolved_mentions.country_iso2,
        unresolved_mentions.activity_date,
        other_sides.other_institution_name,
        other_sides.other_country_iso2,
        candidate_names.candidate_names,
        upper(split_part(unresolved_mentions.file_path, '/', 1)) as reporting_country
    from unresolved_mentions
    left join other_sides
        on
            unresolved_mentions.file_path = other_sides.file_path
            and unresolved_mentions.source_row_number = other_sides.source_row_number
            and unresolved_mentions.institution_role = other_sides.institution_role
    left join candidate_names
        on unresolved_mentions.institution_key = candidate_names.institution_key

)

select * from final
