"""Generated drop folders for the benchmarks: deterministic from a seed, valid under the contract.

A drop holds ``files`` files (200 by default) over the five coordinators of the sample: per country
one memberships file, ``donation_files`` donations files and the rest visits files. Visits carry
``visit_rows`` rows in all, memberships 1/100 and donations 1/20 of that. Names and countries are
the ones the sample uses (``raw/incoming``), native scripts included, so the warehouse resolves
them as it does real drops (and leaves the sample's one unresolved name unresolved).

    python -m benchmarks.drops OUT_DIR --visit-rows 100000 [--seed 17]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

from libcoop.ingest.contract import ACTIVITY_TYPES, DONATION_TYPES

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE = PROJECT_ROOT / "raw" / "incoming"
COUNTRIES = ("VN", "CN", "JP", "KR", "SG")

VISITS_HEADER = (
    "record_id,activity_type,host_institution,host_country,guest_institution,guest_country,"
    "start_date,end_date,delegations,participants,event,program,city,source"
)
MEMBERSHIPS_HEADER = "record_id,institution,country,organization,membership_type,joined,left,source"
DONATIONS_HEADER = (
    "record_id,donor,donor_country,donor_type,recipient_institution,recipient_country,donation_type,"
    "project,quantity,amount,currency,start_date,end_date,source"
)
DONOR_TYPES = ("foundation", "government", "embassy", "library", "university", "company", "association")
MEMBERSHIP_TYPES = ("member", "official member", "associate", "observer", "founding member")
CURRENCIES = ("USD", "EUR", "JPY", "KRW", "CNY", "SGD", "AUD")
CITIES = ("Hanoi", "Beijing", "Tokyo", "Seoul", "Singapore", "Ho Chi Minh City", "Kyoto", "Busan", "")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip().lower() for h in next(reader)]
        return [dict(zip(header, row, strict=False)) for row in reader]


def sample_names() -> dict[str, list[tuple[str, str]]]:
    """(name, country) pairs as the sample writes them, per role; organizations as written."""
    institutions: set[tuple[str, str]] = set()
    donors: set[tuple[str, str]] = set()
    organizations: set[tuple[str, str]] = set()
    for path in sorted(SAMPLE.glob("*/*.csv")):
        for row in _rows(path):
            for name, country in (
                (row.get("host_institution"), row.get("host_country")),
                (row.get("guest_institution"), row.get("guest_country")),
                (row.get("institution"), row.get("country")),
                (row.get("recipient_institution"), row.get("recipient_country")),
            ):
                if name and country and name.strip() and country.strip():
                    institutions.add((name.strip(), country.strip()))
            if row.get("donor", "").strip() and row.get("donor_country", "").strip():
                donors.add((row["donor"].strip(), row["donor_country"].strip()))
            if row.get("organization", "").strip():
                organizations.add((row["organization"].strip(), ""))
    return {
        "institutions": sorted(institutions),
        "donors": sorted(donors),
        "organizations": sorted(organizations),
    }


def _quote(text: str) -> str:
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\n') else text


def _period(rng: random.Random) -> tuple[str, str]:
    """A start and an end date (maybe empty), at year, month or day precision, end never before start."""
    year = rng.randint(1981, 2024)
    precision = rng.random()
    if precision < 0.3:
        start = f"{year}"
    elif precision < 0.6:
        start = f"{year}-{rng.randint(1, 12):02d}"
    else:
        start = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    # An end in a later year: never before the start, whichever way a check reads a period.
    end_kind = rng.random()
    if end_kind < 0.4:
        end = ""
    elif end_kind < 0.7:
        end = f"{year + rng.randint(1, 5)}"
    else:
        end = f"{year + 1}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return start, end


def _visit(i: int, rng: random.Random, names: dict, prefix: str) -> str:
    (host, host_country), (guest, guest_country) = rng.sample(names["institutions"], 2)
    if rng.random() < 0.05:  # a side left empty: "many or unspecified"
        host, host_country = "", ""
    start, end = _period(rng)
    participants = str(rng.randint(0, 80)) if rng.random() < 0.7 else ""
    return (
        f"{prefix}{i},{rng.choice(ACTIVITY_TYPES)},{_quote(host)},{_quote(host_country)},{_quote(guest)},"
        f"{_quote(guest_country)},{start},{end},{rng.randint(1, 5)},{participants},"
        f"exchange {i % 97},,{rng.choice(CITIES)},generated (seed {rng.random():.3f})\n"
    )


def _membership(i: int, rng: random.Random, names: dict, prefix: str) -> str:
    name, country = rng.choice(names["institutions"])
    (organization, _) = rng.choice(names["organizations"])
    joined, left = _period(rng)
    return (
        f"{prefix}{i},{_quote(name)},{_quote(country)},{_quote(organization)},"
        f"{rng.choice(MEMBERSHIP_TYPES)},{joined},{left},generated\n"
    )


def _donation(i: int, rng: random.Random, names: dict, prefix: str) -> str:
    donor, donor_country = rng.choice(names["donors"])
    recipient, recipient_country = rng.choice(names["institutions"])
    start, end = _period(rng)
    if rng.random() < 0.6:
        amount, currency = f"{rng.randint(100, 500_000)}", rng.choice(CURRENCIES)
    else:
        amount, currency = "", ""
    quantity = str(rng.randint(1, 3000)) if rng.random() < 0.5 else ""
    return (
        f"{prefix}{i},{_quote(donor)},{_quote(donor_country)},{rng.choice(DONOR_TYPES)},{_quote(recipient)},"
        f"{_quote(recipient_country)},{rng.choice(DONATION_TYPES)},project {i % 53},{quantity},"
        f"{amount},{currency},{start},{end},generated\n"
    )


# Each kind's header and its row ``i`` (the record id ``prefix`` + i), drawn from ``rng``.
KIND_ROWS = {
    "visits": (VISITS_HEADER, _visit),
    "memberships": (MEMBERSHIPS_HEADER, _membership),
    "donations": (DONATIONS_HEADER, _donation),
}


def write_file(path: Path, kind: str, rows: int, rng: random.Random, names: dict, prefix: str) -> None:
    """A ``kind`` file of ``rows`` rows at ``path``."""
    header, row = KIND_ROWS[kind]
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(header + "\n")
        for i in range(rows):
            out.write(row(i, rng, names, prefix))


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def generate(incoming: Path, visit_rows: int, *, seed: int = 17, files: int = 200, donation_files: int = 7) -> dict:
    """Write a drop into ``incoming`` (``<CC>/<kind>_<n>.csv``); return its row counts per kind."""
    names = sample_names()
    per_country = files // len(COUNTRIES)
    visit_files = per_country - 1 - donation_files
    visit_sizes = _split(visit_rows, visit_files * len(COUNTRIES))
    donation_sizes = _split(max(visit_rows // 20, len(COUNTRIES) * donation_files), donation_files * len(COUNTRIES))
    membership_sizes = _split(max(visit_rows // 100, len(COUNTRIES)), len(COUNTRIES))
    for c, country in enumerate(COUNTRIES):
        folder = incoming / country
        folder.mkdir(parents=True, exist_ok=True)
        rng = random.Random(f"{seed}-{country}-memberships")  # noqa: S311 - reproducible data, not secrets
        write_file(folder / "memberships.csv", "memberships", membership_sizes[c], rng, names, f"{country}-M-")
        for n in range(donation_files):
            rng = random.Random(f"{seed}-{country}-donations-{n}")  # noqa: S311
            size = donation_sizes[c * donation_files + n]
            write_file(folder / f"donations_{n:02d}.csv", "donations", size, rng, names, f"{country}-D{n}-")
        for n in range(visit_files):
            rng = random.Random(f"{seed}-{country}-visits-{n}")  # noqa: S311
            size = visit_sizes[c * visit_files + n]
            write_file(folder / f"visits_{n:03d}.csv", "visits", size, rng, names, f"{country}-V{n}-")
    return {"visits": visit_rows, "memberships": sum(membership_sizes), "donations": sum(donation_sizes)}


def change_one_file(incoming: Path, *, seed: int = 99) -> Path:
    """Rewrite one visits file with other rows of the same count (the 'one file changed' night)."""
    path = incoming / "CN" / "visits_000.csv"
    with path.open(encoding="utf-8") as handle:
        rows = sum(1 for _ in handle) - 1
    write_file(path, "visits", rows, random.Random(seed), sample_names(), "CN-V0-")  # noqa: S311
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="the raw folder to create (files go in OUT/incoming/)")
    parser.add_argument("--visit-rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    counts = generate(args.out / "incoming", args.visit_rows, seed=args.seed)
    print(counts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
