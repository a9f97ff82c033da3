"""The faults issue's "one file stops the publish" and "wrong data, silently" cases, each built from
bytes in the test: the file gets a verdict and a report, and nothing else is held up."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import duckdb
import ftfy
import openpyxl
import pytest
from ftfy import badness
from hypothesis import given, settings
from hypothesis import strategies as st

from libcoop.ingest.drop_folder import discover
from libcoop.ingest.load import load_drop
from libcoop.ingest.reports import MAX_NAME_BYTES, report_path
from libcoop.settings import Paths
from tests.conftest import DONATIONS_HEADER, GOOD_MEMBERSHIP, MEMBERSHIPS_HEADER
from tests.unit.test_contract_rules import check, problems

GOOD = f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n"
BAD = f"{MEMBERSHIPS_HEADER}\nm1,NLV,VN,IFLA,member,not a date,,s\n"


@pytest.fixture
def env(drop, tmp_path):
    paths = Paths(raw_dir=drop.raw_dir, warehouse=tmp_path / "wh" / "w.duckdb", expectations_dir=tmp_path / "gx")
    con = duckdb.connect(":memory:")
    yield drop, paths, con
    con.close()


def xlsx(rows: list[list[object]], formats: dict[str, str] | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for cell, number_format in (formats or {}).items():
        sheet[cell].number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewrite_sheet(data: bytes, edit) -> bytes:
    """The same workbook with its first sheet's XML passed through ``edit``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = edit(content.decode()).encode()
            target.writestr(item, content)
    return out.getvalue()


# 3. file names of 245-255 bytes: the report name is shortened, the run goes on
@pytest.mark.parametrize("length", [245, 250, 255])
def test_case3_report_of_a_long_file_name_fits_the_file_system(env, length):
    drop, paths, con = env
    name = "memberships_" + "x" * (length - len("memberships_.csv")) + ".csv"
    assert len(name) == length
    drop(f"VN/{name}", BAD)
    result = load_drop(con, paths, "run1")
    assert [o.outcome for o in result.outcomes] == ["rejected"]
    (report,) = (paths.reports / "VN").iterdir()
    assert len(report.name.encode()) <= MAX_NAME_BYTES
    assert report == report_path(paths.reports, f"VN/{name}")
    assert f"VN/{name}" in report.read_text()
    # The good version of the same long name loads and takes the report away.
    drop(f"VN/{name}", GOOD)
    result = load_drop(con, paths, "run2")
    assert [o.outcome for o in result.outcomes] == ["loaded"]
    assert not report.exists()


def test_case3_an_unwritable_reports_folder_never_stops_the_load(env):
    drop, paths, con = env
    drop("VN/memberships.csv", BAD)
    drop("JP/memberships.csv", GOOD.replace("NLV,VN", "NDL,JP"))
    paths.reports.parent.mkdir(parents=True, exist_ok=True)
    paths.reports.write_text("a file where the reports folder should be")
    result = load_drop(con, paths, "run1")
    assert {o.file_path: o.outcome for o in result.outcomes} == {
        "JP/memberships.csv": "loaded",
        "VN/memberships.csv": "rejected",
    }
    assert con.execute("select count(*) from audit.file_rejections").fetchone() == (1,)


# 4. Unicode look-alikes of the kinds are not drop files
@pytest.mark.parametrize("name", ["donatıons_s12.csv", "viſits.csv", "memberships.cſv", "\u212avisits.csv"])
def test_case4_unicode_lookalike_names_are_skipped_not_crashing(drop, name):
    drop(f"VN/{name}", GOOD)
    found = discover(drop.incoming)
    assert found.files == ()
    assert [s.relative_path for s in found.skipped] == [f"VN/{name}"]


def test_case4_ascii_case_is_still_ignored(drop):
    drop("VN/Memberships_2015.CSV", GOOD)
    (found,) = discover(drop.incoming).files
    assert (found.kind, found.extension, found.label) == ("memberships", "csv", "2015")


