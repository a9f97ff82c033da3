"""A clone of the repository has no ``../shared/``: no tracked file may point there."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_tracked_file_points_outside_the_repo() -> None:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    outside = re.compile(r"\.\./shared|shared/(CONTRACT|seeds)")
    hits = [
        name
        for name in files
        if not name.endswith(".lock")
        and (ROOT / name).is_file()
        and outside.search((ROOT / name).read_text(errors="ignore"))
    ]
    assert hits == []


def test_the_contract_copy_is_in_the_repo() -> None:
    text = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    assert "## 1. The raw drop folder" in text
    assert "compares the end period's LAST day" in text
