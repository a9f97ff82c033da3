"""The compose stack's logins, started for real: Airflow with the FAB auth manager, the admin made
as airflow-init makes it (`airflow users create` from the environment), the password stored only as
a hash, and a login through the REST API of a real api-server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.integration.airflow_env import AIRFLOW, REPO

pytestmark = pytest.mark.integration

PASSWORD = "Ka7-quiet-Lantern-42"  # what .env would hold; libcoop.deploy_check accepts it


def compose_auth_manager() -> str:
    spec = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    return spec["services"]["airflow-apiserver"]["environment"]["AIRFLOW__CORE__AUTH_MANAGER"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def login(port: int, password: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/auth/token",
        data=json.dumps({"username": "admin", "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_airflow_starts_with_fab_auth_and_the_admin_from_the_environment(tmp_path: Path):
    from libcoop.deploy_check import problems

    assert problems({"AIRFLOW_ADMIN_PASSWORD": PASSWORD}) == []
    home = tmp_path / "airflow"
    (tmp_path / "dags").mkdir()
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(tmp_path / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__AUTH_MANAGER=compose_auth_manager(),
        AIRFLOW__API_AUTH__JWT_SECRET="test-jwt-secret-of-thirty-two-characters",
    )
    assert env["AIRFLOW__CORE__AUTH_MANAGER"] == "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"

    def airflow(*args: str) -> None:
        done = subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    airflow("db", "migrate")
    airflow(
        "users", "create", "--username", "admin", "--password", PASSWORD, "--role", "Admin",
        "--firstname", "libcoop", "--lastname", "admin", "--email", "admin@example.org",
    )  # fmt: skip
    with sqlite3.connect(home / "airflow.db") as db:
        ((stored,),) = db.execute("select password from ab_user where username = 'admin'").fetchall()
    assert PASSWORD not in stored and stored.split(":")[0] in {"scrypt", "pbkdf2"}  # only a hash is kept

    port = free_port()
    server = subprocess.Popen(
        [AIRFLOW, "api-server", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5):
                    break
            except OSError:
                assert server.poll() is None, "the api-server exited"
                assert time.monotonic() < deadline, "the api-server did not answer in 180 s"
                time.sleep(1)
        status, body = login(port, PASSWORD)
        assert status in (200, 201) and body["access_token"].count(".") == 2  # a JWT
        status, body = login(port, "not-the-password")
        assert status == 401 and body == {"detail": "Invalid credentials"}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
