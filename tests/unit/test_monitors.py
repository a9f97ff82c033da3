"""Monitors per country and kind (libcoop.quality.monitors), on real DuckDB builds loaded by the real
loader (``load_drop``, no dbt): a country whose files are old gets a freshness warning on its
page, a new version far smaller than the one it replaces a volume warning, a version filling other
optional columns a schema note; the run's rows of audit.monitor_findings hold them, and none of
them blocks a publish."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from libcoop.door.mail import body
from libcoop.ingest.load import load_drop
from libcoop.pipeline import RunSummary
from libcoop.quality import CountryCheck, CountryView, ExpectationOutcome, QualityReport
from libcoop.quality.monitors import find_monitors, mail_findings, record_findings, with_monitors
from libcoop.quality.site import _countries_index, _country_page
from libcoop.settings import freshness_days, resolve_paths, volume_ratio

HEADER = "record_id,activity_type,host_institution,host_country,guest_institution,guest_country,start_date,participants"


def visits(n: int, *, program: bool = False, prefix: str = "v") -> str:
    """A visits file of ``n`` rows; with ``program``, the optional column program filled too."""
    lines = [HEADER + (",program" if program else "")]
    for i in range(1, n + 1):
        row = f"{prefix}{i},business_exchange,National Library of Viet Nam,VN,National Library of China,CN,2016-01-{i % 28 + 1:02d},{i}"
        lines.append(row + (",INELI" if program else ""))
    return "\n".join(lines) + "\n"


class Build:
    """A build file loaded run after run from a drop folder in tmp_path."""

    def __init__(self, tmp_path: Path, drop) -> None:  # type: ignore[no-untyped-def]
        self.drop = drop
        self.path = tmp_path / "build.duckdb"
        self.paths = resolve_paths(drop.raw_dir, tmp_path / "warehouse" / "cooperation.duckdb")

    def load(self, run_id: str) -> None:
        with duckdb.connect(str(self.path)) as con:
            load_drop(con, self.paths, run_id)

    @property
    def day(self) -> dt.date:
        """The day of the build's latest load, as loaded_at holds it: a clock read when the test runs
        would be a day late for a suite collected before midnight and run after it."""
        with duckdb.connect(str(self.path)) as con:  # the configuration of the tests' other connections
            (at,) = con.execute("select max(loaded_at) from raw.file_versions").fetchone()
        return at.astimezone(dt.UTC).date() if at.tzinfo else at.date()

    def findings(self, run_id: str, today: dt.date | None = None, **kwargs):  # type: ignore[no-untyped-def]
        today = self.day if today is None else today
        with duckdb.connect(str(self.path)) as con:
            return find_monitors(con, run_id, today, **kwargs)


@pytest.fixture
def build(tmp_path: Path, drop) -> Build:  # type: ignore[no-untyped-def]
    drop("VN/visits.csv", visits(10))
    drop("KR/visits.csv", visits(4, prefix="k"))
    made = Build(tmp_path, drop)
    made.load("run-1")
    return made


def report_of(run_id: str, findings) -> QualityReport:  # type: ignore[no-untyped-def]
    passed = ExpectationOutcome("raw_visits", "expect_column_values_to_not_be_null", "start_date", "critical", True,
                                None, 0, "start_date is given")  # fmt: skip
    views = tuple(CountryView(code, {"visits": 4}, (), (), (CountryCheck(passed),)) for code in ("KR", "VN"))
    return QualityReport(run_id, (passed,), None, countries=views, monitor_findings=tuple(findings))


def test_a_first_load_is_news_to_no_monitor(build: Build) -> None:
    assert build.findings("run-1") == ()


def test_a_country_silent_longer_than_its_limit_gets_a_freshness_warning_on_its_page(build: Build) -> None:
    # Korea's visits aged 400 days (set back as a later run would find them).
    with duckdb.connect(str(build.path)) as con:
        con.execute("update raw.file_versions set loaded_at = loaded_at - interval 400 days where country_code = 'KR'")
    findings = build.findings("run-2")

    assert [(f.country_code, f.kind, f.monitor, f.observed, f.threshold) for f in findings] == [
        ("KR", "visits", "freshness", 400, 365)
    ]
    assert findings[0].detail.startswith("KR has sent no new or changed visits file for 400 days (the last arrived on ")
    page = _country_page(report_of("run-2", findings), CountryView("KR", {"visits": 4}, (), (), ()))
    assert '<h3 id="monitors-title">Monitors</h3>' in page
    assert "KR has sent no new or changed visits file for 400 days" in page
    assert "1 warning" in page and "0 warnings" not in page
    vn_page = _country_page(report_of("run-2", findings), CountryView("VN", {"visits": 10}, (), (), ()))
    assert "Monitors" not in vn_page
    index = _countries_index(report_of("run-2", findings))
    assert '<a href="KR.html">KR</a></td><td>0</td><td>0</td>\n<td>0</td>\n<td><span class="warning">1</span>' in index
    assert '<a href="VN.html">VN</a></td><td>0</td><td>0</td>\n<td>0</td>\n<td>0</td>' in index


def test_freshness_limits_per_kind_and_country(build: Build, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIBCOOP_FRESHNESS_DAYS", "30")
    monkeypatch.setenv("LIBCOOP_FRESHNESS_DAYS_VISITS", "180")
    monkeypatch.setenv("LIBCOOP_FRESHNESS_DAYS_KR", "90")
    monkeypatch.setenv("LIBCOOP_FRESHNESS_DAYS_VN_VISITS", "0")  # off for Viet Nam's visits

    assert (freshness_days("KR", "visits"), freshness_days("KR", "donations")) == (180, 90)
    assert (freshness_days("CN", "donations"), freshness_days("VN", "visits")) == (30, 0)
    later = [(f.country_code, f.threshold) for f in build.findings("run-2", build.day + dt.timedelta(days=181))]
    assert later == [("KR", 180)]
    assert build.findings("run-2", build.day + dt.timedelta(days=180)) == ()  # 180 days is not longer than 180


def test_a_new_version_far_smaller_than_the_last_gets_a_volume_warning(build: Build) -> None:
    build.drop("VN/visits.csv", visits(2))  # 2 rows replace 10
    build.drop("KR/visits.csv", visits(3, prefix="k"))  # 3 replace 4: 75%, not a warning
    build.load("run-2")
    findings = build.findings("run-2")

    assert [(f.country_code, f.file_path, f.monitor, f.observed, f.threshold) for f in findings] == [
        ("VN", "VN/visits.csv", "file_volume", 2, 5)
    ]
    assert findings[0].detail.startswith(
        "VN/visits.csv: the new version has 2 rows, the version it replaces had 10 rows (20%); "
        "the monitor warns below 50%."
    )
    page = _country_page(report_of("run-2", findings), CountryView("VN", {"visits": 2}, (), (), ()))
    assert "the new version has 2 rows, the version it replaces had 10 rows" in page


def test_an_optional_column_gained_or_lost_is_a_schema_note(build: Build) -> None:
    build.drop("VN/visits.csv", visits(10, program=True))
    build.load("run-2")
    gained = build.findings("run-2")
    build.drop("VN/visits.csv", visits(10, prefix="w"))  # new bytes (the first ones again would be restored)
    build.load("run-3")
    lost = build.findings("run-3")

    assert [(f.file_path, f.monitor, f.observed) for f in gained] == [("VN/visits.csv", "schema", 1)]
    assert gained[0].detail == (
        "VN/visits.csv: the new version fills the optional column program, unlike the version it replaces."
    )
    assert [(f.file_path, f.monitor) for f in lost] == [("VN/visits.csv", "schema")]
    assert "leaves empty (or lacks) the optional column program" in lost[0].detail
    assert "put it back" in lost[0].detail
    page = _country_page(report_of("run-2", gained), CountryView("VN", {"visits": 10}, (), (), ()))
    assert "fills the optional column program" in page


def test_a_country_whose_rows_in_force_leave_their_range_gets_a_night_volume_warning(tmp_path: Path, drop) -> None:  # type: ignore[no-untyped-def]
    made = Build(tmp_path, drop)
    drop("VN/visits_a.csv", visits(10, prefix="a"))
    drop("VN/visits_b.csv", visits(10, prefix="b"))
    drop("VN/visits_c.csv", visits(2, prefix="c"))
    made.load("run-1")  # 22 rows in force
    drop("VN/visits_c.csv", visits(3, prefix="c"))
    made.load("run-2")  # 23
    (drop.incoming / "VN" / "visits_a.csv").unlink()
    (drop.incoming / "VN" / "visits_b.csv").unlink()
    made.load("run-3")  # 3: no file shrank, two were removed

    assert made.findings("run-2", history=1) == ()
    findings = made.findings("run-3", history=2)
    assert [(f.country_code, f.monitor, f.observed, f.threshold) for f in findings] == [("VN", "night_volume", 3, 11)]
    assert findings[0].detail.startswith(
        "VN has 3 rows of visits in force after this run; after the 2 earlier runs that changed its visits files "
        "it had between 22 and 23; the monitor warns below 11 or above 46."
    )
    assert made.findings("run-3", history=3) == ()  # too little history to judge


def test_findings_are_kept_per_run_and_counted_never_blocking(build: Build, tmp_path: Path) -> None:
    build.drop("VN/visits.csv", visits(2, program=True))
    build.load("run-2")
    report = with_monitors(report_of("run-2", ()), build.path, build.day + dt.timedelta(days=400))
    with_monitors(report, build.path, build.day + dt.timedelta(days=400))  # a retried task: the same rows, once

    assert [f.monitor for f in report.monitor_findings] == ["freshness", "freshness", "file_volume", "schema"]
    assert report.passed and report.critical_failures == ()
    assert report.warning_count == 4
    assert report.summary() == "data quality: 1 check, 0 critical failures, 4 warnings (4 monitor warnings)"
    with duckdb.connect(str(build.path), read_only=True) as con:
        kept = con.execute(
            "select run_id, country_code, kind, file_path, monitor, observed, threshold from audit.monitor_findings "
            "order by country_code, monitor"
        ).fetchall()
    assert kept == [
        ("run-2", "KR", "visits", None, "freshness", 400.0, 365.0),
        ("run-2", "VN", "visits", "VN/visits.csv", "file_volume", 2.0, 5.0),
        ("run-2", "VN", "visits", None, "freshness", 400.0, 365.0),
        ("run-2", "VN", "visits", "VN/visits.csv", "schema", 1.0, 0.0),
    ]
    summary = RunSummary("run-2", "published", tmp_path / "w.duckdb", {"loaded": 1}, monitor_warnings=4)
    assert "  monitors: 4 warnings (freshness, volume, schema) on country pages" in summary.render()


def test_the_mail_lists_each_country_s_findings_new_ones_first_seen(build: Build, tmp_path: Path) -> None:
    later = dt.datetime.now(dt.UTC)
    with duckdb.connect(str(build.path)) as con:
        con.execute("create table audit.runs_seen as select 1")  # a build with other audit tables is fine
        for run_id, at in (("run-1", later - dt.timedelta(days=1)), ("run-2", later)):
            con.execute("insert into audit.runs values (?, ?, ?, 'published', '{}', '{}', '', null)", [run_id, at, at])
        findings = find_monitors(con, "run-1", build.day + dt.timedelta(days=400))
        record_findings(con, "run-1", [f for f in findings if f.country_code == "KR"], later)
        record_findings(con, "run-2", findings, later)
    found = mail_findings(build.path, "run-2")

    assert {country: [new for _, new in lines] for country, lines in found.items()} == {"KR": [False], "VN": [True]}
    text = body(build.paths, "VN", "run-2", [], [], [detail for detail, _ in found["VN"]])
    assert "The monitors noticed (warnings only: the warehouse was published):" in text
    assert "- VN has sent no new or changed visits file for 400 days" in text


def test_the_volume_ratio_is_a_share(monkeypatch: pytest.MonkeyPatch) -> None:
    assert volume_ratio() == 0.5
    monkeypatch.setenv("LIBCOOP_VOLUME_RATIO", "2")
    with pytest.raises(ValueError, match=r"LIBCOOP_VOLUME_RATIO=2\.0: use a share between 0 and 1"):
        volume_ratio()


def test_a_quiet_country_is_mailed_once_about_its_silence(build: Build, tmp_path: Path) -> None:
    from libcoop.door.mail import run_messages
    from libcoop.door.store import Store
    from libcoop.settings import door_dir

    build.drop("VN/visits.csv", visits(12))
    build.load("run-2")  # VN's visits change, KR's stay as they were
    paths = resolve_paths(build.drop.raw_dir, build.path)  # the build stands for the published warehouse
    store = Store(door_dir(paths.warehouse))
    store.add_user("jiwoo@nl.go.kr", "a long enough passphrase", ["KR"])
    store.add_user("lan@nlv.gov.vn", "a long enough passphrase", ["VN"])
    now = dt.datetime.now(dt.UTC)
    with duckdb.connect(str(build.path)) as con:
        findings = find_monitors(con, "run-2", build.day + dt.timedelta(days=400))
        record_findings(con, "run-2", findings, now)
        con.execute("insert into audit.runs values ('run-2', ?, ?, 'published', '{}', '{}', '', null)", [now, now])

    first = {m["To"]: m.get_content() for m in run_messages(paths, "run-2")}
    assert sorted(first) == ["jiwoo@nl.go.kr", "lan@nlv.gov.vn"]  # KR's files are unchanged: its silence is news
    assert "- KR has sent no new or changed visits file for 400 days" in first["jiwoo@nl.go.kr"]
    assert "- KR/visits.csv: unchanged" in first["jiwoo@nl.go.kr"]

    with duckdb.connect(str(build.path)) as con:  # the next run finds the same silence, and nothing else new
        record_findings(con, "run-3", findings, now)
        con.execute("update audit.file_loads set load_id = 'run-3' where load_id = 'run-2' and country_code = 'KR'")
    assert [m["To"] for m in run_messages(paths, "run-3")] == []


def test_a_blocked_run_s_findings_reach_the_next_published_build(build: Build, tmp_path: Path) -> None:
    from libcoop.audit import bring_in, keep_run

    with duckdb.connect(str(build.path)) as con:
        findings = find_monitors(con, "run-1", build.day + dt.timedelta(days=400))
        record_findings(con, "run-1", findings, dt.datetime.now(dt.UTC))
    store = tmp_path / "cooperation.audit.duckdb"
    keep_run(store, build.path, "run-1")  # blocked: its build is discarded
    old_store = tmp_path / "old.audit.duckdb"  # kept by a version without the monitors
    with duckdb.connect(str(old_store)) as con:
        con.execute("create schema audit")
        con.execute("create table audit.runs (run_id varchar)")
        con.execute("create table audit.dq_results (run_id varchar)")

    with duckdb.connect(str(tmp_path / "next.duckdb")) as con:
        assert bring_in(con, old_store) == 0
        assert bring_in(con, store) == 2
        kept = con.execute("select run_id, country_code, monitor from audit.monitor_findings order by all").fetchall()
    assert kept == [("run-1", "KR", "freshness"), ("run-1", "VN", "freshness")]


@given(counts=st.lists(st.integers(1, 1000), min_size=2, max_size=8), ratio=st.sampled_from([0.25, 0.5, 0.8]))
def test_volume_warnings_follow_their_rule(
    tmp_path_factory: pytest.TempPathFactory, counts: list[int], ratio: float
) -> None:
    """One file's versions of random sizes, one a run: the last warns of a shrink exactly when it
    is under ``ratio`` of the one before, and of its rows in force exactly when they leave the range
    of the earlier runs (a fall below it is always a shrink too, said once)."""
    from libcoop.ingest.load import ensure_schema

    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with duckdb.connect(str(tmp_path_factory.mktemp("volume") / "build.duckdb")) as con:
        ensure_schema(con)
        for n, count in enumerate(counts):
            at, last = start + dt.timedelta(days=n), n == len(counts) - 1
            row = ["VN/visits.csv", "VN", "visits", f"h{n}", f"run-{n}", at, count, last]
            con.execute("insert into raw.file_versions values (?, ?, ?, ?, ?, ?, ?, ?)", row)
            con.execute("insert into audit.file_loads values (?, ?, ?, ?, ?, ?, 'loaded', ?, 0, null)",
                        [f"run-{n}", at, "VN/visits.csv", "VN", "visits", f"h{n}", count])  # fmt: skip
        found = find_monitors(con, f"run-{len(counts) - 1}", start.date(), ratio=ratio, history=1)

    *before, now = counts
    expected = []
    if now < ratio * before[-1]:
        expected.append(("file_volume", now))
    if now > max(before) / ratio:
        expected.append(("night_volume", now))
    assert [(f.monitor, f.observed) for f in found] == expected
