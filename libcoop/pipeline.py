"""The nightly job, step by step: load -> build (dbt) -> validate (GE) -> publish.

The Airflow tasks of ``dags/cooperation_nightly.py`` call these same functions one by one;
``libcoop run`` calls ``run``, which chains them in one process."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import duckdb

from libcoop.aliases import write_accepted_aliases
from libcoop.audit import audit_store, bring_in, keep_run
from libcoop.door.mail import send_run_mails
from libcoop.errors import LibcoopError
from libcoop.fingerprint import built_by_same_code, docs_are_current, record_fingerprint, unchanged_since
from libcoop.ingest.drop_folder import Discovery, DropFile, discover
from libcoop.ingest.load import LoadResult, load_drop
from libcoop.ingest.staged import prepare_checks, stage_check, staged_checks
from libcoop.lineage import build_datasets, load_datasets, publish_datasets, traced, validate_datasets
from libcoop.progress import LOG_FORMAT, Progress, current, files_to_check, phase, using
from libcoop.reference import write_reference_tables

# What a run is and what it records (libcoop.runs), importable from here as the DAG and tests do.
from libcoop.runs import (  # noqa: F401 - re-exported
    DATA_DOCS_PAGE,
    DBT_DOCS_PAGE,
    OUTCOMES,
    DiskFull,
    RunSummary,
    _disk_full_message,
    _is_disk_full,
    files_of_run,
    mart_row_counts,
    new_run_id,
    published_summary,
    record_failure,
    record_run,
    safe_run_id,
)
from libcoop.settings import Paths, door_dir, warehouse_config
from libcoop.targets import target_for
from libcoop.transform.dbt_build import STATE_DIRNAME, Selection, build_marts, changed_sources
from libcoop.transform.dbt_docs import DocsFailed, generate_docs
from libcoop.warehouse.publish import (
    build_path,
    discard_build,
    keep_blocked_docs,
    prepare_build,
    staged_docs,
)
from libcoop.warehouse.runlock import run_lock

log = logging.getLogger(__name__)


class PublishBlocked(LibcoopError):
    """The build is not fit to publish (a critical data-quality check failed)."""


# --- the steps ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingChanges:
    """How the drop folder differs from what the published warehouse holds, with the drop folder
    as listed and hashed for it: the value the discover step hands the check and load steps."""

    to_check: tuple[str, ...]  # new or changed files, including ones rejected before
    removed: tuple[str, ...]  # files in force whose file is gone
    unseen: tuple[str, ...]  # to_check minus the bytes already rejected: what warrants a new run
    discovery: Discovery

    @property
    def any(self) -> bool:
        return bool(self.unseen or self.removed)

    def files_to_check(self) -> tuple[DropFile, ...]:
        return tuple(self.discovery.file(p) for p in self.to_check)


def pending_changes(paths: Paths) -> PendingChanges:
    """List and hash the drop folder (once) and compare it with the published build (its kept copy, read-only)."""
    found = discover(paths.incoming)
    hashes = {f.relative_path: f.content_hash for f in found.files}
    current, rejected = target_for(paths).files_in_force()  # the published build's, as its target says
    to_check = tuple(p for p, h in hashes.items() if current.get(p) != h)
    return PendingChanges(
        to_check=to_check,
        removed=tuple(sorted(p for p in set(current) - set(hashes) if not found.holds(p))),
        unseen=tuple(p for p in to_check if (p, hashes[p]) not in rejected),
        discovery=found,
    )


def nothing_to_build(paths: Paths, pending: PendingChanges) -> tuple[str, int] | None:
    """(what to say, files in force) when a run would rebuild the published build identical: no
    file new, changed or removed except bytes already rejected (rejected again, they would leave
    the same build), and the code that made the published build; None when there is work."""
    if pending.any:
        return None
    unchanged = unchanged_since(paths)
    if unchanged is None:
        return None
    build_id, in_force = unchanged
    message = f"nothing changed since build {build_id}: nothing rebuilt or republished"
    if again := len(pending.to_check):
        message += (
            f" ({again} file{'s' if again > 1 else ''} rejected before with the same bytes, not checked again:"
            " their reports still stand)"
        )
    return message, in_force


def discover_step(paths: Paths, run_id: str, pending: PendingChanges | None = None) -> PendingChanges:
    """The drop folder of this run and the files to check in it: new or changed since the
    published build. ``pending``: the comparison already made (``run`` makes it first)."""
    with current().phase("discover") as step:
        if pending is None:  # an Airflow run: the local copy agrees with the target first
            target_for(paths).converge(run_id)
        pending = pending or pending_changes(paths)
        prepare_checks(paths, run_id)  # where the parallel checks stage their verdicts
        step.note = files_to_check(len(pending.to_check))
    return pending


def check_step(paths: Paths, run_id: str, drop: DropFile, n: int | None = None, total: int | None = None):  # type: ignore[no-untyped-def]
    """Check one file and stage its verdict for the load (``libcoop.ingest.staged``); report it."""
    verdict = stage_check(paths, run_id, drop)
    current().checked(verdict, n, total)
    return verdict


# Above this many files they are checked side by side, one worker process per core (at most 4):
# starting a worker (a new interpreter importing the checker) costs more than
# checking a few small files. Workers are spawned, not forked: nothing of this process (DuckDB's
# threads) is copied into them. The sample drop (10 files) is checked in this process.
PARALLEL_CHECKS_FROM = 40


def check_files(paths: Paths, run_id: str, to_check: tuple[DropFile, ...]) -> None:
    """``check_step`` for every file, reported as each finishes; side by side when there are many."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = min(4, cores, len(to_check))
    if len(to_check) < PARALLEL_CHECKS_FROM or workers < 2:
        for n, drop in enumerate(to_check, start=1):
            check_step(paths, run_id, drop, n, len(to_check))
        return
    with worker_pool(workers) as pool:
        pending = [pool.submit(stage_check, paths, run_id, drop) for drop in to_check]
        for n, done in enumerate(as_completed(pending), start=1):
            current().checked(done.result(), n, len(to_check))


