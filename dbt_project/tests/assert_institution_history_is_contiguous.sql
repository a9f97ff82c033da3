-- The versions of an institution follow each other without gap or overlap: the first starts at
-- the history's start (1900-01-01), each ends where the next starts, each ends after it starts,
-- and only the last one can be in force (ending 9999-12-31).
with

institution_versions as (

    select * from {{ ref('dim_institution_history') }}

),

sequenced as (

    select
        institution_key,
        institution_version_key,
        version_number,
        valid_from,
        valid_to,
        is_current,
        lead(valid_from) over (partition by institution_key order by version_number) as next_valid_from,
        lag(valid_to) over (partition by institution_key order by version_number) as previous_valid_to
    from institution_versions

),

final as (

    select * from sequenced
    where
        valid_from >= valid_to
        or (version_number = 1 and valid_from <> {{ institution_history_start() }})
        or (version_number > 1 and valid_from <> previous_valid_to)
        or (next_valid_from is not null and is_current)
        or (is_current and valid_to <> {{ institution_history_end() }})

)

select * from final
