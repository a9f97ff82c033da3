"""The DuckLake target: the marts published as snapshots of a DuckLake whose catalog is in PostgreSQL.

``LIBCOOP_WAREHOUSE=ducklake:postgres:<libpq string>`` and ``LIBCOOP_LAKE_DATA_PATH=<folder>`` select
it (docs/contract.md, section 2). A run builds exactly as with the DuckDB file: load, ``dbt build``
and validation work on a private build file copied from the last published build, which is kept
in a local work folder (``LIBCOOP_WORK_DIR``). Only publishing differs: every ``marts`` table and
view (views as tables) and every ``audit`` table of the build are copied into the lake in ONE
DuckLake transaction, so readers on any machine see the previous snapshot or the new one, never a
mix, and never wait. A failed or killed run commits nothing: the last snapshot stays current.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from libcoop.settings import lake_data_path, lake_work_dir

log = logging.getLogger(__name__)

PREFIX = "ducklake:postgres:"
AUTHOR = "libcoop"
# What readers of the lake get: the star schema (views materialized as tables) and the run records.
PUBLISHED_SCHEMAS = ("marts", "audit")
# extension name -> the PyPI package that carries its file
EXTENSIONS = {"postgres_scanner": "duckdb-extension-postgres-scanner", "ducklake": "duckdb-extension-ducklake"}


class LakeError(RuntimeError):
    """The DuckLake target is misconfigured, or publishing to it would lose its history."""


class MissingExtension(LakeError):
    """A DuckDB extension the DuckLake target needs is not installed."""


class NothingToRollBack(LakeError):
    """The lake has no published snapshot before the current one."""


@dataclass(frozen=True)
class Lake:
    """Where a DuckLake target lives: its catalog (a libpq string), its data, the local work folder."""

    catalog: str  # the libpq connection string of the PostgreSQL catalog
    data_path: str  # where the Parquet files go (a folder, or an object-store URL)
    work_dir: Path  # the local copy of the last published build, and the runs' private builds

    @property
    def url(self) -> str:
        return PREFIX + self.catalog

    def __str__(self) -> str:
        return f"{self.url} (data: {self.data_path})"


@dataclass(frozen=True)
class Snapshot:
    """A published snapshot: a run's publish or a rollback."""

    snapshot_id: int
    published_at: dt.datetime
    kind: str  # publish, rollback
    run_id: str
    tables: tuple[str, ...]  # schema.table
    restored_snapshot: int | None = None  # for a rollback: the snapshot whose tables it brought back


def is_lake(target: str | os.PathLike[str] | None) -> bool:
    return str(target or "").startswith("ducklake:")


def parse(target: str, data_path: str | None = None, work_dir: str | os.PathLike[str] | None = None) -> Lake:
    """The contract's setting; data path and work folder default to their environment variables."""
    if not target.startswith(PREFIX):
        raise LakeError(f"unsupported warehouse {target!r}: a DuckLake target is ducklake:postgres:<libpq string>")
    catalog = target.removeprefix(PREFIX).strip()
    if not catalog:
        raise LakeError("LIBCOOP_WAREHOUSE=ducklake:postgres: needs a libpq string, e.g. 'dbname=lake host=...'")
    data_path = data_path or lake_data_path()
    if not data_path:
        raise LakeError("a DuckLake target needs LIBCOOP_LAKE_DATA_PATH: the folder its Parquet files go to")
    if "://" not in data_path:
        data_path = str(Path(data_path).absolute())
    work = Path(work_dir).absolute() if work_dir else lake_work_dir()
    return Lake(catalog=catalog, data_path=data_path, work_dir=work)


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


def publish_build(lake: Lake, build: Path, run_id: str) -> int:
    """Copy the build's marts and audit tables into the lake as one snapshot; return its id."""
    with connect(lake) as con:
        con.execute(f"attach {_literal(str(build))} as build (read_only)")
        tables = published_tables(con, "build")
        if not any(name.startswith("marts.") for name in tables):
            raise LakeError(f"{build} has no marts: not publishing")
        con.execute("begin")
        if "audit.runs" in published_tables(con, "lake"):
            # A build that does not descend from what the lake holds (a new work folder, say) would
            # replace the lake's run history with its own: refuse, and say where the history is.
            (missing,) = con.execute(
                "select count(*) from (select run_id from lake.audit.runs except select run_id from build.audit.runs)"
            ).fetchone()  # type: ignore[misc]
            if missing:
                con.execute("rollback")
                raise LakeError(
                    f"the build does not carry the lake's {missing} published run(s): its work folder "
                    f"{lake.work_dir} is not the one that published them (set LIBCOOP_WORK_DIR to it)"
                )
        sources = {name: f"select * from build.{_quoted(name)}" for name in tables}
        _replace_tables(con, sources, _comments(con, "build"))
        snapshot = _commit(con, f"publish {run_id}", {"kind": "publish", "run_id": run_id, "tables": tables})
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
            raise NothingToRollBack(f"no published snapshot before the current one in {lake.url}")
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


def published_summary(lake: Lake):  # type: ignore[no-untyped-def]
    """What readers of the lake see now, and the snapshots published so far."""
    from libcoop.pipeline import RunSummary, files_of_run, mart_row_counts

    with connect(lake, read_only=True) as con:
        published = snapshots(con)
        if not published:
            raise LakeError(f"nothing published yet to {lake.url}")
        con.execute("use lake")
        row: Any = con.execute(
            "select run_id, status, files, quality, message from audit.runs order by finished_at desc limit 1"
        ).fetchone()
        counts = mart_row_counts(con)
        names = files_of_run(con, row[0])
    summary = RunSummary(
        row[0],
        row[1],
        lake.work_dir / "cooperation.duckdb",
        json.loads(row[2]),
        counts,
        quality=row[3],
        message=row[4],
        file_names=names,
        lake=f"{lake.url}, snapshot {published[-1].snapshot_id}",
    )
    return summary, published


def render_snapshots(published: list[Snapshot]) -> str:
    lines = ["  published snapshots (newest first):"]
    for i, snap in enumerate(reversed(published)):
        what = f"run {snap.run_id}"
        if snap.kind == "rollback":
            what += f", rolled back to snapshot {snap.restored_snapshot}"
        current = "  <- current" if i == 0 else ""
        when = f"{snap.published_at:%Y-%m-%d %H:%M:%S %Z}"
        lines.append(f"    {snap.snapshot_id:>5}  {when}  {snap.kind:<8}  {what}{current}")
    return "\n".join(lines)
