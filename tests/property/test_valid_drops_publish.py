"""The contract's promise, on drops nobody here wrote: a drop in which `libcoop check` accepts every
file always publishes, and its marts add up to the files' own totals (docs/contract.md, "What a bad
file gets").

Each example is a random drop (tests/generated_drops.py) run through the real nightly job in one
process (load, dbt build, Great Expectations, publish) on a fresh warehouse. `make test` runs a few
derandomized examples (profile "ci"); `make fuzz` runs many random ones (profile "fuzz",
LIBCOOP_FUZZ_EXAMPLES, default 200). Every failure found becomes a named regression test in
tests/property/test_found_by_generators.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.generated_drops import ROWS, DropFile, drops, fit_to_layout
from tests.property.warehouse import (
    FACTS,
    Workspace,
    assert_check_accepts_each_file,
    assert_marts_add_up,
    assert_no_null_key_and_one_key_per_entity,
    fact_rows,
    marts_checksums,
    publish,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def workspace_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("valid_drops")


@given(files=drops())
def test_every_valid_drop_publishes_and_its_marts_add_up(workspace_root: Path, files: list[DropFile]) -> None:
    ws = Workspace(workspace_root / "example")
    ws.drop(files)
    assert_check_accepts_each_file(ws)
    publish(ws, "run-1")
    assert_marts_add_up(ws, files)
    assert_no_null_key_and_one_key_per_entity(ws, files)


# Three runs per example: a fifth as many examples as the test above.
@settings(max_examples=max(1, settings().max_examples // 5))
@given(files=drops(max_files=5).filter(lambda fs: len(fs) >= 2), data=st.data())
def test_reruns_removals_and_changes_move_exactly_their_rows(
    workspace_root: Path, files: list[DropFile], data: st.DataObject
) -> None:
    ws = Workspace(workspace_root / "versions")
    ws.drop(files)
    publish(ws, "run-1")
    first = marts_checksums(ws)
    before = fact_rows(ws)

    # 4. an identical rerun leaves identical marts (answered without a rebuild: nothing changed)
    publish(ws, "run-2", status="unchanged")
    assert marts_checksums(ws) == first

    # 5. removing one file takes out exactly its rows; changing one row changes only that row
    removed, changed, *kept = files
    new_row = fit_to_layout(data.draw(ROWS[changed.kind]()), changed.layout)
    changed_file = DropFile(changed.relative_path, changed.kind, changed.layout, [new_row, *changed.rows[1:]])
    ws.drop([changed_file, *kept])
    publish(ws, "run-3")
    after = fact_rows(ws)
    assert_marts_add_up(ws, [changed_file, *kept])
    for table in FACTS.values():
        assert not any(path == removed.relative_path for path, _ in after[table]), table
        for key, values in before[table].items():
            if key[0] == removed.relative_path or key == (changed.relative_path, 2):
                continue
            assert after[table].get(key) == values, (table, key)
