"""What a build is made of besides the drop files, so that a run with nothing new costs nothing.

A build is determined by the file versions in force, the code that shapes them (this package, the
dbt project with its seeds, the reference data and the libraries that run them). Each published
build records the fingerprint of that code in ``audit.build_fingerprints``; when the drop folder
holds exactly the files of the published build and the fingerprint is the same, a new run would
rebuild the same warehouse: ``libcoop run`` answers "nothing changed since build <run id>" and
leaves the published files alone.
"""

from __future__ import annotations

import hashlib
import logging
from functools import cache
from importlib.metadata import version
from pathlib import Path

import duckdb

from libcoop.aliases import build_digest, store_digest
from libcoop.audit import audit_store, ensure_audit_tables, runs_not_published
from libcoop.reference import reference_version
from libcoop.runs import last_published
from libcoop.settings import Paths, dbt_project_dir
from libcoop.targets import target_for
from libcoop.warehouse.builds import last_build

log = logging.getLogger(__name__)

# The libraries whose upgrade may change what a build holds or how it is checked.
LIBRARIES = ("libcoop", "dbt-core", "dbt-duckdb", "duckdb", "great-expectations")
# Folders of the dbt project that dbt writes itself, never inputs.
_GENERATED = {"target", "logs", "dbt_packages", "__pycache__"}


def _tree_digest(root: Path, pattern: str) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob(pattern)):
        relative = path.relative_to(root)
        if not path.is_file() or _GENERATED & set(relative.parts) or any(p.startswith(".") for p in relative.parts):
            continue
        digest.update(f"{relative.as_posix()}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def code_fingerprint(accepted_aliases: str = "") -> str:
    """sha256 of the libraries' versions, the reference data's version, this package's sources
    and every file of the dbt project (models, tests, macros, snapshots, seeds, configuration),
    and of the aliases curators accepted in the door (``accepted_aliases``: libcoop.aliases'
    digest, "" for none), which resolve names as the alias seeds do."""
    parts = [f"{name}=={version(name)}" for name in LIBRARIES]
    parts.append(reference_version())
    parts.append(f"libcoop#{_package_digest()}")
    parts.append(f"dbt_project#{_tree_digest(dbt_project_dir(), '*')}")
    if accepted_aliases:
        parts.append(f"accepted_aliases#{accepted_aliases}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@cache
def _package_digest() -> str:
    return _tree_digest(Path(__file__).parent, "*.py")


def record_fingerprint(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Keep the fingerprint of the code that made this build, in the build."""
    ensure_audit_tables(con)
    con.execute(
        "insert or replace into audit.build_fingerprints (run_id, fingerprint) values (?, ?)",
        [
            run_id,
            code_fingerprint(build_digest(con)),
        ],
    )


def _published(paths: Paths) -> tuple[str, str | None, int] | None:
    """(run id, fingerprint or None, files in force) of the published build, as its target says
    (``libcoop.targets``); None without one."""
    return target_for(paths).published()


def built_by_same_code(build: Path) -> bool:
    """The build (a copy of the published warehouse) was last built by this very code: its
    incremental dbt models may carry over and only the new file versions be built. False for a
    first build, or after a change of code, seeds, reference data or libraries (a full refresh)."""
    with duckdb.connect(str(build), read_only=True) as con:
        published = last_published(con)
        aliases = build_digest(con)
    return published is not None and published[1] == code_fingerprint(aliases)


def unchanged_since(paths: Paths) -> tuple[str, int] | None:
    """(run id of the published build, files in force) when the code is the one that made the
    published build and no blocked run waits in the audit store; None otherwise. The caller checks
    the drop folder (``pipeline.pending_changes``)."""
    last = last_build(paths.warehouse)
    if last is not None and runs_not_published(audit_store(paths.warehouse), last):
        return None
    published = _published(paths)
    if published is None or published[1] != code_fingerprint(_door_digest(paths)):
        return None
    return published[0], published[2]


def docs_are_current(paths: Paths) -> bool:
    """The dbt docs beside the warehouse were made by the same code (models, seeds, libraries):
    a build with other rows only needs no new ones."""
    published = _published(paths)
    docs = paths.warehouse.parent / "dbt_docs" / "index.html"
    return published is not None and published[1] == code_fingerprint(_door_digest(paths)) and docs.is_file()


def _door_digest(paths: Paths) -> str:
    """The digest of the aliases accepted in the door's store now (what the next build will hold)."""
    from libcoop.settings import door_dir

    return store_digest(door_dir(paths.warehouse))
