-- Every institution made of a name the seeds could not resolve is on the curators' work list
-- (review_unresolved_institutions), and the work list holds nothing else.
with

institutions as (

    select * from {{ ref('dim_institution') }}

),

review_list as (

    select * from {{ ref('review_unresolved_institutions') }}

),

unresolved as (

    select * from institutions
    where not is_resolved and not is_unknown_member

),

final as (

    select
        unresolved.institution_name as dimension_name,
        review_list.institution_name as review_name,
        coalesce(unresolved.institution_key, review_list.institution_key) as institution_key
    from unresolved
    full outer join review_list
        on unresolved.institution_key = review_list.institution_key
    where unresolved.institution_key is null or review_list.institution_key is null

)

select * from final
