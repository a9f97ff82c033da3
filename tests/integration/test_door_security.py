"""The door treats every request as hostile (docs/contract.md section 4): no page without a
session, no country but her own, no form from elsewhere, no file too large or not what it says,
no name used as a path or rendered as markup, and nothing written outside raw/incoming/<CC>/.

Starlette's TestClient drives the app where a real server adds nothing; the size limit is tested
through a real uvicorn server, with the upload streamed, never held in memory."""

from __future__ import annotations

import io
import re
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from libcoop.door.app import create_app
from libcoop.door.config import DoorMisconfigured, DoorSettings
from libcoop.door.store import STORE_NAME, Store
from tests.integration.test_door_browser import (
    COORDINATOR,
    FIXED,
    PASSWORD,
    SECRET,
    add_accounts,
    door_settings,
    serve_door,
)

pytestmark = pytest.mark.integration
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
GOOD = FIXED.splitlines()[0] + "\n" + FIXED.splitlines()[1] + "\n"


@pytest.fixture(scope="module")
def accounts(tmp_path_factory) -> Path:
    """The accounts, hashed once for the module (argon2 is slow on purpose)."""
    settings = door_settings(tmp_path_factory.mktemp("accounts"))
    add_accounts(settings)
    return settings.door_dir / STORE_NAME


@pytest.fixture
def door(tmp_path, accounts):
    settings = door_settings(tmp_path)
    settings.door_dir.mkdir(parents=True)
    shutil.copyfile(accounts, settings.door_dir / STORE_NAME)
    docs = settings.data_docs / "countries"
    docs.mkdir(parents=True)
    for code in ("VN", "JP"):
        (docs / f"{code}.html").write_text(f"<html><body>Data Docs of {code}</body></html>")
    settings.dashboard.mkdir(parents=True)
    (settings.dashboard / "index.html").write_text("<html><body>dashboard</body></html>")
    return settings


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def client_for(settings: DoorSettings) -> TestClient:
    return TestClient(create_app(settings), base_url="http://127.0.0.1", follow_redirects=False)


def signed_in(settings: DoorSettings, email: str = COORDINATOR) -> tuple[TestClient, str]:
    client = client_for(settings)
    token = TOKEN.search(client.get("/login").text)[1]
    response = client.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text
    return client, TOKEN.search(client.get("/").text)[1]


def send(client: TestClient, token: str | None, content: bytes, name: str = "visits.csv", **fields: str):  # type: ignore[no-untyped-def]
    data = {"country": "VN", "kind": "visits", "label": "", **fields}
    if token is not None:
        data["csrf_token"] = token
    return client.post("/upload", data=data, files={"file": (name, content)})


def example_url(route: APIRoute) -> str:
    return route.path.replace(":path}", "}").format(country="VN", path="index.html", proposal_id="1")


def test_no_session_no_page(door):
    client = client_for(door)
    routes = [r for r in client.app.routes if isinstance(r, APIRoute)]
    assert len(routes) >= 10
    seen = 0
    for route in routes:
        for method in route.methods:
            if route.path == "/login":
                continue  # the one page for everyone; its POST needs the form's token (below)
            response = client.request(method, example_url(route), data={"csrf_token": "x"})
            if method == "GET":
                assert (response.status_code, response.headers.get("location")) == (303, "/login"), route.path
            else:
                assert response.status_code in (401, 403), route.path
            assert "Data Docs of" not in response.text and "Upload a file" not in response.text
            seen += 1
    assert seen >= 9
    assert client.post("/login", data={"email": COORDINATOR, "password": PASSWORD}).status_code == 403


def test_the_session_cookie_is_signed_httponly_and_samesite(door):
    client = client_for(door)
    cookie = client.get("/login").headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    client.cookies.set("libcoop_door", "eyJlbWFpbCI6ICJsYW5Abmx2Lmdvdi52biJ9.forged.signature")
    assert client.get("/countries/VN").status_code == 303


def test_signing_out_ends_every_copy_of_the_session(door):
    client, token = signed_in(door)
    copied = client.cookies["libcoop_door"]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    thief = client_for(door)
    thief.cookies.set("libcoop_door", copied)
    assert (thief.get("/countries/VN").status_code, thief.get("/").headers.get("location")) == (303, "/login")


