"""The published warehouse as BI tools and people see it, on the sample drop built once.

- every query of docs/queries.md returns the table printed under it;
- every marts table, view and column carries its dbt description as a DuckDB comment;
- real clients open the published file read-only: the DuckDB CLI of the 1.5 line (PyPI package
  duckdb-cli) as a subprocess, and SQLAlchemy with duckdb-engine (what Superset uses).

The CLI test is the guard of the storage format: the file must stay readable by DuckDB 1.5
clients (DBeaver's and Metabase's drivers and duckdb-engine lag behind the newest DuckDB).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
import sqlalchemy
import yaml

from libcoop.settings import DBT_PROJECT_DIR, PROJECT_ROOT, resolve_paths
from tests.helpers.contract import CONTRACT_TABLES
from tests.integration.test_dimensional_model import night

pytestmark = pytest.mark.integration

QUERIES_DOC = PROJECT_ROOT / "docs" / "queries.md"
DUCKDB_CLI = str(Path(sys.executable).with_name("duckdb"))  # the duckdb-cli package of the dev group

# The readable views beside the contract's tables.
READABLE_VIEWS = {"visits", "donations", "memberships", "country_pair_exchanges"}

NLV_DELEGATIONS_2000_2010 = "How many foreign delegations did the National Library of Viet Nam receive in 2000-2010?"


# --- docs/queries.md ------------------------------------------------------------------------


@dataclass(frozen=True)
class DocQuery:
    question: str
    sql: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _cells(line: str) -> tuple[str, ...]:
    return tuple(cell.strip() for cell in line.strip().strip("|").split("|"))


def parse_queries(text: str) -> list[DocQuery]:
    """Every ```sql block of the page with the markdown table that follows it (its answer)."""
    queries = []
    question = ""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            question = line[3:].strip()
        if line.strip() == "```sql":
            end = lines.index("```", i + 1)
            sql = "\n".join(lines[i + 1 : end])
            j = end + 1
            while j < len(lines) and not lines[j].startswith("|"):
                assert not lines[j].startswith(("#", "```")), f"no answer table under a query of {question!r}"
                j += 1
            table = []
            while j < len(lines) and lines[j].startswith("|"):
                table.append(lines[j])
                j += 1
            assert len(table) >= 2, f"no answer table under a query of {question!r}"
            assert set(table[1].replace("|", "").strip()) <= set("-: "), table[1]
            queries.append(DocQuery(question, sql, _cells(table[0]), tuple(_cells(row) for row in table[2:])))
            i = j
            continue
        i += 1
    return queries


