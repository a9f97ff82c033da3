"""What docs/contract.md promises, for the tests that hold the warehouse and its suites to it."""

from __future__ import annotations

# The tables section 2 of the contract requires in the marts schema.
CONTRACT_TABLES = frozenset(
    {
        "dim_country",
        "dim_institution",
        "dim_organization",
        "dim_date",
        "fct_membership",
        "fct_visit",
        "fct_donation",
        "fct_cooperation_activity",
    }
)
