"""Generated wrong-country names: a curated institution's name (any of its spellings, any script),
written with a coordinator's noise, on a row that states another country. ``libcoop check`` must
accept the file (a name is at most a warning), say the name is unknown in the row's country, and
never suggest an institution of the name's own country: a suggestion that crosses a country
becomes wrong data once followed (contract section 1; issue 25: ``Thư viện Quốc gia Lào`` got the
NLV, ``中国国家図書館`` the NDL).

Cheap (no dbt): it runs the check of one small file per example."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from libcoop.ingest.check import check_file
from libcoop.ingest.drop_folder import discover
from libcoop.ingest.suggestions import normalize_name
from libcoop.transform.dbt_build import dbt_project_dir

SEEDS = dbt_project_dir() / "seeds"


def _rows(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


COUNTRY = {row["institution_code"]: row["country_iso2"] for row in _rows("institutions.csv")}
# Every spelling of a curated institution with a country: aliases (native names among them) and names.
SPELLINGS = sorted(
    {(row["alias"], row["institution_code"]) for row in _rows("institution_aliases.csv")}
    | {(row["institution_name"], row["institution_code"]) for row in _rows("institutions.csv")}
)
# Countries a row may state: the curated ones and some with no curated institution.
ROW_COUNTRIES = sorted(set(COUNTRY.values()) | {"LA", "KH", "TW", "MN"})
HEADER = "activity_type,host_institution,host_country,guest_institution,guest_country,start_date"


@st.composite
def written(draw: st.DrawFn, name: str) -> str:
    """``name`` as a coordinator writes it: its case, spaces, a letter lost or doubled, a word more."""
    chars = list(name)
    if len(chars) > 3 and draw(st.booleans()):
        at = draw(st.integers(0, len(chars) - 1))
        chars[at : at + 1] = draw(st.sampled_from([[], [chars[at], chars[at]]]))
    text = draw(st.sampled_from(["".join(chars), "".join(chars).upper(), f"  {''.join(chars)}  "]))
    text += draw(st.sampled_from(["", " Library", " 도서관", " 図書館", " (Hà Nội)"]))
    return text.replace(",", " ").replace('"', " ")


@st.composite
def wrong_country_rows(draw: st.DrawFn) -> tuple[str, str, str]:
    """(the name as written, its institution's code, the other country the row states)."""
    spelling, code = draw(st.sampled_from(SPELLINGS))
    other = draw(st.sampled_from([c for c in ROW_COUNTRIES if c != COUNTRY[code]]))
    return draw(written(spelling)), code, other


@settings(max_examples=max(settings().max_examples, 12))
@given(case=wrong_country_rows())
def test_a_name_of_one_country_on_a_row_of_another_never_gets_an_institution_of_the_first(
    case: tuple[str, str, str],
) -> None:
    name, code, other = case
    first = COUNTRY[code]
    of_first = {normalize_name(s) for s, c in SPELLINGS if COUNTRY[c] == first}
    of_other = {normalize_name(s) for s, c in SPELLINGS if COUNTRY[c] == other}
    with tempfile.TemporaryDirectory() as tmp:
        incoming = Path(tmp) / "incoming"
        (incoming / "VN").mkdir(parents=True)
        row = f"business_exchange,National Library of Viet Nam,VN,{name.strip()},{other},2016-05-03"
        (incoming / "VN" / "visits.csv").write_text(f"{HEADER}\n{row}\n", encoding="utf-8")
        (drop,) = discover(incoming).files
        checked = check_file(drop, incoming)

    assert checked.accepted, [(p.rule, p.column, p.value) for p in checked.problems]
    about = [w for w in checked.warnings if "column guest_institution" in w]
    if normalize_name(name) in of_other:
        return  # a spelling of an institution of the row's country too (an acronym of both): it resolves
    assert len(about) == 1, checked.warnings
    assert f"is not a known institution name of {other}" in about[0]
    if "closest known: " in about[0]:
        named = about[0].split("closest known: ", 1)[1].split(". If it is one", 1)[0].split(", ")
        assert all(normalize_name(n) in of_other for n in named), (named, other)
        assert not any(normalize_name(n) in of_first - of_other for n in named), named