class ValidationWorker:
    """A process that imports Great Expectations while dbt builds, then validates the build (as
    ``validate_warehouse``): the imports, seconds of a run that changed little, overlap the build
    instead of following it. Spawned like the check workers. ``run`` uses one; an Airflow task
    validates in its own process."""

    def __init__(self) -> None:
        self._pool = worker_pool(1)
        self._pool.submit(_import_validation)  # the process starts now
        self._closing: threading.Thread | None = None

    def validate(self, database: Path, run_id: str, context_dir: Path):  # type: ignore[no-untyped-def]
        from libcoop.quality import validate_warehouse

        return self._pool.submit(validate_warehouse, database, run_id, context_dir).result()

    def release(self) -> None:
        """Let the process end while this one goes on (its interpreter's teardown takes a while):
        the pool is shut down and waited for in a thread, which ``close`` joins."""
        if self._closing is None:
            self._closing = threading.Thread(
                target=self._pool.shutdown, kwargs={"wait": True, "cancel_futures": True}, name="validation-worker-end"
            )
            self._closing.start()

    def close(self) -> None:
        """Shut the pool down and wait until its process has ended. Never skipped: a process that
        ends with ``os._exit`` (``libcoop.cli.entry``) does not join the pool's threads as Python's
        own exit does, and multiprocessing's exit handler would then wait for a worker that never
        got the word to end."""
        self.release()
        self._closing.join()


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """``workers`` spawned processes (nothing of this one, such as DuckDB's threads, is copied into
    them) that log as this command and end with it (``_worker_setup``)."""
    root = logging.getLogger()
    setup = (root.level, [kept for handler in root.handlers[:1] for kept in handler.filters], os.getpid())
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_setup, initargs=setup)


