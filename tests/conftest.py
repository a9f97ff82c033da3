"""Shared fixtures: small drop folders built in tmp_path, never the committed sample."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

# Property-based tests: `make test` runs a few fixed examples (derandomized, so CI is repeatable,
# and not shrunk, so a failure costs one example); `make fuzz` runs many random ones and shrinks
# a failure to its smallest drop.
# Both profiles: examples are slow and large (each writes a drop), so no deadline or size checks.
_BOTH = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
    ],
    "print_blob": True,
}
settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("LIBCOOP_PROPERTY_EXAMPLES", "3")),
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    **_BOTH,
)
settings.register_profile("fuzz", max_examples=int(os.environ.get("LIBCOOP_FUZZ_EXAMPLES", "200")), **_BOTH)
settings.load_profile(os.environ.get("LIBCOOP_HYPOTHESIS_PROFILE", "ci"))

VISITS_HEADER = (
    "record_id,activity_type,host_institution,host_country,guest_institution,guest_country,"
    "start_date,end_date,delegations,participants,event,program,city,source"
)
DONATIONS_HEADER = (
    "record_id,donor,donor_country,donor_type,recipient_institution,recipient_country,donation_type,"
    "project,quantity,amount,currency,start_date,end_date,source"
)
MEMBERSHIPS_HEADER = "record_id,institution,country,organization,membership_type,joined,left,source"

GOOD_VISIT = "v1,business_exchange,National Library of China,China,National Diet Library,Japan,2016-11-28,2016-12-04,1,12,35th business exchange,,Beijing,test"
GOOD_DONATION = "d1,Atlantic Philanthropies,United States,foundation,National Library of Viet Nam,Viet Nam,funding,DDC 14 translation,,100000,USD,2004,2006,test"
GOOD_MEMBERSHIP = "m1,National Library of Viet Nam,Viet Nam,IFLA,member,2000,,test"
# One good file of each kind: its header and its good row.
GOOD_FILES = {
    "visits": f"{VISITS_HEADER}\n{GOOD_VISIT}\n",
    "donations": f"{DONATIONS_HEADER}\n{GOOD_DONATION}\n",
    "memberships": f"{MEMBERSHIPS_HEADER}\n{GOOD_MEMBERSHIP}\n",
}


@pytest.fixture
def drop(tmp_path: Path):
    """Write files into tmp_path/raw/incoming/<CC>/ and return their paths."""
    incoming = tmp_path / "raw" / "incoming"

    def write(relative: str, content: str | bytes) -> Path:
        path = incoming / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return path

    write.incoming = incoming  # type: ignore[attr-defined]
    write.raw_dir = tmp_path / "raw"  # type: ignore[attr-defined]
    return write
