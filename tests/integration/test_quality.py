"""libcoop.quality with real Great Expectations on a small DuckDB warehouse built in tmp_path.

The warehouse has the raw layer of docs/architecture.md (history tables, current views) and the
marts of docs/contract.md section 2, with a few realistic rows. Each test runs every suite against a
copy of the committed expectations/ folder.

The three "row type" tests (orphan key, negative amount, implausible date) follow one corrupted
build all the way: the expectation and severity that fail, the verdict, audit.dq_results, the
published Data Docs page, and the publication blocked (the last good warehouse stays, and the
results still reach it with the next published run) or allowed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from libcoop import audit, quality
from libcoop.ingest.load import ensure_audit_tables
from libcoop.pipeline import PublishBlocked, publish_step
from libcoop.settings import Paths

pytestmark = pytest.mark.integration

COMMITTED_CONTEXT = Path(__file__).resolve().parents[2] / "expectations"

_RAW_LINEAGE = (
    "file_path varchar, content_hash varchar, load_id varchar, source_row_number bigint, reporting_country varchar"
)
_RAW_COMMON = "record_id varchar, source varchar, notes varchar"
_RAW_DDL = {
    "memberships": "institution varchar, country varchar, organization varchar, membership_type varchar, "
    'joined date, joined_precision varchar, "left" date, left_precision varchar',
    "visits": "activity_type varchar, host_institution varchar, host_country varchar, guest_institution varchar, "
    "guest_country varchar, start_date date, start_date_precision varchar, end_date date, "
    "end_date_precision varchar, delegations bigint, participants bigint, event varchar, program varchar, "
    "city varchar",
    "donations": "donor varchar, donor_country varchar, donor_type varchar, recipient_institution varchar, "
    "recipient_country varchar, donation_type varchar, project varchar, description varchar, quantity bigint, "
    "amount double, currency varchar, start_date date, start_date_precision varchar, end_date date, "
    "end_date_precision varchar",
}

# fmt: off
# (file_path, source_row_number, reporting_country) + contract columns, in _RAW_DDL order.
MEMBERSHIPS = [
    ("VN/memberships.csv", 2, "VN", "National Library of Viet Nam", "VN", "IFLA", "member",
     "1979-01-01", "year", None, None),
    ("VN/memberships.csv", 3, "VN", "National Library of Viet Nam", "VN", "CONSAL", "member",
     "1989-01-01", "year", None, None),
    ("CN/memberships.csv", 2, "CN", "中国国家图书馆", "CN", "CDNLAO", "founding member",
     "1979-01-01", "year", "2010-06-01", "month"),
]
VISITS = [
    ("CN/visits_2015.csv", 2, "CN", "business_exchange", "National Library of China", "CN",
     "National Library of Viet Nam", "VN", "2015-11-10", "day", "2015-11-14", "day", 1, 6,
     "35th business exchange", None, "Beijing"),
    ("VN/visits_2000-2010.xlsx", 2, "VN", "delegation", "National Library of Viet Nam", "VN", None, None,
     "2000-01-01", "year", "2010-01-01", "year", 549, 2062, None, None, "Ha Noi"),
    ("SG/visits.csv", 2, "SG", "training", "National Library Board", "SG", "National Library of Viet Nam", "VN",
     "2012-06-01", "month", "2012-06-01", "month", 1, 2, "2nd session of INELI-ASEAN", "INELI-ASEAN", "Singapore"),
]
DONATIONS = [
    ("VN/donations_nlv-2000-2012.xlsx", 2, "VN", "The Asia Foundation", "US", "foundation",
     "National Library of Viet Nam", "VN", "books", "Books for Asia", None, 12000, None, None,
     "1995-01-01", "year", "2005-01-01", "year"),
    ("VN/donations_nlv-2000-2012.xlsx", 3, "VN", "Atlantic Philanthropies", "US", "foundation",
     "National Library of Viet Nam", "VN", "funding", "DDC 14 translation", None, None, 100000.0, "USD",
     "2004-01-01", "year", "2006-01-01", "year"),
    ("VN/donations_nlv-2000-2012.xlsx", 4, "VN", "Japan Foundation", "JP", "foundation",
     "National Library of Viet Nam", "VN", "equipment", None, "microfilm readers", 3, 3000000.0, "JPY",
     "2008-03-01", "month", "2008-03-01", "month"),
]

COUNTRIES = [("ZZ", "ZZZ", "Unknown", None), ("VN", "VNM", "Viet Nam", "ASEAN"), ("CN", "CHN", "China", "East Asia"),
             ("SG", "SGP", "Singapore", "ASEAN"), ("US", "USA", "United States", "North America"),
             ("JP", "JPN", "Japan", "East Asia")]
INSTITUTIONS = [("UNKNOWN", "Unknown or unspecified", "unknown", "ZZ", False),
                ("NLV", "National Library of Viet Nam", "library", "VN", True),
                ("NLC", "National Library of China", "library", "CN", True),
                ("NLB", "National Library Board", "library", "SG", True),
                ("TAF", "The Asia Foundation", "foundation", "US", True),
                ("AP", "Atlantic Philanthropies", "foundation", "US", True),
                ("JF", "Japan Foundation", "foundation", "JP", True)]
ORGANIZATIONS = [("UNKNOWN", "Unknown"),
                 ("IFLA", "International Federation of Library Associations and Institutions"),
                 ("CONSAL", "Congress of Southeast Asian Librarians"),
                 ("CDNLAO", "Conference of Directors of National Libraries of Asia and Oceania")]

# Facts by natural keys; keys are md5 of the natural key, dates are yyyymmdd integers (-1 unknown).
FCT_MEMBERSHIP = [("NLV", "IFLA", "member", "1979-01-01", None, True),
                  ("NLV", "CONSAL", "member", "1989-01-01", None, True),
                  ("NLC", "CDNLAO", "founding member", "1979-01-01", "2010-06-01", False)]
FCT_VISIT = [("business_exchange", "NLC", "NLV", "CN", "VN", "2015-11-10", "2015-11-14", 1, 6,
              "35th business exchange", None),
             ("delegation", "NLV", "UNKNOWN", "VN", "ZZ", "2000-01-01", "2010-01-01", 549, 2062, None, None),
             ("training", "NLB", "NLV", "SG", "VN", "2012-06-01", "2012-06-01", 1, 2, "2nd session of INELI-ASEAN",
              "INELI-ASEAN")]
# donor, recipient, donor country, recipient country, type, project, quantity, amount, currency, amount_usd,
# start, end, is_missing_fx_rate
FCT_DONATION = [("TAF", "NLV", "US", "VN", "books", "Books for Asia", 12000, None, None, None,
                 "1995-01-01", "2005-01-01", False),
                ("AP", "NLV", "US", "VN", "funding", "DDC 14 translation", None, 100000.0, "USD", 100000.0,
                 "2004-01-01", "2006-01-01", False),
                ("JF", "NLV", "JP", "VN", "equipment", None, 3, 3000000.0, "JPY", 26000.0,
                 "2008-03-01", "2008-03-01", False)]
# fmt: on
FX_RATES = [("USD", year, 1.0, 250) for year in range(1995, 2016)] + [("JPY", 2008, 0.00867, 250)]


def _key(natural: str | None) -> str:
    return hashlib.md5((natural or "").encode()).hexdigest()  # the dbt surrogate_key of one part


def _date_key(day: str | None) -> int:
    return int(day.replace("-", "")) if day else -1


def build_warehouse(path: Path, *, fx_flag: bool = True) -> Path:
    """A small build file: raw history + current views, ref.fx_rates_yearly, the marts."""
    with duckdb.connect(str(path)) as con:
        for schema in ("raw", "ref", "marts"):
            con.execute(f"create schema {schema}")
        rows = {"memberships": MEMBERSHIPS, "visits": VISITS, "donations": DONATIONS}
        for kind, ddl in _RAW_DDL.items():
            con.execute(f"create table raw.{kind} ({_RAW_LINEAGE}, {_RAW_COMMON}, {ddl})")
            con.execute(f"create view raw.current_{kind} as select * from raw.{kind}")
            columns = [c.strip().split(" ")[0] for c in ddl.split(",")]
            for number, row in enumerate(rows[kind], start=1):
                file_path, row_number, country, *values = row
                con.execute(
                    f"insert into raw.{kind} (file_path, content_hash, load_id, source_row_number, reporting_country, "
                    f"record_id, source, {', '.join(columns)}) values (?, 'sha', 'load-1', ?, ?, ?, 'test', "
                    f"{', '.join('?' for _ in columns)})",
                    [file_path, row_number, country, f"r{number}", *values],
                )
        con.execute(
            "create table ref.fx_rates_yearly (currency varchar, year integer, usd_per_unit double, "
            "observation_days integer)"
        )
        con.executemany("insert into ref.fx_rates_yearly values (?, ?, ?, ?)", FX_RATES)

        con.execute(
            "create table marts.dim_country (country_key varchar, iso2 varchar, iso3 varchar, "
            "country_name varchar, region varchar, is_unknown_member boolean)"
        )
        con.executemany(
            "insert into marts.dim_country values (?, ?, ?, ?, ?, ?)",
            [(_key(iso2), iso2, iso3, name, region, iso2 == "ZZ") for iso2, iso3, name, region in COUNTRIES],
        )
        con.execute(
            "create table marts.dim_institution (institution_key varchar, institution_name varchar, "
            "institution_type varchar, country_iso2 varchar, is_resolved boolean, is_unknown_member boolean)"
        )
        con.executemany(
            "insert into marts.dim_institution values (?, ?, ?, ?, ?, ?)",
            [(_key(code), *rest, code == "UNKNOWN") for code, *rest in INSTITUTIONS],
        )
        con.execute(
            "create table marts.dim_organization (organization_key varchar, acronym varchar, organization_name varchar, "
            "is_unknown_member boolean)"
        )
        con.executemany(
            "insert into marts.dim_organization values (?, ?, ?, ?)",
            [(_key(acronym), acronym, name, acronym == "UNKNOWN") for acronym, name in ORGANIZATIONS],
        )
        con.execute(
            "create table marts.dim_date as "
            "select cast(strftime(d, '%Y%m%d') as integer) as date_key, cast(d as date) as date_day, "
            "year(d) as year, quarter(d) as quarter, month(d) as month, false as is_unknown_member "
            "from generate_series(date '1979-01-01', date '2015-12-31', interval 1 day) as t(d) "
            "union all select -1, null, null, null, null, true"
        )

        con.execute(
            "create table marts.fct_membership (institution_key varchar, organization_key varchar, "
            "membership_type varchar, joined_date_key integer, left_date_key integer, is_active boolean)"
        )
        con.executemany(
            "insert into marts.fct_membership values (?, ?, ?, ?, ?, ?)",
            [(_key(i), _key(o), t, _date_key(j), _date_key(left), a) for i, o, t, j, left, a in FCT_MEMBERSHIP],
        )
        con.execute(
            "create table marts.fct_visit (activity_type varchar, host_institution_key varchar, "
            "guest_institution_key varchar, host_country_key varchar, guest_country_key varchar, "
            "start_date_key integer, end_date_key integer, delegations bigint, participants bigint, "
            "event varchar, program varchar)"
        )
        con.executemany(
            "insert into marts.fct_visit values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (a, _key(hi), _key(gi), _key(hc), _key(gc), _date_key(s), _date_key(e), d, p, ev, pr)
                for a, hi, gi, hc, gc, s, e, d, p, ev, pr in FCT_VISIT
            ],
        )
        con.execute(
            "create table marts.fct_donation (donor_institution_key varchar, recipient_institution_key "
            "varchar, donor_country_key varchar, recipient_country_key varchar, donation_type varchar, "
            "project varchar, quantity bigint, amount double, currency varchar, amount_usd double, "
            "start_date_key integer, end_date_key integer, is_missing_fx_rate boolean)"
        )
        con.executemany(
            "insert into marts.fct_donation values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (_key(di), _key(ri), _key(dc), _key(rc), *facts, _date_key(s), _date_key(e), missing)
                for di, ri, dc, rc, *facts, s, e, missing in FCT_DONATION
            ],
        )
        if not fx_flag:  # the flag is optional: without it, rates are looked up in ref.fx_rates_yearly
            con.execute("alter table marts.fct_donation drop column is_missing_fx_rate")
        # Each fact row carries the file and row it comes from, as the dbt marts do (same order as raw).
        for table, raw_rows in (("fct_membership", MEMBERSHIPS), ("fct_visit", VISITS), ("fct_donation", DONATIONS)):
            con.execute(f"alter table marts.{table} add column file_path varchar")
            con.execute(f"alter table marts.{table} add column source_row_number bigint")
            for position, (file_path, row_number, *_rest) in enumerate(raw_rows):
                con.execute(
                    f"update marts.{table} set file_path = ?, source_row_number = ? where rowid = ?",
                    [file_path, row_number, position],
                )
        con.execute(
            "create table marts.fct_cooperation_activity as "
            "select 'membership' as activity_family, 'membership' as activity_type, institution_key, "
            f"'{_key('UNKNOWN')}' as partner_institution_key, organization_key, '{_key('VN')}' as country_key, "
            f"'{_key('ZZ')}' as partner_country_key, joined_date_key as date_key, "
            "cast(null as bigint) as delegations, cast(null as bigint) as participants, "
            "cast(null as bigint) as quantity, cast(null as double) as amount_usd, file_path, source_row_number "
            "from marts.fct_membership "
            "union all "
            "select 'visit', activity_type, host_institution_key, guest_institution_key, "
            f"'{_key('UNKNOWN')}', host_country_key, guest_country_key, start_date_key, delegations, participants, "
            "null, null, file_path, source_row_number from marts.fct_visit "
            "union all "
            "select 'donation', donation_type, recipient_institution_key, donor_institution_key, "
            f"'{_key('UNKNOWN')}', recipient_country_key, donor_country_key, start_date_key, null, null, quantity, "
            "amount_usd, file_path, source_row_number from marts.fct_donation"
        )
    return path


def add_file_audit(path: Path, loads: list[tuple], rejections: list[tuple] = ()) -> None:
    """audit.file_loads / audit.file_rejections as libcoop.ingest.load writes them.

    loads: (load_id, file_path, country_code, kind, outcome, row_count, problem_count, message);
    rejections: (load_id, file_path, country_code, row_number, column_name, value, rule, explanation, advice).
    """
    checked_at = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
    with duckdb.connect(str(path)) as con:
        ensure_audit_tables(con)
        for load_id, file_path, country, kind, outcome, rows, problems, message in loads:
            con.execute(
                "insert into audit.file_loads values (?, ?, ?, ?, ?, 'sha', ?, ?, ?, ?)",
                [load_id, checked_at, file_path, country, kind, outcome, rows, problems, message],
            )
        for load_id, file_path, country, row, column, value, rule, explanation, advice in rejections:
            con.execute(
                "insert into audit.file_rejections values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null)",
                [load_id, checked_at, file_path, country, row, column, value, rule, explanation, advice],
            )


def start_the_delegation_in_1850(con: duckdb.DuckDBPyConnection) -> None:
    """A warning, in raw.visits and marts.fct_visit: the delegation's visit starts in 1850."""
    con.execute("insert into marts.dim_date values (18500101, date '1850-01-01', 1850, 1, 1, false)")
    con.execute("update marts.fct_visit set start_date_key = 18500101 where activity_type = 'delegation'")
    con.execute("update raw.visits set start_date = date '1850-01-01' where activity_type = 'delegation'")


