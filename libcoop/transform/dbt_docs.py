"""The dbt documentation of the warehouse, kept beside it: ``warehouse/dbt_docs/``.

``dbt docs generate --static`` writes one self-contained page (models, columns, tests, lineage
from the sources to the BI exposures, and the catalog of the build: column types and row counts).
It runs on a run's build file, after the build and before the publication, into the build's
folder (``warehouse/.build/<run_id>/dbt_docs``); ``publish`` swaps it in whole with the build, so
readers never see half of it, and a run that fails leaves nothing behind.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from libcoop.errors import LibcoopError
from libcoop.layout import staged_folder
from libcoop.transform.dbt_build import (
    BUILD_RESULTS_NAME,
    STATE_DIRNAME,
    dbt_command,
    release_duckdb,
)

log = logging.getLogger(__name__)

# What the folder holds: the static page (manifest and catalog embedded), and both JSON files for
# tools that read them (lineage, catalogs).
DOCS_FILES = {"static_index.html": "index.html", "manifest.json": "manifest.json", "catalog.json": "catalog.json"}


class DocsFailed(LibcoopError):
    """dbt could not generate the documentation of the warehouse."""


def _built_every_node(state: Path) -> bool:
    """The last ``dbt build`` in ``state`` selected no subset (its run results keep its arguments)."""
    results = state / BUILD_RESULTS_NAME
    try:
        args = json.loads(results.read_text(encoding="utf-8")).get("args", {})
    except (OSError, ValueError):
        return False
    return not args.get("select") and not args.get("exclude")


def generate_docs(
    database: Path, target_dir: Path, state_dir: Path | None = None, *, after_build: bool = False
) -> Path:
    """Run ``dbt docs generate --static`` against ``database`` and put the page (``index.html``),
    ``manifest.json`` and ``catalog.json`` in ``target_dir``, replacing its previous content.

    ``target_dir`` is a run's staging folder beside its build, or ``warehouse/dbt_docs`` for
    ``libcoop docs``. dbt's state is ``state_dir`` (default ``.dbt-target`` beside ``target_dir``).
    ``after_build``: a ``dbt build`` of ``database`` has just compiled its nodes into that state,
    so dbt does not compile them again (``--no-compile``: the docs step takes less time),
    unless that build selected some nodes only (an incremental one): the others are compiled.
    Returns the path of ``index.html``."""
    from dbt.cli.main import dbtRunner

    target_dir = target_dir.absolute()
    # dbt's state beside the docs folder (the warehouse's): the parse of the build step is reused.
    state = state_dir or target_dir.parent / STATE_DIRNAME
    with dbt_command("generate", database, "--static", "--quiet", state_dir=state) as command:
        if after_build and _built_every_node(state):  # under the lock: the build's own results
            command.append("--no-compile")
        args = ["docs", *command]
        try:
            outcome = dbtRunner().invoke(args)
        finally:
            release_duckdb()
        if outcome.exception is not None or not outcome.success:
            raise DocsFailed(f"dbt docs generate failed: {outcome.exception or outcome.result!r}")

        generated = Path(args[args.index("--target-path") + 1])
        missing = [name for name in DOCS_FILES if not (generated / name).is_file()]
        if missing:
            raise DocsFailed(f"dbt docs generate wrote no {', '.join(missing)} in {generated}")

        with staged_folder(target_dir) as staging:  # a full disk leaves no half-copied folder
            staging.mkdir()
            for source_name, target_name in DOCS_FILES.items():
                shutil.copyfile(generated / source_name, staging / target_name)
    log.info("dbt docs written to %s", target_dir)
    return target_dir / "index.html"
