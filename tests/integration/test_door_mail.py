"""After a real run, each country's coordinators get one mail through a real SMTP server
(aiosmtpd on 127.0.0.1) naming their files' outcomes, their unresolved names and their page;
a mail server that is down never fails a run that published."""

from __future__ import annotations

import email
from email.message import Message

import pytest
from aiosmtpd.controller import Controller

from libcoop.door.mail import send_run_mails
from libcoop.door.store import Store
from tests.conftest import GOOD_VISIT, VISITS_HEADER
from tests.integration.test_door_browser import PASSWORD, free_port, run_env  # noqa: F401 - a fixture

pytestmark = pytest.mark.integration
UNRESOLVED = "Hanoi Library of Nowhere"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


@pytest.mark.usefixtures("run_env")
def test_one_mail_per_country_names_the_outcomes_after_a_run(drop, tmp_path, monkeypatch):
    from libcoop.pipeline import run
    from libcoop.settings import resolve_paths

    drop(
        "VN/visits.csv",
        # an extra column: a warning that does not stop the file from loading
        f"{VISITS_HEADER},remarks\n"
        f"{GOOD_VISIT.replace('National Library of China', UNRESOLVED).replace('China', 'Viet Nam')},x\n",
    )
    drop("JP/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT.replace('Japan', 'Atlantis')}\n")  # rejected
    drop("CN/visits.csv", f"{VISITS_HEADER}\n{GOOD_VISIT.replace('v1,', 'c1,')}\n")  # no coordinator: no mail
    paths = resolve_paths(drop.raw_dir, tmp_path / "warehouse" / "cooperation.duckdb")
    store = Store(paths.warehouse.parent / "door")
    store.add_user("lan@nlv.gov.vn", PASSWORD, ["VN"])
    store.add_user("mai@nlv.gov.vn", PASSWORD, ["VN", "LA"])
    store.add_user("kenji@ndl.go.jp", PASSWORD, ["JP"])
    store.add_user("curator@libcoop.org", PASSWORD, [], curator=True)

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("LIBCOOP_SMTP_URL", f"smtp://127.0.0.1:{port}")
        monkeypatch.setenv("LIBCOOP_MAIL_FROM", "libcoop@example.org")
        monkeypatch.setenv("LIBCOOP_DOOR_URL", "https://door.example.org/")
        summary = run(paths)
    finally:
        controller.stop()
    assert summary.status == "published" and summary.files == {"loaded": 2, "rejected": 1}

    by_recipients = {tuple(sorted(to)): message for to, message in inbox.messages}
    assert sorted(by_recipients) == [("kenji@ndl.go.jp",), ("lan@nlv.gov.vn", "mai@nlv.gov.vn")]
    vn = by_recipients[("lan@nlv.gov.vn", "mai@nlv.gov.vn")]
    jp = by_recipients[("kenji@ndl.go.jp",)]
    assert (
        vn["From"] == "libcoop@example.org"
        and vn["Subject"] == f"libcoop: your files for VN after run {summary.run_id}"
    )
    vn_text, jp_text = (m.get_payload(decode=True).decode().replace("\r\n", "\n") for m in (vn, jp))
    assert "- VN/visits.csv: loaded, 1 row\n" in vn_text
    assert f"- '{UNRESOLVED}' (VN, 1 row)" in vn_text
    assert "- VN/visits.csv: unknown column 'remarks' ignored\n" in vn_text
    assert "Your country page: https://door.example.org/countries/VN" in vn_text
    assert "JP/" not in vn_text and "CN/" not in vn_text
    assert jp["Subject"].endswith("(1 not loaded)")
    assert "- JP/visits.csv: NOT loaded, 1 problem: none of its rows reached the warehouse" in jp_text
    assert "https://door.example.org/countries/JP" in jp_text

    # The mail server gone: the mails are logged as not sent, and nothing is raised.
    monkeypatch.setenv("LIBCOOP_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    assert send_run_mails(paths, summary) == 0
