"""For every name of review_unresolved_institutions, the closest curated institutions by fuzzy
matching (rapidfuzz, in libcoop.review), best first: the alias a data steward should add."""

import pyarrow as pa

from libcoop.review import CANDIDATE_COLUMNS, candidate_rows, known_spellings

# Candidates kept per unresolved name.
CANDIDATES_PER_NAME = 3

SCHEMA = pa.schema(
    [
        pa.field(name, kind, nullable=name not in ("institution_key", "candidate_rank", "score"))
        for name, kind in zip(
            CANDIDATE_COLUMNS,
            (
                pa.string(),
                pa.string(),
                pa.string(),
                pa.string(),
                pa.int32(),
                pa.string(),
                pa.string(),
                pa.string(),
                pa.string(),
                pa.float64(),
                pa.bool_(),
            ),
            strict=True,
        )
    ]
)


def model(dbt, session):
    dbt.config(materialized="table")
    unresolved = dbt.ref("review_unresolved_institutions").project(
        "institution_key, institution_name, institution_name_normalized, country_iso2"
    )
    institutions = dbt.ref("institutions").project("institution_code, institution_name, country_iso2, acronym")
    aliases = dbt.ref("institution_aliases").project("alias, institution_code")
    spellings = known_spellings(institutions.fetchall(), aliases.fetchall())
    rows = candidate_rows(unresolved.fetchall(), spellings, CANDIDATES_PER_NAME)
    return pa.Table.from_pylist([dict(zip(CANDIDATE_COLUMNS, row, strict=True)) for row in rows], schema=SCHEMA)
