"""The published Data Docs, read in a real headless Chromium: what a coordinator sees.

A small warehouse with one critical failure (an orphan institution key in marts.fct_visit) and
one warning (a visit starting in 1850, in raw.visits and marts.fct_visit) is validated, its Data
Docs published as a run publishes them (``warehouse/data_docs/``), and the pages are opened from
disk (file:// URLs) with Debian's Chromium, which ``make test`` installs (no browser download).
Requests to the internet are refused: the pages must be readable offline.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from libcoop import quality
from tests.integration.test_quality import COMMITTED_CONTEXT, _key, add_file_audit, build_warehouse

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path("/tmp/libcoop-data-docs-failing-suite.png")
ORPHAN = _key("NO SUCH LIBRARY")
# A value from a coordinator's file that would run a script if a page put it in as HTML.
HOSTILE = '<img src=x onerror="window.__pwned = 1">'


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[quality.QualityReport, Path]:
    root = tmp_path_factory.mktemp("data_docs_browser")
    context_dir = root / "expectations"
    shutil.copytree(COMMITTED_CONTEXT, context_dir, ignore=shutil.ignore_patterns("uncommitted"))
    build = build_warehouse(root / "build.duckdb")
    with duckdb.connect(str(build)) as con:
        # critical: a visit whose host institution is not in dim_institution
        con.execute(
            "update marts.fct_visit set host_institution_key = ? where event = '35th business exchange'", [ORPHAN]
        )
        con.execute(
            "update marts.fct_cooperation_activity set institution_key = ? where activity_type = 'business_exchange'",
            [_key("NLC")],
        )
        # warning: a delegation that started in 1850
        con.execute("insert into marts.dim_date values (18500101, date '1850-01-01', 1850, 1, 1)")
        con.execute("update marts.fct_visit set start_date_key = 18500101 where activity_type = 'delegation'")
        con.execute("update raw.visits set start_date = date '1850-01-01' where activity_type = 'delegation'")
    add_file_audit(
        build,
        loads=[
            ("run-browser", "VN/visits_2000-2010.xlsx", "VN", "visits", "loaded", 1, 0, None),
            ("run-browser", "CN/donations.csv", "CN", "donations", "rejected", 0, 1, "1 x amount_not_a_number"),
        ],
        rejections=[
            ("run-browser", "CN/donations.csv", "CN", 5, "amount", HOSTILE, "amount_not_a_number",
             "amount is not a number", "write the amount with digits only"),
        ],
    )  # fmt: skip
    report = quality.validate_warehouse(build, "run-browser", context_dir)
    index = quality.publish_data_docs(report, quality.data_docs_target(root / "warehouse" / "cooperation.duckdb"))
    return report, index


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the Data Docs are checked in Debian's Chromium. "
            "Install it with `make test` (apt-get install chromium) or `sudo apt-get install -y chromium`."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    # Offline: the Great Expectations pages ask CDNs for styles and scripts; refuse at once.
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    yield page
    page.close()


def test_home_page_shows_every_suite_its_latest_result_and_the_failures(page, published) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    report, index = published
    page.goto(index.as_uri(), wait_until="load")

    banner = page.locator("#libcoop-run")
    expect(banner).to_be_visible()
    text = banner.inner_text()
    for suite in quality.SUITE_NAMES:
        assert suite in text
    assert "1 critical failure, 2 warnings" in text
    assert "the build is not published" in text
    assert "orphan_host_institution_key" in text and "expect_column_values_to_be_null" in text
    assert "critical" in text and "warning" in text

    # The suite's link leads to this run's validation result page.
    banner.get_by_role("link", name="marts_integrity_fct_visit").first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith(report.validation_pages["marts_integrity_fct_visit"])
    assert "marts_integrity_fct_visit" in page.inner_text("body")


def test_failing_suite_page_shows_the_expectation_its_severity_and_the_orphan_key(page, published) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    report, index = published
    page.goto((index.parent / report.validation_pages["marts_integrity_fct_visit"]).as_uri(), wait_until="load")

    check = page.get_by_text(
        "every host_institution_key of fct_visit is found in dim_institution (the unexpected values are the orphan "
        "keys) (critical; check: expect_column_values_to_be_null)"
    )
    expect(check).to_be_visible()
    text = page.inner_text("body")
    assert "marts_integrity_fct_visit" in text
    assert "orphan_host_institution_key" in text  # the column
    assert "1 unexpected values found" in text
    expect(page.get_by_text(ORPHAN).first).to_be_visible()  # the unexpected value: the orphan key
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.goto((index.parent / report.validation_pages["raw_visits"]).as_uri(), wait_until="load")
    expect(
        page.get_by_text(
            "start_date lies between 1900-01-01 and one year from today "
            "(warning; check: expect_column_values_to_be_between)"
        )
    ).to_be_visible()
    text = page.inner_text("body")
    assert "raw_visits" in text and "1850-01-01" in text


def test_country_pages_show_each_coordinator_their_checks_and_files(page, published) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    _report, index = published
    page.goto(index.as_uri(), wait_until="load")
    page.locator("#libcoop-run").get_by_role("link", name="VN", exact=True).click()
    page.wait_for_load_state("load")

    assert page.url.endswith("countries/VN.html")
    failed = page.locator("#failed-checks")
    expect(failed).to_be_visible()
    text = failed.inner_text()
    assert "warning" in text
    assert "expect_column_values_to_be_between on start_date" in text
    assert "VN/visits_2000-2010.xlsx row 2: start_date=1850-01-01" in text
    body = page.inner_text("body")
    assert "Data quality of the files reported by VN" in body
    assert "0 critical failures, 1 warning" in body
    assert "VN/visits_2000-2010.xlsx" in body and "loaded" in body

    page.goto((index.parent / "countries" / "CN.html").as_uri(), wait_until="load")
    body = page.inner_text("body")
    assert "CN/donations.csv" in body and "rejected" in body
    assert "amount is not a number" in body and "write the amount with digits only" in body
    expect(page.get_by_text(HOSTILE)).to_be_visible()  # shown as text...
    assert page.evaluate("() => window.__pwned === undefined")  # ...never run
