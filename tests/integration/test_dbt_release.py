"""After ``dbt build`` in this process, the build file is closed: nothing of dbt-duckdb is left to
checkpoint into it later, when the garbage collector gets round to it.

A process that builds many times (an Airflow worker, the property tests' 200 drops) must not
keep a database of an earlier build open; transform.dbt_build closes it in order. This test is a
guard: the garbage collector closed it in time in every run observed, before the change too.
"""

from __future__ import annotations

import gc
import os
import shutil

import duckdb
import pytest

from libcoop.pipeline import load_step
from libcoop.settings import PROJECT_ROOT, Paths
from libcoop.transform.dbt_build import build_marts
from libcoop.warehouse.publish import holders
from tests.conftest import GOOD_DONATION, GOOD_MEMBERSHIP, GOOD_VISIT, VISITS_HEADER

pytestmark = pytest.mark.integration


def test_dbt_build_leaves_no_handle_on_the_build(drop, tmp_path) -> None:
    drop("JP/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT}\n")
    drop(
        "VN/memberships.csv",
        f"record_id,institution,country,organization,membership_type,joined,left,source\n{GOOD_MEMBERSHIP}\n",
    )
    drop(
        "US/donations.csv",
        "record_id,donor,donor_country,donor_type,recipient_institution,recipient_country,donation_type,"
        f"project,quantity,amount,currency,start_date,end_date,source\n{GOOD_DONATION}\n",
    )
    paths = Paths(
        raw_dir=drop.raw_dir,
        warehouse=tmp_path / "warehouse" / "cooperation.duckdb",
        expectations_dir=PROJECT_ROOT / "expectations",
    )
    build, _ = load_step(paths, "run-1")
    result = build_marts(build)
    assert result.nodes > 100

    assert [pid for pid, _ in holders(build)] == []
    gc.collect()
    alive = [o for o in gc.get_objects() if isinstance(o, duckdb.DuckDBPyConnection | duckdb.DuckDBPyRelation)]
    assert alive == []
    # Nothing writes into the folder once it is gone: removing it twice in a row finds nothing new.
    folder = tmp_path / "warehouse"
    shutil.rmtree(folder)
    assert not folder.exists()
    # And the same process builds again from scratch at the same paths (dbt's link, state folder).
    build, _ = load_step(paths, "run-2")
    assert build_marts(build).nodes == result.nodes
    with duckdb.connect(str(build), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_visit").fetchone() == (1,)
    assert os.getpid() not in [pid for pid, _ in holders(build)]