def audit_a_loaded_and_a_rejected_file(path: Path, load_id: str, rejected_amount: str) -> None:
    """The audit of a load: VN's visits file loaded, CN's donations rejected for row 5's ``rejected_amount``."""
    add_file_audit(
        path,
        loads=[
            (load_id, "VN/visits_2000-2010.xlsx", "VN", "visits", "loaded", 1, 0, None),
            (load_id, "CN/donations.csv", "CN", "donations", "rejected", 0, 1, "1 x amount_not_a_number"),
        ],
        rejections=[
            (load_id, "CN/donations.csv", "CN", 5, "amount", rejected_amount, "amount_not_a_number",
             "amount is not a number", "write the amount with digits only"),
        ],
    )  # fmt: skip


def visible_text(page: str) -> str:
    """The text of an HTML page as a reader sees it (no tags, no scripts, entities decoded, spaces collapsed)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture
def context_dir(tmp_path: Path) -> Path:
    """A copy of the committed Great Expectations context, without anything uncommitted."""
    target = tmp_path / "expectations"
    shutil.copytree(COMMITTED_CONTEXT, target, ignore=shutil.ignore_patterns("uncommitted"))
    return target


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return build_warehouse(tmp_path / "build.duckdb")


@pytest.fixture
def run_paths(tmp_path: Path, context_dir: Path) -> Paths:
    """A project whose published warehouse (the last good one) is the clean small warehouse."""
    paths = Paths(
        raw_dir=tmp_path / "raw", warehouse=tmp_path / "warehouse" / "cooperation.duckdb", expectations_dir=context_dir
    )
    paths.warehouse.parent.mkdir(parents=True)
    build_warehouse(paths.warehouse)
    return paths


def new_build(paths: Paths, run_id: str) -> Path:
    """A run's build, where libcoop.warehouse.publish.prepare_build puts it (here: the clean small warehouse)."""
    build = paths.build_dir / run_id / paths.warehouse.name
    build.parent.mkdir(parents=True)
    return build_warehouse(build)


