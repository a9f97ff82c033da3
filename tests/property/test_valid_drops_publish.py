"""The contract's promise, on drops nobody here wrote: a drop in which `libcoop check` accepts every
file always publishes, and its marts add up to the files' own totals (docs/contract.md, "What a bad
file gets").

Each example is a random drop (tests/generated_drops.py) run through the real nightly job in one
process (load, dbt build, Great Expectations, publish) on a fresh warehouse. `make test` runs a few
derandomized examples (profile "ci"); `make fuzz` runs many random ones (profile "fuzz",
LIBCOOP_FUZZ_EXAMPLES, default 200). Every failure found becomes a named regression test in
tests/property/test_found_by_generators.py.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libcoop.config import Paths
from libcoop.drop_folder import discover
from libcoop.pipeline import run
from libcoop.validate import check_file
from tests.generated_drops import ROWS, DropFile, drops, fit_to_layout, resolved_names, totals, write_drop

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
FACTS = {"memberships": "fct_membership", "visits": "fct_visit", "donations": "fct_donation"}
# What a rebuild may change without the data changing: the run that loaded a row.
VOLATILE = ("load_id",)


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class Workspace:
    """A drop folder, a warehouse and a GX context of one example, in a fresh folder."""

    def __init__(self, root: Path) -> None:
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        expectations = root / "expectations"
        shutil.copytree(REPO / "expectations", expectations, ignore=shutil.ignore_patterns("uncommitted"))
        self.paths = Paths(
            raw_dir=root / "raw", warehouse=root / "warehouse" / "cooperation.duckdb", expectations_dir=expectations
        )

    def drop(self, files: list[DropFile]) -> None:
        if self.paths.incoming.exists():
            shutil.rmtree(self.paths.incoming)
        write_drop(files, self.paths.incoming)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.paths.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def workspace_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("valid_drops")


def assert_check_accepts_each_file(ws: Workspace) -> None:
    found = discover(ws.paths.incoming)
    assert found.skipped == ()
    for drop in found.files:
        checked = check_file(drop, ws.paths.incoming)
        assert checked.accepted, (drop.relative_path, [(p.rule, p.row, p.column, p.value) for p in checked.problems])


def assert_marts_add_up(ws: Workspace, files: list[DropFile]) -> None:
    expected = totals(files)
    rows = {kind: ws.query(f"select count(*) from marts.{table}")[0][0] for kind, table in FACTS.items()}
    assert rows == expected["rows"]
    (activities,) = ws.query("select count(*) from marts.fct_cooperation_activity")[0]
    assert activities == sum(expected["rows"].values())
    sums = ws.query(
        "select (select sum(delegations) from marts.fct_visit), (select sum(participants) from marts.fct_visit), "
        "(select sum(quantity) from marts.fct_donation)"
    )[0]
    wanted = expected["sums"]
    assert [int(v) if v is not None else 0 for v in sums] == [
        wanted.get("delegations", 0),
        wanted.get("participants", 0),
        wanted.get("quantity", 0),
    ]
    amounts = dict(
        ws.query("select currency, sum(amount) from marts.fct_donation where amount is not null group by currency")
    )
    assert amounts.keys() == expected["amounts"].keys()
    for currency, total in expected["amounts"].items():
        assert amounts[currency] == pytest.approx(total, rel=1e-12, abs=1e-6), currency
    assert ws.query(
        "select count(*) from marts.fct_donation where currency = 'USD' and amount is not null "
        "and amount_usd is distinct from amount"
    ) == [(0,)]
    # The activity view of the three facts carries the same totals.
    assert (
        ws.query("select sum(delegations), sum(participants), sum(quantity) from marts.fct_cooperation_activity")[0]
        == ws.query(
            "select (select sum(delegations) from marts.fct_visit), (select sum(participants) from marts.fct_visit), "
            "(select sum(quantity) from marts.fct_donation)"
        )[0]
    )


def assert_no_null_key_and_one_key_per_entity(ws: Workspace, files: list[DropFile]) -> None:
    keys = ws.query(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' and column_name like '%\\_key' escape '\\' order by all"
    )
    assert keys, "the marts have key columns"
    for table, column in keys:
        assert ws.query(f'select count(*) from marts."{table}" where "{column}" is null') == [(0,)], (table, column)
    mentions = ws.query(
        """
        select institution_name, institution_key from marts.fct_membership
        union all select host_institution_name, host_institution_key from marts.fct_visit
        union all select guest_institution_name, guest_institution_key from marts.fct_visit
        union all select donor_name, donor_institution_key from marts.fct_donation
        union all select recipient_institution_name, recipient_institution_key from marts.fct_donation
        """
    )
    key_of: dict[str, set[str]] = {}
    for name, key in mentions:
        if name is not None:
            key_of.setdefault(name.strip(), set()).add(key)
    for code, spellings in resolved_names(files).items():
        assert {k for s in spellings for k in key_of.get(s.strip(), set())} == {md5(code)}, (code, spellings)


def fact_rows(ws: Workspace) -> dict[str, dict[tuple[str, int], tuple]]:
    """Each fact's rows by (file, source row), without the lineage of the file version."""
    state = {}
    for table in FACTS.values():
        columns = [
            c
            for (c,) in ws.query(
                "select column_name from information_schema.columns where table_schema = 'marts' "
                "and table_name = ? order by ordinal_position",
                [table],
            )
            if c not in (*VOLATILE, "content_hash")
        ]
        rows = ws.query(f"select file_path, source_row_number, {', '.join(columns)} from marts.{table}")
        state[table] = {(r[0], r[1]): r[2:] for r in rows}
    return state


