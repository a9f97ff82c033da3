"""Errors a person can act on share one base, and the command prints them in words."""

from __future__ import annotations

import subprocess
import sys

from libcoop import errors
from libcoop.door.config import DoorMisconfigured
from libcoop.pipeline import PublishBlocked
from libcoop.runs import DiskFull
from libcoop.transform.dbt_build import BuildFailed
from libcoop.transform.dbt_docs import DocsFailed
from libcoop.warehouse import lake, publish
from libcoop.warehouse.builds import ForeignLock
from libcoop.warehouse.runlock import RunInProgress


def test_every_user_facing_error_derives_from_libcoop_error() -> None:
    for cls in (
        DoorMisconfigured,
        PublishBlocked,
        DiskFull,
        BuildFailed,
        DocsFailed,
        ForeignLock,
        RunInProgress,
        publish.BuildStillOpen,
        lake.LakeError,
        lake.MissingExtension,
        lake.NoLakeYet,
    ):
        assert issubclass(cls, errors.LibcoopError), cls


# Exceptions that are not errors a person reads: control flow inside the door.
NOT_FOR_PEOPLE = {"libcoop.door.deps.NotSignedIn"}  # answered with the sign-in page, never shown


def test_every_exception_class_libcoop_defines_derives_from_libcoop_error() -> None:
    """Found by walking the package, so a new error class cannot be forgotten in the list above."""
    import importlib
    import inspect
    import pkgutil

    import libcoop

    found = {}
    for module_info in pkgutil.walk_packages(libcoop.__path__, "libcoop."):
        module = importlib.import_module(module_info.name)
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, BaseException):
                found[f"{cls.__module__}.{name}"] = cls
    assert "libcoop.door.uploads.UploadRefused" in found and "libcoop.door.store.StoreError" in found
    outside = sorted(n for n, c in found.items() if not issubclass(c, errors.LibcoopError) and n not in NOT_FOR_PEOPLE)
    assert outside == []


def test_one_nothing_to_roll_back() -> None:
    # The file target and the DuckLake target raise the same class: `libcoop rollback` catches one.
    assert publish.NothingToRollBack is errors.NothingToRollBack
    assert lake.NothingToRollBack is errors.NothingToRollBack


def test_the_command_prints_the_words_without_a_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "libcoop.cli", "rollback", "--warehouse", "ducklake:postgres:"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "libcoop rollback: LIBCOOP_WAREHOUSE=ducklake:postgres: needs a libpq string, e.g. 'dbname=lake host=...'"
    )
    assert "Traceback" not in done.stderr
