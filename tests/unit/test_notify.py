"""Failure alerts reach a real webhook through an Airflow connection, and never raise."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest

from libcoop.notify import Channel, failure_message, notify_failure, send


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


def test_webhook_channel_receives_the_json(webhook):
    port, received = webhook
    send(Channel("http", "127.0.0.1", port, "hooks/libcoop"), failure_message(context()))
    assert received == [{"path": "/hooks/libcoop", "body": failure_message(context())}]


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
