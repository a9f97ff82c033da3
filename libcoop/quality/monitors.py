"""Monitors per country and kind: a feed gone quiet, a file that shrank, columns gained or lost.

After Elementary's freshness, volume and schema-change tests and Dagster's freshness policies, in
DuckDB SQL over the raw history every build carries (``raw.file_versions``, the ``raw.<kind>``
tables with the rows of every version ever loaded, ``audit.file_loads``):

- **freshness**: a country has sent no new or changed file of a kind it has in force for longer
  than ``settings.freshness_days`` (LIBCOOP_FRESHNESS_DAYS, per kind or country too);
- **file_volume**: a version of a file loaded by this run has fewer rows than
  ``settings.volume_ratio`` (LIBCOOP_VOLUME_RATIO) of the version it replaces;
- **night_volume**: the rows a country has in force of a kind after this run are out of the
  range of the earlier runs that changed that kind (below the ratio of the smallest, above the
  largest divided by it), once there are ``settings.volume_history`` earlier runs;
- **schema**: a version loaded by this run fills optional columns the version it replaces left
  empty, or leaves empty ones it filled. What is compared is the columns that hold a value: a
  column dropped from the header and a column kept but emptied lose the same data, and the raw
  history holds the values of every version, so nothing beyond the load is recorded.

They are warnings, never a reason to withhold a build: their history is ``audit.monitor_findings``
(one row per finding per run, carried across builds like ``audit.dq_results``), and they reach the
country pages, the run summary and the coordinators' mail.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path

import duckdb

from libcoop.audit import ensure_audit_tables
from libcoop.ingest.contract import KIND_COLUMNS, columns_of
from libcoop.quality.results import MonitorFinding, QualityReport
from libcoop.settings import freshness_days, volume_history, volume_ratio

FRESHNESS, FILE_VOLUME, NIGHT_VOLUME, SCHEMA = "freshness", "file_volume", "night_volume", "schema"
MONITORS = (FRESHNESS, FILE_VOLUME, NIGHT_VOLUME, SCHEMA)


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select 1 from duckdb_tables() where database_name = current_database() "
            "and schema_name = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    )


def _rows(n: int | float) -> str:
    return f"{int(n)} row" if n == 1 else f"{int(n)} rows"


def _day(moment: dt.datetime) -> dt.date:
    return (moment.astimezone(dt.UTC) if moment.tzinfo else moment).date()


def freshness_findings(
    con: duckdb.DuckDBPyConnection, today: dt.date, days_of: Callable[[str, str], int] = freshness_days
) -> list[MonitorFinding]:
    """Each country and kind in force whose last new, changed or restored file is older than its limit."""
    restored = (
        "union all select country_code, kind, checked_at from audit.file_loads "
        "where outcome = 'restored' and country_code is not null and kind is not null"
        if _has(con, "audit", "file_loads")
        else ""
    )
    rows = con.execute(
        "with in_force as (select distinct country_code, kind from raw.file_versions where is_current), "
        f"arrivals as (select country_code, kind, loaded_at as at from raw.file_versions {restored}) "
        "select f.country_code, f.kind, max(a.at) from in_force as f "
        "inner join arrivals as a on a.country_code = f.country_code and a.kind = f.kind "
        "group by all order by 1, 2"
    ).fetchall()
    findings = []
    for country, kind, last_at in rows:
        limit = days_of(country, kind)
        age = (today - _day(last_at)).days
        if limit and age > limit:
            findings.append(
                MonitorFinding(
                    country,
                    kind,
                    None,
                    FRESHNESS,
                    f"{country} has sent no new or changed {kind} file for {age} days (the last arrived on "
                    f"{_day(last_at)}); the monitor warns after {limit} days. Drop this year's {kind} file, "
                    "even if only a few rows are new.",
                    age,
                    limit,
                )
            )
    return findings


_VERSIONS = (
    "select file_path, country_code, kind, content_hash, load_id, loaded_at, row_count, "
    "lag(row_count) over w as previous_rows, lag(content_hash) over w as previous_hash "
    "from raw.file_versions window w as (partition by file_path order by loaded_at, load_id)"
)


def file_volume_findings(con: duckdb.DuckDBPyConnection, run_id: str, ratio: float) -> list[MonitorFinding]:
    """Each version loaded by ``run_id`` with fewer rows than ``ratio`` of the version before it."""
    rows = con.execute(
        f"select country_code, kind, file_path, row_count, previous_rows from ({_VERSIONS}) "
        "where load_id = ? and previous_rows > 0 and row_count < ? * previous_rows order by file_path",
        [run_id, ratio],
    ).fetchall()
    return [
        MonitorFinding(
            country,
            kind,
            path,
            FILE_VOLUME,
            f"{path}: the new version has {_rows(count)}, the version it replaces had {_rows(before)} "
            f"({count / before:.0%}); the monitor warns below {ratio:.0%}. If rows were left out by "
            "mistake, drop the whole file again: a new version replaces every row of the old one.",
            count,
            ratio * before,
        )
        for country, kind, path, count, before in rows
    ]


# The rows a country has in force of a kind after each load that changed it: for every load and
# file, the file's latest event at or before that load (an ASOF join), and the rows of its version.
_IN_FORCE_AFTER_LOADS = """
with events as (
    select file_path, country_code, kind, content_hash, outcome, checked_at, load_id
    from audit.file_loads
    where outcome in ('loaded', 'restored', 'removed') and kind is not null
),
loads as (select load_id, min(checked_at) as at from events group by all),
files as (select distinct file_path, country_code, kind from events),
state as (
    select l.load_id, l.at, f.country_code, f.kind, e.outcome, e.file_path, e.content_hash
    from loads as l
    cross join files as f
    asof left join events as e on e.file_path = f.file_path and l.at >= e.checked_at
),
changed as (select distinct load_id, country_code, kind from events)
select s.load_id, min(s.at) as at, s.country_code, s.kind,
    coalesce(sum(v.row_count) filter (where s.outcome in ('loaded', 'restored')), 0) as rows_in_force
