"""A name the warehouse could not resolve reaches its coordinator (contract section 3), read in a
real headless Chromium: a VN visits file names the National Library of Korea as
``국립중앙도서관 (National Library of Korea)``, which no alias matches. The whole nightly job runs
(load, dbt, GX, publish); Viet Nam's Data Docs page shows the name, its file and row, the closest
known institution of Korea and what the row is missing from, and counts it as a warning; the run
summary and the front page count it too, and never say "Every check passed"."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from libcoop import quality
from libcoop.pipeline import RunSummary
from tests.helpers.drops import run_drop

pytestmark = [pytest.mark.integration, pytest.mark.browser]

UNRESOLVED = "국립중앙도서관 (National Library of Korea)"
DROP = {
    "VN/visits.csv": (
        "activity_type,host_institution,host_country,guest_institution,guest_country,start_date,participants\n"
        "business_exchange,National Library of Viet Nam,VN,National Library of China,CN,2015-11-10,6\n"
        f"business_exchange,National Library of Viet Nam,VN,{UNRESOLVED},KR,2016-05-03,8\n"
    ),
    "CN/visits.csv": (
        "activity_type,host_institution,host_country,guest_institution,guest_country,start_date,participants\n"
        "business_exchange,National Library of China,CN,National Library of Viet Nam,VN,2017-04-01,5\n"
    ),
}


@dataclass
class Published:
    docs: Path
    summary: RunSummary


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    paths, summary = run_drop(tmp_path_factory.mktemp("unresolved_browser"), DROP, "unresolved-run")
    return Published(quality.data_docs_target(paths.warehouse), summary)


def test_the_run_summary_counts_the_unresolved_name(published: Published) -> None:
    assert published.summary.status == "published"
    assert published.summary.unresolved_names == 1
    assert published.summary.warnings >= 1
    assert "(1 unresolved institution name)" in published.summary.quality
    assert "unresolved names: 1 rows" in published.summary.render()


def test_the_country_page_shows_the_name_its_file_row_and_a_warning(page, published: Published) -> None:  # type: ignore[no-untyped-def]
    page.goto((published.docs / "countries" / "VN.html").as_uri(), wait_until="load")

    row = page.locator('#unresolved-names tr[data-file="VN/visits.csv"]')
    assert row.count() == 1
    cells = [cell.strip() for cell in row.locator("td").all_inner_texts()]
    assert cells[:6] == ["warning", "VN/visits.csv", "3", "guest_institution", UNRESOLVED, "KR"]
    assert cells[6] == "National Library of Korea (National Library of Korea)"
    assert "VN-KR visit of 2016-05-03 with National Library of Viet Nam (VN)" in cells[7]
    assert "missing from every view of national libraries" in cells[7]
    body = page.inner_text("body")
    assert "0 warnings" not in body
    counted = page.inner_text("#warning-count")
    assert counted.endswith(("warning", "warnings")) and int(counted.split()[0]) >= 1, counted


def test_the_front_page_counts_it_and_never_says_every_check_passed(page, published: Published) -> None:  # type: ignore[no-untyped-def]
    page.goto((published.docs / "index.html").as_uri(), wait_until="load")

    body = page.inner_text("body")
    assert "Every check passed" not in body
    assert "(1 unresolved institution name)" in page.inner_text("#verdict")
    assert UNRESOLVED in page.inner_text("#unresolved-names")
    assert "VN/visits.csv row 3" in page.inner_text("#unresolved-names")
    vn = page.locator('#country-counts tr[data-country="VN"] td').all_inner_texts()
    assert int(vn[3]) >= 1  # warnings on its rows
    cn = page.locator('#country-counts tr[data-country="CN"] td').all_inner_texts()
    assert int(cn[3]) == 0
