"""The datasets of libcoop's lineage events: what each step reads and writes, and one event pair
per dbt model with the column lineage openlineage-sql follows in its compiled SQL (read from dbt's
manifest). ``libcoop.lineage`` sends them."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from libcoop import settings

# The dbt resource types that are tables or views of the warehouse, and the raw sources.
RELATIONS = ("model", "seed", "snapshot", "source")
# An import CTE of the house style (``visits as (select * from "db"."schema"."table" [where ...])``):
# its columns are the table's, which openlineage-sql does not follow through a CTE by itself.
RELATION_STAR = r'select\s+\*\s+from\s+(?:"?[\w-]+"?\.)?"?(\w+)"?\."?(\w+)"?'
IMPORT_CTE = re.compile(r"(\w+)\s+as\s*\(\s*" + RELATION_STAR, re.IGNORECASE)
# The last statement of a model in the house style: ``select * from final`` (or another CTE's name).
FINAL_STAR = re.compile(r"select\s+\*\s+from\s+(\w+)\s*;?\s*$", re.IGNORECASE)
STAR = re.compile(r"select\s+(?:distinct\s+)?(?:\w+\.)?\*|,\s*(?:\w+\.)?\*\s*[,\n]", re.IGNORECASE)


@dataclass(frozen=True)
class Dataset:
    namespace: str
    name: str
    fields: tuple[str, ...] = ()  # its columns, when known (a schema facet)
    # column -> [(namespace, table, column)] it is computed from (a column lineage facet)
    lineage: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = ()


def namespaces() -> dict[str, str]:
    base = settings.lineage_namespace()
    return {"job": base, "drop": f"file://{base}-drop", "build": f"duckdb://{base}-build",
            "warehouse": f"duckdb://{base}-warehouse"}  # fmt: skip


# --- the datasets of each step -----------------------------------------------------------------


def load_datasets(arguments: dict[str, Any], result: Any) -> tuple[list[Dataset], list[Dataset]]:
    """Drop files in force (loaded now, restored or unchanged) -> the raw tables of their kinds."""
    ns = namespaces()
    _, loaded = result
    in_force = [o for o in loaded.outcomes if o.outcome in ("loaded", "restored", "unchanged")]
    inputs = [Dataset(ns["drop"], f"incoming/{o.file_path}") for o in sorted(in_force, key=lambda o: o.file_path)]
    kinds = sorted({o.kind for o in in_force})
    outputs = [Dataset(ns["build"], f"raw.{name}") for kind in kinds for name in (kind, f"current_{kind}")]
    return inputs, [*outputs, Dataset(ns["build"], "raw.file_versions")]


def manifest_of(build: Path) -> dict[str, Any]:
    from libcoop.transform.dbt_build import dbt_state_dir

    return json.loads((dbt_state_dir(build) / "target" / "manifest.json").read_text(encoding="utf-8"))


def _relation(node: dict[str, Any]) -> str:
    return f"{node['schema']}.{node.get('alias') or node.get('identifier') or node['name']}"


def marts_tables(build: Path) -> list[str]:
    manifest = manifest_of(build)
    return sorted(
        _relation(n) for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"
    )


def build_datasets(arguments: dict[str, Any], _result: Any) -> tuple[list[Dataset], list[Dataset]]:
    """The raw sources dbt reads -> the marts it builds."""
    ns, build = namespaces(), Path(arguments["build"])
    sources = sorted(_relation(s) for s in manifest_of(build)["sources"].values())
    return [Dataset(ns["build"], s) for s in sources], [Dataset(ns["build"], t) for t in marts_tables(build)]


def validate_datasets(arguments: dict[str, Any], _result: Any) -> tuple[list[Dataset], list[Dataset]]:
    """The marts the Great Expectations suites read (their results go to the audit tables)."""
    ns = namespaces()
    return [Dataset(ns["build"], t) for t in marts_tables(Path(arguments["build"]))], []


def publish_datasets(arguments: dict[str, Any], _result: Any) -> tuple[list[Dataset], list[Dataset]]:
    """The build's marts -> the same tables in the published warehouse. (The build file is gone by
    then; dbt's manifest stays in its target folder beside the warehouse.)"""
    ns, tables = namespaces(), marts_tables(Path(arguments["build"]))
    return [Dataset(ns["build"], t) for t in tables], [Dataset(ns["warehouse"], t) for t in tables]


