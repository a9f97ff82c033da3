"""Per-file checks staged ahead of the load give the same result as checking during the load,
and pending_changes tells new, changed, removed and already-rejected files apart."""

from __future__ import annotations

import hashlib
import json

import duckdb
import pyarrow.parquet as pq

from libcoop.ingest.drop_folder import Discovery, discover
from libcoop.ingest.load import load_drop
from libcoop.ingest.staged import stage_check, staged_checks
from libcoop.pipeline import pending_changes
from libcoop.settings import resolve_paths
from tests.conftest import GOOD_MEMBERSHIP, GOOD_VISIT, MEMBERSHIPS_HEADER, VISITS_HEADER


def test_staged_verdicts_are_loaded_without_checking_again(drop, tmp_path, monkeypatch):
    paths = resolve_paths(drop.raw_dir, tmp_path / "wh" / "w.duckdb")
    drop("VN/memberships.csv", f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n")
    drop("CN/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT.replace('Japan', 'Atlantis')}\n")
    discovery = discover(paths.incoming)
    summaries = [stage_check(paths, "run1", discovery.file(p)) for p in ("VN/memberships.csv", "CN/visits.csv")]
    hashes = {f.relative_path: f.content_hash for f in discovery.files}
    assert summaries == [
        {
            "file": "VN/memberships.csv",
            "hash": hashes["VN/memberships.csv"],
            "accepted": True,
            "rows": 1,
            "problems": 0,
        },
        {"file": "CN/visits.csv", "hash": hashes["CN/visits.csv"], "accepted": False, "rows": 0, "problems": 1},
    ]
    reads: list[object] = []
    read_table = pq.read_table
    monkeypatch.setattr(pq, "read_table", lambda source: reads.append(source) or read_table(source))
    staged = staged_checks(paths, "run1", discovery)
    assert len(staged) == 2
    # The rows are counted from the Parquet footer and read only when the load appends them.
    membership = staged[("VN/memberships.csv", hashes["VN/memberships.csv"])]
    assert (membership.rows, membership.row_count, reads) == (None, 1, [])

    def no_second_check(*_args, **_kwargs):
        raise AssertionError("the load re-checked a file whose verdict was staged")

    monkeypatch.setattr("libcoop.ingest.load.check_file", no_second_check)
    with duckdb.connect(str(tmp_path / "b.duckdb")) as con:
        result = load_drop(con, paths, "run1", discovery, staged)
        assert {o.file_path: o.outcome for o in result.outcomes} == {
            "VN/memberships.csv": "loaded",
            "CN/visits.csv": "rejected",
        }
        # The accepted file's rows reached raw (below) without pyarrow: DuckDB read the staged
        # Parquet file itself (rows appended from Arrow stay in memory until the load commits).
        assert reads == []
        assert con.execute("select record_id, source_row_number from raw.memberships").fetchall() == [("m1", 2)]
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


def test_the_discovery_crosses_tasks_as_json_and_says_when_a_file_changed(drop, tmp_path):
    paths = resolve_paths(drop.raw_dir, tmp_path / "wh" / "w.duckdb")
    path = drop("VN/memberships.csv", f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n")
    drop("VN/notes.txt", "not a data file")
    found = discover(paths.incoming)
    back = Discovery.from_json(paths.incoming, json.loads(json.dumps(found.to_json())))
    assert back == found
    (memberships,) = back.files
    assert memberships.path == path
    assert memberships.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert [s.relative_path for s in back.skipped] == ["VN/notes.txt"]
    assert not memberships.changed_since_hashed()
    path.write_text(
        f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n{GOOD_MEMBERSHIP.replace('m1', 'm2')}\n", encoding="utf-8"
    )
    assert memberships.changed_since_hashed()
