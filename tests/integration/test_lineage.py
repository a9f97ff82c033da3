"""OpenLineage events of a real run (``libcoop.pipeline.run`` on a small drop in tmp_path), read back
from the file transport: one COMPLETE per step and per marts model, inputs and outputs that chain
from a drop file to the published warehouse, and every event valid against the OpenLineage schema.

The JSON Schema of the OpenLineage spec (OpenLineage.json) is not in any installed package (the
client ships its facet classes, which point at openlineage.io by URL), and the test runs offline.
RUN_EVENT below is the spec's RunEvent written out with its required fields and types (RunEvent,
Run, Job, Dataset, BaseFacet), and validated with jsonschema; each facet's ``_schemaURL`` must point
at the spec's facet definitions."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import jsonschema
import pytest

from libcoop import lineage
from libcoop.pipeline import run
from libcoop.settings import Paths
from tests.conftest import GOOD_FILES
from tests.helpers.drops import load_paths, write_drop

pytestmark = pytest.mark.integration

URI = {"type": "string", "pattern": r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$"}
FACET = {
    "type": "object",
    "required": ["_producer", "_schemaURL"],
    "properties": {
        "_producer": URI,
        "_schemaURL": {"type": "string", "pattern": r"^https://openlineage\.io/spec/(facets/)?[0-9-]+/\w+\.json#"},
    },
}
FACETS = {"type": "object", "additionalProperties": FACET}
DATASET = {
    "type": "object",
    "required": ["namespace", "name"],
    "properties": {"namespace": {"type": "string", "minLength": 1}, "name": {"type": "string", "minLength": 1},
                   "facets": FACETS, "inputFacets": FACETS, "outputFacets": FACETS},
}  # fmt: skip
RUN_EVENT = {
    "type": "object",
    "required": ["eventType", "eventTime", "run", "job", "producer", "schemaURL"],
    "properties": {
        "eventType": {"enum": ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]},
        # RFC 3339 (the spec's "date-time"; jsonschema checks that format only with an extra package).
        "eventTime": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"},
        "producer": URI,
        "schemaURL": {"type": "string", "pattern": r"^https://openlineage\.io/spec/2-0-\d+/OpenLineage\.json#"},
        "run": {"type": "object", "required": ["runId"],
                "properties": {"runId": {"type": "string", "format": "uuid"}, "facets": FACETS}},
        "job": {"type": "object", "required": ["namespace", "name"],
                "properties": {"namespace": {"type": "string"}, "name": {"type": "string"}, "facets": FACETS}},
        "inputs": {"type": "array", "items": DATASET},
        "outputs": {"type": "array", "items": DATASET},
    },
}  # fmt: skip
VALIDATOR = jsonschema.Draft202012Validator(RUN_EVENT, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def events(tmp_path_factory) -> list[dict]:
    tmp_path = tmp_path_factory.mktemp("lineage")
    write_drop(
        tmp_path,
        {
            "JP/visits.csv": GOOD_FILES["visits"],
            "US/donations.csv": GOOD_FILES["donations"],
        },
    )
    paths = load_paths(tmp_path)
    with pytest.MonkeyPatch.context() as env:
        for name in (
            "LIBCOOP_LINEAGE_TRANSPORT",
            "OPENLINEAGE_URL",
            "LIBCOOP_LINEAGE_DIR",
            "LIBCOOP_LINEAGE_NAMESPACE",
        ):
            env.delenv(name, raising=False)
        summary = run(paths, "lineage-run")
    assert summary.status == "published"
    files = sorted((paths.warehouse.parent / "lineage").glob("*.jsonl"))
    assert [f.name for f in files] == ["lineage-run.jsonl"]  # one file per run, named after it
    return [json.loads(line) for line in files[0].read_text(encoding="utf-8").splitlines()]


def completes(events: list[dict]) -> dict[str, dict]:
    done: dict[str, dict] = {}
    for event in events:
        if event["eventType"] == "COMPLETE":
            assert event["job"]["name"] not in done, event["job"]["name"]  # one COMPLETE per job
            done[event["job"]["name"]] = event
    return done


def names(datasets: list[dict]) -> set[tuple[str, str]]:
    return {(d["namespace"], d["name"]) for d in datasets}


def test_every_event_follows_the_openlineage_run_event_schema(events) -> None:
    assert len(events) > 40
    for event in events:
        errors = sorted(VALIDATOR.iter_errors(event), key=str)
        assert not errors, (event["job"]["name"], [e.message for e in errors])
        uuid.UUID(event["run"]["runId"])  # a real UUID, not only a string of the right shape


def test_each_step_starts_and_completes_once_with_its_run_as_parent(events) -> None:
    done = completes(events)
    steps = ["libcoop.load", "libcoop.build", "libcoop.validate", "libcoop.publish"]
    assert set(steps) <= set(done)
    for step in steps:
        (start,) = [e for e in events if e["job"]["name"] == step and e["eventType"] == "START"]
        assert start["run"]["runId"] == done[step]["run"]["runId"]
        assert start["eventTime"] <= done[step]["eventTime"]
        parent = done[step]["run"]["facets"]["parent"]
        assert (parent["job"]["namespace"], parent["job"]["name"]) == ("libcoop", "libcoop.run.lineage-run")
    assert not [e for e in events if e["eventType"] == "FAIL"]


def test_inputs_and_outputs_chain_from_a_drop_file_to_the_published_warehouse(events) -> None:
    done = completes(events)
    drop, build, published = "file://libcoop-drop", "duckdb://libcoop-build", "duckdb://libcoop-warehouse"
    load = done["libcoop.load"]
    assert names(load["inputs"]) == {(drop, "incoming/JP/visits.csv"), (drop, "incoming/US/donations.csv")}
    assert {(build, "raw.visits"), (build, "raw.current_visits")} <= names(load["outputs"])
    # Follow the visits downstream, model by model, from what the load wrote to what was published.
    produced_by = {(d["namespace"], d["name"]): e for e in done.values() for d in e["outputs"]}
    reached, frontier = set(), names(load["outputs"])
    while frontier:
        reached |= frontier
        frontier = {
            out for e in done.values() if names(e["inputs"]) & frontier for out in names(e["outputs"])
        } - reached  # fmt: skip
    assert (build, "marts.fct_visit") in reached and (published, "marts.fct_visit") in reached
    assert produced_by[(build, "marts.fct_visit")]["job"]["name"] == "libcoop.dbt.fct_visit"
    assert produced_by[(published, "marts.fct_visit")]["job"]["name"] == "libcoop.publish"
    staging = done["libcoop.dbt.stg_raw__visits"]
    assert (build, "raw.current_visits") in names(staging["inputs"])


def test_one_complete_per_marts_model_with_its_parents_and_column_lineage(events) -> None:
    done = completes(events)
    published = {d["name"] for d in done["libcoop.publish"]["outputs"]}
    assert {"marts.fct_visit", "marts.dim_institution", "marts.fct_activity_year_allocated"} <= published
    for table in published:
        model = done[f"libcoop.dbt.{table.split('.')[1]}"]
        assert [d["name"] for d in model["outputs"]] == [table] and model["inputs"], table
    allocated = done["libcoop.dbt.fct_activity_year_allocated"]
    assert names(allocated["inputs"]) == {
        ("duckdb://libcoop-build", "marts.fct_cooperation_activity"),
        ("duckdb://libcoop-build", "marts.dim_date"),
    }
    fields = allocated["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert fields["activity_family"]["inputFields"] == [
        {"namespace": "duckdb://libcoop-build", "name": "marts.fct_cooperation_activity", "field": "activity_family",
         "transformations": []}
    ]  # fmt: skip
    fact = done["libcoop.dbt.fct_visit"]["outputs"][0]["facets"]
    assert {f["name"] for f in fact["schema"]["fields"]} >= {"visit_key", "delegations", "file_path"}


def test_a_lineage_failure_never_fails_the_step(tmp_path, monkeypatch, caplog) -> None:
    """A transport that cannot write (its file is a folder) is logged once and then left alone for
    a while (an HTTP endpoint that is down would cost its retries per event); the step's own
    result and error stand."""
    (tmp_path / "lineage" / "run-x.jsonl").mkdir(parents=True)  # where the run's file should be
    monkeypatch.setenv("LIBCOOP_LINEAGE_DIR", str(tmp_path / "lineage"))
    monkeypatch.delenv("LIBCOOP_LINEAGE_TRANSPORT", raising=False)

    @lineage.traced("check", lambda arguments, result: ([], []))
    def step(paths: Paths, run_id: str) -> int:
        return 7

    paths = Paths(raw_dir=tmp_path, warehouse=tmp_path / "cooperation.duckdb", expectations_dir=tmp_path)
    assert step(paths, "run-x") == 7

    @lineage.traced("check", lambda arguments, result: ([], []))
    def failing(paths: Paths, run_id: str) -> int:
        raise KeyError("the step's own error")

    with pytest.raises(KeyError, match="the step's own error"):
        failing(paths, "run-x")
    assert len([r for r in caplog.records if r.name == "libcoop.lineage"]) == 1  # then paused


def test_a_failed_step_sends_fail_with_its_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LIBCOOP_LINEAGE_DIR", str(tmp_path / "lineage"))
    monkeypatch.delenv("LIBCOOP_LINEAGE_TRANSPORT", raising=False)

    @lineage.traced("load", lineage.load_datasets)
    def load(paths: Paths, run_id: str) -> None:
        raise OSError("disk full")

    paths = Paths(raw_dir=tmp_path, warehouse=tmp_path / "cooperation.duckdb", expectations_dir=tmp_path)
    with pytest.raises(OSError, match="disk full"):
        load(paths, "run-fail")
    sent = [json.loads(line) for line in Path(tmp_path / "lineage" / "run-fail.jsonl").read_text().splitlines()]
    assert [e["eventType"] for e in sent] == ["START", "FAIL"]
    assert sent[1]["run"]["facets"]["errorMessage"]["message"] == "disk full"
    assert not VALIDATOR.is_valid(dict(sent[1], eventTime="yesterday"))  # the schema can fail
