"""raw/templates/: what is committed is what the generator writes from the contract, and every
template passes the contract check a coordinator's file gets."""

from __future__ import annotations

import shutil

import openpyxl
import pytest

from libcoop.cli import main
from libcoop.ingest.contract import ACTIVITY_TYPES, DONATION_TYPES, DONOR_TYPES, columns_of
from libcoop.ingest.templates import KINDS, templates_dir, write_templates
from libcoop.reference import currency_codes
from libcoop.settings import PROJECT_ROOT

TEMPLATES_DIR = templates_dir()  # the committed raw/templates/
NAMES = [f"{kind}.{ext}" for kind in KINDS for ext in ("csv", "xlsx")]


def workbook_content(path):
    """What a coordinator sees and Excel enforces: cells, formats, notes and typing rules."""
    book = openpyxl.load_workbook(path)
    content = {}
    for sheet in book.worksheets:
        content[sheet.title] = {
            "cells": [[cell.value for cell in row] for row in sheet.iter_rows(max_row=min(sheet.max_row, 60))],
            "formats": [sheet.cell(row=2, column=c).number_format for c in range(1, sheet.max_column + 1)],
            "notes": [c.comment.text if c.comment else None for c in sheet[1]],
            "rules": sorted(
                (str(v.sqref), v.type, v.operator, v.formula1, v.allow_blank, v.showErrorMessage)
                for v in sheet.data_validations.dataValidation
            ),
        }
    return content


def list_rules(path):
    """column name -> the values its drop-down list offers."""
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    lists = {}
    for rule in sheet.data_validations.dataValidation:
        if rule.type != "list":
            continue
        column = openpyxl.utils.cell.coordinate_from_string(str(rule.sqref).split(":")[0])[0]
        name = header[openpyxl.utils.column_index_from_string(column) - 1]
        title, cells = rule.formula1.rsplit("!", 1)
        values = book[title.strip("'")][cells.replace("$", "")]
        lists[name] = tuple(row[0].value for row in values)
    return lists


def test_committed_templates_are_the_generated_ones(tmp_path):
    assert sorted(p.name for p in TEMPLATES_DIR.iterdir()) == sorted(NAMES)
    fresh = tmp_path / "templates"
    assert sorted(p.name for p in write_templates(fresh)) == sorted(NAMES)
    for kind in KINDS:
        assert (fresh / f"{kind}.csv").read_bytes() == (TEMPLATES_DIR / f"{kind}.csv").read_bytes(), (
            f"raw/templates/{kind}.csv is stale: run make templates"
        )
        assert workbook_content(fresh / f"{kind}.xlsx") == workbook_content(TEMPLATES_DIR / f"{kind}.xlsx"), (
            f"raw/templates/{kind}.xlsx is stale: run make templates"
        )


@pytest.mark.parametrize("kind", KINDS)
def test_header_is_the_contract_and_one_example(kind):
    names = [c.name for c in columns_of(kind)]
    lines = (TEMPLATES_DIR / f"{kind}.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(names)
    assert len(lines) == 2
    sheet = openpyxl.load_workbook(TEMPLATES_DIR / f"{kind}.xlsx").worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows() if any(c.value is not None for c in row)]
    assert rows[0] == names
    assert len(rows) == 2
    assert [v or "" for v in rows[1]] == lines[1].split(",")


def test_drop_down_lists_are_the_accepted_values():
    assert list_rules(TEMPLATES_DIR / "visits.xlsx") == {"activity_type": ACTIVITY_TYPES}
    assert list_rules(TEMPLATES_DIR / "donations.xlsx") == {
        "donor_type": DONOR_TYPES,
        "donation_type": DONATION_TYPES,
        "currency": tuple(currency_codes()),
    }
    assert list_rules(TEMPLATES_DIR / "memberships.xlsx") == {}


def test_numbers_and_dates_are_guarded():
    sheet = openpyxl.load_workbook(TEMPLATES_DIR / "visits.xlsx").worksheets[0]
    rules = {(str(v.sqref), v.type, v.operator, v.formula1) for v in sheet.data_validations.dataValidation}
    assert ("K2:K1001", "whole", "greaterThanOrEqual", "1") in rules  # delegations >= 1
    assert ("L2:L1001", "whole", "greaterThanOrEqual", "0") in rules  # participants >= 0
    assert sheet["I1"].value == "start_date"
    assert sheet["I500"].number_format == "@"  # typed 2015-11 stays text, not an Excel date
    assert sheet["I1"].comment.text == "Required. A date as 2015, 2015-11 or 2015-11-10."


def test_every_template_passes_the_check(tmp_path, capsys):
    folder = tmp_path / "VN"
    folder.mkdir()
    for name in NAMES:
        shutil.copyfile(TEMPLATES_DIR / name, folder / name)
    assert main(["check", *(str(folder / name) for name in NAMES)]) == 0
    out = capsys.readouterr().out
    for name in NAMES:
        assert f"VN/{name}: OK, 1 " in out


def test_the_coordinators_guide_points_to_the_templates():
    guide = (PROJECT_ROOT / "raw" / "incoming" / "README.txt").read_text(encoding="utf-8")
    assert "raw/templates/" in guide
