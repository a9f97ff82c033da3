-- Every native name of the curated seeds is a spelling that resolves to its own institution
-- (contract section 1: native-script names are aliases like any other). A native name added to
-- seeds/institution_native_names.csv without its alias in seeds/institution_aliases.csv fails here.
with

native_names as (

    select * from {{ ref('institution_native_names') }}

),

institution_aliases as (

    select * from {{ ref('institution_aliases') }}

),

institutions as (

    select * from {{ ref('institutions') }}

),

-- What int_institution_names_resolved matches names against.
alias_candidates as (

    {{ alias_names(
        'institution_aliases', 'institutions', 'institution_code',
        own_name_columns=['institution_code', 'institution_name', 'acronym']
    ) }}

),

resolutions as (

    select
        native_names.institution_code,
        native_names.native_name,
        count(distinct alias_candidates.institution_code) as resolved_codes,
        bool_or(alias_candidates.institution_code = native_names.institution_code) as resolves_to_itself
    from native_names
    left join alias_candidates
        on {{ normalize_name('native_names.native_name') }} = alias_candidates.name_normalized
    group by native_names.institution_code, native_names.native_name

),

final as (

    select * from resolutions
    where resolved_codes <> 1 or not coalesce(resolves_to_itself, false)

)

select * from final
