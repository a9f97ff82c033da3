"""What one publish costs on each target: the DuckDB file (checkpoint and rename) and DuckLake
(every marts and audit table copied into one snapshot of a PostgreSQL-catalog lake).

    python -m benchmarks.publish_targets grow BUILD ROWS OUT   # a copy of BUILD with ~ROWS rows in fct_visit
    python -m benchmarks.publish_targets duckdb BUILD          # one publish of BUILD as the DuckDB file
    python -m benchmarks.publish_targets ducklake BUILD        # one publish of BUILD as a DuckLake snapshot

Time the two publish commands side by side with farm-bench (README, "DuckLake"):

    farm-bench -n 5 -- python -m benchmarks.publish_targets ducklake BUILD \\
        --vs 'python -m benchmarks.publish_targets duckdb BUILD'

Each publish command is a whole process (start-up, imports and, for DuckLake, loading the
extensions and attaching the catalog included), and each starts from its own copy of BUILD, as a
run does. The DuckLake catalog is LIBCOOP_BENCH_LAKE (default: the database libcoop_lake_bench on
the local PostgreSQL, which must exist), its data under LIBCOOP_BENCH_LAKE_DATA (default: a folder
in the temporary directory); every publish adds a snapshot to it."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb

from libcoop.settings import Paths
from libcoop.warehouse import lake
from libcoop.warehouse.publish import publish

DEFAULT_LAKE = "ducklake:postgres:dbname=libcoop_lake_bench host=127.0.0.1 user=postgres"


def grow(build: Path, rows: int, out: Path) -> None:
    """Copy ``build`` and repeat its visits (fact, activity and the people's view) up to ~``rows``."""
    shutil.copyfile(build, out)
    with duckdb.connect(str(out)) as con:
        (have,) = con.execute("select count(*) from marts.fct_visit").fetchone()  # type: ignore[misc]
        copies = max(rows // have - 1, 0)
        for table in ("fct_visit", "fct_cooperation_activity"):
            con.execute(f"insert into marts.{table} select t.* from marts.{table} t, range({copies})")
        con.execute("checkpoint")
        (now,) = con.execute("select count(*) from marts.fct_visit").fetchone()  # type: ignore[misc]
    print(f"{out}: {now} rows in marts.fct_visit")


def main(argv: list[str]) -> int:
    command, build = argv[0], Path(argv[1]).absolute()
    if command == "grow":
        grow(build, int(argv[2]), Path(argv[3]).absolute())
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        private = Path(tmp) / "build" / "cooperation.duckdb"
        private.parent.mkdir()
        shutil.copyfile(build, private)
        if command == "duckdb":
            target = Path(tmp) / "warehouse" / "cooperation.duckdb"
            publish(Paths(Path(tmp) / "raw", target, Path(tmp) / "expectations"), private)
        elif command == "ducklake":
            data = os.environ.get("LIBCOOP_BENCH_LAKE_DATA") or str(Path(tempfile.gettempdir()) / "libcoop-bench-lake")
            target_lake = lake.parse(os.environ.get("LIBCOOP_BENCH_LAKE") or DEFAULT_LAKE, data, tmp)
            lake.publish_build(target_lake, private, "bench")
        else:
            print(__doc__, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
