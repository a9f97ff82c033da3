"""Find the files coordinators dropped in ``raw/incoming/<CC>/`` and skip everything else."""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pycountry

from libcoop.ingest.contract import KIND_COLUMNS
from libcoop.redact import printable

log = logging.getLogger(__name__)

# ASCII only: Unicode case folding would match "donatıons" (dotless ı), "ſ" or the Kelvin sign.
# Matched whole (``fullmatch``): "visits.csv" followed by a newline is not "visits.csv".
# The kinds are the contract's (``KIND_COLUMNS``): a new kind is accepted here without an edit.
FILE_NAME = re.compile(
    rf"(?P<kind>{'|'.join(map(re.escape, KIND_COLUMNS))})(?:_(?P<label>[A-Za-z0-9_-]+))?\.(?P<ext>csv|xlsx)",
    re.IGNORECASE | re.ASCII,
)
# "memberships, visits or donations": the kinds in the words of a message.
KIND_WORDS = ", ".join(list(KIND_COLUMNS)[:-1]) + " or " + list(KIND_COLUMNS)[-1]
# The project's own guide for coordinators, at the top of the drop folder: not a stray.
GUIDE_NAMES = frozenset({"README.txt"})


def hash_file(path: Path) -> str:
    """sha256 of a file's bytes: a file version's identity. ``discover`` calls it once per file
    per run; every later step takes the hash from the ``DropFile`` it is handed. Opened without
    blocking and refused unless it is a regular file: a pipe put in its place would hang the run."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
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
    before = path.stat()
    digest = hash_file(path)
    return DropFile(path, relative_path, country_code, kind, label, ext, digest, before.st_size, before.st_mtime_ns)


@dataclass(frozen=True)
class SkippedEntry:
    """Something in the drop folder that is not read this run; logged as a warning, never fatal.
    ``holds``: a file or folder that is there but could not be read (``relative_path`` ending in
    "/" for a folder): the versions in force under it stay in force, it is not withdrawn."""

    relative_path: str
    reason: str
    holds: bool = False


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

    def holds(self, relative_path: str) -> bool:
        """``relative_path`` was there but could not be read: its version in force stays."""
        return any(s.holds and _under(relative_path, s.relative_path) for s in self.skipped)

    def to_json(self) -> dict[str, Any]:
        return {
            "files": [f.to_json() for f in self.files],
            "skipped": [[s.relative_path, s.reason, s.holds] for s in self.skipped],
        }

    @classmethod
    def from_json(cls, incoming: Path, value: Mapping[str, Any]) -> Discovery:
        return cls(
            tuple(DropFile.from_json(incoming, f) for f in value["files"]),
            tuple(SkippedEntry(*entry) for entry in value["skipped"]),
        )


def _under(relative_path: str, entry: str) -> bool:
    """The file is ``entry`` itself, or lies in the folder ``entry`` ("VN/"; "" is the drop folder)."""
    return relative_path == entry or ((not entry or entry.endswith("/")) and relative_path.startswith(entry))


def parse_file_name(name: str) -> tuple[str, str | None, str] | None:
    """Return (kind, label, extension) for a contract file name, else None."""
    match = FILE_NAME.fullmatch(name)
    if not match:
        return None
    return match["kind"].lower(), match["label"], match["ext"].lower()


def is_temporary(name: str) -> bool:
    """A file an editor keeps beside the real one (Excel's ``~$`` lock, LibreOffice's
    ``.~lock.``, macOS's ``._``, a backup ``~``) or a hidden file: its name is never a rename
    target, it would overwrite the real file."""
    return name.startswith(("~", ".", "#")) or name.endswith(("~", "#"))


def suggested_name(name: str) -> str | None:
    """A contract name for a misnamed file: ``Visits 2015 (final).csv`` -> ``visits_2015-final.csv``.
    None when a rename would lose letters (a non-ASCII label), for lock, hidden and backup files,
    and for names with control characters."""
    stem, dot, ext = name.rpartition(".")
    if not dot or ext.lower() not in ("csv", "xlsx") or is_temporary(name) or not name.isprintable():
        return None
    if any(c.isalnum() and not c.isascii() for c in stem):
        return None
    words = re.findall(r"[a-z0-9]+", stem.lower())
    first = words[0].rstrip("s") if words else ""
    kind = next((k for k in KIND_COLUMNS if len(first) >= 5 and k.startswith(first)), None)
    if kind is None:
        return None
    label = "-".join(words[1:])
    suggestion = f"{kind}{'_' + label if label else ''}.{ext.lower()}"
    return suggestion if parse_file_name(suggestion) and suggestion != name else None


def is_country_code(code: str) -> bool:
    return len(code) == 2 and code.isascii() and pycountry.countries.get(alpha_2=code.upper()) is not None


def folder_for(name: str) -> str | None:
    """The country code a misnamed country folder stands for: ``Laos`` -> ``LA``, ``vietnam`` -> ``VN``."""
    from libcoop.reference import resolve_countries  # the country libraries, loaded only when needed

    if not name.isprintable() or not name.strip():
        return None
    return resolve_countries([name]).get(name)


def folder_reason(folder: str) -> str | None:
    """Why the files of ``folder`` are not read, or None when it is a country folder."""
    if is_country_code(folder):
        return None
    code = folder_for(folder)
    where = f"move the files to {code}/" if code else "folders are named after the ISO code, e.g. VN/"
    return f"the run does not read the folder {printable(folder)}/, not an ISO 3166-1 alpha-2 country code: {where}"


def skip_reason(folder: str, name: str) -> str | None:
    """The one rule, for the run and for ``libcoop check``: why a file named ``name`` in the
    country folder ``folder`` is not read, or None when the run reads it."""
    if (reason := folder_reason(folder)) is not None:
        return reason
    if name.startswith("~$"):
        return "Excel's lock file (the workbook is open somewhere); it is ignored, the workbook itself is read"
    if is_temporary(name):
        return "a hidden, lock or backup file; it is ignored"
    if parse_file_name(name) is not None:
        return None
    if suggestion := suggested_name(name):
        return f"rename it to {suggestion}"
    return f"names are {KIND_WORDS}, optionally _<label>, ending in .csv or .xlsx"


def _inside(path: Path, root: Path) -> bool:
    """True when ``path`` really lives under ``root`` once symlinks are followed."""
    try:
        return path.resolve(strict=True).is_relative_to(root)
    except (OSError, RuntimeError):
        return False


def unreadable(error: OSError) -> str:
    """The reason for a file or folder that could not be read, and what the operator can do."""
    what = error.strerror or str(error)
    if isinstance(error, PermissionError):
        return (
            f"it could not be read ({what}): the server's operator must let libcoop read it; "
            "the version loaded before (if any) stays in force"
        )
    return f"it could not be read ({what}); the version loaded before (if any) stays in force"


def _listed(folder: Path) -> list[Path]:
    return sorted(folder.iterdir())


def discover(incoming: Path) -> Discovery:
    """List the data files under ``incoming``, sorted, each with the sha256 of its bytes, and
    everything skipped with why. Nothing here raises for one file or folder: what cannot be read
    is skipped, said, and holds its version in force."""
    files: list[DropFile] = []
    skipped: list[SkippedEntry] = []
    if not incoming.is_dir():
        log.warning("drop folder %s does not exist: nothing to load", incoming)
        return Discovery((), ())

    def skip(rel: str, reason: str, *, holds: bool = False) -> None:
        rel = printable(rel)
        log.warning("skipped %s: %s", rel, reason)
        skipped.append(SkippedEntry(rel, reason, holds))

    def cannot_read(rel: str, error: OSError) -> None:
        skip(rel, unreadable(error), holds=True)
        log.error("operator: libcoop cannot read %s (%s): check its permissions", printable(str(incoming / rel)), error)

    try:
        root = incoming.resolve()
        folders = _listed(incoming)
    except OSError as error:  # the whole drop folder: nothing is withdrawn, nothing is read
        cannot_read("", error)
        return Discovery((), tuple(skipped))
    for folder in folders:
        rel_folder = folder.name
        if folder.name in GUIDE_NAMES and folder.is_file():
            continue
        if folder.is_symlink() and not _inside(folder, root):
            skip(rel_folder, "a link that points outside the drop folder")
            continue
        if not folder.is_dir():
            skip(rel_folder, "files go in a folder named after the country code, e.g. VN/")
            continue
        try:
            entries = _listed(folder)
        except OSError as error:
            cannot_read(rel_folder + "/", error)
            continue
        if (reason := folder_reason(folder.name)) is not None:
            for entry in entries:  # a notice on each file, naming the folder to use
                skip(f"{folder.name}/{entry.name}", f"not read: {reason}")
            if not entries:
                skip(rel_folder + "/", f"not read: {reason}")
            continue
        country = folder.name.upper()
        for entry in entries:
            rel = f"{folder.name}/{entry.name}"
            if entry.is_symlink() and not _inside(entry, root):
                skip(rel, "a link that points outside the drop folder" if entry.exists() else "a link to nothing")
                continue
            if entry.is_dir():
                skip(rel, "sub-folders are not read; put files directly in the country folder")
                continue
            if (reason := skip_reason(folder.name, entry.name)) is not None:
                skip(rel, f"not read: {reason}")
                continue
            if not entry.is_file():
                skip(rel, "not a regular file (a pipe, socket or device); it is not read")
                continue
            kind, label, ext = parse_file_name(entry.name)  # type: ignore[misc]
            try:
                files.append(hashed(entry, rel, country, kind, label, ext))
            except FileNotFoundError:
                skip(rel, "it was removed while the drop folder was being read; it is read next run", holds=True)
            except OSError as error:
                cannot_read(rel, error)
    return Discovery(tuple(files), tuple(skipped))
