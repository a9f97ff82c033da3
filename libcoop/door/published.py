"""What the published warehouse says about one country, read-only: its files and their state,
the names of its rows the warehouse could not resolve, and the candidates of each.

Every function opens the published file read-only for one query and closes it: a publish swaps
the file in with one rename, and readers never hold it (docs/contract.md section 2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from libcoop.ingest.drop_folder import hash_file, parse_file_name
from libcoop.ingest.reports import report_path


@dataclass
class FileState:
    """One file of a country folder: what the last run did with it, and whether it waits."""

    file_path: str  # e.g. VN/visits_2015.csv
    state: str  # loaded, rejected, waiting, removed, unchanged, restored
    row_count: int | None = None
    problem_count: int | None = None
    when: dt.datetime | None = None
    problems: list[dict[str, object]] = field(default_factory=list)
    content_hash: str | None = None


@dataclass(frozen=True)
class Candidate:
    institution_code: str
    institution_name: str
    score: float | None = None


@dataclass
class UnresolvedName:
    institution_key: str
    name: str
    country_code: str  # the country of the row that wrote it: candidates come from there
    fact_count: int
    file_paths: list[str]
    candidates: list[Candidate] = field(default_factory=list)


@contextmanager
def _read(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection | None]:
    if not warehouse.is_file():
        yield None
        return
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        yield con
    finally:
        con.close()


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select 1 from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
        ).fetchall()
    )


def country_files(warehouse: Path, incoming: Path, country: str) -> list[FileState]:
    """The last outcome of each of the country's files, plus the files in its folder that the
    published build does not hold yet (waiting for the next run)."""
    states: dict[str, FileState] = {}
    current: dict[str, str] = {}
    with _read(warehouse) as con:
        if con is not None and _has(con, "audit", "file_loads"):
            rows = con.execute(
                "select file_path, outcome, row_count, problem_count, checked_at, load_id, content_hash "
                "from audit.file_loads "
                "where country_code = ? and outcome <> 'skipped' "
                "qualify row_number() over (partition by file_path order by checked_at desc) = 1 "
                "order by file_path",
                [country],
            ).fetchall()
            for path, outcome, rows_n, problems, when, load_id, digest in rows:
                state = FileState(path, outcome, rows_n, problems, when, content_hash=digest)
                if outcome == "rejected":
                    state.problems = [
                        dict(zip(("row", "column", "value", "explanation", "advice", "detail"), p, strict=True))
                        for p in con.execute(
                            "select row_number, column_name, value, explanation, advice, detail "
                            "from audit.file_rejections where load_id = ? and file_path = ? "
                            "order by row_number nulls first limit 50",
                            [load_id, path],
                        ).fetchall()
                    ]
                states[path] = state
            if _has(con, "raw", "file_versions"):
                current = dict(
                    con.execute(
                        "select file_path, content_hash from raw.file_versions where is_current and country_code = ?",
                        [country],
                    ).fetchall()
                )
                for path, rows_n in con.execute(
                    "select file_path, row_count from raw.file_versions where is_current and country_code = ?",
                    [country],
                ).fetchall():
                    if path in states and states[path].state in ("unchanged", "restored"):
                        states[path].row_count = rows_n
    folder = incoming / country
    for entry in sorted(folder.iterdir()) if folder.is_dir() else ():
        if not entry.is_file() or parse_file_name(entry.name) is None:
            continue
        path = f"{country}/{entry.name}"
        digest = hash_file(entry)
        seen = states.get(path)
        if current.get(path) != digest and not (seen and seen.state == "rejected" and seen.content_hash == digest):
            states[path] = FileState(path, "waiting", when=dt.datetime.fromtimestamp(entry.stat().st_mtime, dt.UTC))
    return sorted(states.values(), key=lambda s: s.file_path)


def file_notes(reports: Path, file_path: str) -> list[str]:
    """The notes of a loaded file's report (e.g. the encoding assumed, a column ignored): warnings
    that did not stop it from loading."""
    path = report_path(reports, file_path)
    try:
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
    except OSError:
        return []
    return [line.strip().removeprefix("note: ") for line in text.splitlines() if line.strip().startswith("note: ")]


def unresolved_names(warehouse: Path, country: str) -> list[UnresolvedName]:
    """The names in the country's files that the warehouse could not resolve, most used first,
    each with the candidates of its row's country."""
    with _read(warehouse) as con:
        if con is None or not _has(con, "review", "review_unresolved_institutions"):
            return []
        rows = con.execute(
            "select institution_key, institution_name, country_iso2, coalesce(fact_count, 0), file_paths "
            "from review.review_unresolved_institutions order by fact_count desc nulls last, institution_name"
        ).fetchall()
        names = [
            UnresolvedName(key, name, code, int(count), paths)
            for key, name, code, count, text in rows
            if (paths := [p for p in (text or "").split(", ") if p.startswith(f"{country}/")])
        ]
        if names and _has(con, "review", "unresolved_institution_candidates"):
            found = con.execute(
                "select institution_key, candidate_institution_code, candidate_institution_name, score "
                "from review.unresolved_institution_candidates "
                "where candidate_country_iso2 = country_iso2 order by institution_key, candidate_rank"
            ).fetchall()
            for name in names:
                name.candidates = [
                    Candidate(code, text, score) for key, code, text, score in found if key == name.institution_key
                ]
    return names


def institutions_of(warehouse: Path, country: str) -> list[Candidate]:
    """The curated institutions of a country (the alias seeds' list), by name."""
    with _read(warehouse) as con:
        if con is None or not _has(con, "ref_seeds", "institutions"):
            return []
        rows = con.execute(
            "select institution_code, institution_name from ref_seeds.institutions "
            "where country_iso2 = ? order by institution_name",
            [country],
        ).fetchall()
    return [Candidate(code, name) for code, name in rows]


def run_files(warehouse: Path, run_id: str) -> dict[str, list[FileState]]:
    """The files of one run, by country (the mail after the run)."""
    by_country: dict[str, list[FileState]] = {}
    with _read(warehouse) as con:
        if con is None or not _has(con, "audit", "file_loads"):
            return {}
        rows = con.execute(
            "select file_path, country_code, outcome, row_count, problem_count, checked_at from audit.file_loads "
            "where load_id = ? and country_code is not null order by file_path",
            [run_id],
        ).fetchall()
    for path, country, outcome, rows_n, problems, when in rows:
        by_country.setdefault(country, []).append(FileState(path, outcome, rows_n, problems, when))
    return by_country
