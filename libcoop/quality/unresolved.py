"""The rows naming an institution the build could not resolve, as warnings for their coordinators.

dbt owns name resolution: the build lists every such row in ``review.review_unresolved_name_rows``
(its file and row, the name, the other side of the row, the candidates of the name's country).
This module only carries that list into the ``QualityReport``, so that each row is a warning on its
reporting country's page, in the run summary and in the data-quality verdict (contract section
3). It restates no rule: a Great Expectations check on the same table would be a second owner of
the resolution, and would count one failed check where coordinators need one warning per row.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb

from libcoop.quality.results import QualityReport, UnresolvedName

# How many rows each country's page lists one by one (all are counted).
UNRESOLVED_ROWS_SHOWN = 50

# The drop file's column of each role of review_unresolved_name_rows.
ROLE_COLUMNS = {
    "member": "institution",
    "host": "host_institution",
    "guest": "guest_institution",
    "donor": "donor",
    "recipient": "recipient_institution",
}

_RELATION = "review.review_unresolved_name_rows"


def _left_out(family: str, date: object, country: str | None, other: str | None, other_country: str | None) -> str:
    """What the row's activity is missing from: an unresolved institution has no type."""
    with_other = f" with {other} ({other_country})" if other else ""
    between = f" {other_country}-{country}" if other and other_country and country else ""
    return (
        f"the{between} {family} of {date or 'an unknown date'}{with_other} is missing from every view of "
        "national libraries (its institution has no type)"
    )


def read_unresolved_names(
    con: duckdb.DuckDBPyConnection, shown: int = UNRESOLVED_ROWS_SHOWN
) -> tuple[tuple[UnresolvedName, ...], dict[str, int]]:
    """The first ``shown`` rows of each reporting country naming an unresolved institution, and
    the count of such rows per country; nothing when the build has no review list."""
    (exists,) = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'review' "
        "and table_name = 'review_unresolved_name_rows'"
    ).fetchone()
    if not exists:
        return (), {}
    counts = dict(con.execute(f"select reporting_country, count(*) from {_RELATION} group by 1 order by 1").fetchall())
    rows = con.execute(
        f"select reporting_country, file_path, source_row_number, institution_role, institution_name, country_iso2, "
        f"candidate_names, activity_family, activity_date, other_institution_name, other_country_iso2 "
        f"from {_RELATION} "
        "qualify row_number() over (partition by reporting_country order by file_path, source_row_number, "
        "institution_role) <= ? order by reporting_country, file_path, source_row_number, institution_role",
        [shown],
    ).fetchall()
    names = tuple(
        UnresolvedName(
            reporting_country=country_code,
            file_path=file_path,
            row_number=int(row),
            column=ROLE_COLUMNS.get(role, role),
            name=name,
            country_iso2=country,
            candidates=candidates,
            left_out=_left_out(family, date, country, other, other_country),
        )
        for (country_code, file_path, row, role, name, country, candidates, family, date, other, other_country) in rows
    )
    return names, {str(code): int(n) for code, n in counts.items()}


def with_unresolved_names(report: QualityReport, database: Path) -> QualityReport:
    """``report`` with the rows of the build ``database`` that name an unresolved institution."""
    with duckdb.connect(str(database), read_only=True) as con:
        names, counts = read_unresolved_names(con)
    return dataclasses.replace(report, unresolved_names=names, unresolved_counts=counts)
