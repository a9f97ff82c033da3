"""The published Data Docs, read in a real headless Chromium: what a coordinator sees.

A small warehouse with one critical failure (a row of marts.fct_visit that raw does not hold) and
one warning (a visit starting in 1850, in raw.visits and marts.fct_visit) is validated, its Data
Docs published as a run publishes them (``warehouse/data_docs/``), and the pages are opened from
disk (file:// URLs) with Debian's Chromium, which ``make test`` installs (no browser download).
Requests to the internet are refused: the pages must be readable offline.
"""

from __future__ import annotations

import html
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from libcoop import quality
from libcoop.pipeline import RunSummary
from tests.helpers.drops import run_drop
from tests.integration.test_quality import (
    COMMITTED_CONTEXT,
    audit_a_loaded_and_a_rejected_file,
    build_warehouse,
    start_the_delegation_in_1850,
)

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SCREENSHOT = Path("/tmp/libcoop-data-docs-failing-suite.png")
UNTRACED = "CN/visits_2015.csv row 99"
# A value from a coordinator's file that would run a script if a page put it in as HTML.
HOSTILE = '<img src=x onerror="window.__pwned = 1">'


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[quality.QualityReport, Path]:
    root = tmp_path_factory.mktemp("data_docs_browser")
    context_dir = root / "expectations"
    shutil.copytree(COMMITTED_CONTEXT, context_dir, ignore=shutil.ignore_patterns("uncommitted"))
    build = build_warehouse(root / "build.duckdb")
    with duckdb.connect(str(build)) as con:
        # critical: a visit of the marts that no raw row holds (its lineage names row 99)
        con.execute("update marts.fct_visit set source_row_number = 99 where event = '35th business exchange'")
        start_the_delegation_in_1850(con)  # warning
    audit_a_loaded_and_a_rejected_file(build, "run-browser", HOSTILE)
    report = quality.validate_warehouse(build, "run-browser", context_dir)
    index = quality.publish_data_docs(report, quality.data_docs_target(root / "warehouse" / "cooperation.duckdb"))
    return report, index


# A small drop run through the whole nightly job (load, dbt, GX, publish): the front page as a run
# writes it. The Viet Nam donations in dong have no ECB rate: a warning naming its file and rows.
RUN_DROP = {
    "VN/donations_vnd.csv": (
        "donor,donor_country,recipient_institution,recipient_country,donation_type,amount,currency,start_date\n"
        "Asia Foundation,US,National Library of Viet Nam,VN,funding,1000,USD,2015\n"
        "Vietnam Publishing House,VN,National Library of Viet Nam,VN,books,5000000,VND,2015\n"
        "Asia Foundation,US,National Library of Viet Nam,VN,funding,2500,USD,2016\n"
        "Ha Noi Library Association,VN,National Library of Viet Nam,VN,funding,2000000,VND,2016\n"
    ),
    "VN/memberships.csv": (
        "institution,country,organization,joined\n"
        "National Library of Viet Nam,VN,IFLA,1979\nNational Library of Viet Nam,VN,CONSAL,1989\n"
    ),
    "CN/visits.csv": (
        "activity_type,host_institution,host_country,guest_institution,guest_country,start_date,participants\n"
        "business_exchange,National Library of China,CN,National Library of Viet Nam,VN,2015-11-10,6\n"
        "delegation,National Library of China,CN,,,2012,40\n"
        "training,National Library of China,CN,National Library Board,SG,2013-06,12\n"
    ),
    # Rejected: no required columns but the donor's; its country is not a country.
    "SG/donations.csv": "donor,donor_country\nX,Neverland\n",
}


@dataclass
class RunDocs:
    index: Path
    home: str  # the front page's HTML
    summary: RunSummary


@pytest.fixture(scope="module")
def run_docs(tmp_path_factory: pytest.TempPathFactory) -> RunDocs:
    paths, summary = run_drop(tmp_path_factory.mktemp("data_docs_run"), RUN_DROP, "docs-run")
    index = quality.data_docs_target(paths.warehouse) / "index.html"
    return RunDocs(index, index.read_text(encoding="utf-8"), summary)


def _cells(html_text: str, table: str, key: str) -> dict[str, list[str]]:
    """The cells of each row of the table with id ``table``, by the row's data-``key``, as text."""
    body = re.search(rf'<table id="{table}">(.*?)</table>', html_text, re.S)
    assert body is not None, table
    rows = {}
    for name, row in re.findall(rf'<tr data-{key}="([^"]+)">(.*?)</tr>', body.group(1), re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        rows[html.unescape(name)] = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells]
    return rows


