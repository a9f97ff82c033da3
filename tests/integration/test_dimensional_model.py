"""The conformed dimensional model on the sample drop, built by the real pipeline steps.

Two nights on copies in tmp_path (the sample drop of raw/incoming, the dbt project): each night
loads, builds (dbt build, snapshot included), lists the fuzzy candidates of unresolved names,
writes the dbt docs (first night) and publishes, exactly as the nightly job does, minus the Great
Expectations validation (tests/integration/test_quality.py covers it). Between the nights the
reference data changes The Asia Foundation's type; the facts of the first night keep the version
they happened under, dim_institution shows the new type, and the institution keeps its key.

The expected figures are computed by hand from the files (docs/sample_drop.md).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from libcoop.pipeline import build_step, load_step
from libcoop.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Paths, resolve_paths
from libcoop.transform.dbt_docs import generate_docs
from libcoop.warehouse.publish import discard_build, publish

pytestmark = pytest.mark.integration

SAMPLE_DROP = PROJECT_ROOT / "raw" / "incoming"
ANALYSES = DBT_PROJECT_DIR / "analyses"

TAF_BEFORE = "TAF,The Asia Foundation,foundation,US,TAF\n"
TAF_AFTER = "TAF,The Asia Foundation,international_organization,US,TAF\n"

# Every spelling of the National Library of Viet Nam in the drop (docs/sample_drop.md), and the
# misspelling deliberately left out of the aliases.
NLV_SPELLINGS = {"National Library of Viet Nam", "National Library of Vietnam", "NLV", "Thư viện Quốc gia Việt Nam"}
NLV_MENTIONS = 19
MISSPELT_NLV = "Nationl Library of Vietnam"

# "How much did foundations give to ASEAN national libraries per year?" From
# VN/donations_nlv-2000-2012.xlsx (VN/donations_ineli-asean.csv goes to CONSAL, an association;
# KR/donations.csv comes from a government to Korea): donor types of the seed (TAF, ATLP, BMGF are
# foundations; the French Embassy and RMIT are not), recipient NLV (national_library, VN in ASEAN):
#   2000 VN-D-01 TAF, 40,000 books, no amount (VN-D-02 goes to the unresolved misspelling: type unknown)
#   2004 VN-D-04 Atlantic Philanthropies, DDC 14, 100,000 USD
#   2005 VN-D-03 TAF, public diplomacy, 120,000 USD
#   2009 VN-D-07 Gates Foundation, IT skills pilot, no amount
#   2010 VN-D-05 Atlantic Philanthropies, DDC 22, 40,000 USD
# (donation_year, donation_count, amount_usd_count, amount_usd, quantity); 260,000 USD in all.
FOUNDATIONS_TO_ASEAN_NATIONAL_LIBRARIES = [
    (2000, 1, 0, None, 40000),
    (2004, 1, 1, 100000.0, None),
    (2005, 1, 1, 120000.0, None),
    (2009, 1, 0, None, None),
    (2010, 1, 1, 40000.0, None),
]

# "How many people did the libraries of China and Japan exchange since 1981?" The visits between
# a Chinese and a Japanese library are all NLC-NDL: CN-V-01 (business meetings 1981-2015: 33
# delegations, 166 people), CN-V-02 (exchanged librarians 1981-2015: 7 people), JP-V-07 (35th
# business exchange 2016, no count). (visit_count, delegations, participants, participants_count,
# first_year, last_year): 166 + 7 = 173 people.
CHINA_JAPAN_LIBRARY_EXCHANGES = (3, 35, 173, 2, 1981, 2016)


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # the surrogate keys of the warehouse are md5


def analysis_sql(name: str) -> str:
    """An analysis of dbt_project/analyses with its refs pointing at the marts schema."""
    sql = (ANALYSES / f"{name}.sql").read_text(encoding="utf-8")
    return re.sub(r"\{\{\s*ref\('(\w+)'\)\s*\}\}", r"marts.\1", sql)


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def night(paths: Paths, run_id: str, *, with_docs: bool = False) -> None:
    """One nightly run without the validation: load, build (review list included), (docs), publish."""
    build, _ = load_step(paths, run_id)
    try:
        build_step(build)
        if with_docs:
            generate_docs(build, paths.warehouse.parent / "dbt_docs", after_build=True)
        publish(paths, build)
    finally:
        discard_build(build)


@dataclass
class Nights:
    paths: Paths
    project: Path
    first: dict  # what the first night published, read before the second one


def _snapshot(warehouse: Path) -> dict:
    return {
        "history": query(
            warehouse,
            "select institution_version_key, institution_key, institution_code, institution_type, version_number, "
            "valid_from, valid_to, is_current, recorded_from from marts.dim_institution_history order by all",
        ),
        "donation_versions": query(
            warehouse,
            "select donation_key, donor_institution_key, donor_institution_version_key, recipient_institution_key, "
            "recipient_institution_version_key from marts.fct_donation order by all",
        ),
        "foundations": query(warehouse, analysis_sql("foundation_donations_to_asean_national_libraries")),
    }


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nights]:
    root = tmp_path_factory.mktemp("dimensional_model")
    shutil.copytree(SAMPLE_DROP, root / "raw" / "incoming")
    project = root / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    paths = resolve_paths(root / "raw", root / "warehouse" / "cooperation.duckdb")

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LIBCOOP_DBT_PROJECT_DIR", str(project))
        night(paths, "night-1", with_docs=True)
        first = _snapshot(paths.warehouse)

        # The reference data changes: a data steward retypes The Asia Foundation.
        seed = project / "seeds" / "institutions.csv"
        text = seed.read_text(encoding="utf-8")
        assert TAF_BEFORE in text
        seed.write_text(text.replace(TAF_BEFORE, TAF_AFTER), encoding="utf-8")
        night(paths, "night-2")

        yield Nights(paths, project, first)


# --- the first night ------------------------------------------------------------------------


def test_every_spelling_of_the_nlv_resolves_to_one_institution_key(nights: Nights) -> None:
    mentions = query(
        nights.paths.warehouse,
        """
        select institution_name, institution_key from marts.fct_membership
        union all select host_institution_name, host_institution_key from marts.fct_visit
        union all select guest_institution_name, guest_institution_key from marts.fct_visit
        union all select donor_name, donor_institution_key from marts.fct_donation
        union all select recipient_institution_name, recipient_institution_key from marts.fct_donation
        """,
    )
    nlv_key = md5("NLV")
    nlv_mentions = [(name, key) for name, key in mentions if key == nlv_key]

    assert {name for name, _ in nlv_mentions} == NLV_SPELLINGS
    assert len(nlv_mentions) == NLV_MENTIONS
    assert {key for name, key in mentions if name in NLV_SPELLINGS} == {nlv_key}
    # Every spelling, of every institution, resolves to one key.
    keys_per_spelling: dict[str, set[str]] = {}
    for name, key in mentions:
        if name is not None:
            keys_per_spelling.setdefault(" ".join(name.split()).lower(), set()).add(key)
    assert all(len(keys) == 1 for keys in keys_per_spelling.values())
    assert query(
        nights.paths.warehouse,
        "select institution_name, country_iso2, is_resolved, institution_natural_key from marts.dim_institution "
        "where institution_key = ?",
        [md5(f"unresolved|{MISSPELT_NLV.lower()}|VN")],
    ) == [(MISSPELT_NLV, "VN", False, f"unresolved|{MISSPELT_NLV.lower()}|VN")]


def test_the_unresolved_name_is_listed_with_the_nlv_as_closest_candidate(nights: Nights) -> None:
    candidates = query(
        nights.paths.warehouse,
        "select institution_name, country_iso2, candidate_rank, candidate_institution_code, candidate_alias, score "
        "from review.unresolved_institution_candidates order by candidate_rank",
    )

    # Only institutions of the name's country that it may safely stand for (contract section 1).
    assert candidates == [(MISSPELT_NLV, "VN", 1, "NLV", "National Library of Vietnam", 98.1)]


def test_foundations_gave_asean_national_libraries_per_year(nights: Nights) -> None:
    assert nights.first["foundations"] == FOUNDATIONS_TO_ASEAN_NATIONAL_LIBRARIES
    # The same answer straight from the facts and the institution versions.
    direct = query(
        nights.paths.warehouse,
        """
        select year(donations.start_date) as donation_year, count(*), sum(donations.amount_usd)
        from marts.fct_donation as donations
        inner join marts.dim_institution_history as donors
            on donations.donor_institution_version_key = donors.institution_version_key
        inner join marts.dim_institution_history as recipients
            on donations.recipient_institution_version_key = recipients.institution_version_key
        inner join marts.dim_country as countries
            on recipients.country_key = countries.country_key
        where donors.institution_type = 'foundation' and recipients.institution_type = 'national_library'
            and countries.is_asean
        group by all order by donation_year
        """,
    )
    assert direct == [(year, count, usd) for year, count, _, usd, _ in FOUNDATIONS_TO_ASEAN_NATIONAL_LIBRARIES]


def test_countries_carry_the_regions_of_the_seed(nights: Nights) -> None:
    # seeds/regions.csv by UN sub-region (Timor-Leste, ASEAN's eleventh member since 2025, with
    # Viet Nam), else the continent; the unknown member is in no region.
    assert query(
        nights.paths.warehouse,
        "select iso2, region, is_asean from marts.dim_country "
        "where iso2 in ('BR', 'CN', 'FR', 'KR', 'TL', 'US', 'VN', 'ZZ') order by iso2",
    ) == [
        ("BR", "America", False),
        ("CN", "East Asia", False),
        ("FR", "Europe", False),
        ("KR", "East Asia", False),
        ("TL", "ASEAN", True),
        ("US", "North America", False),
        ("VN", "ASEAN", True),
        ("ZZ", "Unknown", False),
    ]
    assert query(nights.paths.warehouse, "select count(*) from marts.dim_country where is_asean") == [(11,)]


def test_people_exchanged_by_the_libraries_of_china_and_japan_since_1981(nights: Nights) -> None:
    assert query(nights.paths.warehouse, analysis_sql("china_japan_library_exchanges")) == [
        CHINA_JAPAN_LIBRARY_EXCHANGES
    ]
    direct = query(
        nights.paths.warehouse,
        """
        select count(*), sum(visits.participants)
        from marts.fct_visit as visits
        where visits.start_date >= date '1981-01-01' and (
            (visits.host_institution_key = ? and visits.guest_institution_key = ?)
            or (visits.host_institution_key = ? and visits.guest_institution_key = ?)
        )
        """,
        [md5("NLC"), md5("NDL"), md5("NDL"), md5("NLC")],
    )
    assert direct == [(3, 173)]


def test_the_1981_2015_totals_are_spread_over_their_years_per_decade(nights: Nights) -> None:
    """CN-V-01 and CN-V-02 (1981 to May 2015, 35 years) count 9/35 of their delegations and people
    in the 1980s in fct_activity_year_allocated; the facts keep them whole in 1981 (issue 25)."""
    per_decade = query(
        nights.paths.warehouse,
        """
        select activity_year // 10 * 10 as decade, sum(allocated_delegations), sum(allocated_participants)
        from marts.fct_activity_year_allocated
        where institution_key in (?, ?) and partner_institution_key in (?, ?) and period_start_year = 1981
        group by all order by all
        """,
        [md5("NLC"), md5("NDL"), md5("NLC"), md5("NDL")],
    )
    assert [row[0] for row in per_decade] == [1980, 1990, 2000, 2010]
    delegations, participants = 33 + 1, 166 + 7  # CN-V-02 reports 1 exchange of 7 librarians
    for (decade, got_delegations, got_people), years in zip(per_decade, (9, 10, 10, 6), strict=True):
        assert got_delegations == pytest.approx(delegations * years / 35), decade
        assert got_people == pytest.approx(participants * years / 35), decade


def test_national_libraries_carry_their_world_identifiers(nights: Nights) -> None:
    """From the seed institution_identifiers: NULL where no source confirmed a value (issue 28)."""
    assert query(
        nights.paths.warehouse,
        "select institution_code, isil, wikidata_qid, viaf_id from marts.dim_institution "
        "where institution_code in ('NDL', 'NLC', 'NLV') order by all",
    ) == [("NDL", "JP-1000001", "Q477675", None), ("NLC", None, "Q732353", None), ("NLV", None, None, None)]
    links = query(
        nights.paths.warehouse,
        "select distinct host_institution, host_institution_wikidata from marts.visits "
        "where host_institution_wikidata is not null order by all",
    )
    assert ("National Diet Library", "https://www.wikidata.org/wiki/Q477675") in links
    assert all(url.startswith("https://www.wikidata.org/wiki/Q") for _, url in links)


def test_the_first_night_has_one_version_per_institution(nights: Nights) -> None:
    history = nights.first["history"]

    assert len(history) == 58  # 56 curated, the misspelt NLV, the unknown member
    assert {row[4] for row in history} == {1}
    assert all(row[7] for row in history), "every version is current"
    assert {str(row[5]) for row in history} == {"1900-01-01 00:00:00"}
    assert all(row[0] == md5(f"{row[2] or ''}|1900-01-01 00:00:00") for row in history if row[2])
    assert query(nights.paths.warehouse, "select count(*) from marts.dim_institution") == [(58,)]


def test_the_dbt_docs_are_kept_beside_the_warehouse(nights: Nights) -> None:
    docs = nights.paths.warehouse.parent / "dbt_docs"

    assert (docs / "index.html").stat().st_size > 100_000
    manifest = json.loads((docs / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((docs / "catalog.json").read_text(encoding="utf-8"))
    assert set(manifest["exposures"]) == {
        "exposure.libcoop.cooperation_dashboard",
        "exposure.libcoop.data_quality_dashboard",
    }
    assert "model.libcoop.dim_institution_history" in catalog["nodes"]
    assert "snapshot.libcoop.snap_institutions" in catalog["nodes"]
    # Not compiled again after the build (--no-compile), yet every model and test shows its SQL.
    nodes = [n for n in manifest["nodes"].values() if n["resource_type"] in ("model", "test")]
    assert len(nodes) > 150  # 40 models and about 150 tests
    assert [n["name"] for n in nodes if not (n.get("compiled_code") or "").strip()] == []
    assert [n["name"] for n in nodes if n["language"] == "sql" and "select" not in n["compiled_code"]] == []
    assert not list(docs.parent.glob(".dbt_docs*")), "no staging folder left behind"


# --- the second night: The Asia Foundation is retyped ---------------------------------------


def test_a_changed_type_opens_a_new_version_and_keeps_the_key(nights: Nights) -> None:
    taf = md5("TAF")
    history = query(
        nights.paths.warehouse,
        "select institution_version_key, institution_key, institution_type, version_number, valid_from, valid_to, "
        "is_current, recorded_from, recorded_to from marts.dim_institution_history where institution_code = 'TAF' "
        "order by version_number",
    )
    first_taf = next(row for row in nights.first["history"] if row[2] == "TAF")

    assert len(history) == 2
    old, new = history
    assert (old[0], old[1], old[2], old[3]) == (first_taf[0], taf, "foundation", 1)
    assert old[7] == first_taf[8], "the history of the first night was carried over by the publication"
    assert (new[1], new[2], new[3]) == (taf, "international_organization", 2)
    assert old[5] == new[4] == old[8] == new[7], "the old version ends where the new one starts"
    assert (old[6], new[6]) == (False, True)
    assert str(new[5]) == "9999-12-31 00:00:00"

    assert query(
        nights.paths.warehouse,
        "select institution_key, institution_type, institution_version_key, version_number "
        "from marts.dim_institution where institution_code = 'TAF'",
    ) == [(taf, "international_organization", new[0], 2)]


def test_old_facts_keep_the_old_version(nights: Nights) -> None:
    taf_facts = query(
        nights.paths.warehouse,
        """
        select donations.record_id, donations.donor_institution_key, donors.institution_type, donors.version_number
        from marts.fct_donation as donations
        inner join marts.dim_institution_history as donors
            on donations.donor_institution_version_key = donors.institution_version_key
        where donors.institution_code = 'TAF'
        order by donations.record_id
        """,
    )

    assert taf_facts == [(record, md5("TAF"), "foundation", 1) for record in ("VN-D-01", "VN-D-02", "VN-D-03")]
    # Nothing else moved: every fact keeps its institution and version keys of the first night.
    assert _snapshot(nights.paths.warehouse)["donation_versions"] == nights.first["donation_versions"]
    # So the answer to the question is the same: TAF was a foundation when it gave.
    assert query(nights.paths.warehouse, analysis_sql("foundation_donations_to_asean_national_libraries")) == (
        FOUNDATIONS_TO_ASEAN_NATIONAL_LIBRARIES
    )


def test_unchanged_institutions_keep_their_single_version(nights: Nights) -> None:
    before = {row[0]: row for row in nights.first["history"]}
    after = {row[0]: row for row in _snapshot(nights.paths.warehouse)["history"]}

    changed = {key for key in after.keys() | before.keys() if before.get(key) != after.get(key)}
    taf_versions = {key for key, row in after.items() if row[2] == "TAF"}
    assert changed == taf_versions