def _validate_record_and_publish_docs(paths: Paths, build: Path, run_id: str) -> tuple[quality.QualityReport, Path]:
    """What the validate step does: validate, keep the results in the build, publish the Data Docs."""
    report = quality.validate_warehouse(build, run_id, paths.expectations_dir)
    with duckdb.connect(str(build)) as con:
        quality.record_results(con, report)
    index = quality.publish_data_docs(report, quality.data_docs_target(paths.warehouse))
    return report, index


def validate_changed(warehouse: Path, context_dir: Path, run_id: str, *changes: str) -> quality.QualityReport:
    """``warehouse`` validated as run ``run_id`` once the SQL statements ``changes`` changed it."""
    with duckdb.connect(str(warehouse)) as con:
        for change in changes:
            con.execute(change)
    return quality.validate_warehouse(warehouse, run_id, context_dir)


def _dq_rows(database: Path, run_id: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            "select suite, expectation, column_name, severity, unexpected_count from audit.dq_results "
            "where run_id = ? and not success order by suite, expectation, column_name",
            [run_id],
        ).fetchall()


def _suite_page(report: quality.QualityReport, index: Path, suite: str) -> str:
    """The visible text of this run's Data Docs page of ``suite``, as published."""
    return visible_text((index.parent / report.validation_pages[suite]).read_text(encoding="utf-8"))


