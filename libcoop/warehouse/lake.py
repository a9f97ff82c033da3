"""The DuckLake target: the marts published as snapshots of a DuckLake whose catalog is in PostgreSQL.

``LIBCOOP_WAREHOUSE=ducklake:postgres:<libpq string>`` and ``LIBCOOP_LAKE_DATA_PATH=<folder>`` select
it (docs/contract.md, section 2). A run builds exactly as with the DuckDB file: load, ``dbt build``
and validation work on a private build file copied from the last published build, which is kept
in a local work folder (``LIBCOOP_WORK_DIR``), one subfolder per target (``Lake.local_dir``): a
cache that ``libcoop.warehouse.lake_state`` checks against the lake before each run. Only
publishing differs: every ``marts`` table and view (views as tables), every ``audit`` table of the
build (with the runs of the lake's history the build does not carry) and the file versions in
force (``audit.files_in_force``) are copied into the lake in ONE DuckLake transaction, so readers
on any machine see the previous snapshot or the new one, never a mix, and never wait. A failed
or killed run commits nothing: the last snapshot stays current.

Each publish is a snapshot whose commit message names its run (author ``libcoop``); ``rollback``
is time travel: the tables of the previous published snapshot, read ``AT (VERSION => n)``, become
a new snapshot. The extensions (ducklake, postgres_scanner) are loaded from their PyPI packages'
files, never downloaded."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from libcoop.errors import NothingToRollBack
from libcoop.redact import redact
from libcoop.settings import lake_data_path, lake_work_dir
from libcoop.target import PREFIX, Lake, LakeError, is_lake, parse_lake  # noqa: F401 - importable from here

log = logging.getLogger(__name__)

AUTHOR = "libcoop"
# What readers of the lake get: the star schema (views materialized as tables) and the run records.
PUBLISHED_SCHEMAS = ("marts", "audit")
# extension name -> the PyPI package that carries its file
EXTENSIONS = {"postgres_scanner": "duckdb-extension-postgres-scanner", "ducklake": "duckdb-extension-ducklake"}


class MissingExtension(LakeError):
    """A DuckDB extension the DuckLake target needs is not installed."""


class NoLakeYet(LakeError):
    """The catalog database exists but holds no DuckLake: nothing was ever published to it."""


@dataclass(frozen=True)
class Snapshot:
    """A published snapshot: a run's publish or a rollback."""

    snapshot_id: int
    published_at: dt.datetime
    kind: str  # publish, rollback
    run_id: str
    tables: tuple[str, ...]  # schema.table
    restored_snapshot: int | None = None  # for a rollback: the snapshot whose tables it brought back


def parse(target: str, data_path: str | None = None, work_dir: str | os.PathLike[str] | None = None) -> Lake:
    """The contract's setting; data path and work folder default to their environment variables."""
    return parse_lake(target, data_path or lake_data_path(), work_dir or lake_work_dir())


def extension_file(name: str) -> Path:
    """The extension file inside its installed PyPI package, for this DuckDB version."""
    package = EXTENSIONS[name]
    hint = (
        f"the DuckDB extension {name} is missing: install the PyPI package {package}=={duckdb.__version__} "
        "(libcoop never downloads extensions)"
    )
    spec = importlib.util.find_spec(package.replace("-", "_"))
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtension(hint)
    path = Path(next(iter(spec.submodule_search_locations))) / "extensions" / f"v{duckdb.__version__}"
    path = path / f"{name}.duckdb_extension"
    if not path.is_file():
        raise MissingExtension(f"{hint}; {path} does not exist")
    return path


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(lake: Lake, *, read_only: bool = False, alias: str = "lake") -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the extensions loaded from their packages and the lake attached."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        for name in EXTENSIONS:
            con.execute(f"load {_literal(str(extension_file(name)))}")
        if read_only:
            options = "read_only"
        else:
            if "://" not in lake.data_path:
                Path(lake.data_path).mkdir(parents=True, exist_ok=True)
            # every row in Parquet files (the contract's words), none inlined into the catalog
            options = f"data_path {_literal(lake.data_path)}, data_inlining_row_limit 0"
        con.execute(f"attach {_literal(lake.url)} as {alias} ({options})")
    except duckdb.Error as error:
        con.close()
        # DuckDB's message quotes the connection string, password included
        if read_only and "does not exist" in str(error) and "creating a new DuckLake" in str(error):
            raise NoLakeYet(f"{lake.display} holds no DuckLake yet") from None
        raise LakeError(f"cannot attach {lake.display}: {redact(str(error))}") from None
    except BaseException:
        con.close()
        raise
    return con


