"""Load the drop folder into the raw history of a build file, one whole file version at a time.

A file version is identified by its path in the drop folder and the sha256 of its bytes. Same
bytes again: nothing happens. New bytes that pass the contract: their rows are appended to the
history and become the version in force. New bytes that break it: nothing is appended, the
version in force stays, a report is written. A file gone from the folder: its version stops being
in force (its rows stay in the history)."""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb

from libcoop.aliases import ensure_table as ensure_accepted_aliases
from libcoop.audit import ensure_audit_tables
from libcoop.ingest.check import CheckedFile, check_file
from libcoop.ingest.contract import KIND_COLUMNS, ColumnType, Problem, columns_of
from libcoop.ingest.drop_folder import Discovery, DropFile, SkippedEntry, discover, unreadable
from libcoop.ingest.reports import remove_report, write_report, write_skipped_reports
from libcoop.settings import Paths

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileOutcome:
    file_path: str
    country_code: str
    kind: str
    content_hash: str | None
    outcome: str  # loaded, restored (an earlier version back in force), unchanged, rejected, removed
    row_count: int = 0
    problem_count: int = 0


@dataclass
class LoadResult:
    load_id: str
    outcomes: list[FileOutcome] = field(default_factory=list)
    skipped: list[SkippedEntry] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    def summary(self) -> str:
        return (
            f"files: {self.count('loaded')} loaded, {self.count('restored')} restored, "
            f"{self.count('unchanged')} unchanged, "
            f"{self.count('rejected')} rejected, {self.count('removed')} removed, {len(self.skipped)} skipped"
        )