def _blocked_then_next_run_publishes(paths: Paths, build: Path, report: quality.QualityReport) -> None:
    """A blocked run leaves the published warehouse as it was; its results reach it with the next run."""
    before = paths.warehouse.read_bytes()
    started = dt.datetime.now(dt.UTC)
    with pytest.raises(PublishBlocked, match="critical data-quality check failed"):
        publish_step(paths, build, report.run_id, {"loaded": 1}, report.passed, report.summary(), started)
    assert not build.exists()
    assert paths.warehouse.read_bytes() == before, "a blocked run must leave the last good warehouse as it was"
    store = audit.audit_store(paths.warehouse)
    assert audit.runs_not_published(store, paths.warehouse) == [report.run_id]

    # The next run, with good data: its build is a copy of the published warehouse.
    following = paths.build_dir / "run-next" / paths.warehouse.name
    following.parent.mkdir(parents=True)
    shutil.copyfile(paths.warehouse, following)
    publish_step(paths, following, "run-next", {"unchanged": 1}, True, "data quality: fine", dt.datetime.now(dt.UTC))
    assert audit.runs_not_published(store, paths.warehouse) == []
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        runs = con.execute("select run_id, status from audit.runs order by finished_at").fetchall()
    assert runs == [(report.run_id, "blocked"), ("run-next", "published")]


