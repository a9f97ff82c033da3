{#
    Last day of the period a (date, precision) pair stands for: a date of precision 'year' holds
    1 January and stands for the whole year, 'month' for the whole month, 'day' for itself.
#}
{% macro period_end(date_column, precision_column) -%}
    case {{ precision_column }}
        when 'year' then cast({{ date_column }} + interval 1 year - interval 1 day as date)
        when 'month' then cast({{ date_column }} + interval 1 month - interval 1 day as date)
        else {{ date_column }}
    end
{%- endmacro %}
