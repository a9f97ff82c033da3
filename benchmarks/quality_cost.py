"""What the data-quality validation costs as the warehouse grows: seconds and peak memory per million rows.

Builds the small warehouse of ``tests/integration/test_quality.py`` (raw layer, marts), then adds N
synthetic visits generated in DuckDB with ``range()``: N rows in ``raw.visits`` (all current), the
N matching rows in ``marts.fct_visit`` and ``marts.fct_cooperation_activity``. Each size is
validated by ``libcoop.quality.validate_warehouse`` (every suite, the Data Docs included) in a fresh
process, against a fresh copy of the committed Great Expectations context, so that wall time and
peak RSS are that run's own (the time leaves out importing great_expectations: a few seconds,
whatever the size). The cost per million rows is the difference with the run on the small
warehouse (N = 0: Great Expectations' fixed cost), divided by N.

    python -m benchmarks.quality_cost [--rows 100000 1000000] [--json results.json]

Wall-clock numbers depend on the machine and its load: read them as orders of magnitude.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# One visit per row of range(N): valid under every suite (so the run measures the checks, not the
# rendering of failures), spread over 1980-2012 and over the activity types.
ADD_VISITS = """
insert into raw.visits (file_path, content_hash, load_id, source_row_number, reporting_country, record_id, source,
    activity_type, host_institution, host_country, guest_institution, guest_country, start_date,
    start_date_precision, end_date, end_date_precision, delegations, participants, event, program, city)
select 'CN/visits_bench_' || (i // 100000) || '.csv', 'sha-bench', 'load-bench', i % 100000 + 2, 'CN',
    'b' || i, 'bench',
    ['mutual_visit', 'delegation', 'business_exchange', 'staff_exchange', 'training', 'conference'][1 + i % 6],
    'National Library of China', 'CN', 'National Library of Viet Nam', 'VN',
    date '1980-01-01' + cast(i % 12000 as integer), 'day', date '1980-01-01' + cast(i % 12000 + 3 as integer), 'day',
    1 + i % 5, i % 60, 'exchange ' || (i % 40), null, 'Beijing'
from range({rows}) as t(i);

insert into marts.fct_visit
select activity_type, md5('NLC'), md5('NLV'), md5('CN'), md5('VN'),
    cast(strftime(start_date, '%Y%m%d') as integer), cast(strftime(end_date, '%Y%m%d') as integer),
    delegations, participants, event, program, file_path, source_row_number
from raw.visits where load_id = 'load-bench';

insert into marts.fct_cooperation_activity
select 'visit', activity_type, md5('NLC'), md5('NLV'), md5('UNKNOWN'), md5('CN'), md5('VN'),
    cast(strftime(start_date, '%Y%m%d') as integer), delegations, participants, null, null, file_path, source_row_number
from raw.visits where load_id = 'load-bench';
"""

# The next night: one new file of 200 visits (its rows in raw and in both facts), the others unchanged.
CHANGE_ONE_FILE = (
    ADD_VISITS.replace(
        "'CN/visits_bench_' || (i // 100000) || '.csv', 'sha-bench', 'load-bench'",
        ("'VN/visits_changed.csv', 'sha-changed', 'load-changed'"),
    )
    .replace("load_id = 'load-bench'", ("load_id = 'load-changed'"))
    .format(rows=200)
)

MEASURE = """
import resource, sys, time
from pathlib import Path
import great_expectations  # seconds to import, whatever the size: not part of the measure
from libcoop.quality import validate_warehouse
started = time.perf_counter()
report = validate_warehouse(Path(sys.argv[1]), "bench", Path(sys.argv[2]))
seconds = time.perf_counter() - started
assert report.passed and not report.warnings, report.summary()
if sys.argv[3:] == ["record"]:  # what the pipeline does next: keep the results in the build
    import duckdb
    from libcoop.quality import record_results
    with duckdb.connect(sys.argv[1]) as con:
        record_results(con, report)
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, len(report.outcomes))
"""


def build(path: Path, rows: int) -> None:
    sys.path.insert(0, str(PROJECT_ROOT))
    from tests.integration.test_quality import build_warehouse

    build_warehouse(path)
    if rows:
        with duckdb.connect(str(path)) as con:
            con.execute(ADD_VISITS.format(rows=rows))


def measure(database: Path, context_dir: Path, *, record: bool = False) -> tuple[float, float]:
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    done = subprocess.run(  # noqa: S603 - our own interpreter on our own script
        [sys.executable, "-c", MEASURE, str(database), str(context_dir), *(["record"] if record else [])],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT,
        env=env,
    )
    if done.returncode:
        raise RuntimeError(f"validation failed:\n{done.stderr[-3000:]}")
    seconds, max_rss_kb, _checks = done.stdout.split()[-3:]
    return float(seconds), int(max_rss_kb) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    results = []
    print(
        f"{'added rows':>10} {'seconds':>8} {'peak MB':>8} {'s / M rows':>11} {'MB / M rows':>12} "
        f"{'next night: 1 file of 200 changed':>35}",
        flush=True,
    )
    base_s = base_mb = 0.0
    for rows in [0, *args.rows]:
        with tempfile.TemporaryDirectory() as tmp:
            database = Path(tmp) / "build.duckdb"
            context_dir = Path(tmp) / "expectations"
            shutil.copytree(PROJECT_ROOT / "expectations", context_dir, ignore=shutil.ignore_patterns("uncommitted"))
            build(database, rows)
            seconds, mb = measure(database, context_dir, record=True)
            with duckdb.connect(str(database)) as con:
                con.execute(CHANGE_ONE_FILE)
            next_s, next_mb = measure(database, context_dir)
        if rows == 0:
            base_s, base_mb = seconds, mb
            per_s = per_mb = ""
        else:
            per_s = f"{(seconds - base_s) / rows * 1e6:.1f}"
            per_mb = f"{(mb - base_mb) / rows * 1e6:.0f}"
        results.append(
            {"rows": rows, "seconds": seconds, "peak_mb": mb, "next_seconds": next_s, "next_peak_mb": next_mb}
        )
        print(
            f"{rows:>10} {seconds:>8.1f} {mb:>8.0f} {per_s:>11} {per_mb:>12} {next_s:>20.1f} s {next_mb:>8.0f} MB",
            flush=True,
        )
    load = os.getloadavg()
    print(f"load average during the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
