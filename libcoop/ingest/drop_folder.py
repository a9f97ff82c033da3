"""Find the files coordinators dropped in ``raw/incoming/<CC>/`` and skip everything else."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pycountry

from libcoop.ingest.contract import KIND_COLUMNS

log = logging.getLogger(__name__)

# ASCII only: Unicode case folding would match "donatıons" (dotless ı), "ſ" or the Kelvin sign.
FILE_NAME = re.compile(
    r"^(?P<kind>memberships|visits|donations)(?:_(?P<label>[A-Za-z0-9_-]+))?\.(?P<ext>csv|xlsx)$",
    re.IGNORECASE | re.ASCII,
)
# The project's own guide for coordinators, at the top of the drop folder: not a stray.
GUIDE_NAMES = frozenset({"README.txt"})


def hash_file(path: Path) -> str:
    """sha256 of a file's bytes: a file version's identity. ``discover`` calls it once per file
    per run; every later step takes the hash from the ``DropFile`` it is handed."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class DropFile:
    """One data file in the drop folder, as the contract names it, with the hash of its bytes
    and the size and modification time they had when hashed."""

    path: Path
    relative_path: str  # e.g. "VN/visits_2015.csv", the file's identity across versions
    country_code: str
    kind: str
    label: str | None
    extension: str
    content_hash: str = ""
    size: int = -1
    mtime_ns: int = -1

    @property
    def name(self) -> str:
        return self.path.name

    def changed_since_hashed(self) -> bool:
        """The file was rewritten after its hash was taken (a coordinator saving it mid-run)."""
        try:
            stat = self.path.stat()
        except OSError:
            return True
        return (stat.st_size, stat.st_mtime_ns) != (self.size, self.mtime_ns)

    def to_json(self) -> dict[str, Any]:
        """What an Airflow task hands the next (XCom): the file's identity, never its rows."""
        return {
            "relative_path": self.relative_path,
            "country_code": self.country_code,
            "kind": self.kind,
            "label": self.label,
            "extension": self.extension,
            "content_hash": self.content_hash,
            "size": self.size,
            "mtime_ns": self.mtime_ns,
        }

    @classmethod
    def from_json(cls, incoming: Path, value: Mapping[str, Any]) -> DropFile:
        return cls(incoming / value["relative_path"], **value)


def hashed(path: Path, relative_path: str, country_code: str, kind: str, label: str | None, ext: str) -> DropFile:
    """A DropFile with the hash of its bytes (stat first: a later write changes size or mtime)."""
    stat = path.stat()
    digest = hash_file(path)
    return DropFile(path, relative_path, country_code, kind, label, ext, digest, stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True)
class SkippedEntry:
    """Something in the drop folder that is not a data file; logged as a warning, never fatal."""

    relative_path: str
    reason: str


@dataclass(frozen=True)
class Discovery:
    """The drop folder as one run sees it: listed once, each file hashed once (``discover``).
    It is the value the steps hand each other: discover -> check -> load."""

    files: tuple[DropFile, ...]
    skipped: tuple[SkippedEntry, ...]

    def file(self, relative_path: str) -> DropFile:
        for drop in self.files:
            if drop.relative_path == relative_path:
                return drop
        raise FileNotFoundError(f"{relative_path} is not in the drop folder")

    def to_json(self) -> dict[str, Any]:
        return {
            "files": [f.to_json() for f in self.files],
            "skipped": [[s.relative_path, s.reason] for s in self.skipped],
        }

    @classmethod
    def from_json(cls, incoming: Path, value: Mapping[str, Any]) -> Discovery:
        return cls(
            tuple(DropFile.from_json(incoming, f) for f in value["files"]),
            tuple(SkippedEntry(path, reason) for path, reason in value["skipped"]),
        )


def parse_file_name(name: str) -> tuple[str, str | None, str] | None:
    """Return (kind, label, extension) for a contract file name, else None."""
    match = FILE_NAME.match(name)
    if not match:
        return None
    return match["kind"].lower(), match["label"], match["ext"].lower()


def suggested_name(name: str) -> str | None:
    """A contract name for a misnamed file: ``Visits 2015 (final).csv`` -> ``visits_2015-final.csv``."""
    stem, dot, ext = name.rpartition(".")
    if not dot or ext.lower() not in ("csv", "xlsx"):
        return None
    words = re.findall(r"[a-z0-9]+", stem.lower())
    first = words[0].rstrip("s") if words else ""
    kind = next((k for k in KIND_COLUMNS if len(first) >= 5 and k.startswith(first)), None)
    if kind is None:
        return None
    label = "-".join(words[1:])
    return f"{kind}{'_' + label if label else ''}.{ext.lower()}"


def is_country_code(code: str) -> bool:
    return len(code) == 2 and code.isascii() and pycountry.countries.get(alpha_2=code.upper()) is not None


def _inside(path: Path, root: Path) -> bool:
    """True when ``path`` really lives under ``root`` once symlinks are followed."""
    try:
        return path.resolve(strict=True).is_relative_to(root)
    except (OSError, RuntimeError):
        return False


def discover(incoming: Path) -> Discovery:
    """List the data files under ``incoming``, sorted, each with the sha256 of its bytes, and
    everything skipped with why."""
    files: list[DropFile] = []
    skipped: list[SkippedEntry] = []
    if not incoming.is_dir():
        log.warning("drop folder %s does not exist: nothing to load", incoming)
        return Discovery((), ())
    root = incoming.resolve()

    def skip(rel: str, reason: str) -> None:
        log.warning("skipped %s: %s", rel, reason)
        skipped.append(SkippedEntry(rel, reason))

    for folder in sorted(incoming.iterdir()):
        rel_folder = folder.name
        if folder.name in GUIDE_NAMES and folder.is_file():
            continue
        if folder.is_symlink() and not _inside(folder, root):
            skip(rel_folder, "a link that points outside the drop folder")
            continue
        if not folder.is_dir():
            skip(rel_folder, "files go in a folder named after the country code, e.g. VN/")
            continue
        if not is_country_code(folder.name):
            skip(rel_folder + "/", "folder name is not an ISO 3166-1 alpha-2 country code such as VN or CN")
            continue
        country = folder.name.upper()
        for entry in sorted(folder.iterdir()):
            rel = f"{folder.name}/{entry.name}"
            if entry.is_symlink() and not _inside(entry, root):
                skip(rel, "a link that points outside the drop folder")
                continue
            if not entry.is_file():
                skip(rel, "sub-folders are not read; put files directly in the country folder")
                continue
            if entry.name.startswith("~$"):
                skip(rel, "an Excel lock file (the workbook is open somewhere)")
                continue
            parsed = parse_file_name(entry.name)
            if parsed is None:
                suggestion = suggested_name(entry.name)
                skip(
                    rel,
                    f"not read: rename it to {suggestion}"
                    if suggestion
                    else "not a data file: names are memberships, visits or donations, "
                    "optionally _<label>, ending in .csv or .xlsx",
                )
                continue
            kind, label, ext = parsed
            files.append(hashed(entry, rel, country, kind, label, ext))
    return Discovery(tuple(files), tuple(skipped))
