"""The lake is the truth: a DuckLake run decides from what the lake holds, and the lake keeps itself
in shape. On the machine's PostgreSQL: two fresh catalog databases (A and B, dropped after) and
ONE work folder for both; a drop of 20 small files. Four real runs (A; B, empty; B with 5 more
visits while a reader process polls; B after a rollback by another process and a lost local
copy), then maintenance with a reader attached. Skipped, saying so, only when PostgreSQL is
unreachable."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from libcoop.fingerprint import unchanged_since
from libcoop.ingest import lake_checks
from libcoop.pipeline import nothing_to_build, pending_changes, run
from libcoop.settings import Paths, dbt_project_dir
from libcoop.warehouse import builds, lake
from libcoop.warehouse.lake_maintenance import maintain
from libcoop.warehouse.lake_state import converge, local_run, read_state
from tests.conftest import GOOD_VISIT, VISITS_HEADER
from tests.helpers.postgres import admin, fresh_databases, lake_target
from tests.integration.airflow_env import REPO
from tests.integration.test_ducklake import checksums

pytestmark = pytest.mark.integration

LIBCOOP = str(Path(sys.executable).with_name("libcoop"))
FILES = 20


def visits(path: Path, prefix: str, count: int) -> None:
    rows = [GOOD_VISIT.replace("v1,", f"{prefix}{i},") for i in range(count)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([VISITS_HEADER, *rows]) + "\n", encoding="utf-8")


class World:
    """One drop folder, one work folder, and a DuckLake per catalog database."""

    def __init__(self, root: Path, databases: dict[str, str]) -> None:
        self.root, self.databases = root, databases
        self.raw = root / "raw"
        for n in range(FILES):  # 20 files, 2 visits each, in the folders of the two countries involved
            visits(self.raw / "incoming" / ("CN" if n % 2 else "JP") / f"visits_part{n:02d}.csv", f"p{n}-", 2)
        self.expectations = root / "expectations"
        shutil.copytree(REPO / "expectations", self.expectations, ignore=shutil.ignore_patterns("uncommitted"))
        self.work = root / "work"

    def target(self, name: str) -> str:
        return lake_target(self.databases[name])

    def lake(self, name: str) -> lake.Lake:
        return lake.parse(self.target(name), str(self.root / f"data-{name}"), self.work)

    def paths(self, name: str) -> Paths:
        target = self.lake(name)
        return Paths(self.raw, target.local_dir / "cooperation.duckdb", self.expectations, lake=target)

    def env(self, name: str, work: Path | None = None) -> dict[str, str]:
        return dict(
            os.environ,
            LIBCOOP_RAW_DIR=str(self.raw),
            LIBCOOP_WAREHOUSE=self.target(name),
            LIBCOOP_LAKE_DATA_PATH=str(self.root / f"data-{name}"),
            LIBCOOP_WORK_DIR=str(work or self.work),
            LIBCOOP_EXPECTATIONS_DIR=str(self.expectations),
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with fresh_databases("libcoop_truth_a", "libcoop_truth_b") as (a, b):
        root = tmp_path_factory.mktemp("truth")
        # A copy of the dbt project: the code fingerprint stays that of the first run, whatever is
        # edited in the checkout meanwhile (a changed fingerprint rightly means a full build).
        project = root / "dbt_project"
        shutil.copytree(dbt_project_dir(), project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("LIBCOOP_DBT_PROJECT_DIR", str(project))
            yield World(root, {"A": a, "B": b})


def snapshot_count(target: lake.Lake) -> int:
    try:
        with lake.connect(target, read_only=True) as con:
            return con.execute("select count(*) from lake.snapshots()").fetchone()[0]
    except lake.NoLakeYet:
        return 0


def mart_totals(target: lake.Lake, version: int | None = None) -> dict[str, int]:
    at = f" at (version => {version})" if version is not None else ""
    with lake.connect(target, read_only=True) as con:
        names = [
            n
            for (n,) in con.execute(
                "select table_name from duckdb_tables() where database_name = 'lake' and schema_name = 'marts'"
            ).fetchall()
        ]
        return {n: con.execute(f'select count(*) from lake.marts."{n}"{at}').fetchone()[0] for n in sorted(names)}


def marts(target: lake.Lake) -> dict[str, tuple[int, str]]:
    with lake.connect(target, read_only=True) as con:
        return checksums(con, "lake", [n for n in lake.published_tables(con, "lake") if n.startswith("marts.")])


READER = """
import json, sys, time
from pathlib import Path
from libcoop.warehouse import lake
target = lake.parse(sys.argv[1], sys.argv[2], sys.argv[3])
stop = Path(sys.argv[4])
con = lake.connect(target, read_only=True)
while True:
    stopping = stop.exists()
    try:
        con.execute("begin")
        names = [n for (n,) in con.execute(
            "select table_name from duckdb_tables() where database_name = 'lake' and schema_name = 'marts'"
        ).fetchall()]
        totals = {n: con.execute(f'select count(*) from lake.marts."{n}"').fetchone()[0] for n in sorted(names)}
        con.execute("commit")
        print(json.dumps(totals))
    except Exception as error:
        print(json.dumps({"error": repr(error)}))
        con.execute("rollback")
    sys.stdout.flush()
    if stopping:
        break
    time.sleep(0.05)
