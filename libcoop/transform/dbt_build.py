"""Run dbt (seeds, models and their tests) against a build file."""

from __future__ import annotations

import fcntl
import gc
import hashlib
import itertools
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from libcoop.errors import LibcoopError
from libcoop.ingest.contract import KIND_COLUMNS
from libcoop.settings import dbt_project_dir, point_dbt_at, user_cache_dir

log = logging.getLogger(__name__)


class BuildFailed(LibcoopError):
    """dbt could not build the marts, or one of its tests failed."""


@dataclass(frozen=True)
class BuildResult:
    nodes: int
    failures: tuple[str, ...]
    full_refresh: bool = False


# dbt's own folder beside the warehouse: its target (manifest, partial-parse state, run results)
# and logs. It survives the runs, so dbt parses the project once and then only what changed.
STATE_DIRNAME = ".dbt-target"
# In that folder, the run results of the last dbt build (dbt docs overwrite target/run_results.json).
BUILD_RESULTS_NAME = "build_run_results.json"


def dbt_state_dir(database: Path) -> Path:
    """Where dbt keeps its state for ``database``: ``.dbt-target/`` beside the warehouse when
    ``database`` is a run's build (``warehouse/.build/<run>/<file>``), else beside ``database``."""
    run_folder = database.absolute().parent
    root = run_folder.parent.parent if run_folder.parent.name == ".build" else run_folder
    return root / STATE_DIRNAME


def _point_link(link: Path, database: Path) -> None:
    """Make ``link`` a symbolic link to ``database``, replacing what was there in one rename."""
    fresh = link.with_name(f".{link.name}.{os.getpid()}.link")
    fresh.unlink(missing_ok=True)
    fresh.symlink_to(database.absolute())
    fresh.replace(link)


# dbt's parse of the project, in its target folder and in a parse slot (below).
PARSE_FILE = "partial_parse.msgpack"


def dbt_args(
    command: str, database: Path, *extra: str, state_dir: Path | None = None, link_dir: Path | None = None
) -> list[str]:
    """The dbt command line for ``database``; dbt reads the path from LIBCOOP_DBT_DATABASE
    (``settings.point_dbt_at``).

    dbt re-parses the whole project when the profile changes, and the profile holds the database
    path, which differs for every run's build. So dbt connects through a link of a stable name that
    points at this run's build: in ``link_dir`` (a parse slot, ``dbt_command``), whose parse dbt then
    starts from, else in the state folder. DuckDB keeps its write-ahead log and its spill files
    beside the link."""
    state = state_dir or dbt_state_dir(database)
    state.mkdir(parents=True, exist_ok=True)
    link = (link_dir or state) / database.name
    _point_link(link, database)
    point_dbt_at(link)
    project = dbt_project_dir()
    kept = link_dir / PARSE_FILE if link_dir else None
    parse = ["--partial-parse-file-path", str(kept)] if kept and kept.exists() else []
    # dbt's log file at info level (each node's start, end and errors) unless DBT_LOG_LEVEL_FILE says
    # otherwise: at debug it also writes the SQL of every query, which a small run pays for in time.
    level = [] if os.environ.get("DBT_LOG_LEVEL_FILE") else ["--log-level-file", "info"]
    return [
        command,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(state / "target"),
        "--log-path",
        str(state / "logs"),
        *parse,
        *level,
        *extra,
    ]


@contextmanager
def dbt_state_lock(state_dir: Path) -> Iterator[None]:
    """One dbt command at a time per state folder: the link and the target are shared."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / "lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def parse_slots(database: Path) -> Path:
    """The folder of the parse slots of databases named like ``database``:
    ``<cache>/dbt-parse/<project, dbt versions, file name>/``."""
    made_of = "\0".join((str(dbt_project_dir().resolve()), version("dbt-core"), version("dbt-duckdb"), database.name))
    return user_cache_dir() / "dbt-parse" / hashlib.sha256(made_of.encode()).hexdigest()[:16]


def dbt_links(database: Path) -> list[Path]:
    """The links dbt reaches databases named like ``database`` through, one per parse slot."""
    return sorted(parse_slots(database).glob(f"*/{database.name}"))


@contextmanager
def parse_slot(database: Path) -> Iterator[Path]:
    """A folder of the user cache held (``flock``) for one dbt command on a database named like
    ``database``: its link has the same path command after command, whatever the warehouse, so
    the parse kept there is valid for a new warehouse too (dbt compares the profile, path included).
    The first free slot of ``parse_slots(database)``; a command finding them all busy adds one."""
    root = parse_slots(database)
    for number in itertools.count():
        slot = root / str(number)
        slot.mkdir(parents=True, exist_ok=True)
        handle = (slot / "lock").open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        try:
            # A write-ahead log left by a killed command is another build's, or the retried build's
            # own unfinished dbt writes: dbt builds them again either way.
            (slot / f"{database.name}.wal").unlink(missing_ok=True)
            yield slot
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
        return


def _modified(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


@contextmanager
def dbt_command(command: str, database: Path, *extra: str, state_dir: Path | None = None) -> Iterator[list[str]]:
    """``dbt_args`` for a command run under the state folder's lock, through a parse slot; when
    dbt parsed (part of) the project again, the slot keeps the new parse for the next command."""
    state = state_dir or dbt_state_dir(database)
    with dbt_state_lock(state), parse_slot(database) as slot:
        args = dbt_args(command, database, *extra, state_dir=state, link_dir=slot)
        parsed = state / "target" / PARSE_FILE
        before = _modified(parsed)
        yield args
        if _modified(parsed) not in (None, before):
            kept = slot / f".{PARSE_FILE}.{os.getpid()}"
            shutil.copyfile(parsed, kept)
            kept.replace(slot / PARSE_FILE)


def build_marts(
    database: Path,
    *,
    full_refresh: bool = False,
    state_dir: Path | None = None,
    on_event: Callable[[Any], None] | None = None,
    select: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
) -> BuildResult:
    """``dbt build`` (seeds, snapshots, models, tests) into ``database``; raise BuildFailed on any error.
    ``full_refresh`` rebuilds the incremental models from all rows (needed when the code changed).
    ``on_event`` receives every dbt event (libcoop.progress counts the finished nodes); ``select``
    and ``exclude``: dbt's node selection (all nodes when both are empty; see ``Selection``)."""
    from dbt.cli.main import dbtRunner

    state = state_dir or dbt_state_dir(database)
    with dbt_command("build", database, "--quiet", state_dir=state) as args:
        if full_refresh:
            args.append("--full-refresh")
        if select:
            args += ["--select", *select]
        if exclude:
            args += ["--exclude", *exclude]
        try:
            outcome = dbtRunner(callbacks=[on_event] if on_event else None).invoke(args)
        finally:
            release_duckdb()
        # dbt docs rewrite run_results.json: keep the build's (every model's and test's timing).
        results = state / "target" / "run_results.json"
        if results.exists():
            shutil.copyfile(results, state / BUILD_RESULTS_NAME)
    results = list(getattr(outcome.result, "results", None) or [])
    failures = tuple(
        f"{r.node.resource_type} {r.node.name}: {r.status} {r.message or ''}{_first_failures(database, r)}".strip()
        for r in results
        if str(r.status) in ("error", "fail", "runtime error")
    )
    if outcome.exception is not None or not outcome.success:
        reason = "; ".join(failures) or repr(outcome.exception)
        raise BuildFailed(f"dbt build failed: {reason}")
    log.info("dbt build%s: %d nodes passed", " --full-refresh" if full_refresh else "", len(results))
    return BuildResult(len(results), failures, full_refresh)