def format_value(value: object) -> str:
    """How an answer table of docs/queries.md prints a value."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def answer_table(columns: list[str], rows: list[tuple]) -> str:
    """The markdown table of a query's answer, as docs/queries.md prints it."""
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    lines += ["| " + " | ".join(format_value(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


DOC_QUERIES = parse_queries(QUERIES_DOC.read_text(encoding="utf-8"))


def test_the_page_has_the_questions_people_ask():
    questions = {q.question for q in DOC_QUERIES}
    assert len(DOC_QUERIES) >= 5
    assert NLV_DELEGATIONS_2000_2010 in questions
    assert any("pairs of countries" in q for q in questions)
    assert any("US dollars" in q for q in questions)
    assert any("member" in q for q in questions)
    # The National Library of Viet Nam's own total for 2000-2010, as its report gives it.
    (nlv,) = [q for q in DOC_QUERIES if q.question == NLV_DELEGATIONS_2000_2010]
    assert nlv.header == ("reports", "delegations", "visitors")
    assert nlv.rows == (("1", "549", "2062"),)


# --- the sample warehouse -------------------------------------------------------------------


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample drop loaded, built and published once, as the nightly job does (no validation)."""
    root = tmp_path_factory.mktemp("bi_access")
    shutil.copytree(PROJECT_ROOT / "raw" / "incoming", root / "raw" / "incoming")
    paths = resolve_paths(root / "raw", root / "warehouse" / "cooperation.duckdb")
    night(paths, "bi-access")
    return paths.warehouse


@pytest.mark.parametrize("query", DOC_QUERIES, ids=lambda q: q.question[:60])
def test_every_query_of_the_page_gives_the_printed_answer(warehouse: Path, query: DocQuery):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute(query.sql)
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    assert tuple(columns) == query.header
    assert [tuple(format_value(v) for v in row) for row in rows] == list(query.rows), (
        "docs/queries.md prints another answer; the query gives:\n" + answer_table(columns, rows)
    )


def _yaml_descriptions() -> dict[str, tuple[str, dict[str, str]]]:
    """{model: (description, {column: description})} of the marts' YAML files."""
    models = {}
    for path in (DBT_PROJECT_DIR / "models" / "marts").rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            columns = {c["name"]: c.get("description", "") for c in model.get("columns", [])}
            models[model["name"]] = (model.get("description", ""), columns)
    return models


def test_every_marts_table_view_and_column_carries_its_description(warehouse: Path):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        relations = dict(
            con.execute(
                "select table_name, comment from duckdb_tables() where schema_name = 'marts' "
                "union all select view_name, comment from duckdb_views() where schema_name = 'marts'"
            ).fetchall()
        )
        columns = con.execute(
            "select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'"
        ).fetchall()
    expected = _yaml_descriptions()

    assert set(relations) == set(expected)
    assert set(relations) >= CONTRACT_TABLES | READABLE_VIEWS
    for name, comment in relations.items():
        assert comment and comment.strip() == expected[name][0].strip(), name
    assert len(columns) > 200
    for table, column, comment in columns:
        assert comment, f"marts.{table}.{column} has no comment"
        assert comment.strip() == expected[table][1][column].strip(), f"marts.{table}.{column}"


def test_readable_views_name_the_unknown_member_and_sum_as_bigint(warehouse: Path):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        countries = {
            row[0]
            for row in con.execute(
                "select host_country from marts.visits union select guest_country from marts.visits "
                "union select donor_country from marts.donations union select country from marts.memberships"
            ).fetchall()
        }
        types = dict(
            con.execute(
                "select column_name, data_type from duckdb_columns() "
                "where schema_name = 'marts' and table_name = 'country_pair_exchanges'"
            ).fetchall()
        )
        nlv = con.execute(
            "select host_institution, host_institution_native, host_country, guest_institution, guest_country, "
            "start_year, start_date, end_date from marts.visits where record_id = 'VN-V-01'"
        ).fetchall()
    assert "(unknown)" in countries and "Unknown" not in countries and None not in countries
    assert {"Vietnam", "China", "Japan", "South Korea"} <= countries
    assert {types[c] for c in ("visits", "delegations", "participants", "delegations_hosted_by_a")} == {"BIGINT"}
    # "549 foreign delegations, 2,062 visitors, 2000-2010": the period written 2010 ends on 31 December.
    assert nlv == [
        (
            "National Library of Viet Nam",
            "Thư viện Quốc gia Việt Nam",
            "Vietnam",
            "(unknown)",
            "(unknown)",
            2000,
            dt.date(2000, 1, 1),
            dt.date(2010, 12, 31),
        )
    ]


# --- real BI clients ------------------------------------------------------------------------


def _cli(warehouse: Path, sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DUCKDB_CLI, "-readonly", "-json", str(warehouse), "-c", sql],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_duckdb_1_5_cli_opens_the_published_file_read_only(warehouse: Path):
    """The guard of the storage format: a DuckDB 1.5 client reads what the pipeline publishes.

    DuckDB 2.x writes storage version 69, which no 1.x client opens ("Trying to read a database
    file with version number 69, but we can only read versions between 64 and 68"). Whoever moves
    the project's `duckdb` to 2.x must keep every newly created warehouse file in the 1.5 format.
    A build file is created from nothing in libcoop.pipeline.load_step (its `duckdb.connect(build)`
    when libcoop.warehouse.publish.prepare_build found no published warehouse to copy, as in this module's
    fixture): create it there with `ATTACH '<build file>' AS cooperation (STORAGE_VERSION 'v1.5.0')`
    (or the setting storage_compatibility_version = 'v1.5.0'), and check that the dbt profile and
    libcoop.warehouse.publish (its checkpoint) keep that version. This test then keeps passing; if it fails
    with the error above, the published file is unreadable for DBeaver, Metabase and Superset users.
    """
    version = subprocess.run([DUCKDB_CLI, "--version"], capture_output=True, text=True, timeout=60, check=True)
    assert version.stdout.startswith("v1.5."), version.stdout

    nlv = next(q for q in DOC_QUERIES if q.question == NLV_DELEGATIONS_2000_2010)
    done = _cli(warehouse, nlv.sql)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"reports": 1, "delegations": 549, "visitors": 2062}]

    done = _cli(
        warehouse,
        "select count(*) as columns, count(comment) as with_comment from duckdb_columns() where schema_name = 'marts'",
    )
    assert done.returncode == 0, done.stderr
    ((counts),) = json.loads(done.stdout)
    assert counts["columns"] > 200 and counts["with_comment"] == counts["columns"]

    refused = _cli(warehouse, "create table marts.scratch as select 1 as x")
    assert refused.returncode != 0
    assert "read-only" in refused.stderr + refused.stdout


def test_sqlalchemy_with_duckdb_engine_reads_names_comments_and_answers(warehouse: Path):
    """What Superset does: a SQLAlchemy engine on duckdb-engine, read-only.

    Column comments are read from pg_catalog.pg_description, the catalog SQLAlchemy's column
    reflection reads: with SQLAlchemy 2.1 and duckdb-engine 0.17, Inspector.get_columns itself
    fails on DuckDB 1.5's pg_collation stub (duckdb-engine issues #1379/#1391); Superset pins
    SQLAlchemy 1.4, whose reflection does not ask for it.
    """
    engine = sqlalchemy.create_engine(f"duckdb:///{warehouse}", connect_args={"read_only": True})
    try:
        with engine.connect() as con:
            inspector = sqlalchemy.inspect(con)
            tables = set(inspector.get_table_names(schema="marts"))
            views = set(inspector.get_view_names(schema="marts"))
            comments = {name: inspector.get_table_comment(name, schema="marts")["text"] for name in tables | views}
            column_comments = con.execute(
                sqlalchemy.text(
                    "select c.relname, a.attname, d.description "
                    "from pg_catalog.pg_class as c "
                    "inner join pg_catalog.pg_namespace as n on n.oid = c.relnamespace "
                    "inner join pg_catalog.pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 "
                    "left join pg_catalog.pg_description as d on d.objoid = c.oid and d.objsubid = a.attnum "
                    "where n.nspname = 'marts'"
                )
            ).fetchall()
            pairs = next(q for q in DOC_QUERIES if "pairs of countries" in q.question)
            answer = con.execute(sqlalchemy.text(pairs.sql)).fetchall()
            with pytest.raises(sqlalchemy.exc.DBAPIError, match="read-only"):
                con.execute(sqlalchemy.text("create table marts.scratch as select 1 as x"))
    finally:
        engine.dispose()

    assert tables >= CONTRACT_TABLES
    assert views == READABLE_VIEWS
    assert all(comments.values()), [name for name, text in comments.items() if not text]
    assert len(column_comments) > 200
    assert [f"{t}.{c}" for t, c, text in column_comments if not text] == []
    assert [tuple(format_value(v) for v in row) for row in answer] == list(pairs.rows)
    # Integer sums come back as Python ints (BIGINT), not floats.
    assert all(isinstance(row[2], int) for row in answer)
