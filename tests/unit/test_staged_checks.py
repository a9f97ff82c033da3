"""Per-file checks staged ahead of the load give the same result as checking during the load,
and pending_changes tells new, changed, removed and already-rejected files apart."""

from __future__ import annotations

import duckdb

from libcoop.ingest.drop_folder import discover
from libcoop.ingest.load import load_drop
from libcoop.ingest.staged import stage_check, staged_checks
from libcoop.pipeline import pending_changes
from libcoop.settings import resolve_paths
from tests.conftest import GOOD_MEMBERSHIP, GOOD_VISIT, MEMBERSHIPS_HEADER, VISITS_HEADER


def test_staged_verdicts_are_loaded_without_checking_again(drop, tmp_path, monkeypatch):
    paths = resolve_paths(drop.raw_dir, tmp_path / "wh" / "w.duckdb")
    drop("VN/memberships.csv", f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n")
    drop("CN/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT.replace('Japan', 'Atlantis')}\n")
    summaries = [stage_check(paths, "run1", p) for p in ("VN/memberships.csv", "CN/visits.csv")]
    assert summaries == [
        {"file": "VN/memberships.csv", "accepted": True, "rows": 1, "problems": 0},
        {"file": "CN/visits.csv", "accepted": False, "rows": 0, "problems": 1},
    ]
    discovery = discover(paths.incoming)
    staged = staged_checks(paths, "run1", discovery)
    assert len(staged) == 2

    def no_second_check(*_args, **_kwargs):
        raise AssertionError("the load re-checked a file whose verdict was staged")

    monkeypatch.setattr("libcoop.ingest.load.check_file", no_second_check)
    with duckdb.connect(str(tmp_path / "b.duckdb")) as con:
        result = load_drop(con, paths, "run1", discovery, staged)
        assert {o.file_path: o.outcome for o in result.outcomes} == {
            "VN/memberships.csv": "loaded",
            "CN/visits.csv": "rejected",
        }
        assert con.execute("select value, rule from audit.file_rejections").fetchall() == [
            ("Atlantis", "unknown_country")
        ]


def test_pending_changes_against_the_published_warehouse(drop, tmp_path):
    paths = resolve_paths(drop.raw_dir, tmp_path / "wh" / "w.duckdb")
    paths.warehouse.parent.mkdir()
    good = drop("VN/memberships.csv", f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n")
    drop("CN/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT.replace('Japan', 'Atlantis')}\n")
    assert pending_changes(paths).to_check == ("CN/visits.csv", "VN/memberships.csv")  # nothing published yet

    with duckdb.connect(str(paths.warehouse)) as con:
        load_drop(con, paths, "run1")
    changes = pending_changes(paths)
    assert changes.to_check == ("CN/visits.csv",)  # still rejected: checked again each night...
    assert changes.unseen == ()  # ...but the same bad bytes do not start a new run
    assert not changes.any

    good.unlink()
    drop("KR/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT}\n")
    changes = pending_changes(paths)
    assert changes.removed == ("VN/memberships.csv",)
    assert changes.unseen == ("KR/visits.csv",)
    assert changes.any