def _failed(report: quality.QualityReport) -> list[tuple[str, str, str | None, str, int | None]]:
    return sorted(
        (o.suite, o.expectation, o.column, o.severity, o.unexpected_count) for o in report.outcomes if not o.success
    )


def _committed_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "uncommitted" not in p.relative_to(root).parts
    }


def test_good_data_passes_every_suite(warehouse: Path, context_dir: Path) -> None:
    report = quality.validate_warehouse(warehouse, "run-good", context_dir)

    assert _failed(report) == []
    assert report.passed
    assert report.critical_failures == () and report.warnings == ()
    assert {o.suite for o in report.outcomes} == set(quality.SUITE_NAMES)
    assert {o.severity for o in report.outcomes} == {"critical", "warning"}
    assert all(o.description and o.expectation.startswith("expect_") for o in report.outcomes)
    assert report.summary() == f"data quality: {len(report.outcomes)} checks, 0 critical failures, 0 warnings"


def test_validation_leaves_the_committed_context_unchanged(warehouse: Path, context_dir: Path) -> None:
    before = _committed_files(context_dir)

    quality.validate_warehouse(warehouse, "run-1", context_dir)
    report = quality.validate_warehouse(warehouse, "run-2", context_dir, keep_runs=1)

    assert _committed_files(context_dir) == before, "re-run `libcoop.quality.register_suites` and commit"
    # Only the newest run's results are kept, in the store and in the site.
    uncommitted = context_dir / "gx" / "uncommitted"
    kept = {p.relative_to(uncommitted / "validations").parts[1] for p in (uncommitted / "validations").rglob("*.json")}
    assert kept == {"run-2"}
    # The site holds this run's pages only.
    pages = [report.data_docs_dir / page for page in report.validation_pages.values()]
    assert sorted(p.name for p in (report.data_docs_dir / "suites").iterdir()) == sorted(p.name for p in pages)
    assert all("run-2" in p.read_text(encoding="utf-8") and "run-1" not in p.read_text(encoding="utf-8") for p in pages)


def test_a_fact_row_raw_does_not_hold_is_a_critical_failure(run_paths: Paths) -> None:
    build = new_build(run_paths, "run-untraced")
    with duckdb.connect(str(build)) as con:
        # A fact row whose lineage points to no current raw row: the build lost or invented a row.
        con.execute("update marts.fct_visit set source_row_number = 99 where event = '35th business exchange'")

    report, index = _validate_record_and_publish_docs(run_paths, build, "run-untraced")

    failure = ("marts_integrity_fct_visit", "expect_column_values_to_be_null", "not_in_raw", "critical", 1)
    assert _failed(report) == [failure]
    assert not report.passed
    (outcome,) = report.critical_failures
    assert outcome.observed_value == "unexpected: CN/visits_2015.csv row 99"
    assert quality.results.problem_sentence(outcome) == (
        "1 visit naming a file and row that raw.current_visits does not hold (CN/visits_2015.csv row 99): "
        "CN/visits_2015.csv row 99."
    )
    assert report.summary().endswith("1 critical failure, 0 warnings")
    assert _dq_rows(build, "run-untraced") == [failure]
    page = _suite_page(report, index, "marts_integrity_fct_visit")
    assert "(critical; check: expect_column_values_to_be_null)" in page
    assert "not_in_raw" in page and "failed 1 unexpected: " in page
    home = visible_text(index.read_text(encoding="utf-8"))
    assert "the build is not published" in home and "raw.current_visits does not hold" in home

    _blocked_then_next_run_publishes(run_paths, build, report)
    assert _dq_rows(run_paths.warehouse, "run-untraced") == [failure]