def test_front_page_lists_the_files_of_the_run_with_the_rows_loaded(run_docs: RunDocs) -> None:
    files = _cells(run_docs.home, "run-files", "file")

    assert sorted(files) == sorted(RUN_DROP)
    for relative, text in RUN_DROP.items():
        file, country, kind, outcome, rows, report = files[relative]
        assert (file, country, kind) == (relative, relative[:2], relative.split("/")[1].split("_")[0].split(".")[0])
        if relative == "SG/donations.csv":
            assert outcome.startswith("rejected") and rows == "0"
            assert report.startswith("raw/reports/SG/donations.csv.report.txt")
        else:
            assert outcome == "loaded" and report == ""
            assert int(rows) == len(text.splitlines()) - 1  # the file's data rows
    assert "Published." in run_docs.home and run_docs.summary.status == "published"


def test_a_warning_is_a_sentence_naming_its_file_and_rows(run_docs: RunDocs) -> None:
    sentences = [
        html.unescape(re.sub(r"<[^>]+>", "", item)).split("\n")[0].strip()
        for item in re.findall(r'<li data-severity="warning">(.*?)</li>', run_docs.home, re.S)
    ]

    assert sentences == [
        "warning 2 donations in a currency without an exchange rate for their start year, so without an amount "
        "in USD (VND in 2015, VND in 2016): VN/donations_vnd.csv rows 3, 5."
    ]
    vn = (run_docs.index.parent / "countries" / "VN.html").read_text(encoding="utf-8")
    assert "VN/donations_vnd.csv rows 3, 5." in vn and "3 warnings" in vn
    # The two donors no alias resolves are warnings too (contract section 3).
    assert "Vietnam Publishing House" in vn and "Ha Noi Library Association" in vn


def test_per_country_counts_add_up_to_the_totals(run_docs: RunDocs) -> None:
    countries = _cells(run_docs.home, "country-counts", "country")
    totals = re.search(r'<table id="country-counts">.*?<tfoot>(.*?)</tfoot>', run_docs.home, re.S)
    assert totals is not None
    total = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", totals.group(1), re.S)]

    # files, rows, warnings, critical failures, rejected files
    assert {code: [int(n) for n in cells[1:]] for code, cells in countries.items()} == {
        "CN": [1, 3, 0, 0, 0],
        "SG": [1, 0, 0, 0, 1],
        "VN": [2, 6, 3, 0, 0],  # 1 failed check, 2 rows naming an unresolved donor
    }
    assert total == ["All", "4", "9", "3", "0", "1"]
    for column in range(1, 6):
        assert sum(int(cells[column]) for cells in countries.values()) == int(total[column])


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
    assert "not_in_raw" in text and "expect_column_values_to_be_null" in text
    assert "raw.current_visits does not hold (CN/visits_2015.csv row 99)" in text
    assert "critical" in text and "warning" in text

    # The suite's link leads to this run's validation result page.
    banner.get_by_role("link", name="marts_integrity_fct_visit").first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith(report.validation_pages["marts_integrity_fct_visit"])
    assert "marts_integrity_fct_visit" in page.inner_text("body")


def test_failing_suite_page_shows_the_expectation_its_severity_and_the_untraced_row(page, published) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    report, index = published
    page.goto((index.parent / report.validation_pages["marts_integrity_fct_visit"]).as_uri(), wait_until="load")

    check = page.get_by_text(
        "every row of fct_visit comes from a row of a current file version in raw.current_visits (the unexpected "
        "values are the file and row it names) (critical; check: expect_column_values_to_be_null)"
    )
    expect(check).to_be_visible()
    text = page.inner_text("body")
    assert "marts_integrity_fct_visit" in text
    assert "not_in_raw" in text  # the column
    assert "failed" in text
    expect(page.get_by_text(UNTRACED).first).to_be_visible()  # the unexpected value: the file and row
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
    page.locator("#country-counts").get_by_role("link", name="VN", exact=True).click()
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
    # The 1850 start is found twice on VN's row: in raw.visits and in marts.fct_visit (traced to the same row).
    assert "0 critical failures, 2 warnings" in body
    assert "VN/visits_2000-2010.xlsx" in body and "loaded" in body

    page.goto((index.parent / "countries" / "CN.html").as_uri(), wait_until="load")
    body = page.inner_text("body")
    assert "CN/donations.csv" in body and "rejected" in body
    assert "amount is not a number" in body and "write the amount with digits only" in body
    expect(page.get_by_text(HOSTILE)).to_be_visible()  # shown as text...
    assert page.evaluate("() => window.__pwned === undefined")  # ...never run


def test_front_page_of_a_run_renders_its_tables_without_errors(browser, run_docs: RunDocs) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    try:
        page.goto(run_docs.index.as_uri(), wait_until="load")
        expect(page.locator("#run-files")).to_be_visible()
        expect(page.locator("#country-counts")).to_be_visible()
        assert page.locator("#run-files tbody tr").count() == len(RUN_DROP)
        expect(page.locator("#findings")).to_contain_text("VN/donations_vnd.csv rows 3, 5")
        assert errors == []  # our pages need nothing from the internet
        page.get_by_role("link", name="raw_visits").first.click()
        page.wait_for_load_state("load")
        assert page.url.endswith("suites/raw_visits.html")
        expect(page.locator("#checks")).to_be_visible()
        assert errors == []
    finally:
        page.close()
