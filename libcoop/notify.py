"""Tell the on-call engineer when a task of the nightly job fails, through Airflow's notifiers.

The channel is an Airflow connection (id ``libcoop_alerts`` unless LIBCOOP_ALERT_CONN_ID says
otherwise), looked up when a task fails, never when the DAG file is parsed:

- ``smtp``/``email``: the smtp provider's ``SmtpNotifier``; its ``SmtpHook`` reads the server,
  login and the provider's own extras (``from_email``, ``disable_ssl``, ``disable_tls``,
  ``timeout``) from the connection; the recipients are in the extra ``{"to": [...]}``.
- ``http``/``https``: ``WebhookNotifier``, an Airflow ``BaseNotifier`` that POSTs the message as
  JSON (a chat webhook). The installed providers have no HTTP notifier
  (apache-airflow-providers-http is not among them), so it is these few lines of urllib.

With no connection configured the failure is logged and nothing is sent."""

from __future__ import annotations

import html
import json
import logging
import urllib.request
from collections.abc import Mapping
from typing import Any

from airflow.sdk import BaseHook, BaseNotifier

from libcoop.settings import alert_conn_id

log = logging.getLogger(__name__)


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


def webhook_url(conn: Any) -> str:
    """``http://host:port/schema`` of an http(s) connection."""
    port = f":{conn.port}" if conn.port else ""
    return f"{conn.conn_type}://{conn.host}{port}/{(conn.schema or '').lstrip('/')}"


class WebhookNotifier(BaseNotifier):
    """POST the failure message as JSON to the URL of an http(s) Airflow connection."""

    template_fields = ("conn_id",)

    def __init__(self, conn_id: str, timeout: float = 10.0) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.timeout = timeout

    def notify(self, context: Any) -> None:
        request = urllib.request.Request(  # noqa: S310 - the URL comes from an operator-configured connection
            webhook_url(BaseHook.get_connection(self.conn_id)),
            data=json.dumps(failure_message(context)).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            response.read()


def notifier_for(conn_id: str, context: Mapping[str, Any]) -> BaseNotifier:
    """The Airflow notifier for the connection ``conn_id``; raises when it does not exist."""
    conn = BaseHook.get_connection(conn_id)
    if conn.conn_type in ("http", "https"):
        return WebhookNotifier(conn_id)
    if conn.conn_type in ("smtp", "email"):
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        message = failure_message(context)
        return SmtpNotifier(
            to=conn.extra_dejson.get("to", []),
            smtp_conn_id=conn_id,
            subject=message["text"],
            html_content=f"<pre>{html.escape(json.dumps(message, indent=2))}</pre>",
        )
    raise ValueError(f"alert connection type {conn.conn_type!r} is not supported (use http, https or smtp)")


def notify_failure(context: Mapping[str, Any]) -> None:
    """Airflow ``on_failure_callback``: never raises, so a broken channel cannot hide the failure."""
    message = failure_message(context)
    log.error("%s: %s", message["text"], message["error"])
    conn_id = alert_conn_id()
    try:
        notifier = notifier_for(conn_id, context)
    except ValueError:
        log.exception("could not send the failure alert through %r", conn_id)
        return
    except Exception:  # noqa: BLE001 - not configured is a normal set-up
        log.warning("no alert connection %r configured: the failure is only logged", conn_id)
        return
    try:
        # notify(), not the notifier's __call__: the message is written already, and rendering it as
        # a Jinja template would read braces in the error text as template code.
        notifier.notify(context)  # type: ignore[arg-type]
    except Exception:
        log.exception("could not send the failure alert through %r", conn_id)
