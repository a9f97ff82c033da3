"""The libcoop command: run the nightly job, check files, show or roll back the warehouse."""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import sys
from pathlib import Path
from typing import NoReturn

from libcoop.errors import LibcoopError
from libcoop.progress import LOG_FORMAT
from libcoop.redact import install_log_filter
from libcoop.settings import Paths, resolve_paths


def _run(args: argparse.Namespace) -> int:
    from libcoop.pipeline import run
    from libcoop.progress import Progress
    from libcoop.redact import safe

    paths = resolve_paths(args.raw_dir, args.warehouse)
    progress = Progress(lambda line: print(f"libcoop: {safe(line)}", file=sys.stderr, flush=True))
    try:
        summary = run(paths, progress=progress)
    except Exception as error:  # noqa: BLE001 - the contract: any failure is a non-zero exit with its reason
        from libcoop.warehouse.builds import foreign_lock

        print(f"libcoop run: nothing was published: {safe(str(foreign_lock(error) or error))}", file=sys.stderr)
        return 1
    print(summary.render())
    return 0


def _check(args: argparse.Namespace) -> int:
    from libcoop.ingest.check import CheckedFile, check_file
    from libcoop.ingest.contract import Problem
    from libcoop.ingest.drop_folder import hashed, parse_file_name, skip_reason
    from libcoop.ingest.reports import render
    from libcoop.redact import printable, safe

    rejected = 0
    accepted_hashes: dict[str, str] = {}  # as the nightly run does: a second copy of the same bytes is rejected
    for name in args.files:
        path = Path(name).absolute()
        if not path.exists():
            print(f"{printable(name)}: file not found", file=sys.stderr)
            rejected += 1
            continue
        # The run's own rule (libcoop.ingest.drop_folder.skip_reason): what it would not read is no drop file.
        reason = skip_reason(path.parent.name, path.name) if path.is_file() else "it is not a regular file"
        if reason is not None:
            print(f"{printable(name)}: not a drop file: {reason}", file=sys.stderr)
            rejected += 1
            continue
        kind, label, ext = parse_file_name(path.name)  # type: ignore[misc]
        try:
            drop = hashed(path, f"{path.parent.name}/{path.name}", path.parent.name.upper(), kind, label, ext)
            digest = drop.content_hash
            if digest in accepted_hashes:
                twin = accepted_hashes[digest]
                checked = CheckedFile(
                    drop, problems=[Problem(drop.relative_path, "duplicate_file", detail=f"copy of {twin}")]
                )
                checked.problem_counts = {"duplicate_file": 1}
            else:
                checked = check_file(drop, path.parent)
        except OSError as error:
            print(f"{printable(name)}: cannot be read: {error.strerror or error}", file=sys.stderr)
            rejected += 1
            continue
        if checked.accepted:
            accepted_hashes.setdefault(digest, name)
        print(safe(render(checked, dry_run=True)))
        rejected += not checked.accepted
    return 1 if rejected else 0


def _summary(args: argparse.Namespace) -> int:
    from libcoop.targets import NoWarehouseYet, target_for
    from libcoop.warehouse.builds import foreign_lock

    try:
        print(target_for(resolve_paths(warehouse=args.warehouse)).summary())  # a LakeError is printed by main
    except NoWarehouseYet as error:
        print(error, file=sys.stderr)
        return 1
    except Exception as error:
        if locked := foreign_lock(error):
            print(f"libcoop summary: {locked}", file=sys.stderr)
            return 1
        raise
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from libcoop.targets import target_for

    # NothingToRollBack, RunInProgress: printed by main
    print(target_for(resolve_paths(warehouse=args.warehouse)).rollback(args.to))
    return 0


def _builds(args: argparse.Namespace) -> int:
    from libcoop.warehouse.builds import kept_builds, live_run

    paths = resolve_paths(warehouse=args.warehouse)
    kept = kept_builds(paths.warehouse)
    if not kept:
        print(f"no build kept beside {paths.warehouse} yet", file=sys.stderr)
        return 1
    live = live_run(paths.warehouse)
    print(f"{'run id':<28} {'published (UTC)':<26} {'files':<34} {'mart rows':>10}")
    for build in kept:
        files = ", ".join(f"{n} {k}" for k, n in build.files.items()) or "-"
        mark = "  <- live" if build.run_id == live else ""
        when = build.published_at[:19].replace("T", " ")
        print(f"{build.run_id:<28} {when:<26} {files:<34} {build.rows:>10}{mark}")
    return 0


def _maintain(args: argparse.Namespace) -> int:
    from libcoop.warehouse.lake_maintenance import maintain_target

    done = maintain_target(args.warehouse, args.keep)  # a LakeError or RunInProgress is printed by main
    print(f"maintained: {done.render()}")
    return 0


def _published(args: argparse.Namespace) -> Paths | None:
    """The paths of the warehouse ``args`` name, or None, said on stderr, when none is published there yet."""
    paths = resolve_paths(warehouse=args.warehouse)
    if paths.warehouse.exists():
        return paths
    print(f"no warehouse published yet at {paths.warehouse}", file=sys.stderr)
    return None


def _docs(args: argparse.Namespace) -> int:
    """Regenerate the dbt docs of the published warehouse, from a private copy of it."""
    import shutil
    import tempfile

    from libcoop.transform.dbt_docs import generate_docs

    paths = _published(args)
    if paths is None:
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / paths.warehouse.name
        shutil.copyfile(paths.warehouse, copy)
        target = generate_docs(copy, paths.warehouse.parent / "dbt_docs")  # DocsFailed: printed by main
    print(f"dbt docs: {target}")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    """Rebuild the dashboard of the published warehouse (opened read-only)."""
    from libcoop.dashboard import dashboard_target
    from libcoop.dashboard.build import build_dashboard

    paths = _published(args)
    if paths is None:
        return 1
    print(f"dashboard: {build_dashboard(paths.warehouse, dashboard_target(paths.warehouse), paths.cache_dir)}")
    return 0


