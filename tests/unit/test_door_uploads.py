"""The name an upload gets in the drop folder comes from the form's kind and label, never from the
uploaded file's name, and is always one the drop folder reads; uploads cut short are cleared."""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libcoop.door.uploads import UploadRefused, clear_leftovers, sniff_extension, target_name
from libcoop.ingest.drop_folder import parse_file_name


@given(
    kind=st.sampled_from(["visits", "donations", "memberships", "visit", "../visits", ""]), label=st.text(max_size=80)
)
def test_a_target_name_is_a_contract_name_or_refused_in_words(kind, label):
    try:
        name = target_name(kind, label, "csv")
    except UploadRefused as refused:
        assert refused.status == 400 and str(refused)
        return
    assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert parse_file_name(name) == (kind, label.strip() or None, "csv")


@pytest.mark.parametrize(
    ("content", "given", "extension"),
    [(b"record_id,institution\n", "anything.txt", "csv"), ("名前,国\n".encode("utf-16"), "x.csv", "csv")],
)
def test_the_type_comes_from_the_bytes(tmp_path, content, given, extension):
    path = tmp_path / "upload"
    path.write_bytes(content)
    assert sniff_extension(path, given) == extension


def test_leftovers_of_uploads_cut_short_are_cleared_after_an_hour(tmp_path):
    old, recent = tmp_path / "upload-old", tmp_path / "upload-new"
    old.mkdir()
    (old / "upload").write_bytes(b"x")
    recent.mkdir()
    os.utime(old, (time.time() - 7200,) * 2)
    assert clear_leftovers(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["upload-new"]
