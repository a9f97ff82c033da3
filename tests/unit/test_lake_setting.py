"""The DuckLake setting: how LIBCOOP_WAREHOUSE and LIBCOOP_LAKE_DATA_PATH are read, and the
error that names a missing extension package."""

from __future__ import annotations

import pytest

from libcoop import settings
from libcoop.settings import resolve_paths
from libcoop.warehouse import lake

TARGET = "ducklake:postgres:dbname=lake host=db.example.org user=libcoop"


def test_the_setting_selects_the_lake_and_a_local_work_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("LIBCOOP_WAREHOUSE", TARGET)
    monkeypatch.setenv("LIBCOOP_LAKE_DATA_PATH", str(tmp_path / "data"))
    monkeypatch.setenv("LIBCOOP_WORK_DIR", str(tmp_path / "work"))
    paths = resolve_paths(tmp_path / "raw")
    assert paths.lake == lake.Lake(
        "dbname=lake host=db.example.org user=libcoop", str(tmp_path / "data"), tmp_path / "work"
    )
    assert paths.lake.url == TARGET
    # the runs build, and keep the last published build, in the work folder
    assert paths.warehouse == tmp_path / "work" / "cooperation.duckdb"
    assert paths.build_dir == tmp_path / "work" / ".build"


def test_the_default_stays_the_duckdb_file(monkeypatch, tmp_path):
    monkeypatch.delenv("LIBCOOP_WAREHOUSE", raising=False)
    paths = resolve_paths(tmp_path / "raw", tmp_path / "w.duckdb")
    assert paths.lake is None and paths.warehouse == tmp_path / "w.duckdb"


def test_object_store_data_paths_are_kept_as_written(monkeypatch):
    monkeypatch.delenv("LIBCOOP_WORK_DIR", raising=False)
    target = lake.parse(TARGET, "s3://bucket/libcoop/")
    assert target.data_path == "s3://bucket/libcoop/"
    assert target.work_dir == settings.lake_work_dir()


@pytest.mark.parametrize(
    ("target", "data_path", "message"),
    [
        ("ducklake:postgres:", "/data", "needs a libpq string"),
        ("ducklake:sqlite:lake.db", "/data", "ducklake:postgres:<libpq string>"),
        (TARGET, None, "LIBCOOP_LAKE_DATA_PATH"),
    ],
)
def test_a_wrong_setting_says_what_is_wrong(monkeypatch, target, data_path, message):
    monkeypatch.delenv("LIBCOOP_LAKE_DATA_PATH", raising=False)
    with pytest.raises(lake.LakeError, match=message.replace("(", r"\(")):
        lake.parse(target, data_path)


def test_the_extensions_are_files_of_their_installed_packages():
    for name in lake.EXTENSIONS:
        path = lake.extension_file(name)
        assert path.is_file() and path.name == f"{name}.duckdb_extension" and "site-packages" in str(path)


def test_a_missing_extension_names_its_package(monkeypatch):
    monkeypatch.setitem(lake.EXTENSIONS, "spatial", "duckdb-extension-spatial")
    with pytest.raises(lake.MissingExtension, match=r"install the PyPI package duckdb-extension-spatial==1\.5\.5"):
        lake.extension_file("spatial")
