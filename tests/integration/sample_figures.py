"""Figures of the seed documents, as queries on a published warehouse built from the sample drop."""

from __future__ import annotations

import duckdb


def nlc_ndl_business_meetings_since_1981(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(delegations, participants) of the NLC-NDL themed business meetings reported since 1981."""
    return con.execute(
        """
        select sum(v.delegations), sum(v.participants)
        from marts.fct_visit as v
        inner join marts.dim_institution as h on v.host_institution_key = h.institution_key
        inner join marts.dim_institution as g on v.guest_institution_key = g.institution_key
        inner join marts.dim_date as d on v.start_date_key = d.date_key
        where v.activity_type = 'business_exchange' and d.year = 1981
          and list_sort([h.institution_code, g.institution_code]) = ['NDL', 'NLC']
        """
    ).fetchone()
