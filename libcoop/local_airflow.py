"""What ``make airflow`` runs: ``airflow standalone`` on this machine, sized for a small one, with
every DAG paused, and stopped whole on Ctrl-C or SIGTERM.

- Paused: ``cooperation_nightly`` has ``catchup=False``, which still runs the most recent 02:00
  UTC it missed as soon as it is first scheduled, and ``drop_folder_watch`` checks the drop folder
  as soon as it is unpaused; either would rebuild and republish the warehouse the moment the UI
  comes up. So the DAGs start paused (new ones, and ones an earlier ``make run`` registered):
  nothing runs until someone unpauses or triggers a DAG.
- Small: one API-server worker, one DAG-parsing process, and as many task slots as cores (the
  LocalExecutor forks all of them at start; Airflow's default is 32).
- Stopped whole: ``airflow standalone`` runs its scheduler, DAG processor, API server and triggerer
  as child processes and stops them on Ctrl-C only; killed with SIGTERM it leaves them running.
  It runs here in a process group of its own; SIGINT or SIGTERM to this process becomes a
  Ctrl-C for ``airflow standalone``, and whatever of its group is still alive after a grace
  period is terminated, then killed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from libcoop.settings import airflow_port

GRACE_SECONDS = 30.0


def settings(port: int, cores: int | None = None) -> dict[str, str]:
    """The Airflow configuration of the local instance (as AIRFLOW__ variables)."""
    cores = cores or os.cpu_count() or 2
    base_url = f"http://localhost:{port}"
    return {
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__PARALLELISM": str(max(2, cores)),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base_url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
    }


def environment(port: int) -> dict[str, str]:
    """This process's environment, the Airflow of this interpreter first on PATH (``airflow
    standalone`` starts its parts as ``airflow`` from PATH), and the local settings; an
    AIRFLOW__ variable already set wins, except the pause at creation."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, *(p for p in env.get("PATH", "").split(os.pathsep) if p != bin_dir)])
    for name, value in settings(port).items():
        env.setdefault(name, value)
    env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] = "True"
    return env


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member exists (e.g. a zombie not yet reaped by its parent)
        return True
    return True


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def stop_group(pgid: int, grace: float = GRACE_SECONDS) -> None:
    """Terminate what is left of the process group ``pgid``, then kill it after ``grace`` seconds."""
    if not _group_alive(pgid):
        return
    _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _group_alive(pgid):
        _signal_group(pgid, signal.SIGKILL)


def run(port: int, grace: float = GRACE_SECONDS) -> int:
    env = environment(port)
    airflow = str(Path(sys.executable).with_name("airflow"))
    # DAGs an earlier `make run` registered unpaused are paused too (no-op when there are none).
    subprocess.run(  # noqa: S603 - this interpreter's airflow, fixed arguments
        [airflow, "dags", "pause", "--treat-dag-id-as-regex", "--yes", "."],
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
    )
    home = env.get("AIRFLOW_HOME", "~/airflow")
    print(
        f"libcoop: Airflow UI on {env['AIRFLOW__API__BASE_URL']} (user admin, password printed below or in "
        f"{home}/simple_auth_manager_passwords.json.generated).\n"
        "libcoop: every DAG is paused: nothing runs until you unpause or trigger one. Ctrl-C stops it all.",
        flush=True,
    )
    stopping = 0.0
    children: list[subprocess.Popen[bytes]] = []

    def ask_to_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = time.monotonic()
            for child in children:
                child.send_signal(signal.SIGINT)  # what airflow standalone stops cleanly on

    # Handlers first: the child then starts with SIGINT at its default, even when this process was
    # started with SIGINT ignored (as a shell does for background jobs), so it can be stopped.
    signal.signal(signal.SIGINT, ask_to_stop)
    signal.signal(signal.SIGTERM, ask_to_stop)
    standalone = subprocess.Popen([airflow, "standalone"], env=env, start_new_session=True)  # noqa: S603
    children.append(standalone)
    if stopping:
        standalone.send_signal(signal.SIGINT)
    while standalone.poll() is None:
        if stopping and time.monotonic() - stopping > grace:
            break
        time.sleep(0.2)
    stop_group(standalone.pid, grace=10.0)  # what standalone left behind, or standalone itself after the grace
    code = standalone.wait()
    return 0 if stopping else code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m libcoop.local_airflow", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=airflow_port(), help="UI port")
    return run(parser.parse_args(argv).port)


if __name__ == "__main__":
    sys.exit(main())
