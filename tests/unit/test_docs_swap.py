"""The Data Docs and dbt docs beside the warehouse always describe the published build: swapped in
with it, and back with the previous build on rollback (a real DuckDB file, real renames)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from libcoop.settings import Paths
from libcoop.warehouse.publish import publish, rollback, staged_docs


def test_docs_come_and_go_with_their_build(tmp_path: Path) -> None:
    paths = Paths(
        raw_dir=tmp_path / "raw", warehouse=tmp_path / "warehouse" / "cooperation.duckdb", expectations_dir=tmp_path
    )

    def build(run: str, *docs: str) -> Path:
        database = tmp_path / ".build" / run / "cooperation.duckdb"
        database.parent.mkdir(parents=True)
        with duckdb.connect(str(database)) as con:
            con.execute("create table run as select ? as run_id", [run])
        for name in docs:
            staged = staged_docs(database, name)
            staged.mkdir()
            (staged / "index.html").write_text(f"{name} of {run}", encoding="utf-8")
        return database

    def shown() -> tuple[str, str, str]:
        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            (data,) = con.execute("select run_id from run").fetchone()
        pages = [
            (paths.warehouse.parent / name / "index.html").read_text(encoding="utf-8")
            for name in ("data_docs", "dbt_docs")
        ]
        return data, *pages

    publish(paths, build("first", "data_docs", "dbt_docs"))
    assert shown() == ("first", "data_docs of first", "dbt_docs of first")
    # the second build kept the dbt docs (same models): the published ones describe it too
    publish(paths, build("second", "data_docs"))
    assert shown() == ("second", "data_docs of second", "dbt_docs of first")
    rollback(paths)
    assert shown() == ("first", "data_docs of first", "dbt_docs of first")
    rollback(paths)  # and forward again
    assert shown() == ("second", "data_docs of second", "dbt_docs of first")
    # The builds kept for rollback hold the pages; nothing else is left beside the published ones.
    assert sorted(p.name for p in paths.warehouse.parent.iterdir()) == [
        ".libcoop-run.lock",
        "builds",
        "cooperation.audit.duckdb",  # the two rollbacks, as rows of audit.runs for the next build
        "cooperation.duckdb",
        "data_docs",
        "dbt_docs",
    ]
    assert sorted(p.name for p in (paths.warehouse.parent / "builds" / "second").iterdir()) == [
        "build.json",
        "cooperation.duckdb",
        "data_docs",
        "dbt_docs",
    ]


def test_dbt_docs_compile_again_only_after_a_build_of_some_nodes(tmp_path: Path) -> None:
    """dbt docs reuse the build's compiled nodes (--no-compile) only when it built all of them."""
    import json

    from libcoop.transform.dbt_docs import _built_every_node

    assert not _built_every_node(tmp_path)  # no build yet
    for selected, expected in (([], True), (["source:raw.current_visits+"], False)):
        (tmp_path / "build_run_results.json").write_text(json.dumps({"args": {"select": selected, "exclude": []}}))
        assert _built_every_node(tmp_path) is expected