from state as s
inner join changed as c on c.load_id = s.load_id and c.country_code = s.country_code and c.kind = s.kind
left join raw.file_versions as v on v.file_path = s.file_path and v.content_hash = s.content_hash
group by all
"""


def night_volume_findings(
    con: duckdb.DuckDBPyConnection, run_id: str, ratio: float, history: int
) -> list[MonitorFinding]:
    """Each country and kind changed by ``run_id`` whose rows in force leave the range of the
    ``history`` or more earlier loads that changed it."""
    if not _has(con, "audit", "file_loads"):
        return []
    rows = con.execute(
        f"with nights as ({_IN_FORCE_AFTER_LOADS}), tonight as (select * from nights where load_id = ?) "
        "select t.country_code, t.kind, t.rows_in_force, count(*), min(n.rows_in_force), max(n.rows_in_force) "
        "from tonight as t inner join nights as n on n.country_code = t.country_code and n.kind = t.kind "
        "and n.at < t.at group by all having count(*) >= ? order by 1, 2",
        [run_id, history],
    ).fetchall()
    findings = []
    for country, kind, count, nights, least, most in rows:
        low, high = ratio * least, most / ratio
        if low <= count <= high:
            continue
        findings.append(
            MonitorFinding(
                country,
                kind,
                None,
                NIGHT_VOLUME,
                f"{country} has {_rows(count)} of {kind} in force after this run; after the {nights} earlier runs "
                f"that changed its {kind} files it had between {int(least)} and {int(most)}; the monitor warns "
                f"below {low:g} or above {high:g}. Check that no file of {kind} was removed or cut short "
                "by mistake, or sent twice under two names.",
                count,
                low if count < low else high,
            )
        )
    return findings


def _filled(con: duckdb.DuckDBPyConnection, kind: str, versions: Iterable[tuple[str, str]]) -> dict[tuple, set[str]]:
    """(file_path, content_hash) -> the optional columns holding a value in that version."""
    optional = [c.name for c in columns_of(kind) if not c.required]
    wanted = sorted(set(versions))
    if not wanted:
        return {}
    counts = ", ".join(f'count("{name}")' for name in optional)
    con.execute("create or replace temp table monitor_versions (file_path varchar, content_hash varchar)")
    con.executemany("insert into monitor_versions values (?, ?)", wanted)
    rows = con.execute(
        f"select h.file_path, h.content_hash, {counts} from raw.{kind} as h "
        "inner join monitor_versions as w on w.file_path = h.file_path and w.content_hash = h.content_hash "
        "group by all"
    ).fetchall()
    con.execute("drop table monitor_versions")
    return {(path, digest): {name for name, n in zip(optional, ns, strict=True) if n} for path, digest, *ns in rows}


def schema_findings(con: duckdb.DuckDBPyConnection, run_id: str) -> list[MonitorFinding]:
    """Each version loaded by ``run_id`` that fills other optional columns than the version before it."""
    pairs = con.execute(
        f"select kind, country_code, file_path, content_hash, previous_hash from ({_VERSIONS}) "
        "where load_id = ? and previous_hash is not null order by file_path",
        [run_id],
    ).fetchall()
    findings = []
    for kind in KIND_COLUMNS:
        own = [p for p in pairs if p[0] == kind]
        filled = _filled(con, kind, [(p[2], p[3]) for p in own] + [(p[2], p[4]) for p in own])
        for _, country, path, digest, previous in own:
            now, before = filled.get((path, digest), set()), filled.get((path, previous), set())
            gained, lost = sorted(now - before), sorted(before - now)
            if not (gained or lost):
                continue
            parts = []
            if gained:
                parts.append(f"fills the optional column{'s' if len(gained) > 1 else ''} {', '.join(gained)}")
            if lost:
                parts.append(
                    f"leaves empty (or lacks) the optional column{'s' if len(lost) > 1 else ''} {', '.join(lost)}"
                )
            findings.append(
                MonitorFinding(
                    country,
                    kind,
                    path,
                    SCHEMA,
                    f"{path}: the new version {' and '.join(parts)}, unlike the version it replaces."
                    + (
                        " If a column was dropped by mistake, put it back: its values are gone from the warehouse."
                        if lost
                        else ""
                    ),
                    len(gained) + len(lost),
                    0,
                )
            )
    return findings


def find_monitors(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    today: dt.date,
    *,
    ratio: float | None = None,
    history: int | None = None,
    days_of: Callable[[str, str], int] = freshness_days,
) -> tuple[MonitorFinding, ...]:
    """Every monitor's warnings on the build of ``con`` after the load ``run_id``, as of ``today``:
    by country, kind and monitor. Nothing when the build has no raw layer."""
    if not _has(con, "raw", "file_versions"):
        return ()
    ratio = volume_ratio() if ratio is None else ratio
    shrunk = file_volume_findings(con, run_id, ratio)
    # A country's kind whose file shrank already says so: the same rows falling short of the range is no news.
    said = {(f.country_code, f.kind) for f in shrunk}
    nights = [
        f
        for f in night_volume_findings(con, run_id, ratio, volume_history() if history is None else history)
        if (f.country_code, f.kind) not in said or (f.observed or 0) > (f.threshold or 0)
    ]
    findings = [*freshness_findings(con, today, days_of), *shrunk, *nights, *schema_findings(con, run_id)]
    return tuple(sorted(findings, key=lambda f: (f.country_code, f.kind, MONITORS.index(f.monitor), f.file_path or "")))


def record_findings(
    con: duckdb.DuckDBPyConnection, run_id: str, findings: Iterable[MonitorFinding], found_at: dt.datetime
) -> None:
    """Keep the run's findings in ``audit.monitor_findings``; recording a run again replaces its rows."""
    ensure_audit_tables(con)
    con.execute("delete from audit.monitor_findings where run_id = ?", [run_id])
    rows = [
        (run_id, f.country_code, f.kind, f.file_path, f.monitor, f.detail, f.observed, f.threshold, found_at)
        for f in findings
    ]
    if rows:
        con.executemany(
            "insert into audit.monitor_findings (run_id, country_code, kind, file_path, monitor, detail, observed, "
            "threshold, found_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def with_monitors(report: QualityReport, database: Path, today: dt.date | None = None) -> QualityReport:
    """``report`` with the monitors' warnings on the build ``database``, recorded in it."""
    now = dt.datetime.now(dt.UTC)
    with duckdb.connect(str(database)) as con:
        findings = find_monitors(con, report.run_id, today or now.date())
        record_findings(con, report.run_id, findings, now)
    return dataclasses.replace(report, monitor_findings=findings)


def mail_findings(warehouse: Path, run_id: str) -> dict[str, list[tuple[str, bool]]]:
    """Per country, the words of each finding of ``run_id`` in the published ``warehouse``, and
    whether it is new: not found by the published run before it (a quiet country hears of its
    silence once, not every night)."""
    if not warehouse.is_file():
        return {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if not _has(con, "audit", "monitor_findings"):
            return {}
        rows = con.execute(
            "with previous as (select run_id from audit.runs where status = 'published' and run_id <> $1 "
            "order by finished_at desc limit 1), "
            "before as (select country_code, kind, coalesce(file_path, '') as file_path, monitor "
            "from audit.monitor_findings where run_id in (select run_id from previous)) "
            "select f.country_code, f.detail, b.monitor is null from audit.monitor_findings as f "
            "left join before as b on b.country_code = f.country_code and b.kind = f.kind "
            "and b.file_path = coalesce(f.file_path, '') and b.monitor = f.monitor "
            "where f.run_id = $1 order by f.country_code, f.kind, f.monitor, f.file_path",
            [run_id],
        ).fetchall()
    found: dict[str, list[tuple[str, bool]]] = {}
    for country, detail, new in rows:
        found.setdefault(country, []).append((detail, bool(new)))
    return found
