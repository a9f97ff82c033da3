"""The monitors through the whole nightly job (load, dbt, GX, publish), read on the country pages a
coordinator reads: Korea's visits aged 400 days get a freshness warning on KR's page; Viet Nam's
visits replaced by a version of 2 rows with a new optional column (10 before) get a volume warning
and a schema note on VN's page; the run publishes all the same, counts them in its summary and
keeps them in audit.monitor_findings of the published warehouse."""

from __future__ import annotations

import html
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from libcoop import quality
from libcoop.pipeline import RunSummary, run
from libcoop.settings import Paths, resolve_paths
from libcoop.warehouse.builds import last_build
from tests.integration.test_quality import COMMITTED_CONTEXT
from tests.unit.test_monitors import visits

pytestmark = pytest.mark.integration


@dataclass
class Runs:
    paths: Paths
    first: RunSummary
    second: RunSummary

    def page(self, country: str) -> str:
        text = (quality.data_docs_target(self.paths.warehouse) / "countries" / f"{country}.html").read_text("utf-8")
        return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)))


def _age(build: Path, country: str, days: int) -> None:
    """Set a country's file versions back in the kept build the next run starts from (read-only on disk)."""
    mode = build.stat().st_mode
    build.chmod(mode | 0o200)
    try:
        with duckdb.connect(str(build)) as con:
            con.execute(
                f"update raw.file_versions set loaded_at = loaded_at - interval {days} days where country_code = ?",
                [country],
            )
    finally:
        build.chmod(mode)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    root = tmp_path_factory.mktemp("monitors")
    incoming = root / "raw" / "incoming"
    for relative, text in {"VN/visits.csv": visits(10), "KR/visits.csv": visits(4, prefix="k")}.items():
        (incoming / relative).parent.mkdir(parents=True, exist_ok=True)
        (incoming / relative).write_text(text, encoding="utf-8")
    expectations = root / "expectations"
    shutil.copytree(COMMITTED_CONTEXT, expectations, ignore=shutil.ignore_patterns("uncommitted"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LIBCOOP_EXPECTATIONS_DIR", str(expectations))
        mp.delenv("LIBCOOP_SMTP_URL", raising=False)
        paths = resolve_paths(root / "raw", root / "warehouse" / "cooperation.duckdb")
        first = run(paths, "monitors-1")
        kept = last_build(paths.warehouse)
        assert kept is not None
        _age(kept, "KR", 400)
        (incoming / "VN" / "visits.csv").write_text(visits(2, program=True), encoding="utf-8")
        second = run(paths, "monitors-2")
    return Runs(paths, first, second)


def test_a_first_run_has_nothing_to_say(runs: Runs) -> None:
    assert runs.first.status == "published"
    assert runs.first.monitor_warnings == 0
    assert "monitors:" not in runs.first.render()


def test_the_silent_country_reads_a_freshness_warning_on_its_page(runs: Runs) -> None:
    page = runs.page("KR")

    assert "Monitors" in page
    assert "KR has sent no new or changed visits file for 400 days" in page
    assert "the monitor warns after 365 days" in page
    assert "1 warning" in page and "0 warnings" not in page


def test_the_shrunk_file_reads_a_volume_warning_and_a_schema_note_on_its_page(runs: Runs) -> None:
    page = runs.page("VN")

    assert "VN/visits.csv: the new version has 2 rows, the version it replaces had 10 rows (20%)" in page
    assert "VN/visits.csv: the new version fills the optional column program" in page
    assert "has sent no new or changed" not in page  # Viet Nam's file is new
    assert "2 warnings" in page


def test_the_monitors_never_block_and_are_counted_and_kept(runs: Runs) -> None:
    assert runs.second.status == "published"
    assert runs.second.monitor_warnings == 3
    assert "  monitors: 3 warnings (freshness, volume, schema) on country pages" in runs.second.render()
    with duckdb.connect(str(runs.paths.warehouse), read_only=True) as con:
        kept = con.execute(
            "select run_id, country_code, monitor, file_path from audit.monitor_findings order by all"
        ).fetchall()
        quality_line = con.execute("select quality from audit.runs where run_id = 'monitors-2'").fetchone()
    assert kept == [
        ("monitors-2", "KR", "freshness", None),
        ("monitors-2", "VN", "file_volume", "VN/visits.csv"),
        ("monitors-2", "VN", "schema", "VN/visits.csv"),
    ]
    assert quality_line is not None and "(3 monitor warnings)" in quality_line[0]
