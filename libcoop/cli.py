"""The ``libcoop`` command: run the nightly job, check files, show or roll back the warehouse."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from libcoop.config import resolve_paths


def _run(args: argparse.Namespace) -> int:
    from libcoop.pipeline import run

    paths = resolve_paths(args.raw_dir, args.warehouse)
    try:
        summary = run(paths)
    except Exception as error:  # noqa: BLE001 - the contract: any failure is a non-zero exit with its reason
        print(f"libcoop run: nothing was published: {error}", file=sys.stderr)
        return 1
    print(summary.render())
    return 0


def _check(args: argparse.Namespace) -> int:
    from libcoop.drop_folder import DropFile, parse_file_name
    from libcoop.reports import render
    from libcoop.validate import check_file

    rejected = 0
    for name in args.files:
        path = Path(name).absolute()
        parsed = parse_file_name(path.name)
        if not path.is_file() or parsed is None:
            print(
                f"{name}: not a drop file (names are memberships, visits or donations, optionally _<label>, "
                "ending in .csv or .xlsx)",
                file=sys.stderr,
            )
            rejected += 1
            continue
        kind, label, ext = parsed
        drop = DropFile(path, f"{path.parent.name}/{path.name}", path.parent.name.upper(), kind, label, ext)
        checked = check_file(drop, path.parent)
        print(render(checked))
        rejected += not checked.accepted
    return 1 if rejected else 0


def _summary(args: argparse.Namespace) -> int:
    from libcoop.pipeline import published_summary

    paths = resolve_paths(args.raw_dir, args.warehouse)
    if not paths.warehouse.exists():
        print(f"no warehouse published yet at {paths.warehouse}", file=sys.stderr)
        return 1
    print(published_summary(paths).render())
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from libcoop.publish import NothingToRollBack, rollback

    paths = resolve_paths(args.raw_dir, args.warehouse)
    try:
        rollback(paths)
    except NothingToRollBack as error:
        print(f"libcoop rollback: {error}", file=sys.stderr)
        return 1
    print(f"rolled back: {paths.warehouse} is the previous build again")
    return 0


def _docs(args: argparse.Namespace) -> int:
    """Regenerate the dbt docs of the published warehouse, from a private copy of it."""
    import shutil
    import tempfile

    from libcoop.docs import generate_docs

    paths = resolve_paths(args.raw_dir, args.warehouse)
    if not paths.warehouse.exists():
        print(f"no warehouse published yet at {paths.warehouse}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / paths.warehouse.name
        shutil.copyfile(paths.warehouse, copy)
        target = generate_docs(copy, paths.warehouse.parent / "dbt_docs")
    print(f"dbt docs: {target / 'index.html'}")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    """Rebuild the dashboard of the published warehouse (opened read-only)."""
    from libcoop.dashboard import dashboard_target
    from libcoop.dashboard.build import build_dashboard

    paths = resolve_paths(args.raw_dir, args.warehouse)
    if not paths.warehouse.exists():
        print(f"no warehouse published yet at {paths.warehouse}", file=sys.stderr)
        return 1
    print(f"dashboard: {build_dashboard(paths.warehouse, dashboard_target(paths.warehouse))}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="libcoop", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log every step")
    commands = parser.add_subparsers(dest="command", required=True)

    def with_locations(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--raw-dir", help="the raw folder holding incoming/ (default: $LIBCOOP_RAW_DIR or raw/)")
        sub.add_argument(
            "--warehouse",
            help="the published DuckDB file (default: $LIBCOOP_WAREHOUSE or warehouse/cooperation.duckdb)",
        )
        return sub

    with_locations(commands.add_parser("run", help="load, build, validate and publish, in one process")).set_defaults(
        handler=_run
    )
    check = commands.add_parser("check", help="check files against the contract without loading them")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(handler=_check)
    with_locations(commands.add_parser("summary", help="show the last published run")).set_defaults(handler=_summary)
    with_locations(commands.add_parser("docs", help="regenerate the dbt docs of the published warehouse")).set_defaults(
        handler=_docs
    )
    with_locations(
        commands.add_parser("dashboard", help="rebuild the cooperation dashboard of the published warehouse")
    ).set_defaults(handler=_dashboard)
    with_locations(commands.add_parser("rollback", help="put the previous published build back")).set_defaults(
        handler=_rollback
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
