"""audit.dq_results: every expectation's result of every run, kept in the warehouse."""

from __future__ import annotations

import duckdb

from libcoop.audit import ensure_audit_tables
from libcoop.quality.fact_summaries import keep_summaries
from libcoop.quality.results import QualityReport


def ensure_dq_results_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create audit.dq_results (one row per expectation per validation), audit.dq_file_results (one row
    per raw expectation per file version in force) and the other audit tables."""
    ensure_audit_tables(con)


def record_results(con: duckdb.DuckDBPyConnection, report: QualityReport) -> None:
    """Keep the report in audit.dq_results: one row per expectation per validation.

    Recording the same run again replaces its rows, so a retried task leaves the same state.
    """
    ensure_dq_results_table(con)
    con.execute("delete from audit.dq_results where run_id = ?", [report.run_id])
    rows = [
        (
            report.run_id,
            report.validated_at,
            o.suite,
            o.expectation,
            o.column,
            o.severity,
            o.success,
            o.observed_value,
            o.unexpected_count,
            o.description,
        )
        for o in report.outcomes
    ]
    if rows:
        con.executemany(
            "insert into audit.dq_results (run_id, validated_at, suite, expectation, column_name, severity, "
            "success, observed_value, unexpected_count, description) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    # The results of the file versions in force, new and carried forward: the next run's starting point.
    if report.file_results:
        con.execute("delete from audit.dq_file_results")
        con.executemany(
            f"insert into audit.dq_file_results values ({', '.join('?' * len(report.file_results[0].row()))})",
            [r.row() for r in report.file_results],
        )
    # The facts' summaries by file version: the next run carries forward those of unchanged files.
    keep_summaries(con, report.fact_summaries)
