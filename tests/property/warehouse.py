"""What the property tests check on a published warehouse: totals, keys, checksums, rows by lineage."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from libcoop.ingest.check import check_file
from libcoop.ingest.drop_folder import discover
from libcoop.pipeline import run
from libcoop.settings import Paths
from libcoop.warehouse.publish import holders
from tests.generated_drops import DropFile, resolved_names, totals, write_drop

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
            remove_finished(root)
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


def remove_finished(root: Path) -> None:
    """Remove an earlier example's folder. Its run has ended, so nothing may write into it any
    more: if removing it fails, say what is in it and which process holds a file there, rather
    than let the next example start on half of it."""
    try:
        shutil.rmtree(root)
    except OSError as error:
        left = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
        held = {str(p.relative_to(root)): holders(p) for p in root.rglob("*") if p.is_file() and holders(p)}
        raise AssertionError(
            f"{root} could not be removed after its run ({error}); left: {left}; held: {held}"
        ) from error


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


def marts_checksums(ws: Workspace, *, ignore_build_times: bool = False) -> dict[str, str]:
    """A checksum of each marts table; two separate warehouses differ in when their snapshots
    recorded the reference data (``ignore_build_times`` leaves those timestamps out)."""
    tables = [t for (t,) in ws.query("select table_name from duckdb_tables() where schema_name = 'marts' order by 1")]
    sums = {}
    for table in tables:
        columns = [
            c
            for (c, data_type) in ws.query(
                "select column_name, data_type from information_schema.columns where table_schema = 'marts' "
                "and table_name = ? order by ordinal_position",
                [table],
            )
            if c not in VOLATILE and not (ignore_build_times and data_type.startswith("TIMESTAMP"))
        ]
        (digest,) = ws.query(
            f"select md5(coalesce(string_agg(row_text, '\n' order by row_text), '')) from "
            f"(select cast(({', '.join(columns)}) as varchar) as row_text from marts.{table})"
        )[0]
        sums[table] = digest
    return sums


def publish(ws: Workspace, run_id: str, status: str = "published") -> None:
    """Run the nightly job; ``status`` "unchanged" when the drop equals the published build's."""
    summary = run(ws.paths, run_id)
    assert summary.status == status, summary.render()
    outcomes = {o for (o,) in ws.query("select distinct outcome from audit.file_loads where load_id = ?", [run_id])}
    assert "rejected" not in outcomes, ws.query("select file_path, rule, value from audit.file_rejections")