def _worker_setup(level: int, filters: list[logging.Filter], parent: int) -> None:
    """A worker (a check's, the validation's) logs as the command that started it (its warnings name
    the file), and ends when that command's process is gone: killed, it would never ask the worker
    for anything again, and an idle worker waits forever holding its memory."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    for handler in logging.getLogger().handlers:
        for kept in filters:
            handler.addFilter(kept)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _import_validation() -> None:
    from libcoop.quality.validation import open_context  # noqa: F401 - the imports are the point
    from libcoop.settings import keep_great_expectations_offline

    keep_great_expectations_offline()
    import great_expectations  # noqa: F401


def release_semaphores() -> None:
    """Unlink now the named semaphores of this process's multiprocessing locks, as Python does at exit.

    dbt makes its locks (its adapter's, each manifest's) from a "spawn" context: POSIX named
    semaphores that multiprocessing's resource tracker watches and Python unlinks at exit. An
    Airflow task process ends with ``os._exit``, which skips that, and the tracker then reports
    "leaked semaphore objects" on the task's stderr: red ERROR lines in the log of a task that
    succeeded. The Airflow tasks that run dbt call this last. The locks stay usable (unlinking a
    semaphore's name, like a file's, leaves the open one working)."""
    from multiprocessing import util

    run_exit_finalizers = getattr(util, "_run_finalizers", None)
    if run_exit_finalizers is not None:
        run_exit_finalizers(0)  # exactly what multiprocessing's own exit hook runs first


@phase("load", note=lambda done: done[1].summary())
@traced("load", load_datasets)  # OpenLineage START/COMPLETE/FAIL events (libcoop.lineage), never failing the step
def load_step(paths: Paths, run_id: str, discovery: Discovery | None = None) -> tuple[Path, LoadResult]:
    """Copy the published warehouse into a private build and load the drop folder into it (the
    ``discovery`` of the discover step; listed here when None), using the per-file verdicts
    staged for this run when there are any."""
    build = prepare_build(paths, run_id)
    discovery = discovery or discover(paths.incoming)
    with duckdb.connect(str(build), config=warehouse_config()) as con:
        write_reference_tables(con)
        write_accepted_aliases(con, door_dir(paths.warehouse))  # the curators' yes in the door (libcoop.door)
        result = load_drop(con, paths, run_id, discovery, staged_checks(paths, run_id, discovery))
    return build, result


@phase("build", note=lambda nodes: f"{nodes} dbt nodes passed")
@traced("build", build_datasets)
def build_step(build: Path) -> int:
    """dbt build: seeds, snapshot, models (the review candidates included) and their tests. When
    the code is the one that built the published warehouse: only the new file versions, and only
    the nodes downstream of the kinds of file that changed."""
    full_refresh = not built_by_same_code(build)
    selection = Selection() if full_refresh else changed_sources(build)
    on_event = current().dbt_event
    return build_marts(
        build, full_refresh=full_refresh, select=selection.select, exclude=selection.exclude, on_event=on_event
    ).nodes


@phase("validate", note=lambda report: report.summary())
@traced("validate", validate_datasets)
def validate_step(paths: Paths, build: Path, run_id: str, worker: ValidationWorker | None = None):  # type: ignore[no-untyped-def]
    """Run every Great Expectations suite on the build (in ``worker`` when given) and keep the
    results in it."""
    from libcoop.quality import publish_data_docs, record_results, validate_warehouse
    from libcoop.quality.monitors import with_monitors
    from libcoop.quality.unresolved import with_unresolved_names
    from libcoop.quality.validation import warehouse_context

    context_dir = warehouse_context(paths.expectations_dir, paths.gx_context_dir)
    report = (worker.validate if worker else validate_warehouse)(build, run_id, context_dir)
    # The rows dbt could not resolve a name of: warnings on their coordinators' pages.
    report = with_unresolved_names(report, build)
    # Freshness, volume and schema per country and kind (libcoop.quality.monitors): warnings too.
    report = with_monitors(report, build)
    with duckdb.connect(str(build)) as con:
        record_results(con, report)
    # Beside the build: published with it, or kept under warehouse/blocked/ when it is blocked.
    publish_data_docs(report, staged_docs(build, "data_docs"))
    log.info(report.summary())
    return report


def file_counts(outcomes: dict[str, int] | LoadResult) -> dict[str, int]:
    if isinstance(outcomes, LoadResult):
        counts = {k: outcomes.count(k) for k in ("loaded", "restored", "unchanged", "rejected", "removed")}
        counts["skipped"] = len(outcomes.skipped)
        return {k: v for k, v in counts.items() if v}
    return outcomes


@phase("publish", note=lambda summary: f"{summary.warehouse} is the new build")
@traced("publish", publish_datasets)
def publish_step(
    paths: Paths,
    build: Path,
    run_id: str,
    files: dict[str, int],
    quality_passed: bool,
    quality_summary: str,
    started_at: dt.datetime,
) -> RunSummary:
    """Record the run in the build and publish it, or refuse when quality failed. Whatever the
    outcome, the build's folder (its docs and dashboard included) is gone afterwards."""
    try:
        summary = RunSummary(
            run_id, "published", paths.warehouse, files, quality=quality_summary, reports=paths.reports
        )
        if not quality_passed:
            summary.status = "blocked"
            summary.message = "a critical data-quality check failed; the last good warehouse stays published"
            if docs := keep_blocked_docs(build, paths.warehouse, run_id):
                summary.message += f"; this run's Data Docs: {docs / 'index.html'}"
            # The blocked run's results reach the warehouse with the next published build.
            with duckdb.connect(str(build)) as con:
                summary.mart_rows = mart_row_counts(con)
                record_run(con, summary, started_at)
            keep_run(audit_store(paths.warehouse), build, run_id)
            raise PublishBlocked(f"{summary.message}: {quality_summary}")
        try:
            # Before the rename: dbt must document the build file, never write the published one.
            if docs_are_current(paths):
                log.info("dbt docs kept: the models and seeds are those of the published build")
            else:
                generate_docs(
                    build,
                    staged_docs(build, "dbt_docs"),
                    state_dir=paths.warehouse.parent / STATE_DIRNAME,
                    after_build=True,
                )
        except DocsFailed as error:
            log.warning("dbt docs not refreshed: %s", error)
        with duckdb.connect(str(build), config=warehouse_config()) as con:  # the marts' counts, under the ceiling
            bring_in(con, audit_store(paths.warehouse))
            summary.mart_rows = mart_row_counts(con)
            summary.file_names = files_of_run(con, run_id)
            record_run(con, summary, started_at)
            record_fingerprint(con, run_id)
        from libcoop.dashboard.build import stage_dashboard

        stage_dashboard(build, paths.cache_dir)  # beside the build file; publish swaps it in with it
        kept = {"files": summary.files, "mart_rows": summary.mart_rows}
        summary.lake = target_for(paths).publish(build, run_id, kept)
        send_run_mails(paths, summary)  # to each country's coordinators; a mail that fails is only logged
        return summary
    finally:
        discard_build(build)


