"""The DAG as Airflow sees it, and one real run of it (`airflow dags test`) on the sample drop,
checked against figures that come from the seed documents."""

from __future__ import annotations

import json
import os
import shutil

import duckdb
import pytest

from tests.integration.airflow_env import REPO, airflow, airflow_env, prepare_metadata
from tests.integration.sample_figures import nlc_ndl_business_meetings_since_1981

pytestmark = pytest.mark.integration

EXPECTED_TASKS = {
    "take_lease",
    "discover_files",
    "anything_to_build",
    "check_file",
    "load",
    "build_marts",
    "validate",
    "publish",
    "release_lease",
}
WRITERS = {"load", "build_marts", "validate", "publish"}


def test_dag_imports_cleanly_with_expected_tasks_and_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    dag = bag.dags["cooperation_nightly"]
    assert {t.task_id for t in dag.tasks} == EXPECTED_TASKS
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert {"libcoop", "nightly"} <= set(dag.tags)
    assert dag.doc_md and "publish" in dag.doc_md
    for task in dag.tasks:
        assert task.owner == "libcoop"
        if task.task_id != "publish":  # a blocked publish is a verdict, not a glitch to retry
            assert task.retries >= 1
        assert (task.pool == "duckdb_writer") == (task.task_id in WRITERS)
    assert dag.get_task("publish").upstream_task_ids == {"load", "validate"}
    # the per-file checks fan in; the drop folder as discovered (listed and hashed once) comes with them
    # and the step context the lease made (run id, paths, start), as every task after it
    assert dag.get_task("load").upstream_task_ids == {"check_file", "discover_files", "anything_to_build", "take_lease"}
    assert [a.name for a in dag.get_task("publish").outlets] == ["libcoop_warehouse"]
    gate = dag.get_task("anything_to_build")
    assert gate.downstream_task_ids == {"check_file", "load"}
    assert gate.ignore_downstream_trigger_rules is False  # release_lease (all_done) runs after a short circuit
    assert dag.get_task("release_lease").trigger_rule == "all_done"
    assert dag.task_dict["check_file"].max_active_tis_per_dagrun == 4
    assert [a.name for a in dag.timetable.asset_condition.objects] == ["libcoop_drop_folder"]

    watch = bag.dags["drop_folder_watch"]
    (detect,) = watch.tasks
    assert [a.name for a in detect.outlets] == ["libcoop_drop_folder"]
    assert watch.max_active_runs == 1