def test_a_vn_coordinator_can_neither_read_nor_write_jp(door):
    client, token = signed_in(door)
    assert client.get("/countries/VN").status_code == 200
    assert "Data Docs of VN" in client.get("/data-docs/countries/VN.html").text
    for url in (
        "/countries/JP",
        "/countries/jp",
        "/countries/%20JP",
        "/data-docs/countries/JP.html",
        "/data-docs/countries/KR.html",  # no such page: refused all the same
        "/data-docs/x/../countries/jp.html",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Data Docs of JP" not in response.text and "another country" in response.text
    for path in ("/data-docs/../raw/incoming", "/dashboard/../../raw", "/data-docs/%2e%2e/door/door.sqlite"):
        assert client.get(path).status_code in (403, 404), path
    for country in ("JP", "jp", "VN/../JP", "../JP", "XX"):
        response = send(client, token, GOOD.encode(), country=country)
        assert response.status_code in (400, 403), country
    response = client.post(
        "/countries/JP/proposals", data={"csrf_token": token, "institution_key": "k", "choice": "NDL"}
    )
    assert response.status_code == 403
    assert client.get("/curation").status_code == 403  # curators only
    assert files_under(door.raw_dir) == set()


def test_a_post_without_the_sessions_token_is_refused(door):
    client, token = signed_in(door)
    assert send(client, None, GOOD.encode()).status_code == 403
    assert send(client, "forged-token", GOOD.encode()).status_code == 403
    cross_site = client.post(
        "/upload",
        data={"csrf_token": token, "country": "VN", "kind": "visits"},
        files={"file": ("visits.csv", GOOD.encode())},
        headers={"origin": "http://evil.example"},
    )
    assert cross_site.status_code == 403 and "not sent from a page of this site" in cross_site.text
    assert files_under(door.raw_dir) == set()
    assert send(client, token, GOOD.encode()).status_code == 200
    assert files_under(door.raw_dir) == {"incoming/VN/visits.csv"}


def test_a_300_mb_upload_is_refused_without_being_read_or_kept(door):
    total = 300 * 1024 * 1024
    sent = 0

    def body():  # streamed, never held in memory: a CSV header, then 300 MB of rows
        nonlocal sent
        chunk = (b"x" * 1023 + b"\n") * 1024
        head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="visits.csv"\r\n\r\n'
        sent += len(head)
        yield head
        while sent < total:
            sent += len(chunk)
            yield chunk

    with serve_door(door) as base, httpx.Client(base_url=base, timeout=60) as client:
        # Chunked (no Content-Length): refused once the bytes received pass the limit.
        status = None
        try:
            response = client.post(
                "/upload", content=body(), headers={"content-type": "multipart/form-data; boundary=b"}
            )
            status = response.status_code
            assert "accepts files up to 50 MB" in response.text
        except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
            pass  # the server closed the connection while the client was still sending
        assert status in (413, None)
        assert sent < 120 * 1024 * 1024, f"the server read {sent // 2**20} MB before refusing"
        # A Content-Length above the limit: refused at once, before a byte of the body.
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
            raw.sendall(
                f"POST /upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                f"Content-Length: {total}\r\n\r\n".encode()
            )
            answer = raw.recv(65536).decode("utf-8", "replace")
        assert answer.startswith("HTTP/1.1 413") and "File too large" in answer
    assert files_under(door.raw_dir) == set()


def zip_bomb(inflated_mb: int = 60) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = b"<c>0</c>" * 131072  # 1 MB
            for _ in range(inflated_mb):
                sheet.write(block)
    return buffer.getvalue()


def test_a_zip_bomb_and_files_that_are_not_what_they_say_are_refused(door):
    client, token = signed_in(door)
    bomb = zip_bomb()
    assert len(bomb) < 1024 * 1024
    response = send(client, token, bomb, "visits.xlsx")
    assert response.status_code == 200 and "This file was NOT kept" in response.text
    assert "inflates" in response.text
    for content, name, words in [
        (b"PK\x03\x04 not a zip at all", "visits.xlsx", "damaged Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "visits.xls", "old Excel file"),
        (GOOD.encode(), "visits.xlsx", "not an Excel workbook"),
        (b"\x7fELF\x02\x01\x01\x00" + bytes(100), "visits.csv", "not a text (CSV) file"),
    ]:
        refused = send(client, token, content, name)
        assert refused.status_code == 415 and words in refused.text, name
    assert files_under(door.raw_dir) == set()


@pytest.mark.parametrize(
    "name",
    [
        "../../../warehouse/cooperation.duckdb",
        "..\\..\\JP\\visits.csv",
        "visits\r\n.csv",
        "/etc/passwd",
        "\x1b[31m.csv",
        "名前.csv",
    ],
)
def test_the_uploaded_name_is_never_a_path(door, name):
    client, token = signed_in(door)
    response = send(client, token, GOOD.encode(), name)
    assert response.status_code == 200 and "OK: 1 row" in response.text
    assert files_under(door.raw_dir) == {"incoming/VN/visits.csv"}


@pytest.mark.parametrize("label", ["../JP", "a/b", "x\x00y", "a b", "é", "x" * 61])
def test_a_label_outside_the_contract_is_refused(door, label):
    client, token = signed_in(door)
    response = send(client, token, GOOD.encode(), label=label)
    assert response.status_code == 400 and "The label may hold letters (a-z), digits" in response.text
    assert files_under(door.raw_dir) == set()


def test_markup_in_names_and_values_is_shown_as_text(door):
    client, token = signed_in(door)
    script = "<script>alert('x')</script>"
    rows = GOOD.replace("NDL", script.replace(",", "")) + "v2,delegation,NLV,VN,NDL,JP,<b>2015</b>,\n"
    response = send(client, token, rows.encode(), f"<img src=x onerror=alert(1)>{script}.csv")
    assert "<script>alert" not in response.text and "<img src=x" not in response.text and "<b>2015" not in response.text
    assert "&lt;b&gt;2015&lt;/b&gt;" in response.text and "&lt;img src=x onerror=alert(1)&gt;" in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert files_under(door.raw_dir) == set()  # the date was not a date: rejected


def test_passwords_are_argon2_hashes_and_sign_in_is_rate_limited(door):
    store = Store(door.door_dir)
    stored = store.password_hash(COORDINATOR)
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
    assert store.authenticate(COORDINATOR, PASSWORD) is not None
    assert store.authenticate(COORDINATOR, PASSWORD + "!") is None
    client = client_for(door)
    token = TOKEN.search(client.get("/login").text)[1]
    for _ in range(5):
        wrong = client.post("/login", data={"csrf_token": token, "email": COORDINATOR, "password": "wrong password!"})
        assert wrong.status_code == 401
    right = client.post("/login", data={"csrf_token": token, "email": COORDINATOR, "password": PASSWORD})
    assert right.status_code == 429 and "Too many failed sign-ins" in right.text


def test_users_add_reads_the_password_from_standard_input_and_serve_needs_a_key(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "LIBCOOP_DOOR_DIR": str(tmp_path / "door"), "GX_ANALYTICS_ENABLED": "false"}
    command = [
        sys.executable,
        "-m",
        "libcoop.cli",
        "users",
        "add",
        "Mai@NLV.gov.vn",
        "--country",
        "VN",
        "--country",
        "la",
    ]
    done = subprocess.run(command, input=PASSWORD + "\n", capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "added mai@nlv.gov.vn: coordinator of LA, VN" in done.stdout
    store = Store(tmp_path / "door")
    assert store.password_hash("mai@nlv.gov.vn").startswith("$argon2")  # type: ignore[union-attr]
    assert store.authenticate("mai@nlv.gov.vn", PASSWORD) is not None
    short = subprocess.run(
        [*command[:5], "x@y.org", "--country", "VN"],
        input="short\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
    served = subprocess.run(
        [sys.executable, "-m", "libcoop.cli", "serve"], capture_output=True, text=True, env=env, timeout=120
    )
    assert served.returncode == 1 and "LIBCOOP_DOOR_SECRET_KEY must be set" in served.stderr
    with pytest.raises(DoorMisconfigured):
        DoorSettings(secret_key="short", raw_dir=tmp_path, warehouse=tmp_path / "w.duckdb", door_dir=tmp_path)
    assert len(SECRET) >= 32
