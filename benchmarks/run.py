"""`make bench`: what a night costs, side by side with loaders that do less.

For each size (the committed sample, then generated drops of 10k, 100k and 1M visit rows over 200
files, see ``benchmarks.drops``) it runs, interleaved, each in its own process:

- ``libcoop full``: ``libcoop run`` into an empty warehouse (every file new: load, dbt, GX, docs);
- ``libcoop nothing changed``: the same command again, the drop untouched;
- ``libcoop one changed``: the same command after one visits file of 200 got other rows;
- ``duckdb read_csv``: DuckDB's own CSV reader into one table per kind, no checks at all;
- ``pandas read_csv``: ``pandas.read_csv`` of every file, concatenated per kind, inserted into
  DuckDB, no checks at all;
- ``dlt`` when it is installed (``uv sync --group bench``): dlt's filesystem source reading the
  same CSV files into DuckDB;
- ``airflow dags test`` (the sample, or every size with ``--dag-all``): the nightly DAG on its own
  copy of the drop into an empty warehouse, as ``libcoop full`` does in one process (its
  metadata database is made before, untimed); then ``airflow dags test nothing changed``, the DAG
  again on the same drop, which should stop after discovery as ``libcoop nothing changed`` does.

Each process is timed from outside (wall clock around it, its own CPU seconds from ``wait4``, and
its peak memory: the larger of wait4's peak RSS and the sampled sum of its process tree's
proportional set sizes, since ``libcoop run`` validates in a worker process). libcoop's phases come
from its log, dbt's model timings from the build's ``run_results.json``. The ratios of issue 17 are
printed next to their goals, and the whole report is written to ``docs/benchmarks.md`` (``--no-write``
to skip). Nothing here asserts a time.

    python -m benchmarks.run [--sizes 10000 100000] [--with-5m] [--rounds 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.drops import PROJECT_ROOT, change_one_file, generate

LIBCOOP = str(Path(sys.executable).with_name("libcoop"))
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
# A peer slower than this is stopped and reported as such (a libcoop run is never stopped).
PEER_TIMEOUT = 900
REPORT = PROJECT_ROOT / "docs" / "benchmarks.md"

DUCKDB_SIDE = """
import sys, duckdb
raw, db = sys.argv[1], sys.argv[2]
con = duckdb.connect(db)
for kind in ("memberships", "visits", "donations"):
    con.execute(f"create table {kind} as select * from read_csv('{raw}/incoming/*/{kind}*.csv', union_by_name = true)")
print(sum(con.execute(f"select count(*) from {k}").fetchone()[0] for k in ("memberships", "visits", "donations")))
"""

PANDAS_SIDE = """
import sys, glob, duckdb, pandas as pd
raw, db = sys.argv[1], sys.argv[2]
con = duckdb.connect(db)
total = 0
for kind in ("memberships", "visits", "donations"):
    paths = sorted(glob.glob(f"{raw}/incoming/*/{kind}*.csv"))
    frame = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths])
    con.execute(f"create table {kind} as select * from frame")
    total += len(frame)
print(total)
"""

DLT_SIDE = """
import sys, dlt
from dlt.sources.filesystem import filesystem, read_csv
raw, db = sys.argv[1], sys.argv[2]
pipeline = dlt.pipeline(pipeline_name="bench", destination=dlt.destinations.duckdb(db), dataset_name="raw",
                        pipelines_dir=db + ".dlt")
for kind in ("memberships", "visits", "donations"):
    files = filesystem(bucket_url=f"file://{raw}/incoming", file_glob=f"*/{kind}*.csv") | read_csv()
    pipeline.run(files.with_name(kind))
