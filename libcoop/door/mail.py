"""After each published run, one mail per country to that country's coordinators.

The standard library's ``smtplib`` and ``email.message`` (maintained with Python, nothing to add
to the image), configured by ``LIBCOOP_SMTP_URL`` (``smtp://[user:password@]host:port``,
``smtp+starttls://...`` or ``smtps://...``) and ``LIBCOOP_MAIL_FROM``; the link to her page comes
from ``LIBCOOP_DOOR_URL``. Without ``LIBCOOP_SMTP_URL`` nothing is sent. A mail that cannot be
sent is logged, never a reason to fail a run that published.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from libcoop.door.published import FileState, UnresolvedName, file_notes, run_files, unresolved_names
from libcoop.settings import Paths, door_dir, door_url, mail_from, smtp_url

if TYPE_CHECKING:
    from libcoop.runs import RunSummary

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 30
WORDS = {
    "loaded": "loaded",
    "restored": "loaded again (an earlier version is back in force)",
    "unchanged": "unchanged",
    "rejected": "NOT loaded",
    "removed": "removed from the warehouse (the file is gone from the folder)",
}


def send_run_mails(paths: Paths, summary: RunSummary) -> int:
    """Mail each country that had files in this run; the number of mails sent. Never raises."""
    url = smtp_url()
    if not url:
        return 0
    try:
        messages = run_messages(paths, summary.run_id)
        if messages:
            _send(url, messages)
    except Exception:  # the run published: a mail server's trouble must not undo that
        log.exception("the mails after run %s were not sent", summary.run_id)
        return 0
    log.info("mailed the coordinators of %d countries after run %s", len(messages), summary.run_id)
    return len(messages)


def run_messages(paths: Paths, run_id: str) -> list[EmailMessage]:
    """One message per country with files in the run and coordinators to tell."""
    from libcoop.door.store import Store
    from libcoop.quality.monitors import mail_findings

    store = Store(door_dir(paths.warehouse))
    monitors = mail_findings(paths.warehouse, run_id)  # a quiet country's only news may be its silence
    messages = []
    for country, files in sorted(run_files(paths.warehouse, run_id).items()):
        recipients = store.coordinators_of(country)
        found = monitors.get(country, [])
        if not recipients or (all(f.state == "unchanged" for f in files) and not any(new for _, new in found)):
            continue
        message = EmailMessage()
        message["From"] = mail_from()
        message["To"] = ", ".join(recipients)
        rejected = sum(f.state == "rejected" for f in files)
        message["Subject"] = f"libcoop: your files for {country} after run {run_id}" + (
            f" ({rejected} not loaded)" if rejected else ""
        )
        names = unresolved_names(paths.warehouse, country)
        message.set_content(body(paths, country, run_id, files, names, [detail for detail, _ in found]))
        messages.append(message)
    return messages


def body(
    paths: Paths,
    country: str,
    run_id: str,
    files: list[FileState],
    names: list[UnresolvedName],
    monitors: list[str] | None = None,
) -> str:
    lines = ["Hello,", "", f"The warehouse was built again (run {run_id}). Your files for {country}:", ""]
    for f in files:
        line = f"- {f.file_path}: {WORDS.get(f.state, f.state)}"
        if f.state in ("loaded", "restored") and f.row_count is not None:
            line += f", {f.row_count} row{'' if f.row_count == 1 else 's'}"
        if f.state == "rejected":
            n = f.problem_count or 0
            line += f", {n} problem{'' if n == 1 else 's'}: none of its rows reached the warehouse"
        lines.append(line)
    notes = {f.file_path: file_notes(paths.reports, f.file_path) for f in files if f.state in ("loaded", "restored")}
    if any(notes.values()):
        lines += ["", "Warnings (the files loaded, but please read):"]
        lines += [f"- {note}" for found in notes.values() for note in found]  # each names its file
    if names:
        lines += ["", f"{len(names)} institution names in your files could not be matched to a known institution:"]
        for name in names:
            candidates = ", ".join(c.institution_name for c in name.candidates[:3])
            lines.append(
                f"- '{name.name}' ({name.country_code}, {name.fact_count} row{'' if name.fact_count == 1 else 's'})"
                + (f": perhaps {candidates}?" if candidates else "")
            )
        lines.append("Tell us which institution each one is on your country page.")
    if monitors:  # libcoop.quality.monitors: freshness, volume, schema
        lines += ["", "The monitors noticed (warnings only: the warehouse was published):"]
        lines += [f"- {detail}" for detail in monitors]
    link = door_url()
    lines += ["", f"Your country page: {link}/countries/{country}" if link else "Your country page is in the door."]
    lines += ["", "-- libcoop, the international library cooperation warehouse"]
    return "\n".join(lines) + "\n"


def _send(url: str, messages: list[EmailMessage]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps", "smtp+starttls") or not parts.hostname:
        raise ValueError("LIBCOOP_SMTP_URL must look like smtp://host:port, smtp+starttls://... or smtps://...")
    port = parts.port or {"smtps": 465, "smtp+starttls": 587}.get(parts.scheme, 25)
    client: type[smtplib.SMTP] = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with client(parts.hostname, port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if parts.scheme == "smtp+starttls":
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        for message in messages:
            smtp.send_message(message)
