"""The DuckLake setting: how LIBCOOP_WAREHOUSE and LIBCOOP_LAKE_DATA_PATH are read, the target's
own folder in LIBCOOP_WORK_DIR, a password never shown, and the error that names a missing
extension package."""

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
    # the runs build, and keep the last published build, in the target's own folder of the work folder
    local = paths.lake.local_dir
    assert local.parent == tmp_path / "work" and local.name.startswith("lake-")
    assert paths.warehouse == local / "cooperation.duckdb"
    assert paths.build_dir == local / ".build"


def test_two_targets_never_share_a_work_folder_and_a_new_password_keeps_it(tmp_path):
    def local(target: str):
        return lake.parse(target, str(tmp_path / "data"), tmp_path / "work").local_dir

    a = local("ducklake:postgres:dbname=lake host=db.example.org user=libcoop password=first")
    assert a == local("ducklake:postgres:user=libcoop host=db.example.org dbname=lake password=second")
    assert a != local("ducklake:postgres:dbname=lake2 host=db.example.org user=libcoop password=first")
    assert a != local("ducklake:postgres:dbname=lake host=db2.example.org user=libcoop password=first")
    assert "first" not in str(a)


@pytest.mark.parametrize(
    ("catalog", "shown"),
    [
        ("dbname=lake host=h password=s3cret user=u", "dbname=lake host=h password=*** user=u"),
        ("dbname=lake password='s3 cret' host=h", "dbname=lake password=*** host=h"),
        ("postgresql://u:s3cret@h:5432/lake", "postgresql://u:***@h:5432/lake"),
    ],
)
def test_the_password_is_never_shown(tmp_path, catalog, shown):
    target = lake.parse(lake.PREFIX + catalog, str(tmp_path / "data"), tmp_path / "work")
    assert target.display == lake.PREFIX + shown
    assert "s3" not in str(target) and "s3" not in target.local_dir.name
    assert target.url == lake.PREFIX + catalog  # what ATTACH gets


def test_an_unreachable_catalog_is_reported_without_its_password(tmp_path):
    # port 1: nothing listens; DuckDB's own message quotes the connection string
    target = lake.parse(
        "ducklake:postgres:dbname=lake host=127.0.0.1 port=1 user=u password=s3cret connect_timeout=2",
        str(tmp_path / "data"),
        tmp_path / "work",
    )
    with pytest.raises(lake.LakeError) as raised:
        lake.connect(target, read_only=True)
    assert "s3cret" not in str(raised.value) and "password=***" in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


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
