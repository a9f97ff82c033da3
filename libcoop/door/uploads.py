"""An uploaded file, from the form to the drop folder: received into a private folder with a size
limit, its type found from its bytes, checked by the same code as ``libcoop check``, and put into
``raw/incoming/<CC>/`` in one rename only when it would load.

The uploaded file's own name is never used: the name in the drop folder is made from the kind and
label the coordinator chose (docs/contract.md section 1), and the extension from the bytes."""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from libcoop.errors import LibcoopError
from libcoop.ingest.check import CheckedFile, check_file
from libcoop.ingest.contract import KIND_COLUMNS, Problem
from libcoop.ingest.drop_folder import KIND_WORDS, hash_file, hashed, is_country_code, parse_file_name
from libcoop.ingest.reports import render

LABEL = re.compile(r"[A-Za-z0-9_-]{1,60}", re.ASCII)
CHUNK = 1024 * 1024
SNIFF_BYTES = 64 * 1024
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old .xls format
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class UploadRefused(LibcoopError, ValueError):
    """The upload is not a file the door checks; the message says what to do instead."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class UploadResult:
    target: str  # e.g. VN/visits_2015.csv
    checked: CheckedFile
    report: str  # the words of ``libcoop check``
    placed: bool  # put into the drop folder
    replaced: bool  # a file of the same name was there and is replaced


def target_name(kind: str, label: str, extension: str) -> str:
    """The drop-folder name of an upload: ``<kind>[_<label>].<ext>``, checked against the contract."""
    if kind not in KIND_COLUMNS:
        raise UploadRefused(400, f"Choose what the file holds: {KIND_WORDS}.")
    label = label.strip()
    if label and not LABEL.fullmatch(label):
        raise UploadRefused(
            400,
            "The label may hold letters (a-z), digits, '-' and '_' only, up to 60 characters "
            "(e.g. 2015 or nlv-2000-2012). Leave it empty if you do not need one.",
        )
    name = f"{kind}{'_' + label if label else ''}.{extension}"
    assert parse_file_name(name) == (kind, label or None, extension), name  # the contract's own reading
    return name


def _copy_limited(source: BinaryIO, target: Path, limit: int) -> int:
    size = 0
    with target.open("xb") as out:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise UploadRefused(413, f"The file is larger than {limit // (1024 * 1024)} MB. Nothing was kept.")
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size


def sniff_extension(path: Path, given_name: str) -> str:
    """csv or xlsx, from the bytes; other files are refused in words."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    says_xlsx = given_name.lower().endswith((".xlsx", ".xlsm"))
    if head.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            raise UploadRefused(
                415, "This file looks like a damaged Excel workbook; save it again as .xlsx."
            ) from error
        if "xl/workbook.xml" not in names:
            raise UploadRefused(
                415, "This is a zip archive, not an Excel workbook: send the .xlsx or .csv file itself."
            )
        return "xlsx"
    if head.startswith(OLE_MAGIC):
        raise UploadRefused(415, "This is an old Excel file (.xls): in Excel use 'Save As' > 'Excel Workbook (.xlsx)'.")
    if says_xlsx:
        raise UploadRefused(415, "This file is named .xlsx but is not an Excel workbook: save it again from Excel.")
    if b"\x00" in head and not head.startswith(UTF16_BOMS):
        raise UploadRefused(415, "This is not a text (CSV) file nor an Excel workbook (.xlsx).")
    return "csv"


def _copy_of(incoming: Path, target: str, digest: str) -> str | None:
    """The drop file with the same bytes under another name (the run rejects such a copy)."""
    for entry in sorted(incoming.glob("*/*")):
        relative = f"{entry.parent.name}/{entry.name}"
        if relative != target and entry.is_file() and parse_file_name(entry.name) and hash_file(entry) == digest:
            return relative
    return None


def _place(staged: Path, folder: Path, name: str) -> None:
    """Rename the checked file into the drop folder: the nightly run sees it whole or not at all."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        staged.replace(folder / name)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        # Another file system: copy beside the target under a name no run reads, then rename.
        hidden = folder / f"~$door-{secrets.token_hex(6)}.tmp"
        try:
            with staged.open("rb") as source, hidden.open("xb") as out:
                shutil.copyfileobj(source, out, CHUNK)
                out.flush()
                os.fsync(out.fileno())
            hidden.replace(folder / name)
        finally:
            hidden.unlink(missing_ok=True)
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def clear_leftovers(uploads: Path, older_than_seconds: float = 3600) -> int:
    """Remove what uploads cut short by a stopped server left behind (each request removes its own)."""
    if not uploads.is_dir():
        return 0
    now, removed = time.time(), 0
    for entry in uploads.iterdir():
        if entry.is_dir() and now - entry.stat().st_mtime > older_than_seconds:
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    return removed


def receive(
    source: BinaryIO,
    given_name: str,
    *,
    country: str,
    kind: str,
    label: str,
    uploads: Path,
    incoming: Path,
    limit: int,
) -> UploadResult:
    """Receive, check and (when it would load) place one upload; nothing stays in ``uploads``."""
    if not is_country_code(country):
        raise UploadRefused(400, "Choose one of your countries.")
    uploads.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = Path(tempfile.mkdtemp(prefix="upload-", dir=uploads))
    try:
        received = private / "upload"
        _copy_limited(source, received, limit)
        name = target_name(kind, label, sniff_extension(received, given_name))
        folder = private / country
        folder.mkdir()
        staged = folder / name
        received.rename(staged)
        kind_, label_, ext = parse_file_name(name)  # type: ignore[misc]
        relative = f"{country}/{name}"
        drop = hashed(staged, relative, country, kind_, label_, ext)
        twin = _copy_of(incoming, relative, drop.content_hash)
        if twin:
            shown = twin if twin.startswith(f"{country}/") else "a file of another country"
            checked = CheckedFile(drop, problems=[Problem(relative, "duplicate_file", detail=f"copy of {shown}")])
            checked.problem_counts = {"duplicate_file": 1}
        else:
            checked = check_file(drop, private)
        report = render(checked, dry_run=True)
        replaced = (incoming / country / name).exists()
        if checked.accepted:
            _place(staged, incoming / country, name)
        return UploadResult(relative, checked, report, checked.accepted, replaced)
    finally:
        shutil.rmtree(private, ignore_errors=True)
