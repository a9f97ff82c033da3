"""The raw suites by file version (libcoop.quality.by_file): on generated nights, each changing a few
files, the incremental validation (new file versions validated, the others carried forward from
audit.dq_file_results) finds what the old full validation of every row in one dataframe found, in
all and per reporting country."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from pathlib import Path

import duckdb
import pytest
from great_expectations.core.run_identifier import RunIdentifier
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libcoop import quality
from libcoop.quality import batches, by_file, validation
from libcoop.quality.audit import record_results
from libcoop.quality.reads import _suite_specs, expectation_parameters
from tests.integration.test_quality import COMMITTED_CONTEXT, build_warehouse

pytestmark = pytest.mark.integration

TODAY = dt.date.today()
_PERIOD = {
    "memberships": ("joined", "left"),
    "visits": ("start_date", "end_date"),
    "donations": ("start_date", "end_date"),
}
_FILES = {
    "memberships": ("VN/memberships.csv", "JP/memberships.csv"),
    "visits": ("CN/visits_2015.csv", "VN/visits_2000-2010.xlsx", "KR/visits.csv"),
    "donations": ("VN/donations_nlv-2000-2012.xlsx", "SG/donations.csv"),
}
# Plausible and implausible values: before 1900, more than a year from today, 300 per delegation.
_DAYS = (dt.date(1850, 1, 1), dt.date(1995, 6, 1), dt.date(2020, 3, 1), TODAY.replace(year=TODAY.year + 3), None)
_rows = st.lists(
    st.tuples(
        st.sampled_from(_DAYS[:-1]),
        st.sampled_from(_DAYS),
        st.sampled_from(("delegation", "conference")),
        st.sampled_from((1, 2)),
        st.sampled_from((3, 300, None)),
    ),
    max_size=3,
)
_change = st.tuples(st.sampled_from(sorted(_FILES)), st.integers(0, 2), _rows)
_nights = st.lists(st.lists(_change, min_size=1, max_size=2), min_size=2, max_size=3)


@pytest.fixture(scope="module")
def definitions(tmp_path_factory: pytest.TempPathFactory) -> dict:
    context_dir = validation.warehouse_context(COMMITTED_CONTEXT, tmp_path_factory.mktemp("by_file") / "state")
    return validation.register_suites(validation.open_context(context_dir))


def _night(build: Path, changes: list) -> None:
    """Each change replaces one file's rows by a new version (no rows: the file is withdrawn)."""
    with duckdb.connect(str(build)) as con:
        for kind, pick, rows in changes:
            file_path = _FILES[kind][pick % len(_FILES[kind])]
            digest = hashlib.sha256(repr(rows).encode()).hexdigest()
            start, end = _PERIOD[kind]
            con.execute(f"delete from raw.{kind} where file_path = ?", [file_path])
            for number, (first, last, activity, delegations, participants) in enumerate(rows, start=2):
                extra = ", activity_type, delegations, participants" if kind == "visits" else ""
                values = [activity, delegations, participants] if kind == "visits" else []
                con.execute(
                    f"insert into raw.{kind} (file_path, content_hash, load_id, source_row_number, reporting_country, "
                    f'{start}, {start}_precision, "{end}", {end}_precision{extra}) '
                    f"values (?, ?, 'night', ?, ?, ?, 'day', ?, 'day'{', ?, ?, ?' if values else ''})",
                    [file_path, digest, number, file_path[:2], first, last, *values],
                )


def _full(build: Path, definitions: dict, spec) -> tuple[list, dict]:
    """The old validation: every row of the suite's relation in one dataframe, then each country's."""
    definition = definitions[spec.name]
    with batches.read_only(build) as con:
        parameters = expectation_parameters(con, TODAY)
        frame = batches.read_frame(con, spec.query(con), batches.columns_checked(definition.suite, spec))
    by_country = {}
    rows_of = [("", frame)] + [
        (str(c), frame[frame["reporting_country"] == c]) for c in frame["reporting_country"].unique()
    ]
    for country, rows in rows_of:
        batch = definition.batch_definition.get_batch(batch_parameters={"dataframe": rows})
        with batches.arrow_strings():
            result = batch.validate(
                definition.suite, expectation_parameters=parameters, result_format=batches.summary_result_format()
            )
        batches.name_failing_rows(result, frame, spec)
        by_country[country] = [batches.outcome_of(spec, r) for r in result.results]
        batches.release_batches(definition)
    return by_country.pop(""), by_country


def _seen(outcomes) -> list[tuple]:
    """What must agree: each check's verdict and count, and its failing rows when all are shown."""
    return [
        (
            o.expectation,
            o.column,
            o.success,
            o.unexpected_count,
            sorted((r.file_path, r.row_number, r.value) for r in o.failing_rows)
            if (o.unexpected_count or 0) <= quality.FAILING_ROWS_SHOWN
            else None,
        )
        for o in outcomes
    ]


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nights=_nights)
def test_the_incremental_validation_finds_what_the_full_one_found(tmp_path: Path, definitions: dict, nights) -> None:
    build = build_warehouse(tmp_path / f"night-{next(_builds)}.duckdb")
    raw_specs = [s for s in _suite_specs() if s.kind is not None]
    for night, changes in enumerate(nights):
        _night(build, changes)
        with batches.read_only(build) as con:
            parameters = expectation_parameters(con, TODAY)
        report_outcomes, file_results, countries = [], [], {}
        for spec in raw_specs:
            raw = by_file.validate_raw(
                spec,
                definitions[spec.name],
                build,
                parameters,
                RunIdentifier(run_name=f"night-{night}"),
                dt.datetime.now(dt.UTC),
            )
            whole, per_country = _full(build, definitions, spec)
            assert _seen(raw.outcomes) == _seen(whole), (spec.name, night)
            assert set(raw.country_checks) == set(per_country), (spec.name, night)
            for country, checks in raw.country_checks.items():
                assert _seen(c.outcome for c in checks) == _seen(per_country[country]), (spec.name, country, night)
            report_outcomes.extend(raw.outcomes)
            file_results.extend(raw.file_results)
            countries.update(raw.country_rows)
        with duckdb.connect(str(build)) as con:
            record_results(
                con,
                quality.QualityReport(f"night-{night}", tuple(report_outcomes), None, file_results=tuple(file_results)),
            )
            kept = con.execute(
                "select count(distinct (file_path, content_hash)) from audit.dq_file_results"
            ).fetchone()[0]
            in_force = sum(
                con.execute(f"select count(distinct file_path) from raw.current_{k}").fetchone()[0] for k in _FILES
            )
            validated = {
                p
                for (p,) in con.execute(
                    "select distinct file_path from audit.dq_file_results where run_id = ?", [f"night-{night}"]
                ).fetchall()
            }
        assert kept == in_force
        if night:  # only what changed was validated; the other file versions' results were carried forward
            assert validated <= {_FILES[kind][pick % len(_FILES[kind])] for kind, pick, _ in changes}


_builds = itertools.count()
