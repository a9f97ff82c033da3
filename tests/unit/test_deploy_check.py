"""The stack refuses to start with the placeholders of .env.example or weak secrets, and every
libcoop setting of .env.example reaches the containers that use it (compose file parsed with PyYAML:
no Docker daemon here)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from libcoop.deploy_check import problems

REPO = Path(__file__).resolve().parents[2]


def env_example() -> dict[str, str]:
    """The variables of .env.example as compose reads them (quotes stripped, comments skipped)."""
    values = {}
    for line in (REPO / ".env.example").read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line.strip()):
            values[match[1]] = match[2].strip().strip('"')
    return values


def strong(name: str) -> str:
    if name == "AIRFLOW_FERNET_KEY":
        return Fernet.generate_key().decode()
    return secrets.token_urlsafe(32)


PLACEHOLDERS = sorted(name for name, value in env_example().items() if value.startswith("change-me"))


def test_env_example_has_the_stack_secrets_as_placeholders():
    assert {
        "POSTGRES_PASSWORD",
        "AIRFLOW_FERNET_KEY",
        "AIRFLOW_JWT_SECRET",
        "AIRFLOW_API_SECRET_KEY",
        "AIRFLOW_ADMIN_PASSWORD",
    } <= set(PLACEHOLDERS)


@pytest.mark.parametrize("name", PLACEHOLDERS)
def test_each_placeholder_of_env_example_is_refused_by_name(name):
    env = {**env_example(), **{other: strong(other) for other in PLACEHOLDERS if other != name}}
    found = problems(env)
    assert len(found) == 1, found
    assert found[0].startswith(f"{name} is still the placeholder of .env.example")


def test_strong_secrets_pass():
    assert problems({**env_example(), **{name: strong(name) for name in PLACEHOLDERS}}) == []


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("AIRFLOW_ADMIN_PASSWORD", "Sh0rt-pw", "is too short: 8 characters, at least 12"),
        ("AIRFLOW_ADMIN_PASSWORD", "Password123456", "is a common password"),
        ("AIRFLOW_ADMIN_PASSWORD", "aaaaaaaaaaaaaaaa", "repeats one character"),
        ("AIRFLOW_ADMIN_PASSWORD", "admin", "is too short"),
        ("POSTGRES_PASSWORD", "airflow", "is too short: 7 characters, at least 16"),
        ("POSTGRES_PASSWORD", "long-enough-but-has@sign", "may hold only letters, digits"),
        ("AIRFLOW_JWT_SECRET", "secret", "is too short: 6 characters, at least 32"),
        ("AIRFLOW_FERNET_KEY", "not-a-fernet-key-at-all-but-44-characters-xx", "is not a Fernet key"),
        ("AIRFLOW_API_SECRET_KEY", "", "is empty"),
    ],
)
def test_weak_secrets_are_refused_with_the_variable_named(name, value, words):
    env = {**env_example(), **{other: strong(other) for other in PLACEHOLDERS}, name: value}
    (found,) = problems(env)
    assert found.startswith(f"{name} ") and words in found, found


def test_the_init_command_stops_with_one_line_per_problem():
    env = {**os.environ, **env_example()}
    done = subprocess.run(
        [sys.executable, "-m", "libcoop.deploy_check"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[0] == f"deploy check: {len(PLACEHOLDERS)} secrets to fix in .env before the stack starts:"
    assert sorted(line.split()[0] for line in lines[1:]) == PLACEHOLDERS
    assert "Traceback" not in done.stderr
    env.update({name: strong(name) for name in PLACEHOLDERS})
    done = subprocess.run(
        [sys.executable, "-m", "libcoop.deploy_check"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "deploy check: the secrets are set and strong enough\n"


# --- the compose file -----------------------------------------------------------------------------


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))  # anchors merged


def libcoop_services(spec: dict) -> dict[str, dict]:
    """The services that run the project's image (Airflow's components, and any other of it)."""
    return {name: s for name, s in spec["services"].items() if "LIBCOOP_IMAGE" in str(s.get("image", ""))}


def settings_read_by_libcoop() -> set[str]:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "libcoop").rglob("*.py"))
    return set(re.findall(r"\"(LIBCOOP_[A-Z0-9_]+)\"", source)) | set(
        re.findall(r"env_var\('(LIBCOOP_[A-Z0-9_]+)'", (REPO / "dbt_project" / "profiles.yml").read_text())
    )


def test_every_libcoop_setting_of_env_example_reaches_the_containers_that_use_it():
    spec = compose()
    services = libcoop_services(spec)
    assert {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker", "airflow-init"} <= set(
        services
    )
    read = settings_read_by_libcoop()
    as_text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    missing = []
    for name in sorted(n for n in env_example() if n.startswith("LIBCOOP_")):
        if name in read:
            # a setting the code reads: in the environment of every service of the project's image
            # that runs Airflow (the DAG and its tasks read it), passed from .env
            for service, spec_ in services.items():
                if not service.startswith("airflow-"):
                    continue
                value = str((spec_.get("environment") or {}).get(name, ""))
                if f"${{{name}" not in value:
                    missing.append(f"{name} -> {service}")
        elif f"${{{name}" not in as_text and name != "LIBCOOP_LAKE_DATABASE":  # that one: the DuckLake override
            missing.append(f"{name} is used nowhere in docker-compose.yml")
    assert missing == []


def test_compose_uses_the_fab_auth_manager_and_the_init_check():
    spec = compose()
    for name, service in libcoop_services(spec).items():
        environment = service.get("environment") or {}
        if name.startswith("airflow-"):
            assert environment["AIRFLOW__CORE__AUTH_MANAGER"].endswith("fab_auth_manager.FabAuthManager")
            assert not any("SIMPLE_AUTH_MANAGER" in key for key in environment)
    init = "\n".join(spec["services"]["airflow-init"]["command"])
    assert init.index("python -m libcoop.deploy_check") < init.index("airflow db migrate")
    assert "airflow users create" in init and "airflow users reset-password" in init


def test_env_example_tells_the_true_defaults():
    from libcoop import settings

    values = env_example()
    profiles = (REPO / "dbt_project" / "profiles.yml").read_text(encoding="utf-8")
    assert f"env_var('LIBCOOP_DUCKDB_MEMORY_LIMIT', '{values['LIBCOOP_DUCKDB_MEMORY_LIMIT']}')" in profiles
    assert values["LIBCOOP_DUCKDB_MEMORY_LIMIT"] == settings.DEFAULT_DUCKDB_MEMORY_LIMIT
    compose = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    assert f"${{LIBCOOP_DUCKDB_MEMORY_LIMIT:-{settings.DEFAULT_DUCKDB_MEMORY_LIMIT}}}" in compose
    assert values["LIBCOOP_SCHEDULE_CRON"] == settings.DEFAULT_SCHEDULE_CRON == "0 2 * * *"
    assert values["LIBCOOP_SCHEDULE_TIMEZONE"] == settings.DEFAULT_SCHEDULE_TIMEZONE
    assert int(values["LIBCOOP_KEEP_BUILDS"]) == settings.DEFAULT_KEEP_BUILDS
