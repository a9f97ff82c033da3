"""Failure alerts reach a real webhook and a real SMTP server through Airflow connections and
Airflow's notifiers, and never raise."""

from __future__ import annotations

import email
import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest

from libcoop.notify import WebhookNotifier, failure_message, notifier_for, notify_failure


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "body": json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], received
    server.shutdown()


@pytest.fixture
def smtp_server():
    """A real SMTP server on a local port that keeps every message (just enough of RFC 5321)."""
    mails: list[tuple[str, list[str], str]] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            sender, recipients = "", []
            self.wfile.write(b"220 localhost ESMTP test\r\n")
            while line := self.rfile.readline():
                verb = line.decode().strip()
                upper = verb.upper()
                if upper.startswith(("EHLO", "HELO")):
                    self.wfile.write(b"250 localhost\r\n")
                elif upper.startswith("MAIL FROM:"):
                    sender = verb[10:].strip().strip("<>")
                    self.wfile.write(b"250 OK\r\n")
                elif upper.startswith("RCPT TO:"):
                    recipients.append(verb[8:].strip().strip("<>"))
                    self.wfile.write(b"250 OK\r\n")
                elif upper == "DATA":
                    self.wfile.write(b"354 go on\r\n")
                    data = []
                    while (part := self.rfile.readline()) not in (b".\r\n", b""):
                        data.append(part.decode())
                    mails.append((sender, recipients, "".join(data)))
                    self.wfile.write(b"250 queued\r\n")
                elif upper == "QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:
                    self.wfile.write(b"250 OK\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], mails
    server.shutdown()
    server.server_close()


def context(error: str = "dbt build failed: fct_visit") -> dict:
    ti = SimpleNamespace(
        task_id="build_marts", dag_id="cooperation_nightly", run_id="r1", try_number=3, log_url="http://x/log"
    )
    return {"ti": ti, "exception": RuntimeError(error), "run_id": "r1"}


def test_message_names_dag_task_run_and_error():
    message = failure_message(context())
    assert message["text"] == "libcoop: task build_marts of cooperation_nightly failed"
    assert (message["run_id"], message["try_number"]) == ("r1", 3)
    assert message["error"] == "dbt build failed: fct_visit"


def test_webhook_notifier_posts_the_json(webhook, monkeypatch):
    port, received = webhook
    monkeypatch.setenv("AIRFLOW_CONN_HOOK", f"http://127.0.0.1:{port}/hooks/libcoop")
    notifier = notifier_for("hook", context())
    assert isinstance(notifier, WebhookNotifier)
    notifier.notify(context())
    assert received == [{"path": "/hooks/libcoop", "body": failure_message(context())}]


def test_smtp_connection_sends_through_the_providers_smtp_notifier(smtp_server, monkeypatch):
    port, mails = smtp_server
    extra = json.dumps(
        {"to": ["oncall@example.org"], "from_email": "libcoop@example.org", "disable_ssl": True, "disable_tls": True}
    )
    monkeypatch.setenv("LIBCOOP_ALERT_CONN_ID", "mail")
    monkeypatch.setenv(
        "AIRFLOW_CONN_MAIL", json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": port, "extra": extra})
    )
    assert type(notifier_for("mail", context())).__name__ == "SmtpNotifier"
    notify_failure(context("validate: {{ not a template }} failed"))
    ((sender, recipients, body),) = mails
    assert (sender, recipients) == ("libcoop@example.org", ["oncall@example.org"])
    mail = email.message_from_string(body)
    assert mail["Subject"] == "libcoop: task build_marts of cooperation_nightly failed"
    (html_part,) = [part for part in mail.walk() if part.get_content_type() == "text/html"]
    text = html_part.get_payload(decode=True).decode()
    assert "validate: {{ not a template }} failed" in text  # sent as written, never rendered
    assert "&quot;task_id&quot;: &quot;build_marts&quot;" in text


def test_callback_uses_the_configured_connection(webhook, monkeypatch):
    port, received = webhook
    monkeypatch.setenv("LIBCOOP_ALERT_CONN_ID", "oncall")
    monkeypatch.setenv("AIRFLOW_CONN_ONCALL", f"http://127.0.0.1:{port}/alerts")
    notify_failure(context("validate: critical check failed"))
    assert [r["path"] for r in received] == ["/alerts"]
    assert received[0]["body"]["error"] == "validate: critical check failed"


def test_callback_without_connection_or_with_a_dead_one_does_not_raise(monkeypatch, caplog):
    monkeypatch.setenv("LIBCOOP_ALERT_CONN_ID", "nobody_configured_this")
    notify_failure(context())
    assert "only logged" in caplog.text
    monkeypatch.setenv("LIBCOOP_ALERT_CONN_ID", "dead")
    monkeypatch.setenv("AIRFLOW_CONN_DEAD", "http://127.0.0.1:9/nothing-listens")
    notify_failure(context())
    assert "could not send the failure alert" in caplog.text