# --- one event pair per dbt model --------------------------------------------------------------


def model_events(build: Path) -> Iterable[dict[str, Any]]:
    """START and COMPLETE of every model the last dbt build ran (all models when its results are
    missing), with the times dbt measured, the parents as inputs and column lineage where known."""
    from libcoop.transform.dbt_build import BUILD_RESULTS_NAME, dbt_state_dir

    manifest, ns = manifest_of(build), namespaces()
    relations = {**manifest["nodes"], **manifest["sources"]}
    timings = _timings(dbt_state_dir(build) / BUILD_RESULTS_NAME)
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] != "model" or (timings and unique_id not in timings):
            continue
        started, finished = timings.get(unique_id) or (dt.datetime.now(dt.UTC),) * 2
        parents = [
            relations[p] for p in node["depends_on"]["nodes"] if relations.get(p, {}).get("resource_type") in RELATIONS
        ]
        inputs = [Dataset(ns["build"], _relation(p), tuple(p.get("columns", {}))) for p in parents]
        lineage = column_lineage(node, {_relation(p).split(".")[-1]: _relation(p) for p in parents}, ns["build"])
        output = Dataset(ns["build"], _relation(node), tuple(node.get("columns", {})), lineage)
        job, step_run = f"libcoop.dbt.{node['name']}", str(uuid.uuid4())
        yield {"state": "START", "job": job, "step_run": step_run, "when": started}
        yield {"state": "COMPLETE", "job": job, "step_run": step_run, "when": finished, "inputs": inputs,
               "outputs": [output]}  # fmt: skip


def _timings(path: Path) -> dict[str, tuple[dt.datetime, dt.datetime]]:
    if not path.exists():
        return {}
    timings = {}
    for result in json.loads(path.read_text(encoding="utf-8")).get("results", []):
        if result.get("status") != "success" or not result["unique_id"].startswith("model."):
            continue
        executed = [t for t in result.get("timing", []) if t.get("name") == "execute"] or result.get("timing", [])
        if executed and executed[0].get("started_at") and executed[-1].get("completed_at"):
            start, end = executed[0]["started_at"], executed[-1]["completed_at"]
            timings[result["unique_id"]] = (_utc(start), _utc(end))
        else:
            now = dt.datetime.now(dt.UTC)
            timings[result["unique_id"]] = (now, now)
    return timings


def _utc(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def column_lineage(
    node: dict[str, Any], parents: dict[str, str], namespace: str
) -> tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...]:
    """Column -> the parents' columns it comes from, parsed from the compiled SQL by openlineage-sql.

    The house style ends a model with ``select * from final``: it is written out with the model's
    documented columns so the parser can follow them, and the import CTEs (``select * from`` a
    parent) are mapped to that parent. Any other ``*`` would hide columns from the parser (it has
    no schema to expand it with), so such a model has no column lineage rather than a partial
    one; so has a column computed from no parent (a constant) or SQL the parser cannot follow."""
    sql, columns = node.get("compiled_code") or "", list(node.get("columns", {}))
    if not sql or not columns:
        return ()
    import openlineage_sql

    imports = {cte.lower(): parents[table] for cte, _schema, table in IMPORT_CTE.findall(sql) if table in parents}
    sql = FINAL_STAR.sub(lambda last: f"select {', '.join(columns)} from {last[1]}", sql.strip())
    # Without its comments: one between a select and its star would hide the star.
    bare = re.sub(r"--[^\n]*|/\*.*?\*/", "", sql, flags=re.DOTALL)
    if STAR.search(re.sub(RELATION_STAR, "", bare, flags=re.IGNORECASE)):
        return ()
    parsed = openlineage_sql.parse([f"create table {_relation(node)} as {sql}"], dialect="duckdb")
    found: dict[str, set[tuple[str, str, str]]] = {}
    for item in parsed.column_lineage:
        for source in item.lineage:
            origin = (source.origin.name if source.origin else "").lower()
            table = imports.get(origin) or next((t for t in parents.values() if t.split(".")[-1] == origin), None)
            if table is not None:
                found.setdefault(item.descendant.name, set()).add((namespace, table, source.name))
    return tuple((column, tuple(sorted(sources))) for column, sources in sorted(found.items()))