def published_tables(con: duckdb.DuckDBPyConnection, database: str) -> list[str]:
    schemas = ", ".join(_literal(s) for s in PUBLISHED_SCHEMAS)
    rows = con.execute(
        f"select schema_name || '.' || table_name from duckdb_tables() where database_name = ? "
        f"and schema_name in ({schemas}) "
        f"union all select schema_name || '.' || view_name from duckdb_views() where database_name = ? "
        f"and schema_name = 'marts' and not internal order by 1",
        [database, database],
    ).fetchall()
    return [name for (name,) in rows]


def _comments(con: duckdb.DuckDBPyConnection, database: str) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """The table and column comments of ``database`` (what BI tools show as descriptions)."""
    tables = con.execute(
        "select schema_name || '.' || table_name, comment from duckdb_tables() where database_name = ? "
        "and comment is not null union all "
        "select schema_name || '.' || view_name, comment from duckdb_views() where database_name = ? "
        "and comment is not null",
        [database, database],
    ).fetchall()
    columns = con.execute(
        "select schema_name || '.' || table_name, column_name, comment from duckdb_columns() "
        "where database_name = ? and comment is not null",
        [database],
    ).fetchall()
    return dict(tables), {(t, c): text for t, c, text in columns}


def _quoted(name: str) -> str:
    return ".".join(f'"{part}"' for part in name.split("."))


def _replace_tables(
    con: duckdb.DuckDBPyConnection,
    sources: dict[str, str],
    comments: tuple[dict[str, str], dict[tuple[str, str], str]],
) -> None:
    """Inside the open transaction: make the lake's published tables exactly ``sources``
    (lake table -> the SELECT that fills it), with their comments; drop the others."""
    for schema in PUBLISHED_SCHEMAS:
        con.execute(f'create schema if not exists lake."{schema}"')
    for name in published_tables(con, "lake"):
        if name not in sources:
            con.execute(f"drop table lake.{_quoted(name)}")
    table_comments, column_comments = comments
    for name, select in sources.items():
        con.execute(f"create or replace table lake.{_quoted(name)} as {select}")
        if name in table_comments:
            con.execute(f"comment on table lake.{_quoted(name)} is {_literal(table_comments[name])}")
    for (name, column), text in column_comments.items():
        if name in sources:
            con.execute(f'comment on column lake.{_quoted(name)}."{column}" is {_literal(text)}')


def _commit(con: duckdb.DuckDBPyConnection, message: str, info: dict[str, Any]) -> int:
    con.execute("call lake.set_commit_message(?, ?, extra_info => ?)", [AUTHOR, message, json.dumps(info)])
    con.execute("commit")
    (snapshot,) = con.execute("select id from lake.current_snapshot()").fetchone()  # type: ignore[misc]
    return int(snapshot)


# audit table -> the column naming its run: how the lake's history is carried into a publish
RUN_COLUMNS = {
    "runs": "run_id",
    "dq_results": "run_id",
    "monitor_findings": "run_id",
    "build_fingerprints": "run_id",
    "file_loads": "load_id",
    "file_rejections": "load_id",
}
# The file versions the published marts are built from: what the next run compares the drop folder with.
FILES_IN_FORCE = "audit.files_in_force"
IDENTITY = 'lake."libcoop".lake_identity'


def _version_of(con: duckdb.DuckDBPyConnection) -> int:
    (snapshot,) = con.execute("select id from lake.current_snapshot()").fetchone()  # type: ignore[misc]
    return int(snapshot)


def lake_identity(con: duckdb.DuckDBPyConnection, *, create: bool = False) -> str | None:
    """The id recorded in the lake when libcoop first published to it (inside the open
    transaction when ``create``); None for a lake libcoop never published to."""
    exists = con.execute(
        "select 1 from duckdb_tables() where database_name = 'lake' and schema_name = 'libcoop' "
        "and table_name = 'lake_identity'"
    ).fetchall()
    if exists:
        row = con.execute(f"select lake_id from {IDENTITY} order by created_at limit 1").fetchone()
        if row:
            return str(row[0])
    if not create:
        return None
    con.execute('create schema if not exists lake."libcoop"')
    con.execute(f"create table if not exists {IDENTITY} (lake_id varchar, created_at timestamptz)")
    lake_id = uuid.uuid4().hex
    con.execute(f"insert into {IDENTITY} values (?, ?)", [lake_id, dt.datetime.now(dt.UTC)])
    return lake_id


