"""The reference tables are written once per version of what they are made of, then reused."""

from __future__ import annotations

import duckdb

from libcoop.reference import reference_version, write_reference_tables


def test_reference_tables_are_written_once_per_version(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert write_reference_tables(con) is True
    # The libraries' facts only: the regions (VN in ASEAN) are the dbt seed `regions`.
    assert con.execute(
        "select iso2, iso3, un_subregion, continent from ref.countries where iso2 in ('TL', 'VN') order by iso2"
    ).fetchall() == [("TL", "TLS", "South-eastern Asia", "Asia"), ("VN", "VNM", "South-eastern Asia", "Asia")]
    assert con.execute(
        "select usd_per_unit from ref.fx_rates_yearly where currency = 'USD' and year = 2015"
    ).fetchall() == [(1.0,)]
    assert con.execute("select version from ref.reference_version").fetchall() == [(reference_version(),)]

    # Same libraries, same code: nothing rewritten (a marker row survives).
    con.execute("insert into ref.countries values ('XX', 'XXX', 'Marker', null, null)")
    assert write_reference_tables(con) is False
    assert con.execute("select count(*) from ref.countries where iso2 = 'XX'").fetchall() == [(1,)]

    # Another version recorded (a library upgrade): rewritten from the libraries, marker gone.
    con.execute("update ref.reference_version set version = 'pycountry==0.0'")
    assert write_reference_tables(con) is True
    assert con.execute("select count(*) from ref.countries where iso2 = 'XX'").fetchall() == [(0,)]
    assert con.execute("select count(*) from ref.countries").fetchall()[0][0] > 240
    con.close()
