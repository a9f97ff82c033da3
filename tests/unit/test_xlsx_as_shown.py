"""What Excel shows is what loads (docs/contract.md section 1, XLSX): cached formula values, the
first visible sheet, date cells by their display format, hidden rows, merged cells, renamed .xls
files and invisible characters. Every workbook is written here as Excel writes it, part by part
(formulas with their saved results, shared formulas, sheet states, number formats), because
openpyxl cannot save a formula's result."""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from xml.sax.saxutils import escape

import openpyxl

from libcoop.ingest.check import CheckedFile
from libcoop.ingest.cleaning import clean_text, strip_invisible
from libcoop.ingest.reports import render
from libcoop.ingest.xlsx import _date_precision
from tests.unit.test_contract_rules import check, problems

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HEADER = ["institution", "country", "organization", "joined"]


def text(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'


def number(ref: str, value: float, style: int = 0) -> str:
    return f'<c r="{ref}"{f" s={chr(34)}{style}{chr(34)}" if style else ""}><v>{value}</v></c>'


def formula(ref: str, source: str, cached: str | None, *, kind: str = "str", shared: str = "") -> str:
    """A formula cell as Excel saves it: its text (or a reference to a shared one) and its result."""
    t = f' t="{kind}"' if kind else ""
    f = f"<f{shared}>{escape(source)}</f>" if source else f"<f{shared}/>"
    v = f"<v>{escape(cached)}</v>" if cached is not None else ""
    return f'<c r="{ref}"{t}>{f}{v}</c>'


def row(n: int, *cells: str, hidden: bool = False) -> str:
    return f'<row r="{n}"{" hidden=" + chr(34) + "1" + chr(34) if hidden else ""}>{"".join(cells)}</row>'


def header_row() -> str:
    return row(1, *(text(f"{c}1", h) for c, h in zip("ABCD", HEADER, strict=True)))


def member(n: int, institution: str = "National Library of Viet Nam", joined: str = "2000", **kw: bool) -> str:
    cells = [text(f"A{n}", institution), text(f"B{n}", "VN"), text(f"C{n}", "IFLA"), text(f"D{n}", joined)]
    return row(n, *cells, **kw)


def workbook(
    *sheets: tuple[str, str, str],
    formats: tuple[str, ...] = (),
    date1904: bool = False,
) -> bytes:
    """An .xlsx of ``sheets`` (name, state, the worksheet's XML inside <worksheet>), with a cell
    style per number format in ``formats`` (style 1 is the first)."""
    content_types = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    num_fmts = "".join(f'<numFmt numFmtId="{164 + i}" formatCode="{escape(f)}"/>' for i, f in enumerate(formats))
    xfs = "".join(f'<xf numFmtId="{164 + i}" applyNumberFormat="1"/>' for i in range(len(formats)))
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{content_types}</Types>",
        "_rels/.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{NS}" xmlns:r="{REL}">'
        + ('<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>")
        + "<sheets>"
        + "".join(
            f'<sheet name="{name}" sheetId="{i}" state="{state}" r:id="rId{i}"/>'
            for i, (name, state, _) in enumerate(sheets, start=1)
        )
        + "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        + f'<Relationship Id="rId{len(sheets) + 1}" Type="{REL}/styles" Target="styles.xml"/></Relationships>',
        "xl/styles.xml": f'<styleSheet xmlns="{NS}"><numFmts count="{len(formats)}">{num_fmts}</numFmts>'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf/></cellStyleXfs>'
        f'<cellXfs count="{len(formats) + 1}"><xf numFmtId="0"/>{xfs}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>',
    }
    for i, (_, _, xml) in enumerate(sheets, start=1):
        parts[f"xl/worksheets/sheet{i}.xml"] = f'<worksheet xmlns="{NS}">{xml}</worksheet>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, part in parts.items():
            archive.writestr(name, part)
    return out.getvalue()


def sheet(*rows: str, after: str = "") -> str:
    return f"<sheetData>{''.join(rows)}</sheetData>{after}"


def memberships(data: bytes, drop, name: str = "VN/memberships.xlsx") -> CheckedFile:
    return check(drop, name, data)


def report(checked: CheckedFile) -> str:
    return render(checked, dry_run=True)


# --- formulas: what Excel saved as their result ----------------------------------------------


def test_a_text_formula_loads_as_the_text_excel_shows(drop):
    name = formula("A2", '"National Library of "&"Viet Nam"', "National Library of Viet Nam")
    cells = [name, text("B2", "VN"), text("C2", "IFLA"), number("D2", 2000)]
    checked = memberships(workbook(("Members", "visible", sheet(header_row(), row(2, *cells)))), drop)
    assert checked.accepted, problems(checked)
    assert checked.rows.column("institution").to_pylist() == ["National Library of Viet Nam"]
    assert checked.rows.column("joined").to_pylist() == [dt.date(2000, 1, 1)]


def test_shared_filled_down_formulas_load_their_saved_results(drop):
    """B2 holds the formula, B3:B4 point at it (t="shared"), as Excel writes a filled-down column."""
    rows = [header_row()]
    for n in (2, 3, 4):
        shared = ' t="shared" ref="B2:B4" si="0"' if n == 2 else ' t="shared" si="0"'
        country = formula(f"B{n}", 'IF(A2="","","VN")' if n == 2 else "", "VN", shared=shared)
        year = formula(f"D{n}", "1998+ROW()" if n == 2 else "", str(1998 + n), kind="", shared=shared)
        rows.append(row(n, text(f"A{n}", f"Library {n}"), country, text(f"C{n}", "IFLA"), year))
    checked = memberships(workbook(("S", "visible", sheet(*rows))), drop)
    assert checked.accepted, problems(checked)
    assert checked.rows.column("country").to_pylist() == ["VN", "VN", "VN"]
    assert checked.rows.column("joined").to_pylist() == [dt.date(y, 1, 1) for y in (2000, 2001, 2002)]


def test_a_formula_with_no_saved_result_is_refused_naming_the_cell(drop):
    """A workbook written by a program (openpyxl here) and never opened in Excel has no results."""
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.active.append(["National Library of Viet Nam", "VN", "IFLA", "=1999+1"])
    out = io.BytesIO()
    book.save(out)
    checked = memberships(out.getvalue(), drop)
    assert problems(checked) == [("formula_without_value", 2, "D", None)]
    assert "- row 2, column D: this cell holds a formula whose result was never saved" in report(checked)
    assert "Open and save it in Excel" in report(checked)


def test_a_formula_whose_result_is_empty_text_is_an_empty_cell(drop):
    cells = [text("A2", "NLV"), text("B2", "VN"), text("C2", "IFLA"), text("D2", "2000"), formula("E2", '""', "")]
    checked = memberships(workbook(("S", "visible", sheet(header_row(), row(2, *cells)))), drop)
    assert checked.accepted, problems(checked)


def test_numbers_load_with_the_15_digits_excel_shows(drop):
    """=10*1.1 is saved as 11.000000000000002 and shown as 11: a whole number of participants."""
    header = ["activity_type", "host_institution", "host_country", "start_date", "participants", "delegations"]
    cells = [
        text("A2", "meeting"),
        text("B2", "National Library of Viet Nam"),
        text("C2", "VN"),
        text("D2", "2015"),
        formula("E2", "10*1.1", "11.000000000000002", kind=""),
        formula("F2", "0.1+0.2", "0.30000000000000004", kind=""),
    ]
    first = row(1, *(text(f"{c}1", h) for c, h in zip("ABCDEF", header, strict=True)))
    checked = check(drop, "VN/visits.xlsx", workbook(("S", "visible", sheet(first, row(2, *cells)))))
    assert ("not_whole_number", 2, "delegations", "0.3") in problems(checked)
    assert not [p for p in checked.problems if p.column == "participants"]


def test_japanese_phonetic_guides_are_not_part_of_the_name(drop):
    """Japanese Excel keeps the reading typed (furigana) beside a name; it is not shown in the cell."""
    name = (
        '<c r="A2" t="inlineStr"><is><t>国立国会図書館</t>'
        '<rPh sb="0" eb="7"><t>コクリツコッカイトショカン</t></rPh><phoneticPr fontId="1"/></is></c>'
    )
    cells = [name, text("B2", "JP"), text("C2", "IFLA"), text("D2", "2000")]
    checked = memberships(workbook(("S", "visible", sheet(header_row(), row(2, *cells)))), drop, "JP/memberships.xlsx")
    assert checked.accepted, problems(checked)
    assert checked.rows.column("institution").to_pylist() == ["国立国会図書館"]


# --- sheets and rows the coordinator cannot see -----------------------------------------------


def test_a_hidden_first_sheet_is_never_read(drop):
    stale = sheet(header_row(), member(2, "Stale Library", "1990"))
    current = sheet(header_row(), member(2, "National Library of Viet Nam", "2000"))
    for state in ("hidden", "veryHidden"):
        data = workbook(("Old", state, stale), ("Members", "visible", current))
        checked = memberships(data, drop)
        assert checked.accepted, problems(checked)
        assert checked.rows.column("institution").to_pylist() == ["National Library of Viet Nam"]
        assert any("'Old', is hidden in Excel and was not read" in w for w in checked.warnings)


def test_hidden_rows_are_read_with_a_note_naming_them(drop):
    rows = [header_row(), member(2), *(member(n, f"Library {n}", hidden=True) for n in (5, 6, 7)), member(9)]
    checked = memberships(workbook(("S", "visible", sheet(*rows))), drop)
    assert checked.accepted, problems(checked)
    assert checked.rows.column("source_row_number").to_pylist() == [2, 5, 6, 7, 9]
    assert "VN/memberships.xlsx: rows 5-7 are hidden in Excel; they were read" in checked.warnings


def test_many_hidden_rows_are_named_in_a_note_of_bounded_length(drop):
    rows = [header_row(), *(member(n, hidden=n % 2 == 0) for n in range(2, 202))]
    checked = memberships(workbook(("S", "visible", sheet(*rows))), drop)
    assert checked.accepted, problems(checked)
    spans = ", ".join(str(n) for n in range(2, 42, 2))
    assert f"VN/memberships.xlsx: rows {spans} and 80 more are hidden in Excel; they were read" in checked.warnings


def test_merged_cells_over_data_rows_are_explained_once(drop):
    """D2:D4 merged: Excel shows 2000 on three rows, and stores it in D2 only."""
    rows = [header_row(), member(2)]
    rows += [row(n, text(f"A{n}", f"Library {n}"), text(f"B{n}", "VN"), text(f"C{n}", "IFLA")) for n in (3, 4)]
    merges = '<mergeCells count="2"><mergeCell ref="D2:D4"/><mergeCell ref="F1:H1"/></mergeCells>'
    checked = memberships(workbook(("S", "visible", sheet(*rows, after=merges))), drop)
    assert problems(checked) == [("merged_cells", 2, None, "D2:D4")]
    assert 'row 2, value "D2:D4": these cells are merged' in report(checked)
    assert "Unmerge the cells" in report(checked)
    assert "required" not in report(checked)


def test_many_merged_ranges_make_a_report_of_bounded_length(drop):
    rows = [header_row(), *(member(n) for n in range(2, 102))]
    refs = "".join(f'<mergeCell ref="D{n}:D{n + 1}"/>' for n in range(2, 101, 2))
    checked = memberships(workbook(("S", "visible", sheet(*rows, after=f"<mergeCells>{refs}</mergeCells>"))), drop)
    found = problems(checked)
    assert found[:2] == [("merged_cells", 2, None, "D2:D3"), ("merged_cells", 4, None, "D4:D5")]
    assert found[20:] == [("merged_cells", None, None, "and 30 more merged ranges")]


def test_a_merged_title_above_the_header_is_no_problem(drop):
    title = row(1, text("A1", "Memberships of the National Library of Viet Nam"))
    header = row(2, *(text(f"{c}2", h) for c, h in zip("ABCD", HEADER, strict=True)))
    merges = '<mergeCells count="1"><mergeCell ref="A1:D1"/></mergeCells>'
    checked = memberships(workbook(("S", "visible", sheet(title, header, member(3), after=merges))), drop)
    assert "merged_cells" not in [p.rule for p in checked.problems]


def test_a_title_and_a_blank_row_above_the_header_are_handed_on_for_the_header_search(drop):
    """Rows 1-2 hold a merged title and nothing; the header is row 3; a note sits in column F of a
    data row: every row is handed on from row 1, as wide as its widest row."""
    title = row(1, text("A1", "Memberships of the National Library of Viet Nam, 2015"))
    header = row(3, *(text(f"{c}3", h) for c, h in zip("ABCD", HEADER, strict=True)))
    noted = member(5).replace("</row>", text("F5", "checked by Lan") + "</row>")
    merges = '<mergeCells count="1"><mergeCell ref="A1:D1"/></mergeCells>'
    checked = memberships(workbook(("S", "visible", sheet(title, header, member(4), noted, after=merges))), drop)
    assert checked.accepted, problems(checked)
    assert checked.rows.column("source_row_number").to_pylist() == [4, 5]
    assert checked.rows.column("institution").to_pylist() == ["National Library of Viet Nam"] * 2
    assert any("rows 1-2 above the header were not read" in w for w in checked.warnings), checked.warnings


def test_hidden_columns_holding_values_are_read_with_a_note(drop):
    cols = '<cols><col min="3" max="3" width="0" hidden="1"/><col min="7" max="16384" hidden="1"/></cols>'
    checked = memberships(workbook(("S", "visible", cols + sheet(header_row(), member(2)))), drop)
    assert checked.accepted, problems(checked)
    assert "VN/memberships.xlsx: column C is hidden in Excel; it was read" in checked.warnings


def test_a_cell_showing_an_excel_error_is_refused_with_the_error(drop):
    broken = formula("A2", "VLOOKUP(Z2,Names!A:B,2,FALSE)", "#N/A", kind="e")
    cells = [broken, text("B2", "VN"), text("C2", "IFLA"), number("D2", 2000)]
    checked = memberships(workbook(("S", "visible", sheet(header_row(), row(2, *cells)))), drop)
    assert problems(checked) == [("excel_error", 2, "A", "#N/A")]
    assert 'row 2, column A, value "#N/A": this cell shows an Excel error instead of a value' in report(checked)


def test_a_merge_over_the_whole_sheet_is_answered_at_once(drop):
    """A merged range of every cell of the sheet (17 billion): one problem, no cell visited."""
    merges = '<mergeCells count="1"><mergeCell ref="A2:XFD1048576"/></mergeCells>'
    checked = memberships(workbook(("S", "visible", sheet(header_row(), member(2), member(3), after=merges))), drop)
    assert problems(checked) == [("merged_cells", 2, None, "A2:XFD1048576")]


def test_a_value_in_column_xfd_is_refused_as_too_many_columns_without_padding_rows(drop):
    """Excel's last column, on every one of 2,000 rows: a verdict at the first, not 32 million cells."""
    far = [member(n).replace("</row>", text(f"XFD{n}", "x") + "</row>") for n in range(2, 2002)]
    started = time.monotonic()
    checked = memberships(workbook(("S", "visible", sheet(header_row(), *far))), drop)
    assert time.monotonic() - started < 20
    assert [(p.rule, p.row) for p in checked.problems] == [("too_many_columns", 2)]
    assert "cells beyond column 200; a file has at most 200 columns" in report(checked)


def test_empty_styled_cells_in_column_xfd_on_every_row_are_bounded(drop):
    far = [member(n).replace("</row>", f'<c r="XFD{n}" s="0"/></row>') for n in range(2, 302)]
    started = time.monotonic()
    checked = memberships(workbook(("S", "visible", sheet(header_row(), *far))), drop)
    assert time.monotonic() - started < 20
    assert [p.rule for p in checked.problems] == ["too_many_columns"]


# --- files that are not .xlsx at all --------------------------------------------------------


def test_a_renamed_xls_is_named_for_what_it_is(drop):
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + b"Workbook"
    for content in (ole2, b"institution,country\nNLV,VN\n"):
        checked = memberships(content, drop)
        assert [p.rule for p in checked.problems] == ["not_xlsx"]
        words = report(checked)
        assert "this is not an .xlsx workbook (an old Excel .xls?)" in words
        assert "Open it in Excel and save it as .xlsx or CSV UTF-8" in words
        assert "BadZipFile" not in words


# --- dates as Excel shows them ----------------------------------------------------------------


def test_a_date_time_cell_formatted_as_a_date_is_that_date(drop):
    # 42125.6 is 1 May 2015 at 14:24; the cell shows 2015-05-01.
    cells = [text("A2", "NLV"), text("B2", "VN"), text("C2", "IFLA"), number("D2", 42125.6, style=1)]
    data = workbook(("S", "visible", sheet(header_row(), row(2, *cells))), formats=("yyyy-mm-dd",))
    checked = memberships(data, drop)
    assert checked.accepted, problems(checked)
    assert checked.rows.column("joined").to_pylist() == [dt.date(2015, 5, 1)]
    assert checked.rows.column("joined_precision").to_pylist() == ["day"]


def test_number_formats_give_the_precision_shown():
    assert [
        _date_precision(f)
        for f in ("yyyy", "mmm-yy", "yyyy-mm", "mmmm yyyy", "yyyy年m月", "d-mmm-yy", "m/d/yyyy", "[$-409]mmmm d, yyyy")
    ] == ["year", "month", "month", "month", "month", "day", "day", "day"]
    assert [_date_precision(f) for f in ("yyyy hh:mm", "mm/yyyy", "ggge年m月d日", "yyyy/m/d h:mm:ss")] == [
        "year",
        "month",
        "day",
        "day",
    ]


def test_excel_phantom_29_february_1900_is_no_such_day(drop):
    cells = [text("A2", "NLV"), text("B2", "VN"), text("C2", "IFLA"), number("D2", 60, style=1)]
    ok = [text("A3", "NLV"), text("B3", "VN"), text("C3", "IFLA"), number("D3", 59, style=1)]
    data = workbook(("S", "visible", sheet(header_row(), row(2, *cells), row(3, *ok))), formats=("yyyy-mm-dd",))
    checked = memberships(data, drop)
    assert problems(checked) == [("no_such_day", 2, "D", "1900-02-29")]
    assert "no such day (Excel's 1900-02-29)" in report(checked)


def test_1904_date_workbooks_keep_their_dates(drop):
    # Serial 40663 is 2015-05-01 in the 1904 system (2019-05-02 in the 1900 one).
    cells = [text("A2", "NLV"), text("B2", "VN"), text("C2", "IFLA"), number("D2", 40663, style=1)]
    data = workbook(("S", "visible", sheet(header_row(), row(2, *cells))), formats=("yyyy-mm-dd",), date1904=True)
    checked = memberships(data, drop)
    assert checked.accepted, problems(checked)
    assert checked.rows.column("joined").to_pylist() == [dt.date(2015, 5, 1)]


# --- invisible characters ------------------------------------------------------------------


def test_invisible_characters_are_stripped_with_a_note_and_the_name_resolves(drop):
    names = {
        2: "National Library\u200b of Viet Nam",
        3: "\u200fNational Library of Viet Nam\u202c",
        4: "National Library of Viet Nam_x0000_",  # a NUL, as Excel writes it
    }
    rows = [header_row(), *(member(n, name) for n, name in names.items())]
    checked = memberships(workbook(("S", "visible", sheet(*rows))), drop)
    assert checked.accepted, problems(checked)
    assert set(checked.rows.column("institution").to_pylist()) == {"National Library of Viet Nam"}
    assert any(
        "row 2, column institution: an invisible character (U+200B ZERO WIDTH SPACE) removed" in w
        for w in checked.warnings
    )
    assert any("row 3, column institution: 2 invisible characters" in w for w in checked.warnings)
    assert any("row 4, column institution" in w and "U+0000" in w for w in checked.warnings)
    assert not any("not match any" in w.lower() or "unresolved" in w.lower() for w in checked.warnings)


def test_invisible_characters_are_stripped_from_csv_too(drop):
    content = (
        "institution,country,organization,joined\n"
        "National Library of Viet Nam\u2060\u200d,VN,IFLA,2000\n"
        "National Library of Viet Nam\x00,VN,IFLA,2001\n"
    )
    checked = check(drop, "VN/memberships.csv", content)
    assert checked.accepted, problems(checked)
    assert checked.rows.column("institution").to_pylist() == ["National Library of Viet Nam"] * 2
    assert any("row 2, column institution: 2 invisible characters" in w for w in checked.warnings)
    assert any("row 3, column institution: an invisible character (U+0000 NULL) removed" in w for w in checked.warnings)


def test_what_is_invisible_and_what_is_spelling():
    assert strip_invisible("a\u200bb\u200ec\u2066d\u2069\ufeff\x07e") == ("abcde", 6)
    assert strip_invisible("tab\tand\nline\r\nends") == ("tab\tand\nline\r\nends", 0)
    persian = "کتاب\u200cخانه"  # the non-joiner is how Persian spells "library"
    assert strip_invisible(persian) == (persian, 0)
    assert clean_text("Bi\u0300nh Dương\u200b") == "Bình Dương"
