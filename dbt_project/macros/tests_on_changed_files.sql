{#
    The generic tests of the models that are incremental by file version (macros/file_versions.sql)
    look only at the rows of the files the last load brought in, when libcoop builds incrementally.

    The rows of the other files are those the published warehouse already tested with the same
    code: a change of code, seeds or reference data builds with --full-refresh, which tests every
    row, and so does any dbt command run without LIBCOOP_DBT_TEST_CHANGED_FILES=1 (libcoop sets it;
    an environment variable and not a --var, because a changed --var makes dbt parse the whole
    project again). The last load is the newest in audit.file_loads, the loader's record of every
    file of a night (libcoop.audit); `restored` is an earlier version back in force.
    A test's own `where` config is kept and combined with the filter.

    The singular tests that compare facts with what is made of them row by row do the same with
    rows_of_changed_files(), the `where` clause of their import CTEs (nothing on a full build): the
    files the last load brought in or removed, so a replaced or removed version's leftovers count.

    Both name the files as a list of literals (file_path_in() in file_versions.sql,
    read when the test runs):
    DuckDB pushes a constant filter through the joins of a view (marts.visits) down to the scan of
    its fact table, where a subquery on audit.file_loads would be applied only after the view's
    joins had run on every row.

    This overrides dbt's own get_where_subquery (global project, materializations/tests), which
    every generic test calls on the relation it tests.
#}
{% macro get_where_subquery(relation) -%}
    {%- set by_file_version = [
        'int_institution_mentions_unioned', 'fct_cooperation_activity', 'fct_activity_year_allocated',
    ] -%}
    {%- for fact in fact_tables() -%}
        {%- do by_file_version.extend([fact.resolved, fact.name]) -%}
    {%- endfor -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- if tests_on_changed_files() and relation.identifier in by_file_version -%}
        {%- do conditions.append(file_path_in(last_load_files())) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{% macro tests_on_changed_files() -%}
    {{ return(env_var('LIBCOOP_DBT_TEST_CHANGED_FILES', '') == '1' and not flags.FULL_REFRESH) }}
{%- endmacro %}

{% macro last_load_files(outcomes=['loaded', 'restored']) -%}
    select file_path from audit.file_loads where outcome in ('{{ outcomes | join("', '") }}') and load_id = (
        select load_id from audit.file_loads order by checked_at desc, load_id desc limit 1
    )
{%- endmacro %}

{% macro rows_of_changed_files() -%}
    {%- if tests_on_changed_files() -%}
        where {{ file_path_in(last_load_files(['loaded', 'restored', 'removed'])) }}
    {%- endif -%}
{%- endmacro %}
