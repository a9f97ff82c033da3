"""A throw-away distributed Airflow 3 on this machine, for tests/integration/test_distributed.py.

PostgreSQL (metadata DB and Celery result backend, one fresh database per session) and Redis
(Celery broker, db 5, one queue of the session's own) are the machine's; the Airflow components
run as separate processes, each in its own process group, bound to 127.0.0.1 only:

    api-server (REST + Execution API) <- scheduler (CeleryExecutor) -> Redis -> celery worker
    dag-processor (parses dags/ into the metadata DB)

Airflow 3 specifics handled here:

- every process gets the same ``[api_auth] jwt_secret`` and ``[api] secret_key``: without them each
  process draws a random one, and the api-server rejects the task tokens the scheduler signed;
- the worker reaches the api-server through ``[core] execution_api_server_url`` (tasks never touch
  the metadata DB themselves);
- the scheduler and the worker start with ``--skip-serve-logs`` (the log server binds every
  interface); the api-server reads task logs from the shared AIRFLOW_HOME instead;
- ``[scheduler] use_job_schedule = False``: unpausing a DAG whose start_date is past would
  otherwise add a scheduled run next to the triggered one;
- the session's own Celery queue (``[operators] default_queue``): another session sharing Redis
  db 5 can never take this session's tasks, and vice versa.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil
import psycopg2

from tests.integration.airflow_env import AIRFLOW, REPO

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 5


def reachable(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_dsn(database: str) -> str:
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


@contextlib.contextmanager
def fresh_database(prefix: str = "libcoop_airflow_") -> Iterator[str]:
    """Create an empty PostgreSQL database, yield its name, drop it afterwards (even if still in use)."""
    name = prefix + secrets.token_hex(4)
    admin = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'create database "{name}"')
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
        admin.close()


def query(database: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with contextlib.closing(psycopg2.connect(pg_dsn(database))) as con, con.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def forget_queue(queue: str) -> None:
    """Remove the session's keys (its queue and bindings) from the Redis broker db."""
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"*{queue}*"))
        if keys:
            client.delete(*keys)
    except redis.RedisError as error:  # never hide the test's own outcome behind a cleanup problem
        print(f"could not remove the Celery queue {queue} from Redis db {REDIS_DB}: {error}")
    finally:
        client.close()


def distributed_settings(database: str, api_port: int, queue: str) -> dict[str, str]:
    """The Airflow configuration every component of the stack shares (as AIRFLOW__ env vars)."""
    from cryptography.fernet import Fernet

    base_url = f"http://127.0.0.1:{api_port}"
    return {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        # two cores: small everywhere
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",  # parse once, not every 30 s
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
    }


@dataclass
class Component:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    handle: IO[bytes]


@dataclass
class Stack:
    """Airflow components started as subprocesses; `stop()` kills every process group they made."""

    env: dict[str, str]
    log_dir: Path
    components: list[Component] = field(default_factory=list)

    def start(self, name: str, *args: str) -> Component:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        handle = log.open("ab")
        process = subprocess.Popen(  # a session of its own: its process group is killed at the end
            [AIRFLOW, *args], env=self.env, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        component = Component(name, process, log, handle)
        self.components.append(component)
        return component

    def dead(self) -> list[str]:
        return [f"{c.name} (exit {c.process.returncode})" for c in self.components if c.process.poll() is not None]

    def tails(self, lines: int = 60, extra: tuple[Path, ...] = ()) -> str:
        out = []
        for path in [c.log for c in self.components] + list(extra):
            text = path.read_text(errors="replace").splitlines() if path.exists() else ["(no log)"]
            out.append(f"----- {path.name}: last {lines} lines -----\n" + "\n".join(text[-lines:]))
        return "\n".join(out)

    def stop(self, grace: float = 20.0) -> None:
        descendants: list[psutil.Process] = []
        for c in self.components:
            with contextlib.suppress(psutil.Error):
                descendants += psutil.Process(c.process.pid).children(recursive=True)
        for c in self.components:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(c.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for c in self.components:
            with contextlib.suppress(subprocess.TimeoutExpired):
                c.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for c in self.components:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(c.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                c.process.wait(timeout=10)
            c.handle.close()
        for p in descendants:  # any that left the group (task supervisors may start sessions of their own)
            with contextlib.suppress(psutil.Error):
                if p.is_running():
                    p.kill()
        psutil.wait_procs([p for p in descendants if p.is_running()], timeout=10)


def wait_until(
    what: str,
    check: Callable[[], Any],
    stack: Stack,
    timeout: float,
    interval: float = 3.0,
    extra_logs: Callable[[], tuple[Path, ...]] = tuple,
) -> Any:
    """Call `check` until it returns something truthy; fail with the components' logs on timeout or death."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if stack.dead():
            raise AssertionError(
                f"while waiting for {what}, died: {', '.join(stack.dead())}\n{stack.tails(extra=extra_logs())}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout:.0f}s\n{stack.tails(extra=extra_logs())}")
        time.sleep(interval)


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False
