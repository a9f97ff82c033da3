"""The coordinators' door, walked in a real headless Chromium against a real uvicorn server on
127.0.0.1: a coordinator of Viet Nam signs in, uploads the three-mistake visits file and reads
its three problems and their suggestions, uploads the fixed file, which waits in
``raw/incoming/VN/``; a real run (``libcoop.pipeline.run``: load, dbt, Great Expectations,
publish) loads it and leaves one name unresolved; she proposes the institution, a curator
accepts it, and the next run resolves the name in ``marts.visits``.

Debian's Chromium (no browser download); every request to anywhere but the server is refused:
the door must work offline. LIBCOOP_UPDATE_SCREENSHOTS=1 writes the country page's screenshot
to docs/door-country-page.png (the README shows it)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from libcoop.door.config import DoorSettings
from libcoop.door.store import Store
from tests.unit.test_one_round import THREE_MISTAKES_HEADER

pytestmark = [pytest.mark.integration, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SECRET = "test-only-secret-key-0123456789abcdef-not-for-use"
PASSWORD = "a long enough test password"
COORDINATOR = "lan@nlv.gov.vn"
CURATOR = "curator@libcoop.org"

THREE_MISTAKES = f"{THREE_MISTAKES_HEADER}\nv1,delegation,NLV,Viet Nam,NDL,Japna,12/05/2015,\n"
# A Japanese name no alias knows (the seeds know 国立国会図書館), in a row of a Vietnamese host
# written in Vietnamese: both must come back to the page as written.
UNRESOLVED = "東京の国立国会図書館本館"
FIXED = (
    THREE_MISTAKES_HEADER.replace("activity type", "activity_type")
    + "\nv1,delegation,NLV,Viet Nam,NDL,Japan,2015-05-12,"
    + f"\nv2,business_exchange,Thư viện Quốc gia Việt Nam,Viet Nam,{UNRESOLVED},Japan,2016-11-28,2016-12-04\n"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def door_settings(tmp_path: Path, **changes: object) -> DoorSettings:
    warehouse = tmp_path / "warehouse" / "cooperation.duckdb"
    values: dict[str, object] = {
        "secret_key": SECRET,
        "raw_dir": tmp_path / "raw",
        "warehouse": warehouse,
        "door_dir": warehouse.parent / "door",  # the default beside the warehouse, as libcoop.settings.door_dir
    }
    values.update(changes)
    (tmp_path / "raw" / "incoming").mkdir(parents=True, exist_ok=True)
    return DoorSettings(**values)  # type: ignore[arg-type]


def add_accounts(settings: DoorSettings) -> Store:
    store = Store(settings.door_dir)
    store.add_user(COORDINATOR, PASSWORD, ["VN"])
    store.add_user("kenji@ndl.go.jp", PASSWORD, ["JP"])
    store.add_user(CURATOR, PASSWORD, [], curator=True)
    return store


@contextmanager
def serve_door(settings: DoorSettings) -> Iterator[str]:
    """The door under a real uvicorn server on 127.0.0.1, in a thread; its base URL."""
    import uvicorn

    from libcoop.door.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the door did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def run_env(tmp_path, monkeypatch):
    """What a run needs in tmp_path: its own copy of the GX context, no door folder from elsewhere."""
    expectations = tmp_path / "expectations"
    shutil.copytree(REPO / "expectations", expectations, ignore=shutil.ignore_patterns("uncommitted"))
    monkeypatch.setenv("LIBCOOP_EXPECTATIONS_DIR", str(expectations))
    for name in ("LIBCOOP_DOOR_DIR", "LIBCOOP_SMTP_URL", "LIBCOOP_RAW_DIR", "LIBCOOP_WAREHOUSE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@contextmanager
def chromium_page(base: str) -> Iterator[object]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
        outside: list[str] = []

        def only_the_door(route):  # type: ignore[no-untyped-def]
            if route.request.url.startswith(base):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", only_the_door)
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            browser.close()
        assert outside == [], f"the door asked for something outside itself: {outside}"


def sign_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/")
    assert page.url.endswith("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")  # the form works from the keyboard
    page.wait_for_url(base + "/")


def upload(page, base: str, path: Path, kind: str = "visits") -> str:  # type: ignore[no-untyped-def]
    page.goto(base + "/")
    page.get_by_label("File (.csv or .xlsx)").set_input_files(str(path))
    page.get_by_label("Country").select_option("VN")
    page.get_by_label("The file holds").select_option(kind)
    page.get_by_role("button", name="Check and send").click()
    page.wait_for_load_state()
    return page.inner_text("main")


def test_a_coordinator_uploads_fixes_proposes_and_a_curator_accepts(run_env, tmp_path):
    from libcoop.pipeline import run
    from libcoop.settings import resolve_paths

    settings = door_settings(tmp_path)
    add_accounts(settings)
    incoming_vn = settings.incoming / "VN"
    bad = tmp_path / "mine" / "Visits 2015 (draft).csv"
    bad.parent.mkdir()
    bad.write_text(THREE_MISTAKES, encoding="utf-8")
    fixed = tmp_path / "mine" / "visits fixed.csv"
    fixed.write_text(FIXED, encoding="utf-8")
    paths = resolve_paths(settings.raw_dir, settings.warehouse)

    with serve_door(settings) as base, chromium_page(base) as page:
        sign_in(page, base, COORDINATOR)
        report = upload(page, base, bad)
        assert "This file was NOT kept" in report
        assert "3 problems found" in report
        rows = page.locator("tr.problem-row").all_inner_texts()
        assert len(rows) == 3
        assert "row 1" in rows[0] and "activity_type" in rows[0] and "rename it to activity_type" in rows[0]
        assert "row 2" in rows[1] and "Japna" in rows[1] and "did you mean Japan (JP)?" in rows[1]
        assert (
            "12/05/2015" in rows[2] and "write 2015-05-12 for 12 May 2015 or 2015-12-05 for 5 December 2015" in rows[2]
        )
        assert not incoming_vn.exists() or list(incoming_vn.iterdir()) == []

        report = upload(page, base, fixed)
        assert "OK: 2 rows follow the contract" in report
        assert [p.name for p in incoming_vn.iterdir()] == ["visits.csv"]
        assert (incoming_vn / "visits.csv").read_bytes() == fixed.read_bytes()
        page.goto(base + "/countries/VN")
        assert "waiting for the next run" in page.inner_text("table.files")

        first = run(paths)
        assert first.status == "published" and first.files == {"loaded": 1}

        page.goto(base + "/countries/VN")
        files = page.inner_text("table.files")
        assert "VN/visits.csv" in files and "loaded" in files and "2" in files
        card = page.locator("section.unresolved", has_text=UNRESOLVED)
        assert card.count() == 1
        name = card.locator("span.name").first
        assert name.inner_text() == UNRESOLVED
        assert name.get_attribute("lang") == "ja"  # the row's country: fonts and line breaks follow it
        shot = tmp_path / "door-country-page.png"
        page.screenshot(path=str(shot), full_page=True)
        if os.environ.get("LIBCOOP_UPDATE_SCREENSHOTS") == "1":
            shutil.copyfile(shot, REPO / "docs" / "door-country-page.png")
        # The published pages, served read-only by the door itself (offline: nothing from elsewhere).
        with page.expect_navigation() as docs:
            page.get_by_role("link", name="Data Docs: the data-quality page of VN").click()
        assert docs.value is not None and docs.value.status == 200 and "VN" in page.inner_text("body")
        dashboard = page.goto(base + "/dashboard/")
        assert dashboard is not None and dashboard.status == 200
        other = page.goto(base + "/data-docs/countries/JP.html")
        assert other is not None and other.status == 403 and "Not your country" in page.inner_text("main")
        page.goto(base + "/countries/VN")
        card.get_by_label("This is").select_option("NDL")
        card.get_by_role("button", name="Propose").click()
        page.wait_for_url(base + "/countries/VN")
        assert f"'{UNRESOLVED}' is National Diet Library" in page.inner_text("main")

        page.get_by_role("button", name=f"Sign out ({COORDINATOR})").click()
        sign_in(page, base, CURATOR)
        page.goto(base + "/curation")
        row = page.locator("tr", has_text=UNRESOLVED)
        assert "National Diet Library (NDL)" in row.inner_text() and COORDINATOR in row.inner_text()
        row.get_by_role("button", name="Accept").click()
        page.wait_for_url(base + "/curation")
        assert f"{UNRESOLVED} (JP) → NDL: accepted by {CURATOR}" in page.inner_text("main")

        second = run(paths)
        assert second.status == "published"
        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            guests = sorted(r[0] for r in con.execute("select guest_institution from marts.visits").fetchall())
            accepted = con.execute(
                "select alias, institution_code, country_code, accepted_by from raw.accepted_aliases"
            ).fetchall()
        assert guests == ["National Diet Library", "National Diet Library"]
        assert accepted == [(UNRESOLVED, "NDL", "JP", CURATOR)]

        page.goto(base + "/countries/VN")
        assert "Every institution name in your files matches a known institution" in page.inner_text("main")
