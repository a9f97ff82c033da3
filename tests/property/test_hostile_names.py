"""Names that lie, generated (issues 25, 30 and 32): control characters anywhere in a file name, a
newline after ``visits.csv``, Excel's and other editors' lock and shadow files, folders named after
a country instead of its code, lookalike letters. Whatever the names, the discovery never fails,
reads only what the contract names, shows every name escaped, and agrees with ``libcoop check``
(one rule: ``skip_reason``); no suggestion would overwrite a real file."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from libcoop.ingest.drop_folder import FILE_NAME, discover, is_country_code, skip_reason

GOOD_NAMES = ["visits.csv", "memberships.xlsx", "donations_nlv-2000-2012.csv", "visits_2015.csv"]
CONTROLS = st.sampled_from(["\n", "\r", "\t", "\x1b[31m", "\x1b]0;x\x07", "\x7f", "\x85", "\u202e", "\u200b", "\u2028"])
LOOKALIKES = st.sampled_from(["ı", "ſ", "K", "а", "ｖ"])  # dotless i, long s, Kelvin, Cyrillic a, fullwidth v


@st.composite
def hostile_name(draw: st.DrawFn) -> str:
    base = draw(st.sampled_from(GOOD_NAMES))
    how = draw(st.sampled_from(["suffix", "insert", "lock", "shadow", "backup", "lookalike", "as is"]))
    if how == "suffix":
        return base + draw(CONTROLS)
    if how == "insert":
        at = draw(st.integers(0, len(base)))
        return base[:at] + draw(CONTROLS) + base[at:]
    if how == "lock":
        return "~$" + base
    if how == "shadow":
        return draw(st.sampled_from(["._", ".~lock.", "."])) + base
    if how == "backup":
        return base + draw(st.sampled_from(["~", "#", ".bak", ".tmp"]))
    if how == "lookalike":
        at = draw(st.integers(0, base.index(".") - 1))
        return base[:at] + draw(LOOKALIKES) + base[at + 1 :]
    return base


FOLDERS = st.sampled_from(["VN", "jp", "Laos", "vietnam", "Korea", "misc", "V N", "VN\x1b", "Ｖ Ｎ", "XX"])


@given(st.lists(st.tuples(FOLDERS, hostile_name()), min_size=1, max_size=8, unique=True))
def test_hostile_names_never_fail_the_discovery_and_check_agrees_with_the_run(entries):
    with tempfile.TemporaryDirectory() as tmp:
        incoming = Path(tmp) / "incoming"
        for folder, name in entries:
            (incoming / folder).mkdir(parents=True, exist_ok=True)
            (incoming / folder / name).write_text("record_id\n1\n", encoding="utf-8")
        found = discover(incoming)
        read = {f.relative_path for f in found.files}
        skipped = {s.relative_path: s.reason for s in found.skipped}
        for drop in found.files:
            folder, _, name = drop.relative_path.partition("/")
            assert FILE_NAME.fullmatch(name) and is_country_code(folder), drop.relative_path
        for path, reason in skipped.items():
            assert path.isprintable() and reason.isprintable(), (path, reason)
        for folder, name in entries:
            reason = skip_reason(folder, name)
            if reason is None:
                assert f"{folder}/{name}" in read
            else:
                assert f"{folder}/{name}" not in read
                assert not (name.startswith(("~$", ".")) and "rename it to" in reason), (name, reason)
            if not is_country_code(folder) and reason is not None:
                assert "the run does not read the folder" in reason
