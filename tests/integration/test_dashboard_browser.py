"""The cooperation dashboard of the sample, published by a real run and read in headless Chromium.

One run of the nightly job (``libcoop.pipeline.run``: load, dbt build, Great Expectations,
publish) on a copy of the sample drop writes ``warehouse/dashboard/`` with the warehouse. The pages
are opened from disk (file:// URLs) in Debian's Chromium with every other request refused and
recorded: they must draw every chart offline, log no error, show the headline figures the same
SQL gives on the published marts, and draw CJK and Vietnamese names with the font shipped beside
them. A screenshot is written to $LIBCOOP_DASHBOARD_SCREENSHOT (docs/dashboard.png was made so).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from libcoop.dashboard import dashboard_target
from libcoop.dashboard.figures import headline_values
from libcoop.pipeline import RunSummary, run
from libcoop.settings import resolve_paths
from tests.integration.airflow_env import REPO
from tests.integration.sample_figures import nlc_ndl_business_meetings_since_1981

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SCREENSHOT = Path(os.environ.get("LIBCOOP_DASHBOARD_SCREENSHOT", "/tmp/libcoop-dashboard.png"))
CHARTS = ("chart-activities", "chart-pairs", "chart-money", "chart-books", "chart-memberships")
CHINA_CHARTS = ("chart-activities", "chart-pairs", "chart-books")  # China gave books, no money, joined nothing
NATIVE_NAMES = (
    "中国国家图书馆",
    "国立国会図書館",
    "국립중앙도서관",
    "新加坡国家图书馆管理局",
    "Thư viện Quốc gia Việt Nam",
)


@dataclass
class Published:
    warehouse: Path
    dashboard: Path
    summary: RunSummary


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    root = tmp_path_factory.mktemp("dashboard_browser")
    shutil.copytree(REPO / "raw" / "incoming", root / "raw" / "incoming")
    expectations = root / "expectations"
    shutil.copytree(REPO / "expectations", expectations, ignore=shutil.ignore_patterns("uncommitted"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LIBCOOP_EXPECTATIONS_DIR", str(expectations))
        paths = resolve_paths(root / "raw", root / "warehouse" / "cooperation.duckdb")
        summary = run(paths, "dashboard-run")
    return Published(paths.warehouse, dashboard_target(paths.warehouse), summary)


@dataclass
class Visit:
    requests: list[str] = field(default_factory=list)  # every request that did not read a local file
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    visit = Visit()

    def route(route):  # type: ignore[no-untyped-def]
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            visit.requests.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    page.on("console", lambda message: visit.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: visit.errors.append(str(error)))
    page.visit = visit
    yield page
    page.close()


def open_drawn(page, url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url, wait_until="load")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-spec]')].every(e => e.dataset.rendered)", timeout=30_000
    )


def marks(page, chart: str) -> int:  # type: ignore[no-untyped-def]
    """How many bars or cells the chart drew (Vega's SVG renderer: one path per rect mark item)."""
    return page.locator(f"#{chart} svg g.mark-rect path").count()


def shown_headlines(page) -> dict[str, float | None]:  # type: ignore[no-untyped-def]
    cells = page.eval_on_selector_all(
        "#headline-figures tr[data-figure]",
        "rows => rows.map(r => [r.dataset.figure, r.querySelector('[data-value]').dataset.value])",
    )
    return {key: (float(value) if value else None) for key, value in cells}


def computed_headlines(warehouse: Path, country: str | None = None) -> dict[str, float | None]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {v.headline.key: (None if v.value is None else float(v.value)) for v in headline_values(con, country)}


def test_the_run_publishes_the_dashboard_of_its_own_build(published: Published) -> None:
    assert (published.dashboard / "index.html").is_file()
    assert f"dashboard: {published.dashboard / 'index.html'}" in published.summary.render()
    assert sorted(p.name for p in (published.dashboard / "countries").glob("*.html")) == [
        "CN.html",
        "JP.html",
        "KR.html",
        "SG.html",
        "VN.html",
    ]
    with duckdb.connect(str(published.warehouse), read_only=True) as con:
        (run_id,) = con.execute("select run_id from audit.runs order by finished_at desc limit 1").fetchone()
    assert run_id == "dashboard-run"
    assert f"(run <code>{run_id}</code>)" in (published.dashboard / "index.html").read_text(encoding="utf-8")
    assert not list(published.warehouse.parent.glob(".build/*"))  # the build folder went with the publication


def test_home_page_draws_every_chart_offline_with_the_headline_figures_of_the_marts(page, published) -> None:  # type: ignore[no-untyped-def]
    open_drawn(page, (published.dashboard / "index.html").as_uri())
    for chart in CHARTS:
        assert page.locator(f"#{chart}").get_attribute("data-rendered") == "true", chart
        assert marks(page, chart) > 0, chart
    assert page.visit.errors == []
    assert page.visit.requests == []

    shown = shown_headlines(page)
    assert shown == computed_headlines(published.warehouse)
    with duckdb.connect(str(published.warehouse), read_only=True) as con:
        assert nlc_ndl_business_meetings_since_1981(con) == (33, 166)
    assert (shown["nlc_ndl_meetings"], shown["nlc_ndl_participants"]) == (33, 166)
    titles = {
        "chart-activities": "Cooperation over time: activities per year",
        "chart-pairs": "Who works with whom: visits between national libraries",
        "chart-money": "Money: donations in US dollars by donor country",
        "chart-books": "Gifts: books given per year",
        "chart-memberships": "Memberships: which library belongs to which organization, since when",
    }
    for chart, title in titles.items():
        drawn = page.locator(f"#{chart} svg").first.text_content()
        assert title in drawn and "built " in drawn and " UTC" in drawn, chart  # the build date on every chart
    assert "Activities (count, spread over their years)" in page.locator("#chart-activities svg").text_content()
    assert "spread evenly over them" in page.locator("#activities-allocation").text_content()
    assert "Amount (USD)" in page.locator("#chart-money svg").text_content()
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_the_country_filter_redraws_the_activities(page, published) -> None:  # type: ignore[no-untyped-def]
    open_drawn(page, (published.dashboard / "index.html").as_uri())
    every_country = marks(page, "chart-activities")
    select = page.locator("#chart-activities select")
    assert "China (CN)" in select.inner_text()
    select.select_option("SG")
    page.wait_for_function(
        f"() => document.querySelectorAll('#chart-activities svg g.mark-rect path').length < {every_country}"
    )
    # Singapore, visits only: the NLC-NLB exchanges 1997 to May 2015 (SG-V-01, spread over its 19
    # years), IFLA WLIC 2013 in Singapore, the NLB delegation to the NLC and the INELI-ASEAN session
    # in 2016: a bar in each year from 1997 to 2016.
    assert marks(page, "chart-activities") == 20
    assert page.visit.errors == []


def test_country_page_shows_the_views_filtered_to_the_country(page, published) -> None:  # type: ignore[no-untyped-def]
    quality_page = published.warehouse.parent / "data_docs" / "countries" / "CN.html"
    page.goto(quality_page.as_uri(), wait_until="load")
    page.get_by_role("link", name="Cooperation dashboard of CN").click()
    page.wait_for_load_state("load")
    assert page.url == (published.dashboard / "countries" / "CN.html").as_uri()
    open_drawn(page, page.url)

    for chart in CHINA_CHARTS:
        assert marks(page, chart) > 0, chart
    assert "No donation with an amount involving China is recorded." in page.inner_text("#chart-money")
    assert "No membership involving China is recorded." in page.inner_text("#chart-memberships")
    assert shown_headlines(page) == computed_headlines(published.warehouse, "CN")
    totals = page.inner_text("#pair-totals")
    assert "China (CN) ↔ Japan (JP)\t3\t35\t173 (1 visits without a count)" in totals
    assert "Vietnam" not in totals  # no visit between the NLV and the NLC
    assert page.visit.errors == []
    assert page.visit.requests == []


def test_cjk_and_vietnamese_names_are_drawn_with_the_font_beside_the_page(page, published) -> None:  # type: ignore[no-untyped-def]
    open_drawn(page, (published.dashboard / "index.html").as_uri())
    loaded = page.evaluate(
        "() => [...document.fonts].filter(f => f.family.replace(/\"/g, '') === 'LibcoopSans').map(f => f.status)"
    )
    assert loaded == ["loaded"]
    text = page.inner_text("#national-libraries")
    for name in NATIVE_NAMES:
        assert name in text
    client = page.context.new_cdp_session(page)
    client.send("DOM.enable")
    client.send("CSS.enable")
    root = client.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    cells = client.send("DOM.querySelectorAll", {"nodeId": root, "selector": "#national-libraries td.native"})
    assert len(cells["nodeIds"]) == 8
    for node_id in cells["nodeIds"]:
        fonts = client.send("CSS.getPlatformFontsForNode", {"nodeId": node_id})["fonts"]
        # Every glyph of the names comes from the web font: none falls back to a system font.
        assert all(f["isCustomFont"] for f in fonts), fonts
    assert page.visit.requests == []
