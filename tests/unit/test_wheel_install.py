"""The installed package works outside a source checkout: a wheel built from this tree, installed
into a fresh virtual environment, checks the sample drop from a folder that is not the checkout.

The fresh environment borrows the project's installed dependencies (a .pth line to its
site-packages) and gets only the wheel's own code with ``--no-deps``: what is under test is what
the wheel carries (code, the dbt seeds the check compares names with, the GX context), not a
second install of Airflow and dbt. ``uv build --offline`` uses the build backend uv has cached."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "raw" / "incoming"
FILES = ["CN/visits.csv", "KR/donations.csv", "VN/donations_nlv-2000-2012.xlsx", "VN/memberships.csv"]


def _uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def _clean_env() -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("LIBCOOP_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env["GX_ANALYTICS_ENABLED"] = "false"
    return env


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=_clean_env(), capture_output=True, text=True, timeout=300)


def test_a_wheel_installed_elsewhere_checks_the_sample_drop(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = _run([*_uv(), "build", "--wheel", "--offline", "--out-dir", str(dist), str(ROOT)], ROOT)
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("libcoop-*.whl")

    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = Path(
        _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path).stdout.strip()
    )
    # The project's dependencies, after the fresh site-packages: the wheel's libcoop comes first. The
    # editable install's own .pth in there is not followed (Python reads .pth files of site dirs only).
    (site / "project-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    installed = _run(
        [*_uv(), "pip", "install", "--offline", "--no-deps", "--python", str(python), str(wheel)], tmp_path
    )
    assert installed.returncode == 0, installed.stderr

    drop = tmp_path / "drop"
    for name in FILES:
        (drop / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLE / name, drop / name)
    elsewhere = tmp_path / "elsewhere"  # neither the checkout nor a folder with a dbt project
    elsewhere.mkdir()

    where = _run(
        [str(python), "-c", "import libcoop.settings as s; print(s.__file__); print(s.dbt_project_dir())"], elsewhere
    )
    module, project = where.stdout.split()
    assert Path(module) == site / "libcoop" / "settings.py"
    assert Path(project) == site / "libcoop" / "project" / "dbt_project"
    assert (Path(project) / "seeds" / "institutions.csv").is_file()

    checked = _run([str(venv / "bin" / "libcoop"), "check", *(str(drop / n) for n in FILES)], elsewhere)
    assert checked.returncode == 0, checked.stderr
    out = checked.stdout
    assert "CN/visits.csv: OK, 13 rows follow the contract; the file would be loaded." in out
    assert "KR/donations.csv: OK, 1 row follows the contract; the file would be loaded." in out
    assert "VN/donations_nlv-2000-2012.xlsx: OK, 8 rows follow the contract; the file would be loaded." in out
    assert "VN/memberships.csv: OK, 5 rows follow the contract; the file would be loaded." in out
    # Only the seeds in the wheel know the curated spelling this note names.
    assert "'Nationl Library of Vietnam' is not a known institution name" in out
    assert "closest known: National Library of Vietnam" in out

    # The same report as from the checkout.
    here = _run([sys.executable, "-m", "libcoop.cli", "check", *(str(drop / n) for n in FILES)], ROOT)
    assert here.returncode == 0 and here.stdout == out