@pytest.mark.parametrize(
    ("broken", "failure", "observed"),
    [
        (
            "update marts.fct_visit set participants = 60 where event = '35th business exchange'",
            ("marts_integrity_fct_visit", "expect_column_sum_to_be_between", "participants", "critical", None),
            "2124",
        ),
        (
            "update marts.fct_donation set amount = 200000 where currency = 'USD'",
            ("marts_integrity_fct_donation", "expect_column_values_to_be_null", "currency_total_mismatch", "critical", 1),
            "unexpected: USD: 200000.0 in the marts, 100000.0 in raw",
        ),
        (
            # raw now says IFLA twice, the marts still hold one IFLA and one CONSAL membership
            "update raw.memberships set organization = 'IFLA' where organization = 'CONSAL'",
            ("marts_integrity_fct_membership", "expect_column_values_to_be_null", "organization_count_mismatch",
             "critical", 1),  # one file (VN's) holds both memberships: one summary row, both named
            "unexpected: CONSAL: 1 in the marts, 2 in raw, IFLA: 1 in the marts, 2 in raw",
        ),
    ],
    ids=["participants", "amount-per-currency", "memberships-per-organization"],
)  # fmt: skip
def test_the_marts_totals_reconcile_with_the_raw_layer(
    warehouse: Path, context_dir: Path, broken: str, failure: tuple, observed: str
) -> None:
    report = validate_changed(warehouse, context_dir, "run-totals", broken)

    assert _failed(report) == [failure]
    assert report.critical_failures[0].observed_value == observed


def test_negative_amount_in_fct_donation_is_a_critical_failure(run_paths: Paths) -> None:
    build = new_build(run_paths, "run-negative")
    with duckdb.connect(str(build)) as con:
        con.execute("update marts.fct_donation set amount = -100000 where currency = 'USD'")

    report, index = _validate_record_and_publish_docs(run_paths, build, "run-negative")

    # The contract check rejects a negative amount before loading (GX does not state that rule again):
    # here the marts were changed under raw, and the USD total no longer matches raw.
    total = (
        "marts_integrity_fct_donation",
        "expect_column_values_to_be_null",
        "currency_total_mismatch",
        "critical",
        1,
    )
    failure = [total]
    assert _failed(report) == failure
    assert not report.passed
    observed = {o.column: o.observed_value for o in report.critical_failures}
    assert observed == {"currency_total_mismatch": "unexpected: USD: -100000.0 in the marts, 100000.0 in raw"}
    assert _dq_rows(build, "run-negative") == failure
    page = _suite_page(report, index, "marts_integrity_fct_donation")
    assert (
        "the amounts of each currency add up to those of raw.current_donations "
        "(critical; check: expect_column_values_to_be_null)" in page
    )
    assert "-100000" in page and "failed 1 unexpected: " in page

    _blocked_then_next_run_publishes(run_paths, build, report)
    assert _dq_rows(run_paths.warehouse, "run-negative") == failure


def test_start_date_in_1850_is_only_a_warning(run_paths: Paths) -> None:
    build = new_build(run_paths, "run-1850")
    with duckdb.connect(str(build)) as con:
        start_the_delegation_in_1850(con)
    audit_a_loaded_and_a_rejected_file(build, "run-1850", "<img src=x onerror=alert(1)>")

    report, index = _validate_record_and_publish_docs(run_paths, build, "run-1850")

    failures = [
        ("marts_integrity_fct_visit", "expect_column_values_to_be_between", "start_day", "warning", 1),
        ("raw_visits", "expect_column_values_to_be_between", "start_date", "warning", 1),
    ]
    assert _failed(report) == failures
    assert report.passed
    assert len(report.warnings) == 2
    assert report.summary().endswith("0 critical failures, 2 warnings")
    assert _dq_rows(build, "run-1850") == failures
    page = _suite_page(report, index, "raw_visits")
    assert (
        "start_date lies between 1900-01-01 and one year from today (warning; check: expect_column_values_to_be_between)"
        in page
    )
    assert "1850-01-01" in page and "failed 1 unexpected: " in page

    # The country pages: VN's visit is the failing row, CN's rejected file lists its problem, escaped.
    vn = visible_text((index.parent / "countries" / "VN.html").read_text(encoding="utf-8"))
    assert "VN/visits_2000-2010.xlsx row 2: start_date=1850-01-01" in vn
    assert "1 warning" in vn and "0 critical failures" in vn and "loaded" in vn
    cn_html = (index.parent / "countries" / "CN.html").read_text(encoding="utf-8")
    assert "<img src=x" not in cn_html
    assert "&lt;img src=x onerror=alert(1)&gt;" in cn_html
    assert "amount is not a number" in cn_html and "rejected" in cn_html

    # A warning does not stop the publication: the build, with its results, is the published warehouse now.
    published = publish_step(
        run_paths, build, "run-1850", {"loaded": 1}, report.passed, report.summary(), report.validated_at
    )
    assert published.status == "published"
    assert _dq_rows(run_paths.warehouse, "run-1850") == failures


