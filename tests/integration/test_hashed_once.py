"""One run lists the drop folder once and hashes each file once: the discovery is the value the
steps hand each other (discover -> check -> load), never a second look at the folder.

A real ``libcoop.pipeline.run`` (dbt build, Great Expectations, publish) on a three-file drop,
with the one hash function (``drop_folder.hash_file``) and ``Path.iterdir`` wrapped to count
their calls: the real ones still do the work."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from libcoop.ingest import drop_folder
from libcoop.pipeline import run
from libcoop.settings import resolve_paths
from tests.conftest import GOOD_MEMBERSHIP, GOOD_VISIT, MEMBERSHIPS_HEADER, VISITS_HEADER

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def test_one_run_lists_the_drop_folder_once_and_hashes_each_file_once(drop, tmp_path, monkeypatch):
    drop("VN/memberships.csv", f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n")
    drop("CN/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT}\n")
    drop("JP/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT.replace('Japan', 'Atlantis')}\n")  # rejected
    expectations = tmp_path / "expectations"
    shutil.copytree(REPO / "expectations", expectations, ignore=shutil.ignore_patterns("uncommitted"))
    monkeypatch.setenv("LIBCOOP_EXPECTATIONS_DIR", str(expectations))
    paths = resolve_paths(drop.raw_dir, tmp_path / "warehouse" / "cooperation.duckdb")

    hashed: Counter[str] = Counter()
    listed: Counter[str] = Counter()
    real_hash, real_iterdir = drop_folder.hash_file, Path.iterdir

    def counting_hash(path: Path) -> str:
        hashed[path.relative_to(paths.incoming).as_posix()] += 1
        return real_hash(path)

    def counting_iterdir(self: Path):  # type: ignore[no-untyped-def]
        if self == paths.incoming:
            listed["incoming"] += 1
        return real_iterdir(self)

    monkeypatch.setattr(drop_folder, "hash_file", counting_hash)
    monkeypatch.setattr(Path, "iterdir", counting_iterdir)

    summary = run(paths, "hash-once-1")
    assert summary.status == "published"
    assert summary.files == {"loaded": 2, "rejected": 1}
    assert hashed == {"CN/visits.csv": 1, "JP/visits.csv": 1, "VN/memberships.csv": 1}
    assert listed == {"incoming": 1}

    # The rejected file withdrawn, nothing else changed: answered from one listing and one hash per file.
    (paths.incoming / "JP" / "visits.csv").unlink()
    hashed.clear()
    listed.clear()
    again = run(paths, "hash-once-2")
    assert again.status == "unchanged"
    assert hashed == {"CN/visits.csv": 1, "VN/memberships.csv": 1}
    assert listed == {"incoming": 1}
