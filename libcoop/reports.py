"""The plain-text report a coordinator finds beside a rejected file, and the same words for
``libcoop check``."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from pathlib import Path

from libcoop.contract import RULES
from libcoop.validate import MAX_PROBLEM_EXAMPLES, CheckedFile

log = logging.getLogger(__name__)

REPORT_SUFFIX = ".report.txt"
MAX_NAME_BYTES = 255  # what every common file system allows for one name


def render(checked: CheckedFile, *, when: dt.datetime | None = None) -> str:
    when = when or dt.datetime.now(dt.UTC)
    name = checked.drop.relative_path
    if checked.accepted:
        rows = checked.rows.num_rows if checked.rows is not None else 0
        lines = [f"{name}: OK, {rows} rows follow the contract."]
        lines += [f"  note: {w}" for w in checked.warnings]
        return "\n".join(lines) + "\n"
    total = checked.problem_total
    lines = [
        f"Report on {name}",
        f"Checked {when:%Y-%m-%d %H:%M} UTC.",
        "",
        "This file was NOT loaded: none of its rows reached the warehouse.",
        "The version of this file loaded before (if any) is still in use.",
        "Fix the problems below, save the file and drop it in the same place again.",
        "",
        f"{total} problem{'s' if total != 1 else ''} found:",
    ]
    for rule, count in sorted(checked.problem_counts.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"  {count:>6} x {RULES[rule][0]}")
    lines.append("")
    for problem in checked.problems:
        where = []
        if problem.row is not None:
            where.append(
                f"line {problem.row}" if problem.rule in ("malformed_csv", "not_utf8") else f"row {problem.row}"
            )
        if problem.column:
            where.append(f"column {problem.column}")
        if problem.value is not None:
            where.append(f'value "{problem.value}"')
        head = ", ".join(where) or "whole file"
        detail = f" ({problem.detail})" if problem.detail else ""
        lines.append(f"- {head}: {problem.explanation}{detail}.")
        lines.append(f"  What to do: {problem.advice}")
    if total > len(checked.problems):
        lines += ["", f"Only the first {MAX_PROBLEM_EXAMPLES} problems are listed; the counts above cover them all."]
    if checked.warnings:
        lines += ["", "Also noted (these do not stop the file from loading):"]
        lines += [f"- {w}" for w in checked.warnings]
    return "\n".join(lines) + "\n"


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
