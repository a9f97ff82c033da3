"""OpenLineage run events for the steps of a run: drop files -> raw tables -> dbt models -> marts ->
the published warehouse, through the maintained OpenLineage client.

Each step function of ``libcoop.pipeline`` (load, build, validate, publish) is wrapped by
``traced``: a START event when it begins, COMPLETE with its input and output datasets when it
ends, FAIL with the error when it raises. The build step also sends a START and a COMPLETE per
dbt model it built, read from dbt's manifest: inputs are the model's parents, outputs its table,
with column lineage where openlineage-sql can follow the compiled SQL. The CLI and the Airflow
tasks call the same step functions, so both send the same events.

Datasets are named so a reader can follow them: a drop file by its path under the drop folder
(``incoming/VN/visits.csv``, namespace ``file://libcoop-drop``), a table by ``schema.table``
(``raw.visits``, ``marts.fct_visit``) in the build (``duckdb://libcoop-build``), and the published
warehouse's tables in ``duckdb://libcoop-warehouse``. Where the events go is read in
``libcoop.settings.lineage_transport``: by default a file of JSON lines per run under
``warehouse/lineage/``; HTTP to Marquez or any OpenLineage endpoint with OPENLINEAGE_URL.

Under Airflow, each task hands ``set_parent`` the ids its OpenLineage provider gave the task and
the DAG run (the provider's ``lineage_parent_id`` and ``lineage_root_parent_id``): the step's events
then name that task as their parent and the DAG run as their root, so a catalog such as Marquez
shows libcoop's datasets under the Airflow task that produced them. Run from the CLI, a step's
parent is the libcoop run (``libcoop.run.<run id>``).

Lineage is a record, never a gate: a failure to build or send an event is logged and the run
goes on. Nothing happens at import (the client is imported when a step first sends an event).
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import logging
import math
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeVar

from libcoop import settings
from libcoop.lineage.datasets import (
    Dataset,
    build_datasets,
    load_datasets,
    model_events,
    namespaces,
    publish_datasets,
    validate_datasets,
)

__all__ = [
    "Dataset",
    "build_datasets",
    "load_datasets",
    "namespaces",
    "publish_datasets",
    "set_parent",
    "traced",
    "validate_datasets",
]

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

PRODUCER = "urn:libcoop:lineage"
# --- the run a step belongs to ----------------------------------------------------------------

# (namespace, job, run id) of the parent run and of the root run, when a scheduler gave them.
_parent: ContextVar[tuple[tuple[str, str, str], tuple[str, str, str] | None] | None] = ContextVar(
    "libcoop_lineage_parent", default=None
)


def _ids(value: str) -> tuple[str, str, str]:
    namespace, job, run = value.rsplit("/", 2)
    if not (namespace and job and run):
        raise ValueError(f"not a namespace/job/run id: {value!r}")
    uuid.UUID(run)
    return namespace, job, run


def set_parent(parent_id: str | None, root_id: str | None = None) -> None:
    """The run the next steps' events belong to: ``namespace/job/run id`` (and the root run's), as
    Airflow's OpenLineage provider writes them; None puts back the libcoop run as the parent. An id
    that is not one is logged and ignored: lineage never fails a task."""
    if parent_id is None:
        _parent.set(None)
        return
    try:
        _parent.set((_ids(parent_id), _ids(root_id) if root_id else None))
    except ValueError as error:
        log.warning("lineage parent ignored: %s", error)
        _parent.set(None)


def _parent_facet(run_id: str) -> Any:
    from openlineage.client.facet_v2 import parent_run

    given = _parent.get()
    if given is None:
        return parent_run.ParentRunFacet(
            run=parent_run.Run(runId=str(uuid.uuid5(uuid.NAMESPACE_URL, f"libcoop:{run_id}"))),
            job=parent_run.Job(namespace=namespaces()["job"], name=f"libcoop.run.{run_id}"),
        )
    (namespace, job, run), root = given
    return parent_run.ParentRunFacet(
        run=parent_run.Run(runId=run),
        job=parent_run.Job(namespace=namespace, name=job),
        root=parent_run.Root(
            run=parent_run.RootRun(runId=root[2]), job=parent_run.RootJob(namespace=root[0], name=root[1])
        )
        if root
        else None,
    )


# --- where the events go ---------------------------------------------------------------------


_clients: dict[Path | str, Any] = {}
# A transport that failed is left alone for a while: an endpoint that is down costs the HTTP
# client's retries once, not once per event of the run (dozens of them).
_failed_at: dict[int, float] = {}
PAUSE_AFTER_FAILURE_SECONDS = 600


def _client(lineage_dir: Path, run_id: str) -> Any | None:
    """The OpenLineage client of this run's transport (one per file or URL), None when switched off."""
    transport = settings.lineage_transport()
    if transport == "none":
        return None
    key: Path | str = lineage_dir / f"{run_id}.jsonl" if transport == "file" else transport
    if key in _clients:
        return _clients[key]
    from openlineage.client import OpenLineageClient

    if transport == "file":
        from openlineage.client.transport.file import FileConfig, FileTransport

        lineage_dir.mkdir(parents=True, exist_ok=True)
        chosen: Any = FileTransport(FileConfig(log_file_path=str(key), append=True))
    elif transport == "console":
        from openlineage.client.transport.console import ConsoleConfig, ConsoleTransport

        chosen = ConsoleTransport(ConsoleConfig())
    else:  # http: Marquez or any OpenLineage endpoint
        from openlineage.client.transport.http import HttpConfig, HttpTransport

        chosen = HttpTransport(HttpConfig.from_dict(settings.lineage_http_config()))
    if len(_clients) > 32:  # a long-lived worker serves many runs: keep the last few files open at most
        _clients.clear()
    _clients[key] = OpenLineageClient(transport=chosen)
    return _clients[key]


