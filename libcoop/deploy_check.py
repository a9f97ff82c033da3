"""The stack's first check (airflow-init runs ``python -m libcoop.deploy_check`` before anything
else): refuse to start while a secret is still a placeholder of ``.env.example`` or is weak.

A placeholder (``change-me...``) passes compose's own ``${VAR:?}`` checks, so without this the
stack would run with the password everyone can read in the repository. Each problem is one line
naming the variable; the exit status is 1 when there is any.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import sys
from collections.abc import Callable, Mapping

PLACEHOLDER = "change-me"
# Passwords people pick first, and words of this stack: a password built on one is guessed first.
COMMON = (
    "password",
    "passw0rd",
    "admin",
    "airflow",
    "libcoop",
    "postgres",
    "changeme",
    "welcome",
    "letmein",
    "qwerty",
    "azerty",
    "123456",
    "abc123",
    "iloveyou",
    "secret",
    "default",
)
URL_SAFE = re.compile(r"^[A-Za-z0-9._-]+$")


def _length(minimum: int) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if len(value) < minimum:
            return f"is too short: {len(value)} characters, at least {minimum}"
        if len(set(value)) == 1:
            return "repeats one character"
        return None

    return check


def _password(minimum: int) -> Callable[[str], str | None]:
    length = _length(minimum)

    def check(value: str) -> str | None:
        if problem := length(value):
            return problem
        folded = value.lower()
        if any(word in folded for word in COMMON):
            return "is a common password (or built on one, or on a name of this stack)"
        return None

    return check


def _postgres(value: str) -> str | None:
    if problem := _password(16)(value):
        return problem
    if not URL_SAFE.match(value):
        return "may hold only letters, digits, '-', '_' and '.' (it goes into connection URLs as is)"
    return None


def _fernet(value: str) -> str | None:
    try:
        key = base64.urlsafe_b64decode(value.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        key = b""
    if len(key) != 32:
        return (
            "is not a Fernet key (32 bytes in URL-safe base64): make one with "
            'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
        )
    return None


# The secrets of docker-compose.yml (see .env.example) and what each must be.
SECRETS: dict[str, Callable[[str], str | None]] = {
    "POSTGRES_PASSWORD": _postgres,
    "AIRFLOW_FERNET_KEY": _fernet,
    "AIRFLOW_JWT_SECRET": _length(32),
    "AIRFLOW_API_SECRET_KEY": _length(32),
    "AIRFLOW_ADMIN_PASSWORD": _password(12),
}


def problems(env: Mapping[str, str]) -> list[str]:
    """One sentence per secret to fix, each starting with the variable's name."""
    found = []
    for name, value in sorted(env.items()):
        if value.strip().lower().startswith(PLACEHOLDER):
            found.append(f"{name} is still the placeholder of .env.example: replace it in .env")
    placeholders = {line.split()[0] for line in found}
    for name, check in SECRETS.items():
        if name in placeholders or name not in env:
            continue
        value = env[name]
        problem = "is empty" if not value else check(value)
        if problem:
            found.append(f"{name} {problem}")
    return found


def main(env: Mapping[str, str] | None = None) -> int:
    found = problems(os.environ if env is None else env)
    if found:
        print(f"deploy check: {len(found)} secrets to fix in .env before the stack starts:", file=sys.stderr)
        for problem in found:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print("deploy check: the secrets are set and strong enough")
    return 0


if __name__ == "__main__":
    sys.exit(main())
