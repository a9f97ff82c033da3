"""Tell the on-call engineer when a task of the nightly job fails.

The channel is an Airflow connection (id ``libcoop_alerts`` unless LIBCOOP_ALERT_CONN_ID says
otherwise): an ``http``/``https`` connection receives a JSON POST (a chat webhook), an ``smtp``
connection an e-mail to the addresses in its extra ``{"to": [...]}``. Nothing is hard-coded;
with no connection configured the failure is logged and nothing is sent."""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from libcoop.settings import DEFAULT_ALERT_CONN_ID, alert_conn_id

log = logging.getLogger(__name__)

DEFAULT_CONN_ID = DEFAULT_ALERT_CONN_ID


@dataclass(frozen=True)
class Channel:
    """What the notifier needs of an Airflow connection."""

    conn_type: str
    host: str
    port: int | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def failure_message(context: Mapping[str, Any]) -> dict[str, Any]:
    ti = context.get("ti") or context.get("task_instance")
    return {
        "text": f"libcoop: task {getattr(ti, 'task_id', '?')} of {getattr(ti, 'dag_id', '?')} failed",
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": context.get("run_id") or getattr(ti, "run_id", None),
        "try_number": getattr(ti, "try_number", None),
        "error": str(context.get("exception") or "")[:1000],
        "log_url": getattr(ti, "log_url", None),
    }


def send(channel: Channel, message: Mapping[str, Any], timeout: float = 10.0) -> None:
    if channel.conn_type in ("http", "https"):
        port = f":{channel.port}" if channel.port else ""
        path = "/" + (channel.schema or "").lstrip("/")
        url = f"{channel.conn_type}://{channel.host}{port}{path}"
        request = urllib.request.Request(  # noqa: S310 - the URL comes from an operator-configured connection
            url,
            data=json.dumps(message).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
    elif channel.conn_type in ("smtp", "email"):
        email = EmailMessage()
        email["Subject"] = message["text"]
        email["From"] = channel.extra.get("from", channel.login or "libcoop@localhost")
        email["To"] = ", ".join(channel.extra.get("to", []))
        email.set_content(json.dumps(message, indent=2))
        with smtplib.SMTP(channel.host, channel.port or 25, timeout=timeout) as smtp:
            if channel.extra.get("starttls"):
                smtp.starttls()
            if channel.login:
                smtp.login(channel.login, channel.password or "")
            smtp.send_message(email)
    else:
        raise ValueError(f"alert connection type {channel.conn_type!r} is not supported (use http, https or smtp)")


def notify_failure(context: Mapping[str, Any]) -> None:
    """Airflow ``on_failure_callback``: never raises, so a broken channel cannot hide the failure."""
    message = failure_message(context)
    log.error("%s: %s", message["text"], message["error"])
    conn_id = alert_conn_id()
    try:
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn_id)
    except Exception:  # noqa: BLE001 - not configured is a normal set-up
        log.warning("no alert connection %r configured: the failure is only logged", conn_id)
        return
    channel = Channel(
        conn.conn_type or "", conn.host or "", conn.port, conn.schema, conn.login, conn.password, conn.extra_dejson
    )
    try:
        send(channel, message)
    except Exception:
        log.exception("could not send the failure alert through %r", conn_id)
