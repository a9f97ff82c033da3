"""The code fingerprint moves with every input of a build besides the drop files, and only then."""

from __future__ import annotations

import shutil

from libcoop.fingerprint import code_fingerprint
from libcoop.settings import DBT_PROJECT_DIR


def test_fingerprint_follows_the_dbt_project_and_its_seeds(tmp_path, monkeypatch):
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    monkeypatch.setenv("LIBCOOP_DBT_PROJECT_DIR", str(project))
    base = code_fingerprint()
    assert len(base) == 64
    assert code_fingerprint() == base  # stable

    # What dbt writes itself is not an input.
    (project / "target").mkdir()
    (project / "target" / "manifest.json").write_text("{}")
    (project / "logs").mkdir()
    (project / "logs" / "dbt.log").write_text("x")
    assert code_fingerprint() == base

    seed = project / "seeds" / "institution_aliases.csv"
    original = seed.read_bytes()
    seed.write_bytes(original + b"national library of nowhere,NLV\n")
    changed_seed = code_fingerprint()
    assert changed_seed != base
    seed.write_bytes(original)
    assert code_fingerprint() == base

    model = project / "models" / "marts" / "fct_visit.sql"
    model.write_text(model.read_text() + "\n-- a comment is a change too\n")
    assert code_fingerprint() not in (base, changed_seed)
