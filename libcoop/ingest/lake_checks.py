"""The per-file verdicts of a run kept beside the DuckLake's data, for a DuckLake target.

The check tasks of a run fan out over Airflow workers, possibly on several hosts: each writes its
file's verdict (problems as JSON, normalized rows as Parquet) under the lake's data path, in
``.libcoop-checks/<run_id>/``, which every writer reaches (a folder or an object store), and the
load, on whichever worker it runs, reads them back. They are files, not rows of a lake table: a
table insert is a DuckLake snapshot of its own, so a night of 200 files made 200 snapshots; now a
run adds exactly one snapshot to the catalog, its publish. A verdict's JSON is written last, once
its Parquet file is complete, so the load never reads half a verdict. With the DuckDB file target
the verdicts stay on the local disk of the one machine (``libcoop.ingest.staged``, which calls
these for a lake). A run clears
what earlier runs left there; ``libcoop maintain`` never touches it (it cleans only files the
catalog scheduled for deletion)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import socket
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from libcoop.ingest.check import StoredRows
from libcoop.target import Lake

FOLDER = ".libcoop-checks"


def _root(lake: Lake) -> tuple[pafs.FileSystem, str]:
    """The file system of the lake's data path (local, or an object store) and the verdicts' folder."""
    filesystem, base = pafs.FileSystem.from_uri(lake.data_path)
    return filesystem, f"{base.rstrip('/')}/{FOLDER}"


def _key(file_path: str, content_hash: str) -> str:
    # two drop files with the same bytes (a duplicate) are two verdicts
    return hashlib.sha256(f"{file_path}\0{content_hash}".encode()).hexdigest()[:24]


def prepare(lake: Lake, run_id: str) -> None:
    """Before the checks fan out: the run's folder exists, and the folders of other runs are gone."""
    filesystem, root = _root(lake)
    filesystem.create_dir(f"{root}/{run_id}", recursive=True)
    for info in filesystem.get_file_info(pafs.FileSelector(root)):
        if info.type == pafs.FileType.Directory and info.base_name != run_id:
            filesystem.delete_dir(info.path)


def _write(filesystem: pafs.FileSystem, path: str, data: bytes) -> None:
    """Whole or not at all: written under a temporary name, then moved."""
    fresh = f"{path}.{os.getpid()}.tmp"
    with filesystem.open_output_stream(fresh) as out:
        out.write(data)
    filesystem.move(fresh, path)


def write_verdict(lake: Lake, run_id: str, verdict: dict[str, Any], rows: pa.Table | None) -> None:
    """One check task's verdict: its rows' Parquet file first, then its JSON."""
    filesystem, root = _root(lake)
    folder = f"{root}/{run_id}"
    filesystem.create_dir(folder, recursive=True)
    key = _key(verdict["file"], verdict["hash"])
    record = {
        "verdict": verdict,
        "row_count": rows.num_rows if rows is not None else None,
        "checked_by": f"{socket.gethostname()}:{os.getpid()}",
        "checked_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    if rows is not None:
        sink = io.BytesIO()
        pq.write_table(rows, sink)
        _write(filesystem, f"{folder}/{key}.parquet", sink.getvalue())
    _write(filesystem, f"{folder}/{key}.json", json.dumps(record).encode())


def _records(lake: Lake, run_id: str) -> list[tuple[str, dict[str, Any]]]:
    filesystem, root = _root(lake)
    selector = pafs.FileSelector(f"{root}/{run_id}", allow_not_found=True)
    found = []
    for info in filesystem.get_file_info(selector):
        if info.type == pafs.FileType.File and info.base_name.endswith(".json"):
            with filesystem.open_input_stream(info.path) as source:
                found.append((info.path.removesuffix(".json"), json.loads(source.read())))
    return sorted(found, key=lambda item: item[1]["verdict"]["file"])


def read_verdicts(lake: Lake, run_id: str) -> list[tuple[dict[str, Any], StoredRows | None]]:
    """The verdicts of ``run_id``, with their rows (counted from the Parquet footer now, read when
    the load appends them)."""
    filesystem, _ = _root(lake)
    verdicts = []
    for stem, record in _records(lake, run_id):
        rows = None
        if record["row_count"] is not None:
            if isinstance(filesystem, pafs.LocalFileSystem):
                rows = parquet_rows(Path(f"{stem}.parquet"))
            else:
                with filesystem.open_input_file(f"{stem}.parquet") as source:
                    rows = parquet_rows(source.read())
        verdicts.append((record["verdict"], rows))
    return verdicts


def checked_by(lake: Lake, run_id: str) -> dict[str, str]:
    """Which worker (host:pid) checked each file of ``run_id``: what an engineer asks when one
    worker misbehaves."""
    return {record["verdict"]["file"]: record["checked_by"] for _, record in _records(lake, run_id)}


def parquet_rows(source: Path | bytes) -> StoredRows:
    """The rows of a Parquet file (or its bytes), counted now and read when asked for."""
    opened = (lambda: io.BytesIO(source)) if isinstance(source, bytes) else (lambda: source)
    path = None if isinstance(source, bytes) else source
    return StoredRows(pq.read_metadata(opened()).num_rows, lambda: pq.read_table(opened()), path)
