"""Which run a step's lineage events name as their parent: the libcoop run from the CLI, the Airflow
task (and the DAG run as root) when a task hands over the ids of Airflow's OpenLineage provider."""

from __future__ import annotations

import uuid

import pytest

from libcoop import lineage

TASK_RUN = "01a24f56-1c30-736c-9b03-7c262a0e7257"
DAG_RUN = "01a24f56-1c30-736c-9b03-000000000001"


@pytest.fixture(autouse=True)
def _no_parent_left():
    yield
    lineage.set_parent(None)


def test_without_a_scheduler_the_parent_is_the_libcoop_run() -> None:
    facet = lineage._parent_facet("night-1")
    assert (facet.job.namespace, facet.job.name) == ("libcoop", "libcoop.run.night-1")
    assert facet.run.runId == str(uuid.uuid5(uuid.NAMESPACE_URL, "libcoop:night-1"))
    assert facet.root is None


def test_an_airflow_task_becomes_the_parent_and_its_dag_run_the_root() -> None:
    lineage.set_parent(f"libcoop/cooperation_nightly.load/{TASK_RUN}", f"libcoop/cooperation_nightly/{DAG_RUN}")
    facet = lineage._parent_facet("night-1")
    assert (facet.job.namespace, facet.job.name, facet.run.runId) == ("libcoop", "cooperation_nightly.load", TASK_RUN)
    assert (facet.root.job.name, facet.root.run.runId) == ("cooperation_nightly", DAG_RUN)


def test_a_namespace_with_slashes_keeps_them() -> None:
    lineage.set_parent(f"airflow://host/x/cooperation_nightly.load/{TASK_RUN}")
    facet = lineage._parent_facet("night-1")
    assert (facet.job.namespace, facet.job.name) == ("airflow://host/x", "cooperation_nightly.load")


@pytest.mark.parametrize(
    "given", ["cooperation_nightly.load", f"/cooperation_nightly.load/{TASK_RUN}", "ns/job/not-a-uuid"]
)
def test_an_id_that_is_not_one_is_ignored_and_the_libcoop_run_stays_the_parent(given: str, caplog) -> None:
    lineage.set_parent(given)
    assert lineage._parent_facet("night-1").job.name == "libcoop.run.night-1"
    assert "lineage parent ignored" in caplog.text


def test_none_puts_the_libcoop_run_back() -> None:
    lineage.set_parent(f"libcoop/cooperation_nightly.load/{TASK_RUN}")
    lineage.set_parent(None)
    assert lineage._parent_facet("night-1").job.name == "libcoop.run.night-1"