def _run_context(arguments: dict[str, Any]) -> tuple[Path, str] | None:
    """(lineage folder, libcoop run id) from a step's arguments: ``paths`` and ``run_id``, or a
    build file ``warehouse/.build/<run_id>/cooperation.duckdb`` (the build step has only that)."""
    if "paths" in arguments and "run_id" in arguments:
        return settings.lineage_dir(arguments["paths"].warehouse), str(arguments["run_id"])
    build = arguments.get("build")
    if build is not None and Path(build).parent.parent.name == ".build":
        build = Path(build).absolute()
        return settings.lineage_dir(build.parent.parent.parent / build.name), build.parent.name
    return None


def _emit(client: Any, state: str, job: str, step_run: str, run_id: str, when: dt.datetime, **parts: Any) -> None:
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.facet_v2 import error_message_run, job_type_job

    run_facets: dict[str, Any] = {"parent": _parent_facet(run_id)}
    if error := parts.get("error"):
        run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=str(error)[:2000] or type(error).__name__, programmingLanguage="python"
        )
    job_facets = {"jobType": job_type_job.JobTypeJobFacet(processingType="BATCH", integration="LIBCOOP",
                                                          jobType="TASK")}  # fmt: skip
    event = RunEvent(
        eventType=getattr(RunState, state),
        eventTime=when.isoformat(),
        run=Run(runId=step_run, facets=run_facets),
        job=Job(namespace=namespaces()["job"], name=job, facets=job_facets),
        inputs=[InputDataset(namespace=d.namespace, name=d.name, facets=_facets(d)) for d in parts.get("inputs", ())],
        outputs=[
            OutputDataset(namespace=d.namespace, name=d.name, facets=_facets(d)) for d in parts.get("outputs", ())
        ],
        producer=f"{PRODUCER}:{version('libcoop')}",
    )
    client.emit(event)


def _facets(dataset: Dataset) -> dict[str, Any]:
    from openlineage.client.facet_v2 import column_lineage_dataset, schema_dataset

    facets: dict[str, Any] = {}
    if dataset.fields:
        facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(name=name) for name in dataset.fields]
        )
    if dataset.lineage:
        facets["columnLineage"] = column_lineage_dataset.ColumnLineageDatasetFacet(
            fields={
                column: column_lineage_dataset.Fields(
                    inputFields=[
                        column_lineage_dataset.InputField(namespace=ns, name=table, field=field)
                        for ns, table, field in sources
                    ]
                )
                for column, sources in dataset.lineage
            }
        )
    return facets


# --- the steps ---------------------------------------------------------------------------------


def traced(
    step: str, datasets: Callable[[dict[str, Any], Any], tuple[list[Dataset], list[Dataset]]]
) -> Callable[[F], F]:
    """Wrap a step function: START before, COMPLETE (with ``datasets(arguments, result)``) after, FAIL
    when it raises. A lineage failure is logged and never changes what the step returns or raises."""

    def decorate(function: F) -> F:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            arguments = signature.bind_partial(*args, **kwargs).arguments
            sender = _sender(arguments)
            step_run = str(uuid.uuid4())
            _safely(sender, "START", f"libcoop.{step}", step_run)
            try:
                result = function(*args, **kwargs)
            except BaseException as error:
                _safely(sender, "FAIL", f"libcoop.{step}", step_run, error=error)
                raise
            _safely(sender, "COMPLETE", f"libcoop.{step}", step_run, datasets=lambda: datasets(arguments, result))
            if step == "build":
                _safely_models(sender, Path(arguments["build"]))
            return result

        return wrapper  # type: ignore[return-value]

    return decorate


def _sender(arguments: dict[str, Any]) -> tuple[Any, str] | None:
    try:
        context = _run_context(arguments)
        if context is None:
            return None
        client = _client(*context)
        return (client, context[1]) if client is not None else None
    except Exception as error:  # noqa: BLE001 - lineage never fails a run
        log.warning("lineage is off for this step: %s", error)
        return None


def _paused(sender: tuple[Any, str] | None) -> bool:
    """No sender, or its transport failed less than PAUSE_AFTER_FAILURE_SECONDS ago."""
    return sender is None or time.monotonic() - _failed_at.get(id(sender[0]), -math.inf) < PAUSE_AFTER_FAILURE_SECONDS


def _safely(sender: tuple[Any, str] | None, state: str, job: str, step_run: str, **parts: Any) -> None:
    if sender is None or _paused(sender):
        return
    client, run_id = sender
    try:
        if producer := parts.pop("datasets", None):
            parts["inputs"], parts["outputs"] = producer()
        _emit(client, state, job, step_run, run_id, dt.datetime.now(dt.UTC), **parts)
    except Exception as error:  # noqa: BLE001 - lineage never fails a run
        _failed_at[id(client)] = time.monotonic()
        log.warning(
            "lineage event %s %s not sent, none sent for %d s: %s", state, job, PAUSE_AFTER_FAILURE_SECONDS, error
        )


def _safely_models(sender: tuple[Any, str] | None, build: Path) -> None:
    if sender is None or _paused(sender):
        return
    client, run_id = sender
    try:
        for event in model_events(build):
            _emit(client, run_id=run_id, **event)
    except Exception as error:  # noqa: BLE001 - lineage never fails a run
        _failed_at[id(client)] = time.monotonic()
        log.warning(
            "lineage events of the dbt models not sent, none sent for %d s: %s", PAUSE_AFTER_FAILURE_SECONDS, error
        )
