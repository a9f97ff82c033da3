"""The mirror of the promise, by mutation: break exactly one rule of the contract's section 1 in
one valid file (each rule in turn). That file alone is rejected, its report names the file, row,
column, value and rule, every other file loads, and the marts equal those of the drop without it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libcoop.ingest.check import check_file
from libcoop.ingest.contract import RULES
from libcoop.ingest.drop_folder import discover
from libcoop.ingest.reports import render, report_path
from libcoop.pipeline import run
from tests.generated_drops import ROWS, DropFile, drop_files, drops
from tests.mutations import MUTATIONS, Broken
from tests.property.warehouse import Workspace, marts_checksums, publish

# Rules a single file cannot break on its own (an exact copy of another file), or only with
# hundreds of megabytes (too_large, too_many_rows: tests/unit/test_hostile_files.py builds those
# from bytes), or only past the bounds checked before reading (line_too_long: DuckDB's own limit,
# beyond the longest line libcoop.ingest.bounds lets through).
NOT_MUTATED = {"duplicate_file", "too_large", "too_many_rows", "line_too_long"}


def matches(problems: list[tuple], expected: list[tuple]) -> bool:
    if len(problems) != len(expected):
        return False
    return all(
        all(want is ... or got == want for got, want in zip(problem, wanted, strict=True))
        for problem, wanted in zip(problems, expected, strict=True)
    )


def test_every_rule_of_the_contract_has_a_mutation() -> None:
    assert set(MUTATIONS) | NOT_MUTATED == set(RULES)


def check_bytes(broken: Broken):
    with tempfile.TemporaryDirectory() as tmp:
        incoming = Path(tmp) / "incoming"
        path = incoming / broken.relative_path
        path.parent.mkdir(parents=True)
        path.write_bytes(broken.content)
        (drop,) = discover(incoming).files
        checked = check_file(drop, incoming)
        return checked, render(checked)


@pytest.mark.parametrize("rule", sorted(MUTATIONS))
@settings(max_examples=max(3, settings().max_examples // 10))
@given(data=st.data())
def test_one_broken_rule_rejects_the_file_naming_row_column_value_and_rule(rule: str, data: st.DataObject) -> None:
    kind, mutate = MUTATIONS[rule]
    valid = data.draw(drop_files(max_rows=5, kind=kind, min_rows=2))
    broken = mutate(valid)
    checked, report = check_bytes(broken)
    got = [(p.rule, p.row, p.column, p.value) for p in checked.problems]
    assert not checked.accepted
    assert matches(got, broken.expected), got
    assert broken.relative_path in report and RULES[rule][0] in report
    for _, row, column, value in broken.expected:
        if isinstance(row, int):
            assert f"row {row}" in report or f"line {row}" in report
        if isinstance(column, str):
            assert f"column {column}" in report
        if isinstance(value, str):
            assert f'value "{value}"' in report


@pytest.mark.integration
@settings(max_examples=1)
@given(valid=drops(max_files=4), data=st.data())
def test_a_drop_with_one_broken_file_per_rule_publishes_the_marts_of_the_valid_files(
    tmp_path_factory: pytest.TempPathFactory, valid: list[DropFile], data: st.DataObject
) -> None:
    root = tmp_path_factory.mktemp("mirror")
    broken = []
    for number, (rule, (kind, mutate)) in enumerate(sorted(MUTATIONS.items())):
        f = data.draw(drop_files(max_rows=4, kind=kind, min_rows=2))
        country = f.relative_path.split("/")[0]
        f = DropFile(f"{country}/{kind}_broken-{number}.csv", f.kind, f.layout, f.rows)
        broken.append((rule, mutate(f)))
    assert ROWS  # every kind is mutated
    with_broken = Workspace(root / "with_broken")
    with_broken.drop(valid)
    for _, b in broken:
        path = with_broken.paths.incoming / b.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b.content)
    summary = run(with_broken.paths, "run-1")
    assert summary.status == "published", summary.render()
    rejected = dict(
        with_broken.query("select file_path, count(*) from audit.file_loads where outcome = 'rejected' group by 1")
    )
    assert set(rejected) == {b.relative_path for _, b in broken}
    loaded = {p for (p,) in with_broken.query("select file_path from audit.file_loads where outcome = 'loaded'")}
    assert loaded == {f.relative_path for f in valid}
    for rule, b in broken:
        report = report_path(with_broken.paths.reports, b.relative_path).read_text(encoding="utf-8")
        assert b.relative_path in report and RULES[rule][0] in report, rule
        rules = {
            r
            for (r,) in with_broken.query(
                "select rule from audit.file_rejections where file_path = ?", [b.relative_path]
            )
        }
        assert rules == {rule}

    without = Workspace(root / "without")
    without.drop(valid)
    publish(without, "run-1")
    assert marts_checksums(with_broken, ignore_build_times=True) == marts_checksums(without, ignore_build_times=True)
