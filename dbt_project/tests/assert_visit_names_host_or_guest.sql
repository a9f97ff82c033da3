-- A visit names at least one of its host and guest institutions (docs/contract.md, section 1): both
-- sides can never point to the unknown member.
with

visits as (

    select * from {{ ref('fct_visit') }}

),

final as (

    select
        visit_key,
        file_path,
        source_row_number,
        host_institution_key,
        guest_institution_key
    from visits
    where
        host_institution_key = {{ surrogate_key([unknown_institution_code()]) }}
        and guest_institution_key = {{ surrogate_key([unknown_institution_code()]) }}

)

select * from final