# 5. one shared string used in many cells: bounded by Excel's cell limit, before memory blows up
def shared_string_workbook(text: str, uses: int) -> bytes:
    """A minimal XLSX written part by part: one shared string ``text`` used in ``uses`` cells."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    header = "".join(
        f'<c r="{c}1" t="inlineStr"><is><t>{h}</t></is></c>'
        for c, h in zip("ABCD", ["institution", "country", "organization", "joined"], strict=True)
    )
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="s"><v>0</v></c><c r="B{n}" t="inlineStr"><is><t>VN</t></is></c>'
        f'<c r="C{n}" t="inlineStr"><is><t>IFLA</t></is></c><c r="D{n}"><v>2000</v></c></row>'
        for n in range(2, uses + 2)
    )
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>",
        "_rels/.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook {ns} xmlns:r="{rel}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<worksheet {ns}><sheetData><row r="1">{header}</row>{rows}</sheetData></worksheet>',
        "xl/sharedStrings.xml": f'<sst {ns} count="{uses}" uniqueCount="1"><si><t>{text}</t></si></sst>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_case5_a_huge_shared_string_repeated_in_cells_is_refused(drop):
    data = shared_string_workbook("A" * 9_900_000, 100)
    assert len(data) < 100_000  # 16 KB in the faults issue: the archive itself is small
    checked = check(drop, "VN/memberships.xlsx", data)
    assert [p.rule for p in checked.problems] == ["too_large"]


def test_case5_the_same_workbook_with_a_short_string_loads(drop):
    checked = check(drop, "VN/memberships.xlsx", shared_string_workbook("National Library of Viet Nam", 100))
    assert checked.accepted, problems(checked)
    assert checked.rows.num_rows == 100


# 6. a sheet that declares, or really has, a row beyond Excel's last row
def test_case6_a_row_numbered_one_billion_is_refused_quickly(drop):
    data = xlsx([["institution", "country", "organization", "joined"], ["NLV", "VN", "IFLA", "2000"]])

    def far_row(sheet: str) -> str:
        for column in "ABCD":
            sheet = sheet.replace(f'r="{column}2"', f'r="{column}1000000000"')
        return sheet.replace('<row r="2"', '<row r="1000000000"').replace('ref="A1:D2"', 'ref="A1:D1000000000"')

    checked = check(drop, "VN/memberships.xlsx", rewrite_sheet(data, far_row))
    assert [(p.rule, p.value) for p in checked.problems] == [("too_large", "1000000000 rows declared")]

    def undeclared(sheet: str) -> str:
        return far_row(sheet).replace('<dimension ref="A1:D1000000000" />', "")

    checked = check(drop, "VN/memberships.xlsx", rewrite_sheet(data, undeclared))
    assert [p.rule for p in checked.problems] == ["too_large"]


# 9. Excel number formats: a month typed as 2015-05 or May 2015, a year formatted yyyy
@pytest.mark.parametrize(
    ("number_format", "text", "precision"),
    [
        ("mmm-yy", "2015-05", "month"),
        ("yyyy-mm", "2015-05", "month"),
        ("yyyy", "2015", "year"),
        ("yyyy-mm-dd", "2015-05-01", "day"),
    ],
)
def test_case9_date_cells_keep_the_precision_their_format_shows(drop, number_format, text, precision):
    rows = [["institution", "country", "organization", "joined"], ["NLV", "VN", "IFLA", dt.datetime(2015, 5, 1)]]
    checked = check(drop, "VN/memberships.xlsx", xlsx(rows, {"D2": number_format}))
    assert checked.accepted, problems(checked)
    (row,) = checked.rows.to_pylist()
    assert row["joined_precision"] == precision
    assert (
        row["joined"]
        == {"month": dt.date(2015, 5, 1), "year": dt.date(2015, 1, 1), "day": dt.date(2015, 5, 1)}[precision]
    )
    assert text  # what the coordinator sees in Excel


# 10. UTF-8 once decoded as cp1252 and saved again: loads (valid UTF-8), with a warning in words
def test_case10_mojibake_is_flagged_with_the_probable_original(drop):
    garbled = "Thư viện Quốc gia Việt Nam".encode().decode("cp1252", errors="replace")
    assert garbled.startswith("ThÆ° viá»")
    checked = check(drop, "VN/memberships.csv", f"{MEMBERSHIPS_HEADER}\nm1,{garbled},VN,IFLA,member,2000,,s\n")
    assert checked.accepted, problems(checked)
    (warning,) = [w for w in checked.warnings if "looks garbled" in w]
    assert "row 2, column institution" in warning
    assert 'probably "Thư viện Quốc gia Việt Nam"' in warning
    assert "CSV UTF-8" in warning


def test_case10_clean_native_scripts_are_not_flagged(drop):
    rows = "\n".join(
        f"m{i},{name},VN,IFLA,member,2000,,s"
        for i, name in enumerate(
            ["Thư viện Quốc gia Việt Nam", "中国国家图书馆", "国立国会図書館", "국립중앙도서관", "Bibliothèque"]
        )
    )
    checked = check(drop, "VN/memberships.csv", f"{MEMBERSHIPS_HEADER}\n{rows}\n")
    assert checked.accepted
    assert not [w for w in checked.warnings if "looks garbled" in w]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), min_size=1, max_size=60))
def test_case10_ascii_text_is_never_garbled_so_the_check_skips_it(text):
    """The mojibake check looks only at values with a character beyond ASCII (name_warnings.garbled_text_warnings):
    ftfy finds nothing to fix in plain ASCII, whatever it is."""
    assert not badness.is_bad(text) or ftfy.fix_text(text) == text


def test_blank_lines_do_not_shift_the_rows_reported_after_them(drop):
    content = f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n\n\nm2,NLV,VN,IFLA,member,not a date,,s\n"
    checked = check(drop, "VN/memberships.csv", content)
    assert problems(checked) == [("bad_date", 5, "joined", "not a date")]


def test_a_quoted_value_spanning_lines_is_one_row_as_in_a_spreadsheet(drop):
    """Found by the mutation tests (make fuzz): a quoted value holding a blank line made every later
    row be numbered by line instead of by row; the same file without the blank line was numbered by
    row. Rows are numbered as a spreadsheet shows the file: a quoted value is one row whatever its
    lines, a blank line between rows is an empty row."""
    spanning = (
        f"{DONATIONS_HEADER}\n"
        'd1,TAF,US,foundation,NLV,VN,books,"two paragraphs\n\nof project",5,,,2010,,s\n'
        "d2,TAF,US,foundation,NLV,VN,funding,,,100,QQQ,2010,,s\n"
    )
    assert problems(check(drop, "VN/donations.csv", spanning)) == [("unknown_currency", 3, "currency", "QQQ")]
    without_blank_line = spanning.replace("\n\nof", "\nof")
    assert problems(check(drop, "VN/donations.csv", without_blank_line)) == [("unknown_currency", 3, "currency", "QQQ")]
    # A blank line between rows is a row of its own, as before.
    with_empty_row = spanning.replace("s\nd2,", "s\n\nd2,")
    assert problems(check(drop, "VN/donations.csv", with_empty_row)) == [("unknown_currency", 4, "currency", "QQQ")]