WAREHOUSE_HELP = (
    "the published DuckDB file, or a DuckLake as ducklake:postgres:<libpq string> with its data in "
    "$LIBCOOP_LAKE_DATA_PATH (default: $LIBCOOP_WAREHOUSE, else warehouse/cooperation.duckdb)"
)
RAW_DIR_HELP = "the raw folder that holds incoming/ and reports/ (default: $LIBCOOP_RAW_DIR, else raw/)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="libcoop",
        description=__doc__,
        epilog="Run 'libcoop COMMAND --help' for the options of a command.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every step, and third-party warnings")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, description: str, handler, *, raw_dir: bool = False):  # type: ignore[no-untyped-def]
        sub = commands.add_parser(name, help=summary, description=description)
        if raw_dir:
            sub.add_argument("--raw-dir", metavar="DIR", help=RAW_DIR_HELP)
        if name != "check":
            sub.add_argument("--warehouse", metavar="FILE", help=WAREHOUSE_HELP)
        sub.set_defaults(handler=handler)
        return sub

    command(
        "run",
        "load, build, validate and publish, in one process",
        "The nightly job in one process: check and load the drop folder, build the marts with dbt, "
        "validate them with Great Expectations and publish the build. Each phase is printed with its "
        "duration. Exit status 0 when a build was published (even with rejected files), 1 when nothing "
        "was published.",
        _run,
        raw_dir=True,
    )
    check = command(
        "check",
        "check drop files against the contract without loading them",
        "A coordinator's dry run: print the report each file would get, touching neither the "
        "warehouse nor raw/reports/. Exit status 1 when any file would be rejected.",
        _check,
    )
    check.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="a drop file named like <CC>/visits_2015.csv (its folder is the reporting country)",
    )
    command(
        "summary",
        "show the last published run",
        "Print the last published run from the warehouse, read-only: files, rows per mart, data quality.",
        _summary,
    )
    command(
        "docs",
        "regenerate the dbt docs of the published warehouse",
        "Regenerate the dbt docs (dbt_docs/index.html beside the warehouse) from a copy of the published warehouse.",
        _docs,
    )
    back = command(
        "rollback",
        "put a kept published build back (by default the one live before)",
        "Put a kept build back in as the warehouse, with its dashboard, Data Docs and dbt docs: by default "
        "the build that was live before the live one (twice rolls forward again), or the build of --to. "
        "Waits for no run: refuses while one holds the warehouse, naming it.",
        _rollback,
    )
    back.add_argument("--to", metavar="RUN_ID", help="the run whose build to put back (see libcoop builds)")
    command(
        "builds",
        "list the published builds kept for rollback",
        "List the kept builds (the last $LIBCOOP_KEEP_BUILDS published, 7 by default), newest first: "
        "run id, when it was published, its files and mart rows; the live one is marked.",
        _builds,
    )
    maintain = command(
        "maintain",
        "expire old snapshots of the DuckLake, merge small files, delete unreferenced ones",
        "DuckLake maintenance (weekly in the DAG ducklake_maintenance): expire the snapshots older than the "
        "last $LIBCOOP_KEEP_BUILDS published builds (rollback keeps working), merge adjacent small files, "
        "delete the files no snapshot references. Only for a DuckLake target.",
        _maintain,
    )
    maintain.add_argument("--keep", type=int, metavar="N", help="builds to keep (default $LIBCOOP_KEEP_BUILDS)")
    command(
        "dashboard",
        "rebuild the cooperation dashboard of the published warehouse",
        "Rebuild the dashboard (dashboard/index.html beside the warehouse) from the published warehouse, read-only.",
        _dashboard,
    )
    from libcoop.door.commands import add_commands  # serve, users: the coordinators' door

    add_commands(commands)
    return parser


def entry() -> NoReturn:
    """The ``libcoop`` command: ``main``, then the process ends as mypy's does, with ``os._exit``
    once its output is flushed and the exit handlers have run (logging's, multiprocessing's).
    Python would otherwise free every object dbt made, one by one, after ``libcoop run`` has said
    all it had to say. Under a profiler or a debugger it exits as usual. ``main`` itself
    returns (the tests call it)."""
    code = main()
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)  # a profiler or a debugger writes what it saw after the program: let it
    atexit._run_exitfuncs()  # noqa: SLF001 - what Python runs at exit, before the teardown skipped here
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _reader_gone()
        code = code or 1
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format=LOG_FORMAT)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    logging.captureWarnings(True)  # Python warnings (graphviz, openlineage...) go through logging
    install_log_filter()  # no password of a lake's target, no raw control character of a file name
    if not args.verbose:
        for handler in logging.getLogger().handlers:
            handler.addFilter(_Quiet())
    try:
        return args.handler(args)
    except LibcoopError as error:
        # Written for the person who reads it (libcoop/errors.py): the words, not a traceback.
        print(f"libcoop {args.command}: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        _reader_gone()
        return 1


def _reader_gone() -> None:
    """`libcoop summary | head`: the reader has had enough. Python's own advice: point stdout at
    /dev/null so that flushing it at exit raises nothing either, and end quietly."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class _Quiet(logging.Filter):
    """Quiet by default: libcoop's own warnings, each once, and only errors of the libraries
    underneath. The progress lines are printed by the command itself."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[str, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("libcoop.progress"):
            return False
        if not (record.name.startswith("libcoop") or record.levelno >= logging.ERROR):
            return False
        key = (record.name, record.getMessage())
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


if __name__ == "__main__":
    entry()
