"""Accepted aliases, from the door's store into a build: what the curators decided, the last
decision on a name counting, and a fingerprint that changes with them (so the next run rebuilds)."""

from __future__ import annotations

import duckdb

from libcoop.aliases import accepted_aliases, build_digest, store_digest, write_accepted_aliases
from libcoop.door.store import Store
from libcoop.fingerprint import code_fingerprint


def test_only_the_last_accepted_decision_on_a_name_reaches_the_build(tmp_path):
    store = Store(tmp_path / "door")
    first = store.propose("Diet Library Tokyo", "JP", "VN", "NDL", "lan@nlv.gov.vn")
    refused = store.propose("Bibliotheque X", "FR", "VN", "BNF", "lan@nlv.gov.vn")
    new = store.propose("Thu vien Moi", "VN", "VN", None, "lan@nlv.gov.vn")
    store.decide(first, True, "curator@libcoop.org")
    store.decide(refused, False, "curator@libcoop.org")
    store.decide(new, True, "curator@libcoop.org")  # a new institution: for the seeds, not an alias
    corrected = store.propose("Diet Library Tokyo", "JP", "JP", "NDLK", "kenji@ndl.go.jp")
    store.decide(corrected, True, "other@libcoop.org")
    assert [row[:4] for row in accepted_aliases(tmp_path / "door")] == [
        ("Diet Library Tokyo", "NDLK", "JP", "other@libcoop.org")
    ]
    assert [(p.proposal_id, p.status) for p in store.proposals()] == [
        (first, "accepted"),
        (refused, "refused"),
        (new, "accepted"),
        (corrected, "accepted"),
    ]

    con = duckdb.connect()
    assert write_accepted_aliases(con, tmp_path / "door") == 1
    assert con.execute("select alias, institution_code, country_code from raw.accepted_aliases").fetchall() == [
        ("Diet Library Tokyo", "NDLK", "JP")
    ]
    assert build_digest(con) == store_digest(tmp_path / "door") != ""
    assert code_fingerprint(build_digest(con)) != code_fingerprint()


def test_without_a_store_the_table_exists_empty_and_the_fingerprint_is_unchanged(tmp_path):
    con = duckdb.connect()
    assert build_digest(con) == ""
    assert write_accepted_aliases(con, tmp_path / "no-door") == 0
    assert con.execute("select count(*) from raw.accepted_aliases").fetchone() == (0,)
    assert build_digest(con) == store_digest(tmp_path / "no-door") == ""
    assert code_fingerprint("") == code_fingerprint()
    assert not (tmp_path / "no-door").exists()  # reading never creates the store
