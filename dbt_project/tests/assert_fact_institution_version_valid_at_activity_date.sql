-- Every fact points, for each of its institutions, to a version of that same institution that is
-- valid at the fact's activity date (joined date of a membership, start date of a visit or
-- donation): old facts keep the version they happened under. A fact older than the history's
-- start takes the first version.
with

institution_versions as (

    select * from {{ ref('dim_institution_history') }}

),

fact_versions as (

    {% for side in fact_institution_sides() %}
        select
            '{{ side.fact }}' as fact_table,
            '{{ side.role }}' as institution_role,
            {{ side.key }} as fact_key,
            -- The member's columns have no prefix: no alias.
            {{ side.prefix }}institution_key{% if side.prefix %} as institution_key{% endif %},
            {{ side.prefix }}institution_version_key{% if side.prefix %} as institution_version_key{% endif %},
            {{ side.date }} as activity_date
        from {{ ref(side.fact) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

checked as (

    select
        fact_versions.*,
        institution_versions.institution_key as version_institution_key,
        institution_versions.valid_from,
        institution_versions.valid_to
    from fact_versions
    left join institution_versions
        on fact_versions.institution_version_key = institution_versions.institution_version_key

),

final as (

    select checked.* from checked
    where
        checked.version_institution_key is null
        or checked.version_institution_key <> checked.institution_key
        or not ({{ institution_version_valid_at('checked', 'activity_date') }})

)

select * from final
