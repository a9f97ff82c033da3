"""The summaries of the large facts by file version (libcoop.quality.fact_summaries): on generated
nights, each changing the raw rows or the fact rows of a few files (a new file version, a fact row
lost, added, untraced, re-dated or with other counts), the summary made from the kept rows of the
unchanged files and the rows of the changed ones is the summary of the whole fact added up again,
row for row; and only the changed files are added up again."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path
from unittest import mock

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libcoop.quality import batches, fact_summaries
from libcoop.quality.fact_summaries import BY_FILE_VERSION, FILE_KEY, _file_keys_sql, keep_summaries, summarize
from libcoop.quality.reads import fact_summary_sql
from tests.integration.test_quality import build_warehouse

pytestmark = pytest.mark.integration

FILES = ("CN/visits_2015.csv", "VN/visits_2000-2010.xlsx", "SG/visits.csv")
FACTS = ("fct_visit", "fct_cooperation_activity")
# Date keys: one in dim_date, the unknown member, one dim_date does not hold.
DATE_KEYS = (20150101, -1, 99991231)

_file = st.sampled_from(FILES)
_change = st.one_of(
    st.tuples(st.just("new_raw_version"), _file, st.lists(st.integers(2, 5), max_size=3, unique=True)),
    st.tuples(st.just("counts"), _file, st.sampled_from(FACTS), st.integers(0, 500)),
    st.tuples(st.just("row_lost"), _file, st.sampled_from(FACTS)),
    st.tuples(st.just("row_added"), _file, st.sampled_from(FACTS)),
    st.tuples(st.just("untraced"), _file, st.sampled_from(FACTS)),
    st.tuples(st.just("redated"), _file, st.sampled_from(FACTS), st.sampled_from(DATE_KEYS)),
)
_nights = st.lists(st.lists(_change, min_size=1, max_size=3), min_size=2, max_size=4)


def _change_night(con: duckdb.DuckDBPyConnection, change: tuple) -> str:
    """Apply one change; the file it touched."""
    what, file_path, *args = change
    if what == "new_raw_version":  # the file's raw rows are replaced by others (the facts not rebuilt)
        (numbers,) = args
        digest = hashlib.sha256(repr(numbers).encode()).hexdigest()
        con.execute("delete from raw.visits where file_path = ?", [file_path])
        for number in numbers:
            con.execute(
                "insert into raw.visits (file_path, content_hash, load_id, source_row_number, reporting_country, "
                "start_date, start_date_precision, end_date, end_date_precision, activity_type, delegations, "
                "participants) values (?, ?, 'night', ?, ?, date '2001-01-01', 'day', date '2001-01-02', 'day', "
                "'delegation', 1, ?)",
                [file_path, digest, number, file_path[:2], number],
            )
        return file_path
    (fact, *rest) = args
    where = f"file_path = '{file_path}'"
    if what == "counts":
        con.execute(f"update marts.{fact} set participants = ? where {where}", [rest[0]])
    elif what == "row_lost":
        con.execute(f"delete from marts.{fact} where rowid = (select min(rowid) from marts.{fact} where {where})")
    elif what == "row_added":
        con.execute(f"insert into marts.{fact} select * from marts.{fact} where {where} limit 1")
    elif what == "untraced":
        con.execute(f"update marts.{fact} set source_row_number = source_row_number + 1000 where {where}")
    elif what == "redated":
        column = "start_date_key" if fact == "fct_visit" else "date_key"
        con.execute(f"update marts.{fact} set {column} = ? where {where}", [rest[0]])
    return file_path


def _rows(table) -> list[tuple]:
    return [tuple(row.values()) for row in table.to_pylist()]


# Each example takes about a second: more than the default profile's few (`make fuzz`: its own number).
@settings(
    max_examples=max(12, settings.default.max_examples),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(nights=_nights)
def test_a_summary_carried_by_file_version_is_the_summary_added_up_again(tmp_path: Path, nights) -> None:
    build = build_warehouse(tmp_path / f"night-{next(_builds)}.duckdb")
    for night, changes in enumerate(nights):
        changed = set()
        if night:  # the first night has nothing kept: every file is added up
            with duckdb.connect(str(build)) as con:
                changed = {_change_night(con, change) for change in changes}
        summaries = {}
        with batches.read_only(build) as con:
            for fact in BY_FILE_VERSION:
                kept = set()
                if night:
                    kept = set(
                        con.execute(
                            f"select distinct file_path, {FILE_KEY} from audit.dq_fact_summary_{fact}"
                        ).fetchall()
                    )
                keys = set(con.execute(_file_keys_sql(con, fact, fact_summary_sql(con, fact))).fetchall())
                # The real query, watched: the files its last call adds up again.
                with mock.patch.object(fact_summaries, "fact_summary_sql", wraps=fact_summary_sql) as made:
                    summaries[fact] = summarize(con, fact)
                added_up = made.call_args_list[-1].args[2]
                again = con.sql(fact_summary_sql(con, fact)).to_arrow_table()
                # Row for row the summary added up from all the fact's rows (the file keys aside).
                assert _rows(summaries[fact].drop_columns([FILE_KEY])) == _rows(again), (fact, night, changes)
                if night:  # a file whose key changed is one this night changed
                    assert {path for path, _key in keys - kept} <= changed, (fact, night, changes)
                    # and every file whose key is unchanged is carried forward, not added up again
                    carried = {path for path, _key in keys & kept}
                    expected = sorted({path for path, _key in keys} - carried) if carried else None
                    assert added_up == expected, (fact, night, changes)
        with duckdb.connect(str(build)) as con:
            keep_summaries(con, summaries)


_builds = itertools.count()
