"""Each warehouse keeps its own state: two warehouses built from one checkout never share results."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from libcoop.pipeline import run
from libcoop.settings import Paths
from tests.conftest import GOOD_VISIT, VISITS_HEADER
from tests.integration.airflow_env import REPO

pytestmark = pytest.mark.integration


def _gx_runs(site: Path) -> set[str]:
    """The run names of the validation results stored for a warehouse."""
    return {p.parent.parent.name for p in (site / "gx" / "uncommitted" / "validations").rglob("*.json")}


def test_two_warehouses_from_one_checkout_keep_their_own_validation_results(tmp_path):
    checkout = tmp_path / "expectations"  # the checkout's committed context, shared by both
    shutil.copytree(REPO / "expectations", checkout, ignore=shutil.ignore_patterns("uncommitted"))
    committed = sorted(p.relative_to(checkout) for p in checkout.rglob("*"))
    runs = {}
    for name, rows in (("a", 2), ("b", 3)):
        raw = tmp_path / name / "raw"
        (raw / "incoming" / "CN").mkdir(parents=True)
        body = [GOOD_VISIT.replace("v1,", f"{name}{i},") for i in range(rows)]
        (raw / "incoming" / "CN" / "visits.csv").write_text("\n".join([VISITS_HEADER, *body]) + "\n", encoding="utf-8")
        paths = Paths(raw, tmp_path / name / "warehouse" / "cooperation.duckdb", checkout)
        runs[name] = (paths, run(paths, run_id=f"run-{name}").run_id)

    for name, (paths, run_id) in runs.items():
        other = runs["b" if name == "a" else "a"][1]
        assert _gx_runs(paths.gx_context_dir) == {run_id}
        pages = "".join(p.read_text(encoding="utf-8") for p in (paths.warehouse.parent / "data_docs").rglob("*.html"))
        assert run_id in pages
        assert other not in pages
    # The checkout's context is only read: nothing was written into it.
    assert sorted(p.relative_to(checkout) for p in checkout.rglob("*")) == committed
