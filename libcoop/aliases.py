"""Accepted aliases, from the door's store into the build: ``raw.accepted_aliases``.

A curator's "yes, this name is that institution" is an input of the build like the alias seeds:
the load step writes the accepted aliases of the store into the build (``write_accepted_aliases``),
dbt reads them as the source ``door.accepted_aliases`` (stg_door__accepted_aliases, then
int_institution_names_resolved), and their digest is part of the build's fingerprint
(libcoop.fingerprint), so a new accepted alias makes the next run rebuild every fact, as a
change of seeds does. Without a store the table exists, empty.

Nothing here imports the web application: the nightly run needs only the standard library's sqlite3.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import duckdb

STORE_NAME = "door.sqlite"  # libcoop.door.store.STORE_NAME
COLUMNS = (
    "alias varchar not null, institution_code varchar not null, country_code varchar not null, "
    "accepted_by varchar not null, accepted_at varchar not null"
)


def accepted_aliases(folder: Path) -> list[tuple[str, str, str, str, str]]:
    """(alias, institution_code, country_code, accepted_by, accepted_at) of every accepted
    proposal that names a curated institution, read-only; empty when there is no store."""
    path = folder / STORE_NAME
    if not path.is_file():
        return []
    con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        tables = {name for (name,) in con.execute("select name from sqlite_master where type = 'table'")}
        if "proposals" not in tables:
            return []
        # The last decision on a name counts: a name accepted twice (a mistake corrected) is one alias.
        return con.execute(
            "select alias, institution_code, country_code, decided_by, decided_at from ("
            "select *, row_number() over (partition by alias, country_code order by decided_at desc, "
            "proposal_id desc) as n from proposals where status = 'accepted' and institution_code is not null"
            ") where n = 1 order by country_code, alias"
        ).fetchall()
    finally:
        con.close()


def aliases_digest(rows: list[tuple[str, ...]]) -> str:
    """What the build depends on (name, institution, country), as a digest; "" for none, so that
    a warehouse without accepted aliases keeps the fingerprint it had before the door existed."""
    kept = sorted({(str(a), str(code), str(country)) for a, code, country, *_ in rows})
    if not kept:
        return ""
    return hashlib.sha256("\n".join("\0".join(row) for row in kept).encode()).hexdigest()


def store_digest(folder: Path) -> str:
    return aliases_digest(accepted_aliases(folder))


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute(f"create table if not exists raw.accepted_aliases ({COLUMNS})")


def build_digest(con: duckdb.DuckDBPyConnection) -> str:
    """The digest of the aliases a build holds ("" when it holds none, or no table)."""
    found = con.execute(
        "select 1 from duckdb_tables() where schema_name = 'raw' and table_name = 'accepted_aliases'"
    ).fetchall()
    if not found:
        return ""
    return aliases_digest(
        con.execute("select alias, institution_code, country_code from raw.accepted_aliases").fetchall()
    )


def write_accepted_aliases(con: duckdb.DuckDBPyConnection, folder: Path) -> int:
    """Replace raw.accepted_aliases of the build with the store's accepted aliases; their count."""
    rows = accepted_aliases(folder)
    ensure_table(con)
    con.execute("delete from raw.accepted_aliases")
    if rows:
        con.executemany("insert into raw.accepted_aliases values (?, ?, ?, ?, ?)", [list(r) for r in rows])
    return len(rows)