# The dbt sources the loader writes, by kind of file (dbt_project/models/staging/_sources.yml).
RAW_SOURCES = {kind: f"source:raw.current_{kind}" for kind in KIND_COLUMNS}
FILE_VERSIONS_SOURCE = "source:raw.file_versions"


@dataclass(frozen=True)
class Selection:
    """What an incremental build runs: dbt's ``--select`` and ``--exclude``."""

    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


# Tags of the dbt project (dbt_project.yml, the models' YAML). rows_of_<kind>: a model built by
# file version whose rows all come from files of that kind (its tests inherit the tag; the generic
# ones look at the rows of the changed files only). by_construction: a test that only a change of
# code or reference data can fail (the uniqueness of a GROUP BY's own columns).
GENERIC_TESTS_OF_KIND = "tag:rows_of_{kind},test_type:generic"
BY_CONSTRUCTION = "tag:by_construction"


def changed_sources(database: Path) -> Selection:
    """dbt's selection of what the last load of ``database`` can have changed: the raw sources of
    the kinds of file it loaded, restored or removed, and everything downstream of them (``+``);
    minus the generic tests of the models that build rows from the files of the other kinds only
    (they look at the rows of the changed files: there are none), and the tests only code can fail
    (the published build, made by the same code, passed them).

    For an incremental build only: with the code, seeds and reference data of the published build,
    the seeds, the snapshot, the reference models and the chains of the kinds no file changed
    would be rebuilt identical (no model reads the clock). The last load is the one the generic
    tests are filtered on too (macros/tests_on_changed_files.sql)."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        kinds = {
            kind
            for (kind,) in con.execute(
                "select distinct kind from audit.file_loads where outcome in ('loaded', 'restored', 'removed') "
                "and load_id = (select load_id from audit.file_loads order by checked_at desc, load_id desc limit 1)"
            ).fetchall()
        }
    return Selection(
        select=(*(f"{source}+" for kind, source in RAW_SOURCES.items() if kind in kinds), f"{FILE_VERSIONS_SOURCE}+"),
        exclude=(*(GENERIC_TESTS_OF_KIND.format(kind=k) for k in RAW_SOURCES if k not in kinds), BY_CONSTRUCTION),
    )


FAILURES_SHOWN = 5


def _first_failures(database: Path, result: Any) -> str:
    """The first rows a failed data test returned (e.g. the columns of not_null_columns that hold
    NULLs, and how many), read again from the build, which dbt has closed by then."""
    sql = getattr(result.node, "compiled_code", None)
    if str(result.status) != "fail" or result.node.resource_type != "test" or not sql:
        return ""
    import duckdb

    try:
        with duckdb.connect(str(database), read_only=True) as con:
            relation = con.sql(f"select * from ({sql}) limit {FAILURES_SHOWN}")
            columns, rows = relation.columns, relation.fetchall()
    except duckdb.Error as error:  # the message above still says the test failed
        log.debug("could not read the failing rows of %s: %s", result.node.name, error)
        return ""
    shown = "; ".join(", ".join(f"{c}={v}" for c, v in zip(columns, row, strict=True)) for row in rows)
    return f" (first failing rows: {shown})" if shown else ""


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open for the whole process after a run.

    Left open, it holds the build file read-write: the read-only connections of the validation
    that follows in the same process fail with "different configuration", and a database closed
    whenever the garbage collector runs may checkpoint into a folder that is already gone (a
    long-lived process, such as an Airflow worker, builds many). So it is closed here, in order: dbt's
    own ``cleanup_connections`` closes every thread's handle (the last one closes the database,
    dbt-duckdb counts them), then ``close_all_connections`` (its public release, which it runs at
    exit) drops the process-wide environment."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.adapters.factory import cleanup_connections

    cleanup_connections()
    DuckDBConnectionManager.close_all_connections()
    gc.collect()