def test_a_raw_warning_names_its_file_and_row_escaped(warehouse: Path, context_dir: Path) -> None:
    # File names come from coordinators: markup must reach the pages as text.
    report = validate_changed(
        warehouse,
        context_dir,
        "run-raw",
        "update raw.visits set activity_type = 'delegation', participants = 300000, "
        "file_path = 'SG/<b>visits</b>.csv' where activity_type = 'training'",
    )

    page = (report.data_docs_dir / report.validation_pages["raw_visits"]).read_text(encoding="utf-8")
    assert "<b>visits" not in page and "SG/&lt;b&gt;visits&lt;/b&gt;.csv" in page
    assert "failed 1 unexpected: 300000" in visible_text(page)
    # The stored result (what the Data Docs page renders) names the failing row's file and row, as
    # GX writes them when asked to (batches.name_failing_rows), not its place in the dataframe;
    # its values HTML-escaped (GX puts them into its pages as they are).
    (stored,) = (context_dir / "gx" / "uncommitted" / "validations" / "raw_visits" / "run-raw").rglob("*.json")
    results = json.loads(stored.read_text(encoding="utf-8"))["results"]
    (per_delegation,) = [r["result"] for r in results if not r["success"]]
    assert per_delegation["unexpected_index_column_names"] == ["reporting_country", "file_path", "source_row_number"]
    assert per_delegation["partial_unexpected_index_list"] == [
        {
            "participants_per_delegation": 300000.0,
            "reporting_country": "SG",
            "file_path": "SG/&lt;b&gt;visits&lt;/b&gt;.csv",
            "source_row_number": 2,
        }
    ]
    sg = next(c for c in report.countries if c.country_code == "SG")
    assert {(c.outcome.column, c.failing_rows) for c in sg.failed_checks if c.outcome.suite == "raw_visits"} == {
        (
            "participants_per_delegation",
            (quality.FailingRow("SG/<b>visits</b>.csv", 2, "participants_per_delegation=300000"),),
        ),
    }
    assert [f for f in _failed(report) if f[0].startswith("raw_")] == [
        ("raw_visits", "expect_column_values_to_be_between", "participants_per_delegation", "warning", 1),
    ]


def test_a_date_column_without_any_value_is_fine(warehouse: Path, context_dir: Path) -> None:
    report = validate_changed(
        warehouse, context_dir, "run-no-left", 'update raw.memberships set "left" = null, left_precision = null'
    )

    assert _failed(report) == []


def test_participants_per_delegation_is_checked_for_travelling_delegations_only(
    warehouse: Path, context_dir: Path
) -> None:
    report = validate_changed(
        warehouse,
        context_dir,
        "run-participants",
        # 14th CONSAL General Conference: 1,000 attendees, one (host) delegation: plausible.
        "update raw.visits set activity_type = 'conference', participants = 1000 where delegations = 1",
        # 549 delegations but 300,000 visitors: implausible.
        "update raw.visits set participants = 300000 where activity_type = 'delegation'",
    )

    # (raw was changed under the marts: their totals no longer reconcile, which is checked elsewhere)
    assert [f for f in _failed(report) if f[0].startswith("raw_")] == [
        ("raw_visits", "expect_column_values_to_be_between", "participants_per_delegation", "warning", 1)
    ]


def test_row_counts_reconcile_with_the_raw_layer(warehouse: Path, context_dir: Path) -> None:
    report = validate_changed(
        warehouse,
        context_dir,
        "run-rows",
        f"delete from marts.fct_membership where organization_key = '{_key('CONSAL')}'",
    )

    (failure,) = report.critical_failures
    # The fact's summary rows stand for fact_rows rows each: the fact's rows are their sum.
    assert (failure.suite, failure.expectation, failure.column, failure.observed_value) == (
        "marts_integrity_fct_membership",
        "expect_column_sum_to_be_between",
        "fact_rows",
        "2",
    )


@pytest.mark.parametrize("fx_flag", [True, False], ids=["is_missing_fx_rate", "ref.fx_rates_yearly"])
def test_a_donation_without_exchange_rate_is_flagged_as_a_warning(
    tmp_path: Path, context_dir: Path, fx_flag: bool
) -> None:
    warehouse = build_warehouse(tmp_path / "build.duckdb", fx_flag=fx_flag)
    flag = ", is_missing_fx_rate = true" if fx_flag else ""
    # A KRW grant: no rate in the reference table, so no amount in USD.
    report = validate_changed(
        warehouse,
        context_dir,
        "run-fx",
        "update raw.donations set currency = 'KRW', amount = 5000000 where currency = 'JPY'",
        f"update marts.fct_donation set currency = 'KRW', amount = 5000000, amount_usd = null{flag} "
        "where currency = 'JPY'",
    )

    assert _failed(report) == [
        ("marts_integrity_fct_donation", "expect_column_values_to_be_null", "missing_fx_rate", "warning", 1)
    ]
    assert report.passed
    # In words, naming the currency, the year, the file and the row.
    assert quality.results.problem_sentence(report.warnings[0]) == (
        "1 donation in a currency without an exchange rate for their start year, so without an amount in USD "
        "(KRW in 2008): VN/donations_nlv-2000-2012.xlsx row 4."
    )
    (vn,) = [v for v in report.countries if v.country_code == "VN"]
    assert [c.outcome.expectation for c in vn.failed_checks] == ["expect_column_values_to_be_null"]