@pytest.mark.parametrize(
    ("cron", "zone", "expected"),
    [(None, None, ("0 2 * * *", "Asia/Ho_Chi_Minh")), ("30 1 * * 1-5", "Asia/Tokyo", ("30 1 * * 1-5", "Asia/Tokyo"))],
)
def test_the_schedule_is_a_setting_with_a_time_zone(tmp_path, monkeypatch, cron, zone, expected):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    for name, value in (("LIBCOOP_SCHEDULE_CRON", cron), ("LIBCOOP_SCHEDULE_TIMEZONE", zone)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / "cooperation_nightly.py"))
    clock = bag.dags["cooperation_nightly"].timetable.timetable
    assert (clock.expression, str(clock.timezone)) == expected


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    """Run cooperation_nightly once through Airflow on a copy of the sample drop."""
    tmp = tmp_path_factory.mktemp("nightly")
    raw = tmp / "raw"
    shutil.copytree(REPO / "raw" / "incoming", raw / "incoming")
    warehouse = tmp / "warehouse" / "cooperation.duckdb"
    # Airflow's OpenLineage provider on, with the file transport: its task and DAG-run events.
    provider = {"type": "file", "log_file_path": str(tmp / "airflow-lineage.jsonl"), "append": True}
    env = airflow_env(
        tmp,
        raw,
        warehouse,
        AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps(provider),
        AIRFLOW__OPENLINEAGE__NAMESPACE="libcoop",
    )
    env.pop("OPENLINEAGE_URL", None)
    env.pop("LIBCOOP_LINEAGE_TRANSPORT", None)
    prepare_metadata(env)
    done = airflow(env, "dags", "test", "cooperation_nightly")
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-5000:]
    assert "DagRun Finished: dag_id=cooperation_nightly" in log and "state=success" in log, log[-5000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        yield con, raw, log


def _events(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_airflow_and_libcoop_lineage_events_form_one_tree(sample_run):
    """Airflow's OpenLineage provider sends a START and a COMPLETE for the DAG run and each task;
    each libcoop step's events (warehouse/lineage/<run>.jsonl) name the Airflow task that ran the
    step as their parent and the DAG run as their root, so a catalog shows them under it."""
    from tests.integration.test_lineage import VALIDATOR

    _, raw, _ = sample_run
    tmp = raw.parent
    airflow_events = _events(tmp / "airflow-lineage.jsonl")
    done = {e["job"]["name"]: e for e in airflow_events if e["eventType"] == "COMPLETE"}
    assert {f"cooperation_nightly.{task}" for task in EXPECTED_TASKS - {"check_file"}} | {"cooperation_nightly"} <= set(
        done
    )
    assert not [e["job"]["name"] for e in airflow_events if e["eventType"] == "FAIL"]
    (libcoop_file,) = (tmp / "warehouse" / "lineage").glob("*.jsonl")
    libcoop_events = _events(libcoop_file)
    for event in airflow_events + libcoop_events:
        assert not list(VALIDATOR.iter_errors(event)), event["job"]["name"]
    dag_run = done["cooperation_nightly"]["run"]["runId"]
    for step, task in (("load", "load"), ("build", "build_marts"), ("validate", "validate"), ("publish", "publish")):
        (complete,) = [
            e for e in libcoop_events if e["job"]["name"] == f"libcoop.{step}" and e["eventType"] == "COMPLETE"
        ]
        parent = complete["run"]["facets"]["parent"]
        assert (parent["job"]["namespace"], parent["job"]["name"]) == ("libcoop", f"cooperation_nightly.{task}")
        assert parent["run"]["runId"] == done[f"cooperation_nightly.{task}"]["run"]["runId"]
        assert parent["root"]["run"]["runId"] == dag_run
    models = [e for e in libcoop_events if e["job"]["name"] == "libcoop.dbt.fct_visit" and e["eventType"] == "COMPLETE"]
    assert models[0]["run"]["facets"]["parent"]["job"]["name"] == "cooperation_nightly.build_marts"


def test_run_prints_its_summary(sample_run):
    _, _, log = sample_run
    assert "published" in log
    assert "fct_visit" in log and "data quality:" in log


def test_nlc_ndl_business_meetings_since_1981(sample_run):
    con, _, _ = sample_run
    assert nlc_ndl_business_meetings_since_1981(con) == (33, 166)


def test_ddc14_translation_project_is_usd_100000(sample_run):
    con, _, _ = sample_run
    rows = con.execute(
        """
        select f.amount, f.currency, f.amount_usd, donor.institution_code, d.year
        from marts.fct_donation as f
        inner join marts.dim_institution as donor on f.donor_institution_key = donor.institution_key
        inner join marts.dim_date as d on f.start_date_key = d.date_key
        where f.project ilike '%DDC 14%'
        """
    ).fetchall()
    assert len(rows) == 1
    amount, currency, amount_usd, donor, year = rows[0]
    assert (amount, currency, year) == (100000, "USD", 2004)
    assert amount_usd == pytest.approx(100000)
    assert donor is not None


def test_every_spelling_of_the_nlv_resolves_to_one_institution(sample_run):
    con, _, _ = sample_run
    spellings = con.execute(
        """
        select count(distinct institution_name), count(distinct institution_key)
        from marts.fct_membership where file_path = 'VN/memberships.csv'
        """
    ).fetchone()
    names = {r[0] for r in con.execute("select institution from raw.current_memberships").fetchall()}
    assert {"National Library of Viet Nam", "National Library of Vietnam", "NLV", "Thư viện Quốc gia Việt Nam"} <= names
    assert spellings[1] == 1
    (code,) = con.execute(
        """
        select distinct i.institution_code from marts.fct_membership as m
        inner join marts.dim_institution as i on m.institution_key = i.institution_key
        """
    ).fetchone()
    assert code == "NLV"


def test_native_script_names_resolve_for_each_national_library(sample_run):
    con, _, _ = sample_run
    codes = dict(
        con.execute(
            """
            select v.host_institution_name, i.institution_code from marts.fct_visit as v
            inner join marts.dim_institution as i on v.host_institution_key = i.institution_key
            where v.host_institution_name = '中国国家图书馆'
            """
        ).fetchall()
    )
    assert codes == {"中国国家图书馆": "NLC"}


def test_unresolved_name_is_its_own_flagged_institution(sample_run):
    con, _, _ = sample_run
    rows = con.execute(
        "select institution_name, is_resolved from marts.dim_institution"
        " where not is_resolved and not is_unknown_member"
    ).fetchall()
    assert rows == [("Nationl Library of Vietnam", False)]


def test_row_counts_match_the_drop_and_no_file_was_rejected(sample_run):
    con, raw, _ = sample_run
    counts = {
        t: con.execute(f"select count(*) from marts.{t}").fetchone()[0]
        for t in ("fct_membership", "fct_visit", "fct_donation", "fct_cooperation_activity")
    }
    assert counts == {"fct_membership": 5, "fct_visit": 36, "fct_donation": 10, "fct_cooperation_activity": 51}
    outcomes = dict(con.execute("select outcome, count(*) from audit.file_loads group by outcome").fetchall())
    assert outcomes == {"loaded": 10}  # raw/incoming/README.txt is the guide, not a stray
    # No file was rejected: the only reports are notes on loaded files, such as the misspelt NLV.
    reports = {
        p.relative_to(raw / "reports").as_posix(): p.read_text() for p in (raw / "reports").rglob("*.report.txt")
    }
    assert all("NOT loaded" not in text and "the file loaded." in text for text in reports.values())
    assert any("'Nationl Library of Vietnam' is not a known institution name" in text for text in reports.values())


def test_unknown_references_point_to_unknown_members_never_null(sample_run):
    con, _, _ = sample_run
    nulls = con.execute(
        """
        select count(*) from marts.fct_visit
        where host_institution_key is null or guest_institution_key is null
           or host_country_key is null or guest_country_key is null or end_date_key is null
        """
    ).fetchone()
    assert nulls == (0,)
    (unknown_guests,) = con.execute(
        """
        select count(*) from marts.fct_visit as v
        inner join marts.dim_institution as i on v.guest_institution_key = i.institution_key
        where i.is_unknown_member
        """
    ).fetchone()
    assert unknown_guests > 0  # e.g. the 549 foreign delegations received by the NLV


def test_quality_results_are_in_the_published_warehouse(sample_run):
    con, _, _ = sample_run
    suites = {r[0] for r in con.execute("select distinct suite from audit.dq_results").fetchall()}
    assert {"raw_memberships", "raw_visits", "raw_donations"} <= suites
    assert any(suite.startswith("marts_") for suite in suites)
    (critical_failures,) = con.execute(
        "select count(*) from audit.dq_results where severity = 'critical' and not success"
    ).fetchone()
    assert critical_failures == 0
    (status,) = con.execute("select status from audit.runs").fetchone()
    assert status == "published"


def test_run_leaves_no_build_behind(sample_run):
    _, raw, log = sample_run
    build_dir = raw.parent / "warehouse" / ".build"
    assert not build_dir.exists() or os.listdir(build_dir) == []
    assert (raw.parent / "warehouse" / "cooperation.duckdb").exists()
    assert not (raw.parent / "warehouse" / ".libcoop-run.lease").exists(), "release_lease ran last"
    assert "task_id=take_lease" in log and "task_id=release_lease" in log


def test_make_run_shows_the_run_phase_by_phase(sample_run):
    """What `make run` prints from this same output: each phase with its duration, files n/N."""
    import io
    import re

    from libcoop.progress import follow

    _, raw, log = sample_run
    out = io.StringIO()
    follow(io.StringIO(log), out)
    lines = [line.removeprefix("libcoop: ") for line in out.getvalue().splitlines()]
    ends = [line.split(":")[0] for line in lines if re.match(r"\w+: done in ", line)]
    assert ends == ["discover", "load", "build", "validate", "publish"]
    files = sorted(p.relative_to(raw / "incoming").as_posix() for p in (raw / "incoming").glob("*/*.*"))
    checks = [line for line in lines if line.startswith("check ")]
    assert len(checks) == len(files) == 10
    assert sorted(line.split(": ")[1] for line in checks) == files
    assert checks[-1].startswith("check 10/10: ") and all(": accepted, " in line for line in checks)
    assert re.search(r"build: \d+/(\d+) dbt nodes done .*\n.*build: done in .*: \1 dbt nodes passed", "\n".join(lines))
    assert re.search(r"libcoop run manual-\d{8}T\d{6}: published", log)  # a readable run id


# --- the quiet nights (they come last: they change the module's warehouse) ---------------------

SKIPPED_ON_SHORT_PATH = ("check_file", "load", "build_marts", "validate", "publish")


def task_states(log: str) -> dict[str, str]:
    """The last state `airflow dags test` logged for each task."""
    import re

    states = {}
    for task_id, state in re.findall(r"task_id=(\w+).*?state=(\w+)", log):
        states[task_id] = state
    return states


def published_state(warehouse) -> tuple[bytes, int, list]:
    pages = sorted(
        (p.relative_to(warehouse.parent).as_posix(), p.stat().st_mtime_ns)
        for name in ("data_docs", "dbt_docs", "dashboard")
        for p in (warehouse.parent / name).rglob("*.html")
    )
    return warehouse.read_bytes(), warehouse.stat().st_mtime_ns, pages


def short_path_run(raw, warehouse) -> str:
    env = airflow_env(raw.parent, raw, warehouse)
    before = published_state(warehouse)
    done = airflow(env, "dags", "test", "cooperation_nightly")
    log = done.stdout + done.stderr
    assert done.returncode == 0 and "state=success" in log, log[-5000:]
    assert published_state(warehouse) == before  # nothing republished: the same bytes, mtime and pages
    assert not (warehouse.parent / ".libcoop-run.lease").exists(), "the lease is released"
    return log


def test_a_dag_run_with_nothing_changed_takes_the_short_path(sample_run):
    con, raw, _ = sample_run
    warehouse = raw.parent / "warehouse" / "cooperation.duckdb"
    (first_id,) = con.execute("select run_id from audit.runs where status = 'published'").fetchone()
    log = short_path_run(raw, warehouse)
    assert f"nothing changed since build {first_id}: nothing rebuilt or republished" in log
    assert "Skipping downstream tasks" in log
    assert "phase dbt build" not in log and "published /" not in log
    with duckdb.connect(str(warehouse), read_only=True) as again:
        assert again.execute("select run_id from audit.runs").fetchall() == [(first_id,)]


def test_a_dag_run_with_only_an_already_rejected_file_takes_the_short_path(sample_run):
    import subprocess
    import sys
    from pathlib import Path

    _, raw, _ = sample_run
    warehouse = raw.parent / "warehouse" / "cooperation.duckdb"
    bad = raw / "incoming" / "JP" / "visits_broken.csv"
    bad.write_text("record_id,activity_type\nv1,not_a_type\n", encoding="utf-8")
    env = airflow_env(raw.parent, raw, warehouse)
    libcoop = str(Path(sys.executable).with_name("libcoop"))
    first = subprocess.run([libcoop, "run"], env=env, capture_output=True, text=True, timeout=900, check=False)
    assert first.returncode == 0 and ": published" in first.stdout, first.stderr[-3000:]
    assert "JP/visits_broken.csv" in first.stdout.split("rejected:")[1]

    log = short_path_run(raw, warehouse)
    assert "nothing changed since build" in log
    assert "1 file rejected before with the same bytes, not checked again" in log
    # The same answer from the command line: no rebuild for bytes already rejected.
    again = subprocess.run([libcoop, "run"], env=env, capture_output=True, text=True, timeout=900, check=False)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "1 file rejected before with the same bytes" in again.stdout and ": unchanged" in again.stdout
