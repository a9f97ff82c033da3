-- One row per institution name written in a fact row: member, host, guest, donor or recipient
-- (the kinds and their sides: macros/facts.sql).
with

{% for fact in fact_tables() %}
    {{ fact.kind }} as (

        select * from {{ ref('stg_raw__' ~ fact.kind) }}
        -- Incremental by file version (dbt_project.yml): only the versions not built yet.
        {{ new_file_versions() }}

    ),

{% endfor %}
unioned as (

    {% for side in fact_institution_sides() %}
        select
            '{{ side.family }}' as activity_family,
            '{{ side.role }}' as institution_role,
            file_path,
            source_row_number,
            record_id,
            content_hash,
            -- The member's columns have no prefix: no alias.
            {{ side.name }}{% if side.name != 'institution_name' %} as institution_name{% endif %},
            {{ side.country }}{% if side.country != 'country_iso2' %} as country_iso2{% endif %},
            -- Only a donor's type is written in the file.
            {{ 'donor_type' if side.role == 'donor' else 'cast(null as varchar) as donor_type' }},
            {{ side.date }} as activity_date
        from {{ side.kind }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        activity_family,
        institution_role,
        file_path,
        source_row_number,
        record_id,
        content_hash,
        institution_name,
        {{ normalize_name('institution_name') }} as institution_name_normalized,
        coalesce(country_iso2, {{ unknown_country_iso2() }}) as country_iso2,
        donor_type,
        activity_date
    from unioned
    -- An empty side (e.g. a multilateral conference) is no name: the facts point it to the unknown member.
    where {{ normalize_name('institution_name') }} <> ''

)

select * from final