def _with_history(con: duckdb.DuckDBPyConnection, name: str, version: int) -> str:
    """The SELECT that publishes audit table ``name`` of the build with the lake's rows of the
    runs the build does not carry (a local copy rebuilt after a rollback or a restore)."""
    select = f"select * from build.{_quoted(name)}"
    column = RUN_COLUMNS.get(name.split(".")[1])
    if column is None:
        return select
    return (
        f"{select} union all by name select * from lake.{_quoted(name)} at (version => {version}) "
        f'where "{column}" not in (select "{column}" from build.{_quoted(name)} where "{column}" is not null)'
    )


def publish_build(lake: Lake, build: Path, run_id: str) -> int:
    """Copy the build's marts and audit tables into the lake as one snapshot; return its id."""
    with connect(lake) as con:
        con.execute(f"attach {_literal(str(build))} as build (read_only)")
        tables = published_tables(con, "build")
        if not any(name.startswith("marts.") for name in tables):
            raise LakeError(f"{build} has no marts: not publishing")
        version = _version_of(con)
        con.execute("begin")
        in_lake = set(published_tables(con, "lake"))
        sources = {
            name: _with_history(con, name, version)
            if name.startswith("audit.") and name in in_lake
            else f"select * from build.{_quoted(name)}"
            for name in tables
        }
        if con.execute(
            "select 1 from duckdb_tables() where database_name = 'build' and schema_name = 'raw' "
            "and table_name = 'file_versions'"
        ).fetchall():
            sources[FILES_IN_FORCE] = (
                "select file_path, content_hash, load_id, loaded_at, row_count "
                "from build.raw.file_versions where is_current order by file_path"
            )
        lake_id = lake_identity(con, create=True)
        _replace_tables(con, sources, _comments(con, "build"))
        info = {"kind": "publish", "run_id": run_id, "tables": list(sources), "lake_id": lake_id}
        snapshot = _commit(con, f"publish {run_id}", info)
    log.info("published run %s to %s as snapshot %d", run_id, lake, snapshot)
    return snapshot


def snapshots(con: duckdb.DuckDBPyConnection) -> list[Snapshot]:
    """The lake's published snapshots, oldest first (other snapshots, if any, are not libcoop's)."""
    rows = con.execute(
        "select snapshot_id, snapshot_time, commit_extra_info from lake.snapshots() "
        "where author = ? order by snapshot_id",
        [AUTHOR],
    ).fetchall()
    found = []
    for snapshot_id, published_at, extra in rows:
        info = json.loads(extra)
        found.append(
            Snapshot(
                snapshot_id,
                published_at,
                info["kind"],
                info["run_id"],
                tuple(info["tables"]),
                info.get("restored_snapshot"),
            )
        )
    return found


def published_snapshots(lake: Lake) -> list[Snapshot]:
    with connect(lake, read_only=True) as con:
        return snapshots(con)


def rollback(lake: Lake) -> Snapshot:
    """Publish the tables of the snapshot before the current one as a new snapshot (time travel)."""
    with connect(lake) as con:
        published = snapshots(con)
        if len(published) < 2:
            raise NothingToRollBack(f"no published snapshot before the current one in {lake.display}")
        previous = published[-2]
        version = previous.snapshot_id
        con.execute("begin")
        comments = _comments(con, "lake")  # comments are not time-travelled: the current ones
        sources = {name: f"select * from lake.{_quoted(name)} at (version => {version})" for name in previous.tables}
        _replace_tables(con, sources, comments)
        info = {
            "kind": "rollback",
            "run_id": previous.run_id,
            "tables": list(previous.tables),
            "restored_snapshot": version,
        }
        snapshot = _commit(con, f"rollback to snapshot {version} (run {previous.run_id})", info)
        log.info("rolled %s back to snapshot %d as snapshot %d", lake, version, snapshot)
        return snapshots(con)[-1]
