"""The contract check of a drop file, measured against a plain-Python baseline.

Both sides check the same generated visits file (the libcoop side through DuckDB's CSV reader and
SQL rules, the baseline with the csv module row by row, the way such loaders are often written)
in separate processes, so that wall time and peak memory (max RSS) are each side's own. Results
are printed as ratios (baseline / libcoop), never asserted as wall-clock limits.

    python -m benchmarks.contract_check [--rows 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

HEADER = (
    "record_id,activity_type,host_institution,host_country,guest_institution,guest_country,"
    "start_date,end_date,delegations,participants,event,program,city,source"
)
LIBRARIES = [
    ("National Library of China", "China"),
    ("National Diet Library", "Japan"),
    ("National Library of Korea", "Republic of Korea"),
    ("National Library of Viet Nam", "Viet Nam"),
    ("National Library Board Singapore", "SG"),
]
ACTIVITIES = ["mutual_visit", "delegation", "business_exchange", "staff_exchange", "training", "conference"]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER + "\n")
        for i in range(rows):
            (host, host_country), (guest, guest_country) = rng.sample(LIBRARIES, 2)
            year, month = rng.randint(1981, 2024), rng.randint(1, 12)
            start = f"{year}-{month:02d}-{rng.randint(1, 28):02d}"
            out.write(
                f"r{i},{rng.choice(ACTIVITIES)},{host},{host_country},{guest},{guest_country},{start},{year + 1},"
                f"{rng.randint(1, 5)},{rng.randint(0, 60)},exchange {i % 40},,Beijing,bench\n"
            )


LIBCOOP_SIDE = """
import sys, time, resource
from pathlib import Path
from libcoop.ingest.drop_folder import discover
from libcoop.ingest.check import check_file
root = Path(sys.argv[1])
started = time.perf_counter()
(drop,) = discover(root).files
checked = check_file(drop, root)
assert checked.accepted, checked.problems[:3]
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, checked.rows.num_rows)
"""

BASELINE_SIDE = """
import csv, datetime as dt, re, sys, time, resource
from pathlib import Path
from libcoop.reference import resolve_countries
root = Path(sys.argv[1])
started = time.perf_counter()
path = next(root.glob("*/*.csv"))
date = re.compile(r"\\d{4}(-\\d{2}(-\\d{2})?)?")
countries = {}
rows, problems = [], []
with path.open(encoding="utf-8-sig", newline="") as handle:
    for number, row in enumerate(csv.DictReader(handle), start=2):
        out = {}
        for column in ("start_date", "end_date"):
            text = row[column].strip()
            if not date.fullmatch(text):
                problems.append((number, column))
                continue
            parts = [int(p) for p in text.split("-")] + [1, 1]
            out[column] = dt.date(parts[0], parts[1], parts[2])
        for column in ("host_country", "guest_country"):
            text = row[column].strip()
            if text not in countries:
                countries.update(resolve_countries([text]))
            out[column] = countries[text]
        for column in ("delegations", "participants"):
            out[column] = int(row[column]) if row[column].isdigit() else problems.append((number, column))
        out["activity_type"] = row["activity_type"].strip().lower()
        rows.append(out)
assert not problems
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, len(rows))
"""


def measure(side: str, root: Path) -> tuple[float, float]:
    done = subprocess.run(  # noqa: S603 - our own interpreter on our own script
        [sys.executable, "-c", side, str(root)], capture_output=True, text=True, check=True
    )
    seconds, max_rss_kb, _rows = done.stdout.split()[-3:]
    return float(seconds), int(max_rss_kb) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    results = []
    print(f"{'rows':>10} {'libcoop s':>10} {'baseline s':>11} {'speed x':>8} {'libcoop MB':>11} {'baseline MB':>12}")
    for rows in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "incoming"
            (root / "CN").mkdir(parents=True)
            generate(root / "CN" / "visits.csv", rows)
            ours_s, ours_mb = measure(LIBCOOP_SIDE, root)
            base_s, base_mb = measure(BASELINE_SIDE, root)
        results.append(
            {"rows": rows, "libcoop_s": ours_s, "baseline_s": base_s, "libcoop_mb": ours_mb, "baseline_mb": base_mb}
        )
        print(f"{rows:>10} {ours_s:>10.2f} {base_s:>11.2f} {base_s / ours_s:>7.1f}x {ours_mb:>11.0f} {base_mb:>12.0f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
