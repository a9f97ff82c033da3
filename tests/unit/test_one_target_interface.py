"""One target interface (issue 27): a DuckDB file or a DuckLake is told apart in one place,
``libcoop.target.choose``; no other module of libcoop branches on ``Paths.lake``."""

from __future__ import annotations

import ast
from pathlib import Path

from libcoop.ingest.staged import FolderVerdicts, LakeVerdicts, verdicts_for
from libcoop.runs import StepContext
from libcoop.settings import resolve_paths
from libcoop.targets import FileTarget, LakeTarget, target_for

PACKAGE = Path(__file__).resolve().parents[2] / "libcoop"
CHOOSER = "target.py"  # the one module that branches on the lake
# Who calls the chooser: each builds its layer's two implementations (target_for, verdicts_for)
# or is the chooser's own module.
CHOOSE_CALLERS = {"target.py", "targets.py", "ingest/staged.py"}
# RunSummary.lake is the text "published to: <lake>, snapshot n" it prints, not the target.
NOT_THE_TARGET = {("runs.py", "self.lake")}


def _is_lake(node: ast.AST) -> bool:
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        node = node.operand
    return (isinstance(node, ast.Name) and node.id == "lake") or (
        isinstance(node, ast.Attribute) and node.attr == "lake"
    )


def lake_branches(source: str) -> list[tuple[int, str]]:
    """(line, expression) of every test of a lake value: ``if x.lake``, ``x.lake is None``,
    ``a if lake else b``, ``assert x.lake``, ``x.lake and ...``, ``match x.lake``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        tested: list[ast.AST] = []
        if isinstance(node, (ast.If, ast.IfExp, ast.While, ast.Assert)):
            tested.append(node.test)
        elif isinstance(node, ast.comprehension):
            tested.extend(node.ifs)
        elif isinstance(node, ast.Compare):
            tested.extend([node.left, *node.comparators])
        elif isinstance(node, ast.BoolOp):
            tested.extend(node.values)
        elif isinstance(node, ast.Match):
            tested.append(node.subject)
        found += [(part.lineno, ast.unparse(part)) for part in tested if _is_lake(part)]
    return sorted(set(found))


def _modules() -> dict[str, str]:
    return {path.relative_to(PACKAGE).as_posix(): path.read_text(encoding="utf-8") for path in PACKAGE.rglob("*.py")}


def test_no_module_but_the_chooser_branches_on_the_lake() -> None:
    branching = {
        (name, line, expression)
        for name, source in _modules().items()
        for line, expression in lake_branches(source)
        if name != CHOOSER and (name, expression.removeprefix("not ")) not in NOT_THE_TARGET
    }
    assert branching == set()
    # the chooser itself is seen: the scan finds what it looks for
    assert [e for _, e in lake_branches(_modules()[CHOOSER])] == ["lake"]


def test_only_the_layers_implementations_call_the_chooser() -> None:
    callers = set()
    for name, source in _modules().items():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "choose":
                callers.add(name)
    assert callers == CHOOSE_CALLERS


def test_the_scan_finds_the_branches_this_replaced() -> None:
    old = """
if paths.lake is not None:
    pass
assert paths.lake is not None
marker = paths.lake.display if paths.lake else None
if lake is None:
    raise LakeError("converge needs a DuckLake target")
warehouse = None if paths.lake is not None else str(paths.warehouse)
ok = [p for p in all_paths if not p.lake]
if "://" not in lake.data_path:
    pass
"""
    assert lake_branches(old) == [
        (2, "paths.lake"),
        (4, "paths.lake"),
        (5, "paths.lake"),
        (6, "lake"),
        (8, "paths.lake"),
        (9, "not p.lake"),
    ]


def test_the_chooser_picks_each_target_from_the_setting(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIBCOOP_LAKE_DATA_PATH", str(tmp_path / "lake-data"))
    monkeypatch.setenv("LIBCOOP_WORK_DIR", str(tmp_path / "work"))
    file = resolve_paths(tmp_path / "raw", tmp_path / "w.duckdb")
    lake = resolve_paths(tmp_path / "raw", "ducklake:postgres:dbname=lake host=127.0.0.1 password=secret")
    assert type(target_for(file)) is FileTarget and target_for(file).paths == file
    assert type(target_for(lake)) is LakeTarget and target_for(lake) == LakeTarget(lake, lake.lake)
    assert verdicts_for(file) == FolderVerdicts(file)
    assert verdicts_for(lake) == LakeVerdicts(lake.lake)
    # a step context hands on the file's path, never the lake's libpq string (it may hold a password)
    assert StepContext.start(file, "r1").warehouse == str(tmp_path / "w.duckdb")
    assert StepContext.start(lake, "r1").warehouse is None