"""


class Reader:
    """A process attached read-only, counting every mart in one transaction, over and over."""

    def __init__(self, target: lake.Lake, folder: Path) -> None:
        self.stop = folder / f"stop-{secrets.token_hex(3)}"
        args = [target.url, target.data_path, str(target.work_dir), str(self.stop)]
        self.process = subprocess.Popen([sys.executable, "-c", READER, *args], stdout=subprocess.PIPE, text=True)
        time.sleep(3)  # attached and reading before the writer starts

    def observations(self) -> list[dict[str, int]]:
        self.stop.touch()
        output, _ = self.process.communicate(timeout=120)
        return [json.loads(line) for line in output.splitlines()]


@pytest.fixture(scope="module")
def first(world):
    """Run 1: the 20-file drop published to the empty lake A."""
    target = world.lake("A")
    before = snapshot_count(target)
    summary = run(world.paths("A"), "truth-a1")
    assert summary.status == "published", summary.render()
    return summary, before, snapshot_count(target)


def test_a_run_of_20_files_adds_one_snapshot_and_a_second_changes_nothing(world, first):
    summary, before, after = first
    assert summary.files == {"loaded": FILES}
    assert (before, after - before) == (0, 2)  # the lake's creation, then the publish: no snapshot per file
    target = world.lake("A")
    # the verdicts are files beside the lake's data, never rows of a catalog table
    assert len(lake_checks.read_verdicts(target, "truth-a1")) == FILES
    with lake.connect(target, read_only=True) as con:
        schemas = {
            s
            for (s,) in con.execute("select schema_name from duckdb_schemas() where database_name = 'lake'").fetchall()
        }
        assert "libcoop_checks" not in schemas
    state = read_state(target)
    assert state.run_id == "truth-a1" and state.lake_id and len(state.files) == FILES

    again = run(world.paths("A"), "truth-a2")
    assert again.status == "unchanged", again.render()
    assert "nothing changed since build truth-a1" in again.message
    assert snapshot_count(target) == after


@pytest.fixture(scope="module")
def second(world, first):
    """Run 2: the same drop and the SAME work folder, pointed at the empty lake B."""
    summary = run(world.paths("B"), "truth-b1")
    assert summary.status == "published", summary.render()
    return summary, mart_totals(world.lake("B"))


def test_an_empty_target_gets_a_full_publish_and_two_targets_share_nothing(world, first, second):
    a, b = world.lake("A"), world.lake("B")
    assert second[0].files == {"loaded": FILES}  # not "nothing changed since build truth-a1"
    assert second[1] == mart_totals(a)  # the same drop, built in full for B (load times differ)
    assert {n: v for n, v in marts(b).items() if n.startswith("marts.dim_c")} == {
        n: v for n, v in marts(a).items() if n.startswith("marts.dim_c")
    }
    assert a.local_dir != b.local_dir and a.local_dir.parent == b.local_dir.parent == world.work
    assert local_run(world.paths("A")) == "truth-a1" and local_run(world.paths("B")) == "truth-b1"
    assert read_state(a).lake_id != read_state(b).lake_id
    for name, last in (("A", "truth-a1"), ("B", "truth-b1")):  # each still knows its own build
        again = run(world.paths(name), f"truth-{name.lower()}-again")
        assert again.status == "unchanged" and f"since build {last}" in again.message


@pytest.fixture(scope="module")
def third(world, second, tmp_path_factory):
    """Run 3: 5 more visits published to B as `libcoop run`, with a reader attached throughout."""
    visits(world.raw / "incoming" / "JP" / "visits_extra.csv", "x", 5)
    reader = Reader(world.lake("B"), tmp_path_factory.mktemp("reader"))
    try:
        result = subprocess.run([LIBCOOP, "run"], env=world.env("B"), capture_output=True, text=True, timeout=900)
    finally:
        observations = reader.observations()
    assert result.returncode == 0, result.stderr[-3000:]
    return result, observations, mart_totals(world.lake("B"))


def test_a_reader_sees_one_published_build_or_the_next_during_a_publish(world, second, third):
    result, observations, totals = third
    assert "published" in result.stdout and "password" not in result.stdout
    assert totals["fct_visit"] == second[1]["fct_visit"] + 5
    assert [o for o in observations if "error" in o] == []
    assert all(o in (second[1], totals) for o in observations), "a reader saw a mix of two builds"
    assert {json.dumps(o, sort_keys=True) for o in observations} == {
        json.dumps(second[1], sort_keys=True),
        json.dumps(totals, sort_keys=True),
    }


def test_a_target_emptied_behind_the_same_connection_string_is_not_trusted(world, second):
    """Lake A dropped and created again, empty: its local copy is dropped, every file is new."""
    name = world.databases["A"]
    admin(f"drop database {name} with (force)")
    admin(f"create database {name}")
    paths = world.paths("A")
    assert paths.warehouse.exists() and read_state(paths.lake).run_id is None
    converge(paths, "truth-a3")
    assert not paths.warehouse.exists() and not builds.builds_dir(paths.warehouse).exists()
    assert len(pending_changes(paths).to_check) == FILES + 1
    assert unchanged_since(paths) is None


def test_a_target_rolled_back_by_another_process_converges(world, second, third, tmp_path):
    b = world.lake("B")
    paths = world.paths("B")
    run_3 = local_run(paths)

    def rollback_elsewhere() -> None:  # another machine, with its own work folder, rolls the lake back
        done = subprocess.run(
            [LIBCOOP, "rollback"], env=world.env("B", tmp_path / "elsewhere"), capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr

    rollback_elsewhere()
    assert mart_totals(b) == second[1] and run_3 != "truth-b1"
    converge(paths, "truth-b-converge")
    assert local_run(paths) == "truth-b1"  # this machine's kept build of the lake's run is its copy again
    pending = pending_changes(paths)
    assert pending.to_check == ("JP/visits_extra.csv",)  # what the lake lacks
    assert nothing_to_build(paths, pending) is None

    # rolled forward again (a backup restored, say) to a build this machine no longer keeps
    shutil.rmtree(builds.builds_dir(paths.warehouse))
    rollback_elsewhere()
    assert mart_totals(b) == third[2]
    snapshots_before = snapshot_count(b)
    summary = run(paths, "truth-b3")
    assert summary.status == "published", summary.render()
    assert summary.files == {"loaded": FILES + 1}  # rebuilt from the drop folder, not run 2's copy plus one file
    assert snapshot_count(b) == snapshots_before + 1
    assert mart_totals(b) == third[2]
    with lake.connect(b, read_only=True) as con:  # the lake's run history carried over
        runs = {r for (r,) in con.execute("select run_id from lake.audit.runs where status = 'published'").fetchall()}
    assert runs == {"truth-b1", run_3, "truth-b3"}
    assert run(paths, "truth-b4").status == "unchanged"


def test_maintenance_keeps_rollback_working_and_readers_see_whole_snapshots(world, second, third, tmp_path):
    b = world.lake("B")
    data = Path(b.data_path)
    before = (snapshot_count(b), len(list(data.rglob("*.parquet"))))
    published = lake.published_snapshots(b)
    assert [s.kind for s in published] == ["publish", "publish", "rollback", "rollback", "publish"]
    reader = Reader(b, tmp_path)
    try:
        done = subprocess.run(
            [LIBCOOP, "maintain", "--keep", "3"], env=world.env("B"), capture_output=True, text=True, timeout=300
        )
    finally:
        observations = reader.observations()
    assert done.returncode == 0, done.stderr
    assert "kept the last 3 published builds" in done.stdout
    assert [o for o in observations if o != third[2]] == [], "a reader saw something else than the current build"
    # once the grace is over (none here), the files no kept snapshot references are deleted
    report = maintain(b, keep=3, grace=dt.timedelta(0))
    after = (snapshot_count(b), len(list(data.rglob("*.parquet"))))
    assert after[0] < before[0] and after[1] < before[1] and report.deleted_files > 0
    kept = lake.published_snapshots(b)
    assert [s.snapshot_id for s in kept] == [s.snapshot_id for s in published[-3:]]
    assert mart_totals(b, kept[0].snapshot_id) == second[1]  # the oldest kept build still reads whole
    # rollback still works: the tables of the build before the current one come back
    assert lake.rollback(b).restored_snapshot == kept[-2].snapshot_id
    assert mart_totals(b) == third[2]


def test_the_maintenance_dag_runs_weekly_from_its_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("LIBCOOP_LAKE_MAINTENANCE_CRON", "15 4 * * 1")
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / "ducklake_maintenance.py"))
    assert bag.import_errors == {}
    dag = bag.dags["ducklake_maintenance"]
    assert [t.task_id for t in dag.tasks] == ["maintain"]
    assert dag.timetable.expression == "15 4 * * 1" and dag.max_active_runs == 1
    from airflow.sdk.exceptions import AirflowSkipException

    monkeypatch.setenv("LIBCOOP_WAREHOUSE", str(tmp_path / "w.duckdb"))
    with pytest.raises(AirflowSkipException, match="not a DuckLake"):
        dag.get_task("maintain").python_callable()
    # not a lake: the command says so (the DAG's task skips)
    done = subprocess.run(
        [LIBCOOP, "maintain", "--warehouse", str(tmp_path / "w.duckdb")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1 and "is not a DuckLake" in done.stderr
