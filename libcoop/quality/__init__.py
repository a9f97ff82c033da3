"""Data quality: the Great Expectations suites that say what "good data" means, run on a build.

The package, in the order a validation goes: ``results`` (what a check found), ``suites`` and
``marts_suites`` (the suites as code; the marts ones check what dbt's tests do not), ``reads``
(the dataframe each suite validates), ``site`` (the Data Docs and the country pages),
``validation`` (the file context and the run), ``unresolved`` (the rows naming an institution dbt
could not resolve: warnings too), ``audit`` (audit.dq_results).

The suites are written here as code, one function per suite, and registered into the file data
context under ``expectations/`` (its ``gx/`` folder is committed; ``gx/uncommitted/``, with the
validation results and the Data Docs site, is not). Every expectation carries its severity in
``meta``: a failed ``critical`` expectation blocks the publication of the build, a failed
``warning`` is reported (run log, Data Docs, ``audit.dq_results``) and the build is published.
Its description ends with its severity and its check (the expectation type), so that both show
on every Data Docs page.

Great Expectations reads DuckDB through pandas dataframes: its SQL datasource needs duckdb-engine,
which the project does not ship. Each suite's relation is read from the build opened read-only,
with the helper columns the checks need (orphan keys, the day of a date key...) computed by
DuckDB, only the columns its expectations name, text as Arrow strings, and validated as a
whole-dataframe batch. Values that change from run to run (today's date, the row counts of the
raw layer) are suite parameters (``$PARAMETER``), so the committed suites stay byte-identical
from one run to the next.

What a run leaves for people to read (see ``publish_data_docs``): the Data Docs site, with the
results of the last ``KEEP_RUNS`` runs, copied to ``warehouse/data_docs/`` beside the warehouse,
and one page per reporting country (``countries/<CC>.html``): that coordinator's files, the
problems of the rejected ones, and the raw checks on that country's rows, down to the file and
row of each failure.

``great_expectations`` is imported inside the functions that need it: it takes seconds, and the
command line and the DAG file must stay fast to load.
"""

from __future__ import annotations

from libcoop.quality.audit import (
    ensure_dq_results_table,
    record_results,
)
from libcoop.quality.marts_suites import (
    MARTS_SUITE_PREFIX,
    fact_suite,
    marts_dimension_suite,
)
from libcoop.quality.reads import (
    SUITE_NAMES,
    expectation_parameters,
)
from libcoop.quality.results import (
    BATCH_DEFINITION_NAME,
    CRITICAL,
    DATA_DOCS_DIRNAME,
    DATASOURCE_NAME,
    DELEGATION_ACTIVITY_TYPES,
    EARLIEST_PLAUSIBLE_DATE,
    FAILING_ROWS_SHOWN,
    KEEP_RUNS,
    MAX_PARTICIPANTS_PER_DELEGATION,
    MAX_PLAUSIBLE_AMOUNT,
    RAW_ROW_COLUMNS,
    WARNING,
    CountryCheck,
    CountryFile,
    CountryProblem,
    CountryView,
    ExpectationOutcome,
    FailingRow,
    QualityReport,
    RunFile,
    UnresolvedName,
)
from libcoop.quality.site import (
    data_docs_target,
    publish_data_docs,
    write_country_pages,
)
from libcoop.quality.suites import (
    raw_suite,
)
from libcoop.quality.unresolved import (
    read_unresolved_names,
    with_unresolved_names,
)
from libcoop.quality.validation import (
    open_context,
    register_suites,
    validate_warehouse,
)

__all__ = [
    "BATCH_DEFINITION_NAME",
    "CRITICAL",
    "DATASOURCE_NAME",
    "DATA_DOCS_DIRNAME",
    "DELEGATION_ACTIVITY_TYPES",
    "EARLIEST_PLAUSIBLE_DATE",
    "FAILING_ROWS_SHOWN",
    "KEEP_RUNS",
    "MARTS_SUITE_PREFIX",
    "MAX_PARTICIPANTS_PER_DELEGATION",
    "MAX_PLAUSIBLE_AMOUNT",
    "RAW_ROW_COLUMNS",
    "SUITE_NAMES",
    "WARNING",
    "CountryCheck",
    "CountryFile",
    "CountryProblem",
    "CountryView",
    "ExpectationOutcome",
    "FailingRow",
    "QualityReport",
    "RunFile",
    "UnresolvedName",
    "data_docs_target",
    "ensure_dq_results_table",
    "expectation_parameters",
    "fact_suite",
    "marts_dimension_suite",
    "open_context",
    "publish_data_docs",
    "raw_suite",
    "read_unresolved_names",
    "record_results",
    "register_suites",
    "validate_warehouse",
    "with_unresolved_names",
    "write_country_pages",
]
