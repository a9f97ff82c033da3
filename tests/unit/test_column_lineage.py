"""Column lineage parsed from a model's compiled SQL: what openlineage-sql can follow, and no
partial lineage where a star hides columns from it."""

from __future__ import annotations

import pytest

from libcoop.lineage.datasets import column_lineage

PARENTS = {"fct_visit": "marts.fct_visit"}


def node(sql: str, *columns: str) -> dict:
    columns = columns or ("visit_key", "event")
    return {"schema": "marts", "name": "visits", "compiled_code": sql, "columns": {c: {} for c in columns}}


def test_a_house_style_model_maps_each_column_to_its_parent_column() -> None:
    sql = (
        'with visits as (select * from "build"."marts"."fct_visit"), '
        "final as (select visit_key, event from visits) select * from final"
    )
    assert column_lineage(node(sql), PARENTS, "duckdb://b") == (
        ("event", (("duckdb://b", "marts.fct_visit", "event"),)),
        ("visit_key", (("duckdb://b", "marts.fct_visit", "visit_key"),)),
    )


@pytest.mark.parametrize(
    "select",
    [
        "select visits.*, visits.event as label from visits",
        "select\n    -- the fact's own columns\n    visits.*,\n    visits.event as label\nfrom visits",
        "select /* every column */ visits.*, visits.event as label from visits",
    ],
    ids=["star", "comment-before-star", "block-comment-before-star"],
)
def test_a_star_the_parser_cannot_expand_gives_no_lineage_rather_than_a_partial_one(select: str) -> None:
    sql = f'with visits as (select * from "build"."marts"."fct_visit"), final as ({select}) select * from final'
    # Only label could be followed (to visits.event): the fact's own columns would be missing.
    assert column_lineage(node(sql, "visit_key", "event", "label"), PARENTS, "duckdb://b") == ()
