"""The plain-text report a coordinator finds beside a rejected file, and the same words for
``libcoop check``."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable
from pathlib import Path

from libcoop.ingest.check import MAX_PROBLEM_EXAMPLES, CheckedFile
from libcoop.ingest.contract import RULES
from libcoop.ingest.drop_folder import SkippedEntry
from libcoop.redact import printable

log = logging.getLogger(__name__)

REPORT_SUFFIX = ".report.txt"
MAX_NAME_BYTES = 255  # what every common file system allows for one name
MAX_NOTES = 100  # notes listed in one report; more are counted
LINE_RULES = ("malformed_csv", "not_utf8", "line_too_long")  # these name a line of the file, not a row


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def render(checked: CheckedFile, *, when: dt.datetime | None = None, dry_run: bool = False) -> str:
    """The report on one file: what the nightly run did with it, or (``dry_run``, for ``libcoop check``)
    what it would do."""
    when = when or dt.datetime.now(dt.UTC)
    name = checked.drop.relative_path
    if checked.accepted:
        rows = checked.row_count
        verdict = "would be loaded" if dry_run else "loaded"
        follow = "follows" if rows == 1 else "follow"
        lines = [f"{name}: OK, {_rows(rows)} {follow} the contract; the file {verdict}."]
        lines += [f"  note: {w}" for w in checked.warnings[:MAX_NOTES]]
        if len(checked.warnings) > MAX_NOTES:
            lines.append(f"  ... and {len(checked.warnings) - MAX_NOTES:,} more notes.")
        return printable("\n".join(lines), lines=True) + "\n"
    total = checked.problem_total
    verdict = (
        [
            "This file would NOT be loaded: none of its rows would reach the warehouse.",
            "Nothing was loaded or changed: this was a check only.",
            "Fix the problems below, check the file again, then drop it.",
        ]
        if dry_run
        else [
            "This file was NOT loaded: none of its rows reached the warehouse.",
            "The version of this file loaded before (if any) is still in use.",
            "Fix the problems below, save the file and drop it in the same place again.",
        ]
    )
    lines = [
        f"Report on {name}",
        f"Checked {when:%Y-%m-%d %H:%M} UTC.",
        "",
        *verdict,
        "",
        f"{total} problem{'s' if total != 1 else ''} found:",
    ]
    for rule, count in sorted(checked.problem_counts.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"  {count:>6} x {RULES[rule][0]}")
    lines.append("")
    for problem in checked.problems[:MAX_PROBLEM_EXAMPLES]:
        where = []
        if problem.row is not None:
            where.append(f"line {problem.row}" if problem.rule in LINE_RULES else f"row {problem.row}")
        if problem.column:
            where.append(f"column {problem.column}")
        if problem.value is not None:
            where.append(f'value "{problem.value}"')
        head = ", ".join(where) or "whole file"
        detail = f" ({problem.detail})" if problem.detail else ""
        lines.append(f"- {head}: {problem.explanation}{detail}.")
        lines.append(f"  What to do: {problem.advice}")
    if total > min(len(checked.problems), MAX_PROBLEM_EXAMPLES):
        lines += ["", f"Only the first {MAX_PROBLEM_EXAMPLES} problems are listed; the counts above cover them all."]
    if checked.warnings:
        lines += ["", "Also noted (these do not stop the file from loading):"]
        lines += [f"- {w}" for w in checked.warnings[:MAX_NOTES]]
        if len(checked.warnings) > MAX_NOTES:
            lines.append(f"- ... and {len(checked.warnings) - MAX_NOTES:,} more notes.")
    # A value with an ESC sequence or a bidi mark is shown escaped, never obeyed by a terminal.
    return printable("\n".join(lines), lines=True) + "\n"


def report_name(file_name: str) -> str:
    """``<file name>.report.txt``, shortened with a hash of the full name when it would not fit."""
    name = file_name + REPORT_SUFFIX
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    tag = "-" + hashlib.sha256(file_name.encode("utf-8")).hexdigest()[:12]
    room = MAX_NAME_BYTES - len(tag.encode()) - len(REPORT_SUFFIX.encode())
    head = file_name.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return head + tag + REPORT_SUFFIX


def report_path(reports_dir: Path, relative_path: str) -> Path:
    """raw/reports/<CC>/<file name>.report.txt, beside where the file was dropped."""
    folder, _, name = relative_path.rpartition("/")
    return reports_dir / folder / report_name(name)


def write_report(reports_dir: Path, checked: CheckedFile) -> Path | None:
    """Write the report; a report that cannot be written is logged, never a reason to stop the run."""
    path = report_path(reports_dir, checked.drop.relative_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(checked), encoding="utf-8")
    except OSError as error:
        log.error("could not write the report on %s at %s: %s", checked.drop.relative_path, path, error)
        return None
    return path


def remove_report(reports_dir: Path, relative_path: str) -> bool:
    path = report_path(reports_dir, relative_path)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as error:
        log.error("could not remove the old report on %s at %s: %s", relative_path, path, error)
        return False
    return True


SKIPPED_HEAD = "Not read: "


def write_skipped_reports(reports_dir: Path, skipped: Iterable[SkippedEntry]) -> None:
    """A note beside every file of a country folder that the run did not read (misnamed, a link
    out of the folder...), so that the coordinator finds it where rejections are reported; notes
    on files no longer skipped are removed."""
    current = set()
    for entry in skipped:
        folder, _, name = entry.relative_path.rpartition("/")
        if not folder or not name:
            continue  # not inside a country folder: nobody's report folder
        path = report_path(reports_dir, entry.relative_path)
        current.add(path)
        text = f"{SKIPPED_HEAD}{entry.relative_path}\n\nThis file was not read: {entry.reason}.\n"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            log.error("could not write the note on %s at %s: %s", entry.relative_path, path, error)
    for old in reports_dir.glob(f"*/*{REPORT_SUFFIX}") if reports_dir.is_dir() else ():
        try:
            if old not in current and old.read_text(encoding="utf-8").startswith(SKIPPED_HEAD):
                old.unlink()
        except OSError as error:
            log.error("could not remove the old note %s: %s", old, error)
