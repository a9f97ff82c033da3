"""The door's own store: accounts, their countries, and the names coordinators propose.

One SQLite file (the standard library's ``sqlite3``) in the door's folder (``settings.door_dir``),
outside the repository's files, so an upgrade of the code never loses an account or an accepted
alias. Passwords are kept only as argon2id hashes (argon2-cffi's defaults, RFC 9106).
"""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from libcoop.errors import LibcoopError

STORE_NAME = "door.sqlite"
_hasher = PasswordHasher()
# Verified when the email is unknown, so that a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password anyone has")

SCHEMA = """
create table if not exists users (
    email text primary key,
    password_hash text not null,
    is_curator integer not null default 0,
    created_at text not null,
    -- In every session cookie of the account: signing out draws a new one, so a copied cookie
    -- (the session lives in the signed cookie itself) stops working too.
    session_nonce text
);
create table if not exists user_countries (
    email text not null references users (email) on delete cascade,
    country_code text not null,
    primary key (email, country_code)
);
create table if not exists proposals (
    proposal_id integer primary key autoincrement,
    alias text not null,
    country_code text not null,
    reporting_country text not null,
    institution_code text,
    is_new_institution integer not null,
    proposed_by text not null,
    proposed_at text not null,
    status text not null default 'proposed',
    decided_by text,
    decided_at text
);
"""


class StoreError(LibcoopError, ValueError):
    """A request the store refuses, in words a person can act on."""


@dataclass(frozen=True)
class User:
    email: str
    is_curator: bool
    countries: tuple[str, ...]

    def can_see(self, country_code: str) -> bool:
        return self.is_curator or country_code in self.countries


@dataclass(frozen=True)
class Proposal:
    proposal_id: int
    alias: str
    country_code: str  # the country of the row that named it: the alias holds there only
    reporting_country: str  # the folder of the file it was found in
    institution_code: str | None
    is_new_institution: bool
    proposed_by: str
    proposed_at: str
    status: str  # proposed, accepted, refused
    decided_by: str | None
    decided_at: str | None


def store_path(folder: Path) -> Path:
    return folder / STORE_NAME


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or any(c.isspace() or ord(c) < 32 for c in email):
        raise StoreError(f"{email!r} is not an email address")
    return email


class Store:
    """The door's SQLite file; a connection per call (uvicorn serves requests on several threads)."""

    def __init__(self, folder: Path) -> None:
        self.path = store_path(folder)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._connect() as con:
            con.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30)
        try:
            con.execute("pragma foreign_keys = on")
            with con:  # one transaction: committed, or rolled back on error
                yield con
        finally:
            con.close()

    # --- accounts ---------------------------------------------------------------------------

    def add_user(self, email: str, password: str, countries: list[str], *, curator: bool = False) -> User:
        email = normalize_email(email)
        codes = sorted({c.strip().upper() for c in countries})
        if len(password) < 12:
            raise StoreError("the password must be at least 12 characters long")
        if not codes and not curator:
            raise StoreError("a coordinator needs at least one country (--country VN)")
        with self._connect() as con:
            if con.execute("select 1 from users where email = ?", [email]).fetchone():
                raise StoreError(f"{email} has an account already (remove it first to start again)")
            con.execute(
                "insert into users (email, password_hash, is_curator, created_at) values (?, ?, ?, ?)",
                [email, _hasher.hash(password), int(curator), _now()],
            )
            con.executemany("insert into user_countries values (?, ?)", [[email, c] for c in codes])
        return User(email, curator, tuple(codes))

    def session_nonce(self, email: str, *, renew: bool = False) -> str:
        """The account's current session nonce (drawn when missing, or anew with ``renew``)."""
        with self._connect() as con:
            row = con.execute("select session_nonce from users where email = ?", [email]).fetchone()
            if row is None:
                raise StoreError(f"no account {email}")
            if row[0] and not renew:
                return str(row[0])
            nonce = secrets.token_urlsafe(16)
            con.execute("update users set session_nonce = ? where email = ?", [nonce, email])
            return nonce

    def remove_user(self, email: str) -> bool:
        with self._connect() as con:
            return con.execute("delete from users where email = ?", [normalize_email(email)]).rowcount > 0

    def user(self, email: str) -> User | None:
        with self._connect() as con:
            row = con.execute("select email, is_curator from users where email = ?", [email]).fetchone()
            if row is None:
                return None
            codes = [c for (c,) in con.execute("select country_code from user_countries where email = ?", [email])]
        return User(row[0], bool(row[1]), tuple(sorted(codes)))

    def users(self) -> list[User]:
        with self._connect() as con:
            emails = [e for (e,) in con.execute("select email from users order by email")]
        return [u for e in emails if (u := self.user(e)) is not None]

    def coordinators_of(self, country_code: str) -> list[str]:
        with self._connect() as con:
            return [
                e
                for (e,) in con.execute(
                    "select email from user_countries where country_code = ? order by email", [country_code]
                )
            ]

    def password_hash(self, email: str) -> str | None:
        with self._connect() as con:
            row = con.execute("select password_hash from users where email = ?", [email]).fetchone()
        return row[0] if row else None

    def authenticate(self, email: str, password: str) -> User | None:
        try:
            email = normalize_email(email)
        except StoreError:
            email = ""
        stored = self.password_hash(email) if email else None
        try:
            _hasher.verify(stored or _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if stored is None:
            return None
        if _hasher.check_needs_rehash(stored):
            with self._connect() as con:
                con.execute("update users set password_hash = ? where email = ?", [_hasher.hash(password), email])
        return self.user(email)

    # --- proposals --------------------------------------------------------------------------

    def propose(
        self,
        alias: str,
        country_code: str,
        reporting_country: str,
        institution_code: str | None,
        proposed_by: str,
    ) -> int:
        with self._connect() as con:
            # A new proposal for the same name replaces one still waiting (she changed her mind).
            con.execute(
                "delete from proposals where alias = ? and country_code = ? and status = 'proposed'",
                [alias, country_code],
            )
            cursor = con.execute(
                "insert into proposals (alias, country_code, reporting_country, institution_code, "
                "is_new_institution, proposed_by, proposed_at) values (?, ?, ?, ?, ?, ?, ?)",
                [
                    alias,
                    country_code,
                    reporting_country,
                    institution_code,
                    int(institution_code is None),
                    proposed_by,
                    _now(),
                ],
            )
            return int(cursor.lastrowid or 0)

    def decide(self, proposal_id: int, accept: bool, curator: str) -> Proposal:
        with self._connect() as con:
            updated = con.execute(
                "update proposals set status = ?, decided_by = ?, decided_at = ? "
                "where proposal_id = ? and status = 'proposed'",
                ["accepted" if accept else "refused", curator, _now(), proposal_id],
            ).rowcount
        if not updated:
            raise StoreError(f"proposal {proposal_id} does not exist or was decided already")
        (proposal,) = [p for p in self.proposals() if p.proposal_id == proposal_id]
        return proposal

    def proposals(self, *, status: str | None = None, country_codes: tuple[str, ...] | None = None) -> list[Proposal]:
        sql = "select * from proposals"
        with self._connect() as con:
            rows = con.execute(sql + " order by proposal_id").fetchall()
        found = [Proposal(*row[:5], bool(row[5]), *row[6:]) for row in rows]
        return [
            p
            for p in found
            if (status is None or p.status == status)
            and (country_codes is None or p.reporting_country in country_codes)
        ]