def _history_columns(kind: str) -> list[str]:
    columns = [
        "file_path varchar not null",
        "content_hash varchar not null",
        "load_id varchar not null",
        "source_row_number bigint not null",
        "reporting_country varchar not null",
    ]
    for column in columns_of(kind):
        columns.append(f'"{column.name}" {column.sql_type}')
        if column.type is ColumnType.DATE:
            columns.append(f'"{column.name}_precision" varchar')
    return columns


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw history, its current views and the audit tables when missing."""
    con.execute("create schema if not exists raw")
    con.execute(
        "create table if not exists raw.file_versions (file_path varchar not null, country_code varchar not null, "
        "kind varchar not null, content_hash varchar not null, load_id varchar not null, "
        "loaded_at timestamptz not null, row_count bigint not null, is_current boolean not null, "
        "primary key (file_path, content_hash))"
    )
    for kind in KIND_COLUMNS:
        con.execute(f"create table if not exists raw.{kind} ({', '.join(_history_columns(kind))})")
        con.execute(
            f"create or replace view raw.current_{kind} as select h.* from raw.{kind} as h "
            "inner join raw.file_versions as v on v.file_path = h.file_path and v.content_hash = h.content_hash "
            "where v.is_current"
        )
    ensure_audit_tables(con)  # audit.file_loads (every file version seen), audit.file_rejections (per problem)
    ensure_accepted_aliases(con)  # dbt's source door.accepted_aliases; the load step fills it (libcoop.aliases)


def load_drop(
    con: duckdb.DuckDBPyConnection,
    paths: Paths,
    load_id: str,
    discovery: Discovery | None = None,
    prechecked: Mapping[tuple[str, str], CheckedFile] | None = None,
) -> LoadResult:
    """Bring the raw history of ``con`` in line with the drop folder, in one transaction.

    ``prechecked`` holds verdicts already reached (e.g. by the per-file Airflow tasks), keyed by
    (file path, content hash); other files are checked here."""
    prechecked = prechecked or {}
    ensure_schema(con)
    discovery = discovery or discover(paths.incoming)
    result = LoadResult(load_id, skipped=list(discovery.skipped))
    now = dt.datetime.now(dt.UTC)
    current = dict(con.execute("select file_path, content_hash from raw.file_versions where is_current").fetchall())
    earlier = dict(
        ((path, digest), rows)
        for path, digest, rows in con.execute(
            "select file_path, content_hash, row_count from raw.file_versions"
        ).fetchall()
    )
    present = {f.relative_path for f in discovery.files}
    hashes = {f.relative_path: f.content_hash for f in discovery.files}
    checked_files: list[CheckedFile] = []

    con.execute("begin transaction")
    try:
        for drop in discovery.files:
            digest = hashes[drop.relative_path]
            if current.get(drop.relative_path) == digest:
                result.outcomes.append(
                    FileOutcome(drop.relative_path, drop.country_code, drop.kind, digest, "unchanged")
                )
                continue
            if (drop.relative_path, digest) in earlier:
                # Bytes loaded before (e.g. a bad version undone): its rows are in the history already.
                _make_current(con, drop.relative_path, digest)
                current[drop.relative_path] = digest
                result.outcomes.append(
                    FileOutcome(
                        drop.relative_path,
                        drop.country_code,
                        drop.kind,
                        digest,
                        "restored",
                        earlier[(drop.relative_path, digest)],
                    )
                )
                continue
            twin = next(
                (p for p, h in current.items() if h == digest and p != drop.relative_path and p in present), None
            )
            if twin:
                checked = CheckedFile(
                    drop,
                    problems=[Problem(drop.relative_path, "duplicate_file", detail=f"copy of {twin}")],
                    problem_counts={"duplicate_file": 1},
                )
            else:
                checked = prechecked.get((drop.relative_path, digest)) or checked_or_gone(drop, paths)
                if checked is None or drop.changed_since_hashed():
                    # Its earlier version stays in force (it is not "removed"), and it is read next run.
                    result.skipped.append(SkippedEntry(drop.relative_path, changed_during_run(drop), holds=True))
                    log.warning("skipped %s: %s", drop.relative_path, result.skipped[-1].reason)
                    continue
            checked_files.append(checked)
            if checked.accepted:
                _append_version(con, drop, digest, checked, load_id, now)
                # In force from now on: a copy of it later in this same drop is a duplicate too.
                current[drop.relative_path] = digest
                outcome = FileOutcome(
                    drop.relative_path, drop.country_code, drop.kind, digest, "loaded", checked.row_count
                )
            else:
                _record_rejection(con, checked, load_id, now)
                outcome = FileOutcome(
                    drop.relative_path, drop.country_code, drop.kind, digest, "rejected", 0, checked.problem_total
                )
            result.outcomes.append(outcome)
        held = {s.relative_path for s in result.skipped if s.holds}
        for file_path in sorted(set(current) - present):
            if file_path in held or discovery.holds(file_path):
                continue  # there but not readable this run: not withdrawn
            con.execute("update raw.file_versions set is_current = false where file_path = ?", [file_path])
            country, kind = con.execute(
                "select country_code, kind from raw.file_versions where file_path = ? limit 1", [file_path]
            ).fetchone()
            result.outcomes.append(FileOutcome(file_path, country, kind, current[file_path], "removed"))
        loads = [
            [load_id, now, o.file_path, o.country_code, o.kind, o.content_hash, o.outcome, o.row_count, 0, None]
            for o in result.outcomes
            if o.outcome != "rejected"  # rejections are recorded with their problems
        ]
        if loads:  # one statement, not a round trip per file
            con.executemany("insert into audit.file_loads values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", loads)
        for entry in result.skipped:
            con.execute(
                "insert into audit.file_loads values (?, ?, ?, null, null, null, 'skipped', null, null, ?)",
                [load_id, now, entry.relative_path, entry.reason],
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise

    for checked in checked_files:
        if checked.accepted and not checked.warnings:
            remove_report(paths.reports, checked.drop.relative_path)
        elif checked.accepted:  # loaded, with notes the coordinator should read (e.g. the encoding assumed)
            write_report(paths.reports, checked)
        else:
            path = write_report(paths.reports, checked)
            log.warning(
                "rejected %s: %d problems, report at %s", checked.drop.relative_path, checked.problem_total, path
            )
    for o in result.outcomes:
        if o.outcome in ("unchanged", "restored"):
            remove_report(paths.reports, o.file_path)
    write_skipped_reports(paths.reports, result.skipped)
    log.info(result.summary())
    return result


def checked_or_gone(drop: DropFile, paths: Paths) -> CheckedFile | None:
    """``check_file``, or None when the file vanished, changed or became unreadable since it was
    hashed (a coordinator deleting or saving it mid-run): one file never stops the load."""
    try:
        return check_file(drop, paths.incoming)
    except OSError as error:
        log.warning("could not read %s: %s", drop.relative_path, error)
        return None
    except duckdb.IOException:
        if drop.changed_since_hashed():
            return None
        raise


def changed_during_run(drop: DropFile) -> str:
    """Why a file discovered this run was not loaded after all."""
    try:
        drop.path.stat()
    except FileNotFoundError:
        return (
            "not read: it was removed during the run; the version loaded before (if any) stays in force until next run"
        )
    except OSError as error:
        return f"not read: {unreadable(error)}"
    if not os.access(drop.path, os.R_OK):
        return f"not read: {unreadable(PermissionError(errno.EACCES, 'Permission denied'))}"
    return "not read: it changed while the run read it; it is read again next run, the version loaded before stays"


def _append_version(
    con: duckdb.DuckDBPyConnection, drop: DropFile, digest: str, checked: CheckedFile, load_id: str, now: dt.datetime
) -> None:
    insert = (
        f"insert into raw.{drop.kind} by name select ? as file_path, ? as content_hash, ? as load_id, "
        "? as reporting_country, * from "
    )
    values = [drop.relative_path, digest, load_id, drop.country_code]
    stored = checked.stored_rows
    if checked.rows is None and stored is not None and stored.path is not None:
        # DuckDB reads the staged Parquet file itself. Rows appended from an Arrow table stay in
        # memory, Arrow's and DuckDB's, until the load's transaction commits: the load would grow
        # with every file.
        con.execute(insert + "read_parquet(?)", [*values, str(stored.path)])
        count = stored.count
    else:
        rows = checked.read_rows()
        con.register("incoming_rows", rows)
        try:
            con.execute(insert + "incoming_rows", values)
        finally:
            con.unregister("incoming_rows")
        count = rows.num_rows
    con.execute(
        "insert into raw.file_versions values (?, ?, ?, ?, ?, ?, ?, false)",
        [drop.relative_path, drop.country_code, drop.kind, digest, load_id, now, count],
    )
    _make_current(con, drop.relative_path, digest)
    log.info("loaded %s: %d rows", drop.relative_path, count)


def _make_current(con: duckdb.DuckDBPyConnection, file_path: str, digest: str) -> None:
    con.execute("update raw.file_versions set is_current = (content_hash = ?) where file_path = ?", [digest, file_path])


def _record_rejection(con: duckdb.DuckDBPyConnection, checked: CheckedFile, load_id: str, now: dt.datetime) -> None:
    drop = checked.drop
    con.execute(
        "insert into audit.file_loads values (?, ?, ?, ?, ?, ?, 'rejected', 0, ?, ?)",
        [
            load_id,
            now,
            drop.relative_path,
            drop.country_code,
            drop.kind,
            drop.content_hash,
            checked.problem_total,
            "; ".join(f"{n} x {rule}" for rule, n in sorted(checked.problem_counts.items())),
        ],
    )
    con.executemany(
        "insert into audit.file_rejections values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                load_id,
                now,
                p.file,
                drop.country_code,
                p.row,
                p.column,
                p.value,
                p.rule,
                p.explanation,
                p.advice,
                p.detail,
            ]
            for p in checked.problems
        ],
    )