def run(paths: Paths, run_id: str | None = None, progress: Progress | None = None) -> RunSummary:
    """The whole nightly job in one process, the same steps as the Airflow tasks. Raises when
    nothing was published. ``progress`` hears of each phase (default: the libcoop.progress logger)."""
    run_id = run_id or new_run_id()
    started_at = dt.datetime.now(dt.UTC)
    target_for(paths).converge(run_id)  # a DuckLake's local copy is only a cache: made to agree with it first
    # The same files and the same code as the published build: it would be rebuilt identical.
    pending = pending_changes(paths)
    if unchanged := nothing_to_build(paths, pending):
        summary = published_summary(paths)
        summary.run_id, summary.status, summary.files = run_id, "unchanged", {"unchanged": unchanged[1]}
        if pending.to_check:
            summary.files["rejected before"] = len(pending.to_check)
        summary.message = unchanged[0]
        log.info(summary.message)
        return summary
    with using(progress or current()) as progress, run_lock(paths.warehouse, run_id):  # one run at a time
        try:
            return _locked_run(paths, run_id, progress, pending, started_at)
        except PublishBlocked:
            raise  # its rows are kept already
        except Exception as error:
            record_failure(paths, run_id, started_at, error)
            raise


def _locked_run(
    paths: Paths, run_id: str, progress: Progress, pending: PendingChanges, started_at: dt.datetime
) -> RunSummary:
    pending = discover_step(paths, run_id, pending)
    to_check = pending.files_to_check()
    with progress.phase("check"):
        check_files(paths, run_id, to_check)
    build = build_path(paths, run_id)  # known before the load, to clean up after a failed one
    # The worker imports Great Expectations during the load and the build; closed when the run ends.
    with contextlib.closing(ValidationWorker()) as worker:
        try:  # a failed run leaves no build, staged docs or dashboard behind (a full disk included)
            try:
                build, result = load_step(paths, run_id, pending.discovery)
                build_step(build)
                report = validate_step(paths, build, run_id, worker)
            finally:
                worker.release()  # it ends while the run publishes
        except BaseException as error:
            discard_build(build)
            if _is_disk_full(error):
                raise DiskFull(_disk_full_message(paths, error)) from error
            raise
        try:
            summary = publish_step(
                paths, build, run_id, file_counts(result), report.passed, report.summary(), started_at
            )
            summary.warnings, summary.unresolved_names = report.warning_count, report.unresolved_count
            summary.monitor_warnings = len(report.monitor_findings)
            return summary
        except Exception as error:
            if _is_disk_full(error):
                raise DiskFull(_disk_full_message(paths, error)) from error
            raise