def test_a_missing_column_fails_its_own_checks_not_the_run(warehouse: Path, context_dir: Path) -> None:
    report = validate_changed(
        warehouse,
        context_dir,
        "run-missing-column",
        "create or replace view raw.current_donations as select * exclude (end_date, end_date_precision) "
        "from raw.donations",
    )

    assert _failed(report) == [("raw_donations", "expect_column_values_to_be_between", "end_date", "warning", None)]
    assert "end_date" in (report.warnings[0].observed_value or "")
    assert report.warnings[0].observed_value.startswith("error: ")


def test_record_results_writes_one_row_per_outcome(warehouse: Path, context_dir: Path) -> None:
    report = validate_changed(
        warehouse, context_dir, "run-audit", "update marts.fct_donation set amount = -1 where currency = 'USD'"
    )

    with duckdb.connect(str(warehouse)) as con:
        quality.record_results(con, report)
        quality.record_results(con, report)  # a retried task: same rows, not twice as many
        rows = con.execute(
            "select run_id, validated_at, suite, expectation, column_name, severity, success, observed_value, "
            "unexpected_count, description from audit.dq_results order by suite, expectation, column_name"
        ).fetchall()
        failed = con.execute(
            "select suite, expectation, column_name, severity, unexpected_count from audit.dq_results where not success"
        ).fetchall()

    assert len(rows) == len(report.outcomes)
    assert {r[0] for r in rows} == {"run-audit"}
    assert all(isinstance(r[1], dt.datetime) for r in rows)
    assert sorted(failed) == [
        ("marts_integrity_fct_donation", "expect_column_values_to_be_null", "currency_total_mismatch", "critical", 1),
    ]
    # The raw suites' results per file version in force: 2 checks x 2 membership files, 3 x 3 visit
    # files, 2 x 1 donation file; written once, whatever the retries.
    with duckdb.connect(str(warehouse)) as con:
        per_file = con.execute(
            "select suite, count(distinct file_path), count(*) from audit.dq_file_results group by suite order by suite"
        ).fetchall()
    assert per_file == [("raw_donations", 1, 2), ("raw_memberships", 2, 4), ("raw_visits", 3, 9)]


def test_data_docs_show_every_suite(warehouse: Path, context_dir: Path, tmp_path: Path) -> None:
    report = quality.validate_warehouse(warehouse, "run-docs", context_dir)

    assert report.data_docs_dir is not None
    assert report.data_docs_dir.is_relative_to(context_dir)
    assert "uncommitted" in report.data_docs_dir.parts
    assert set(report.validation_pages) == set(quality.SUITE_NAMES)
    target = quality.data_docs_target(tmp_path / "warehouse" / "cooperation.duckdb")
    assert target == tmp_path / "warehouse" / "data_docs"
    (target / "stale.html").parent.mkdir(parents=True)
    (target / "stale.html").write_text("from an earlier run")

    index = quality.publish_data_docs(report, target)

    assert index == target / "index.html"
    assert not (target / "stale.html").exists()
    assert [p.name for p in target.parent.iterdir()] == ["data_docs"]  # no staging folder left behind
    home = visible_text(index.read_text(encoding="utf-8"))
    for name in quality.SUITE_NAMES:
        assert name in home
        assert (target / report.validation_pages[name]).is_file()
        assert "<script" not in (target / report.validation_pages[name]).read_text(encoding="utf-8")
    assert not (target / "great_expectations.html").exists()  # GX's own pages need CDNs: not built
    assert "run-docs" in home and "the build may be published" in home
    assert sorted(p.name for p in (target / "countries").iterdir()) == ["CN.html", "SG.html", "VN.html", "index.html"]


def test_the_committed_context_ignores_uncommitted_files() -> None:
    ignored = (COMMITTED_CONTEXT / ".gitignore").read_text(encoding="utf-8").split()
    assert "uncommitted/" in ignored
    assert (COMMITTED_CONTEXT / "gx" / "great_expectations.yml").is_file()
    for name in quality.SUITE_NAMES:
        assert (COMMITTED_CONTEXT / "gx" / "expectations" / f"{name}.json").is_file(), name
