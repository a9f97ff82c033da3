"""The machine's PostgreSQL, for the tests of the DuckLake target: fresh catalog databases, dropped after."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


def admin(sql: str, dbname: str = "postgres") -> list[tuple]:
    """Run ``sql`` in autocommit (create and drop database need it); its rows, if it returns any."""
    import psycopg2

    con = psycopg2.connect(dbname=dbname, connect_timeout=5, **PG)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else []
    finally:
        con.close()


def lake_target(database: str, extra: str = "") -> str:
    """The DuckLake connection string of a catalog in ``database`` (``extra``: more key=value words)."""
    target = f"ducklake:postgres:dbname={database} host={PG['host']} port={PG['port']} user={PG['user']}"
    return f"{target} {extra}" if extra else target


@contextmanager
def fresh_databases(*names: str) -> Iterator[list[str]]:
    """One new database per name prefix, each with a random suffix, dropped on leaving; the test is
    skipped, saying so, when PostgreSQL is unreachable."""
    import psycopg2

    databases = [f"{name}_{secrets.token_hex(4)}" for name in names]
    created = []
    try:
        try:
            for database in databases:
                admin(f"create database {database}")
                created.append(database)
        except psycopg2.OperationalError as error:
            pytest.skip(f"PostgreSQL unreachable at {PG['host']}:{PG['port']} (user {PG['user']}): {error}")
        yield databases
    finally:
        for database in created:
            admin(f"drop database if exists {database} with (force)")