def marts_checksums(ws: Workspace) -> dict[str, str]:
    tables = [t for (t,) in ws.query("select table_name from duckdb_tables() where schema_name = 'marts' order by 1")]
    sums = {}
    for table in tables:
        columns = [
            c
            for (c,) in ws.query(
                "select column_name from information_schema.columns where table_schema = 'marts' and table_name = ? "
                "order by ordinal_position",
                [table],
            )
            if c not in VOLATILE
        ]
        (digest,) = ws.query(
            f"select md5(coalesce(string_agg(row_text, '\n' order by row_text), '')) from "
            f"(select cast(({', '.join(columns)}) as varchar) as row_text from marts.{table})"
        )[0]
        sums[table] = digest
    return sums


def publish(ws: Workspace, run_id: str) -> None:
    summary = run(ws.paths, run_id)
    assert summary.status == "published", summary.render()
    outcomes = {o for (o,) in ws.query("select distinct outcome from audit.file_loads where load_id = ?", [run_id])}
    assert "rejected" not in outcomes, ws.query("select file_path, rule, value from audit.file_rejections")


@given(files=drops())
def test_every_valid_drop_publishes_and_its_marts_add_up(workspace_root: Path, files: list[DropFile]) -> None:
    ws = Workspace(workspace_root / "example")
    ws.drop(files)
    assert_check_accepts_each_file(ws)
    publish(ws, "run-1")
    assert_marts_add_up(ws, files)
    assert_no_null_key_and_one_key_per_entity(ws, files)


# Three runs per example: a fifth as many examples as the test above.
@settings(max_examples=max(1, settings().max_examples // 5))
@given(files=drops(max_files=5).filter(lambda fs: len(fs) >= 2), data=st.data())
def test_reruns_removals_and_changes_move_exactly_their_rows(
    workspace_root: Path, files: list[DropFile], data: st.DataObject
) -> None:
    ws = Workspace(workspace_root / "versions")
    ws.drop(files)
    publish(ws, "run-1")
    first = marts_checksums(ws)
    before = fact_rows(ws)

    # 4. an identical rerun leaves identical marts
    publish(ws, "run-2")
    assert marts_checksums(ws) == first

    # 5. removing one file takes out exactly its rows; changing one row changes only that row
    removed, changed, *kept = files
    new_row = fit_to_layout(data.draw(ROWS[changed.kind]()), changed.layout)
    changed_file = DropFile(changed.relative_path, changed.kind, changed.layout, [new_row, *changed.rows[1:]])
    ws.drop([changed_file, *kept])
    publish(ws, "run-3")
    after = fact_rows(ws)
    assert_marts_add_up(ws, [changed_file, *kept])
    for table in FACTS.values():
        assert not any(path == removed.relative_path for path, _ in after[table]), table
        for key, values in before[table].items():
            if key[0] == removed.relative_path or key == (changed.relative_path, 2):
                continue
            assert after[table].get(key) == values, (table, key)
