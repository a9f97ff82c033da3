"""What a sheet's XML says beyond its cells' values, read in a second streaming pass: rows and
columns hidden in Excel, merged ranges, formulas whose result was never saved, error values,
and the cells holding serial 60 (Excel's 1900-02-29). openpyxl's read-only mode does not tell
these (libcoop.ingest.xlsx reads the values)."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

MAX_CELLS_NAMED = 20  # cells listed one by one per finding; the rest are counted
PHANTOM_SERIAL = 60  # Excel counts 1900 as a leap year: serial 60 is a 29 February 1900 that never was


@dataclass
class SheetXml:
    """What a sheet's XML says beyond its cells' values."""

    hidden_rows: list[int] = field(default_factory=list)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # min_col, min_row, max_col, max_row
    uncached: list[tuple[int, int]] = field(default_factory=list)  # (row, column) of formulas without a result
    uncached_count: int = 0
    serial_60: set[tuple[int, int]] = field(default_factory=set)  # (row, column) of cells holding serial 60
    hidden_columns: list[tuple[int, int]] = field(default_factory=list)  # (first, last) column
    errors: list[tuple[int, int, str]] = field(default_factory=list)  # (row, column, "#REF!") shown by Excel
    error_count: int = 0


# What makes the second pass over a sheet's XML worth its time: a formula, an error value, a
# merged range, a hidden row or column. Most sheets have none, and are only searched for them (a
# tag starting with f, such as an autoFilter's filterColumn, costs the parse and nothing more).
_WORTH_PARSING = (b"<f", b":f>", b":f ", b't="e"', b"mergeCell", b"hidden=")


def _worth_parsing(archive: zipfile.ZipFile, member: str) -> bool:
    with archive.open(member) as stream:
        tail = b""
        while chunk := stream.read(1 << 20):
            window = tail + chunk
            if any(needle in window for needle in _WORTH_PARSING):
                return True
            tail = chunk[-64:]
    return False


def scan_sheet(path: Path, member: str, phantom_rows: set[int]) -> SheetXml:
    """Stream the sheet's XML once: rows marked hidden, merged ranges, formulas whose result was
    never saved (a file written by a program, never opened in Excel), and the cells holding
    serial 60 on ``phantom_rows`` (rows where openpyxl read a date of 1900-02-28)."""
    from defusedxml.ElementTree import iterparse
    from openpyxl.utils.cell import range_boundaries

    found = SheetXml()
    row_number = 0
    with zipfile.ZipFile(path) as archive:
        if not phantom_rows and not _worth_parsing(archive, member):
            return found
        with archive.open(member) as stream:
            for _, element in iterparse(stream, events=("end",)):
                tag = element.tag
                if tag.endswith("}row") or tag == "row":
                    namespace = tag[: -len("row")]
                    row_number = int(element.get("r") or row_number + 1)
                    if element.get("hidden") in ("1", "true"):
                        found.hidden_rows.append(row_number)
                    _scan_cells(element, row_number, namespace, row_number in phantom_rows, found)
                    element.clear()
                elif (tag.endswith("}col") or tag == "col") and element.get("hidden") in ("1", "true"):
                    try:
                        found.hidden_columns.append((int(element.get("min", 0)), int(element.get("max", 0))))
                    except ValueError:
                        continue
                elif (tag.endswith("}mergeCell") or tag == "mergeCell") and element.get("ref"):
                    try:
                        bounds = range_boundaries(element.get("ref"))
                    except ValueError:
                        continue
                    if None not in bounds:
                        found.merged.append(bounds)  # type: ignore[arg-type]
    return found


def _scan_cells(row: Element, number: int, namespace: str, phantom_row: bool, found: SheetXml) -> None:
    from openpyxl.utils.cell import coordinate_to_tuple

    f_tag, v_tag = namespace + "f", namespace + "v"
    for position, cell in enumerate(row, start=1):
        formula = cell.find(f_tag)
        kind = cell.get("t")
        if formula is None and not phantom_row and kind != "e":
            continue
        value = cell.find(v_tag)
        text = value.text if value is not None else None
        reference = cell.get("r")
        column = coordinate_to_tuple(reference)[1] if reference else position
        if kind == "e" and text:
            found.error_count += 1
            if len(found.errors) < MAX_CELLS_NAMED:
                found.errors.append((number, column, text[:20]))
        elif formula is not None and not text and (value is None or cell.get("t") != "str"):
            found.uncached_count += 1
            if len(found.uncached) < MAX_CELLS_NAMED:
                found.uncached.append((number, column))
        elif text and cell.get("t", "n") == "n" and text.startswith("60"):
            try:
                if int(float(text)) == PHANTOM_SERIAL:
                    found.serial_60.add((number, column))
            except ValueError:
                pass