print(0)
"""


@dataclass
class Measure:
    name: str
    size: str
    wall: float
    cpu: float
    peak_mb: float
    rows: int
    phases: dict[str, tuple[float, float]] = field(default_factory=dict)
    models: list[tuple[str, float]] = field(default_factory=list)
    note: str = ""


def _tree_pss_mb(pid: int) -> float:
    """The memory of process ``pid`` and all its descendants now, in MB: the sum of their
    proportional set sizes (a page shared by n of them counts 1/n in each), 0 once they are gone."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
            total += next((int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")), 0)
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total / 1024


def _sample_tree(pid: int, peaks: list[float], stop: threading.Event) -> None:
    """Keep in ``peaks[0]`` the largest sum of the process tree's memory, sampled every 0.1 s."""
    while not stop.wait(0.1):
        peaks[0] = max(peaks[0], _tree_pss_mb(pid))


def timed(
    argv: list[str], env: dict[str, str] | None = None, timeout: float | None = None
) -> tuple[float, float, float, str, str, int]:
    """Run a command; (wall s, cpu s, peak MB, stdout, stderr, exit code), from wait4's accounting.
    The peak is the larger of wait4's (the largest single process's resident memory) and the
    memory of the whole process tree (its proportional set sizes added up, sampled every 0.1 s):
    a run's worker processes add up. Killed after
    ``timeout`` seconds (exit code -9)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=err, env=env)  # noqa: S603 - our own commands
        timer = threading.Timer(timeout, process.kill) if timeout else None
        if timer:
            timer.start()
        peaks, stop = [0.0], threading.Event()
        sampler = threading.Thread(target=_sample_tree, args=(process.pid, peaks, stop), daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        stop.set()
        sampler.join()
        if timer:
            timer.cancel()
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (
            wall,
            usage.ru_utime + usage.ru_stime,
            max(usage.ru_maxrss / 1024, peaks[0]),
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            process.returncode,
        )


PHASE = re.compile(r"phase (?P<name>[a-z ]+): (?P<wall>[\d.]+) s wall, (?P<cpu>[\d.]+) s cpu")


def libcoop_run(raw: Path, warehouse: Path, name: str, size: str, rows: int) -> Measure:
    env = dict(os.environ, GX_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    env["LIBCOOP_EXPECTATIONS_DIR"] = str(_expectations_copy(warehouse.parent.parent / "expectations"))
    wall, cpu, peak, stdout, stderr, code = timed(
        [LIBCOOP, "-v", "run", "--raw-dir", str(raw), "--warehouse", str(warehouse)], env
    )
    if code != 0:
        raise RuntimeError(f"libcoop run failed ({name}, {size}):\n{stderr[-3000:]}")
    phases = {m["name"]: (float(m["wall"]), float(m["cpu"])) for m in PHASE.finditer(stderr)}
    note = "nothing rebuilt" if "nothing changed since build" in stdout else ""
    measure = Measure(name, size, wall, cpu, peak, rows, phases, note=note)
    results = warehouse.parent / ".dbt-target" / "build_run_results.json"
    if "build" in phases and results.exists():
        nodes = json.loads(results.read_text())["results"]
        models = [(n["unique_id"].split(".")[-1], n["execution_time"]) for n in nodes if n["unique_id"][:6] == "model."]
        tests = sum(n["execution_time"] for n in nodes if n["unique_id"].startswith("test."))
        measure.models = [
            *sorted(models, key=lambda m: -m[1])[:6],
            (f"all {sum(1 for _ in nodes)} nodes' tests", tests),
        ]
    return measure


def _expectations_copy(folder: Path) -> Path:
    """A run's own copy of the Great Expectations context: runs write their Data Docs there."""
    if not folder.exists():
        shutil.copytree(PROJECT_ROOT / "expectations", folder, ignore=shutil.ignore_patterns("uncommitted"))
    return folder


def dag_run(raw: Path, warehouse: Path, size: str, rows: int, name: str = "airflow dags test") -> Measure:
    """``airflow dags test cooperation_nightly`` on ``raw`` into ``warehouse``, in AIRFLOW_HOME beside it
    (made the first time)."""
    work = warehouse.parent.parent
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(work / "airflow"),
        AIRFLOW__CORE__DAGS_FOLDER=str(PROJECT_ROOT / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        LIBCOOP_RAW_DIR=str(raw),
        LIBCOOP_WAREHOUSE=str(warehouse),
        LIBCOOP_EXPECTATIONS_DIR=str(_expectations_copy(work / "expectations")),
        GX_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
    )
    if not (work / "airflow" / "airflow.db").exists():
        for args in (("db", "migrate"), ("pools", "set", "duckdb_writer", "1", "DuckDB writers, one at a time")):
            subprocess.run([AIRFLOW, *args], env=env, capture_output=True, check=True)  # noqa: S603 - our own command
    wall, cpu, peak, stdout, stderr, code = timed([AIRFLOW, "dags", "test", "cooperation_nightly"], env)
    if code != 0 or "state=success" not in stdout + stderr:
        raise RuntimeError(f"airflow dags test failed ({size}):\n{(stdout + stderr)[-3000:]}")
    note = "short path" if "nothing changed since build" in stdout + stderr else ""
    return Measure(name, size, wall, cpu, peak, rows, note=note)


def peer_run(
    side: str, name: str, raw: Path, work: Path, size: str, rows: int, python: str = sys.executable
) -> Measure:
    db = work / f"{name.split()[0]}.duckdb"
    db.unlink(missing_ok=True)
    shutil.rmtree(str(db) + ".dlt", ignore_errors=True)
    wall, cpu, peak, _stdout, stderr, code = timed([python, "-c", side, str(raw), str(db)], timeout=PEER_TIMEOUT)
    db.unlink(missing_ok=True)
    shutil.rmtree(str(db) + ".dlt", ignore_errors=True)
    if code == -9:
        return Measure(name, size, wall, cpu, peak, rows, note=f"killed after {PEER_TIMEOUT} s")
    if code != 0:
        raise RuntimeError(f"{name} failed:\n{stderr[-2000:]}")
    return Measure(name, size, wall, cpu, peak, rows)


def dlt_available() -> bool:
    check = subprocess.run([sys.executable, "-c", "import dlt"], capture_output=True, check=False)
    return check.returncode == 0


def bench_size(
    label: str, raw: Path, rows: int, rounds: int, with_peers: bool, with_dlt: bool, with_dag: bool = False
) -> list[Measure]:
    measures: list[Measure] = []
    with tempfile.TemporaryDirectory(prefix=f"bench-{label}-") as tmp:
        work = Path(tmp)
        for round_number in range(rounds):
            drop = work / f"raw-{round_number}"
            shutil.copytree(raw / "incoming", drop / "incoming")
            warehouse = work / f"wh-{round_number}" / "cooperation.duckdb"
            if with_peers:
                measures.append(peer_run(DUCKDB_SIDE, "duckdb read_csv", drop, work, label, rows))
            measures.append(libcoop_run(drop, warehouse, "libcoop full", label, rows))
            if with_dag:
                dag_drop, dag_warehouse = work / f"dag-{round_number}" / "raw", work / f"dag-{round_number}" / "wh"
                shutil.copytree(raw / "incoming", dag_drop / "incoming")
                measures.append(dag_run(dag_drop, dag_warehouse / "cooperation.duckdb", label, rows))
                measures.append(
                    dag_run(
                        dag_drop, dag_warehouse / "cooperation.duckdb", label, rows, "airflow dags test nothing changed"
                    )
                )
                shutil.rmtree(dag_drop.parent)
            if with_peers:
                measures.append(peer_run(PANDAS_SIDE, "pandas read_csv + insert", drop, work, label, rows))
            measures.append(libcoop_run(drop, warehouse, "libcoop nothing changed", label, rows))
            if with_dlt:
                measures.append(peer_run(DLT_SIDE, "dlt filesystem -> duckdb", drop, work, label, rows))
            if (drop / "incoming" / "CN" / "visits_000.csv").exists():
                change_one_file(drop / "incoming")
                measures.append(libcoop_run(drop, warehouse, "libcoop one changed", label, rows))
            shutil.rmtree(drop)
            shutil.rmtree(warehouse.parent)
    return measures


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def summarize(measures: list[Measure]) -> dict[tuple[str, str], Measure]:
    """The median of each (size, name) over the rounds (phases and models of the median run)."""
    grouped: dict[tuple[str, str], list[Measure]] = {}
    for m in measures:
        grouped.setdefault((m.size, m.name), []).append(m)
    out = {}
    for key, runs in grouped.items():
        runs.sort(key=lambda m: m.wall)
        pick = runs[len(runs) // 2]
        out[key] = Measure(
            pick.name,
            pick.size,
            median([r.wall for r in runs]),
            median([r.cpu for r in runs]),
            max(r.peak_mb for r in runs),
            pick.rows,
            pick.phases,
            pick.models,
            pick.note,
        )
    return out


def ratio_lines(table: dict[tuple[str, str], Measure], sizes: list[str]) -> list[str]:
    lines = ["| size | ratio | measured | goal | met |", "|---|---|---:|---|---|"]

    def add(size: str, what: str, value: float | None, goal: str, met: bool | None) -> None:
        if value is None:
            return
        lines.append(f"| {size} | {what} | {value:.3g} | {goal} | {'yes' if met else 'no'} |")

    for size in sizes:
        full = table.get((size, "libcoop full"))
        if full is None:
            continue
        same = table.get((size, "libcoop nothing changed"))
        one = table.get((size, "libcoop one changed"))
        duck = table.get((size, "duckdb read_csv"))
        pandas = table.get((size, "pandas read_csv + insert"))
        if same:
            add(size, "nothing changed / full (wall)", same.wall / full.wall, "<= 0.05", same.wall / full.wall <= 0.05)
        if one:
            add(size, "one file changed / full (wall)", one.wall / full.wall, "<= 0.15", one.wall / full.wall <= 0.15)
        if duck:
            add(
                size, "full / duckdb read_csv (wall)", full.wall / duck.wall, "<= 10 at 1M", full.wall / duck.wall <= 10
            )
            load = full.phases.get("load")
            if load:
                add(
                    size,
                    "duckdb read_csv / libcoop load phase",
                    duck.wall / load[0],
                    ">= 0.3",
                    duck.wall / load[0] >= 0.3,
                )
        if pandas:
            add(size, "full / pandas loader (wall)", full.wall / pandas.wall, "< 1", full.wall < pandas.wall)
        build = full.phases.get("build")
        if build and size in ("1M", "5M"):
            add(size, "dbt build phase, s", build[0], "<= 30 s at 1M", build[0] <= 30)
        if size in ("1M", "5M"):
            limit = 1024 if size == "1M" else 2048
            add(size, "peak RSS of the full run, MB", full.peak_mb, f"<= {limit} MB", full.peak_mb <= limit)
        if size == "sample":
            add(size, "full run of the sample, s wall", full.wall, "<= 20 s", full.wall <= 20)
        dag = table.get((size, "airflow dags test"))
        if dag:
            slower = dag.wall / full.wall
            add(size, "Airflow DAG / libcoop run, full (wall)", slower, "<= 1.3", slower <= 1.3)
            if size == "sample":
                add(size, "DAG run of the sample, s wall", dag.wall, "<= 40 s", dag.wall <= 40)
            quiet = table.get((size, "airflow dags test nothing changed"))
            if quiet:
                # Beside the CLI's "nothing changed / full": the DAG's, which pays Airflow's own start.
                add(
                    size,
                    "DAG nothing changed / DAG full (wall)",
                    quiet.wall / dag.wall,
                    "stops after discovery",
                    quiet.note == "short path",
                )
    return lines


def render(table: dict[tuple[str, str], Measure], sizes: list[str], rounds: int) -> str:
    head = "| size | run | wall s | cpu s | rows/s | peak MB | libcoop phases (wall s / cpu s) |"
    lines = [head, "|---|---|---:|---:|---:|---:|---|"]
    for size in sizes:
        for (s, _), m in table.items():
            if s != size:
                continue
            phases = ", ".join(f"{k} {w:.1f}/{c:.1f}" for k, (w, c) in m.phases.items()) or m.note
            lines.append(
                f"| {size} | {m.name} | {m.wall:.1f} | {m.cpu:.1f} | {m.rows / m.wall:,.0f} | {m.peak_mb:,.0f} "
                f"| {phases} |"
            )
    models = []
    for size in sizes:
        full = table.get((size, "libcoop full"))
        if full and full.models:
            timings = ", ".join(f"{name} {seconds:.1f}" for name, seconds in full.models)
            models.append(f"- {size}: {timings}")
    machine = f"{platform.node()} ({os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()})"
    return "\n".join(
        [
            f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine}, median of {rounds} round(s).",
            "",
            *lines,
            "",
            "dbt model timings of the full run (seconds, from run_results.json; the slowest models, then the "
            "sum over the data tests):",
            "",
            *models,
            "",
            "The ratios of issue 17, each next to its goal:",
            "",
            *ratio_lines(table, sizes),
        ]
    )


SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000, "5M": 5_000_000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", choices=["sample", *SIZES], default=["sample", "10k", "100k", "1M"])
    parser.add_argument("--with-5m", action="store_true", help="add the 5M-row drop (long)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each side per size (the median is kept)")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--dlt-all", action="store_true", help="run dlt above 100k rows too (it needs GBs of memory)")
    parser.add_argument("--dag-all", action="store_true", help="run the Airflow DAG at every size, not only the sample")
    parser.add_argument("--no-write", action="store_true", help=f"do not write {REPORT.relative_to(PROJECT_ROOT)}")
    args = parser.parse_args(argv)
    sizes = [*args.sizes, *(["5M"] if args.with_5m else [])]
    with_dlt = dlt_available()
    if not with_dlt:
        print("dlt is not installed (uv sync --group bench installs it): its side is skipped", file=sys.stderr)
    measures: list[Measure] = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-drop-") as tmp:
            raw = Path(tmp) / "raw"
            if size == "sample":
                shutil.copytree(PROJECT_ROOT / "raw" / "incoming", raw / "incoming")
                rows = 51
            else:
                counts = generate(raw / "incoming", SIZES[size], seed=args.seed)
                rows = sum(counts.values())
            print(f"{size}: {rows:,} rows", file=sys.stderr)
            peers = size != "sample"
            # dlt held 4.6 GB at 100k rows here: above that it runs only when asked for.
            dlt_here = with_dlt and peers and (args.dlt_all or SIZES[size] <= 100_000)
            with_dag = size == "sample" or args.dag_all
            measures += bench_size(size, raw, rows, args.rounds, with_peers=peers, with_dlt=dlt_here, with_dag=with_dag)
        report = render(summarize(measures), sizes, args.rounds)
        if not args.no_write:  # after each size: a long bench stopped midway keeps what it measured
            REPORT.write_text(
                "# Benchmarks\n\nWritten by `make bench` (`python -m benchmarks.run`); see its docstring for what "
                "each run does. Wall seconds depend on the machine and its load: read the ratios.\n\n" + report + "\n"
            )
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
