"""Comments say why; the figures behind them live in docs/benchmarks.md ("Figures behind the code").

A measured cost quoted in a comment or docstring of libcoop/ or dags/ goes stale with the next
change nobody measures again. This test reads every comment (tokenize) and every module, class and
function docstring (ast) there and fails, naming file:line, on a measured figure: a number with a
time or memory unit (``0.8 s``, ``~70 ms``, ``1.29 GB``), a speed-up (``13x``, ``2 times faster``),
a percentage, or the scale of a benchmark (``at 1M rows``). Configuration is written without
these forms and passes (the "first 20 rows", a bound of 200 columns, ``execution_timeout 1 h``,
a setting's name with its default); none in libcoop or dags needs a unit today. One that must
have one goes in an allow-list here, with its reason.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("libcoop", "dags")

_NUMBER = r"(?<![\w.,:{-])~?\d+(?:[.,]\d+)*"
MEASURED_FIGURE = re.compile(
    "|".join(
        (
            # a quantity of time or memory: "0.8 s", "70 ms", "230 MB", "900 kB", "1-2 MB"
            _NUMBER + r"(?:-\d+(?:\.\d+)?)?\s?(?:ms|µs|ns|secs?|seconds?|[kKMGT]i?B)\b",
            # seconds as a bare "s" only after a space or a decimal: "3.6 s", "12.6s"; not "1990s"
            _NUMBER + r"\ss\b",
            r"(?<![\w.])\d+\.\d+s\b",
            # a speed-up or a ratio: "13x", "1.27x", "2 times faster"
            _NUMBER + r"\s?[x×](?![\w{])",
            _NUMBER + r"\s?times\s(?:faster|slower|less|more|quicker|smaller|larger|as)\b",
            # a share of a cost: "2.5%", "40 %"
            _NUMBER + r"\s?%",
            # the scale a benchmark ran at: "at 1M rows", "at 100k"
            r"\b[Aa]t\s\d+(?:\.\d+)?[kKM]\b",
        )
    )
)


def _docstrings(tree: ast.Module) -> list[tuple[int, str]]:
    """(first line, text as written) of the module's, its classes' and its functions' docstrings."""
    kinds = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    nodes = [tree, *(node for node in ast.walk(tree) if isinstance(node, kinds))]
    return [(node.body[0].lineno, text) for node in nodes if (text := ast.get_docstring(node, clean=False)) is not None]


def texts(source: str) -> list[tuple[int, str]]:
    """(first line, text) of each comment and docstring of ``source``."""
    found = [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    ]
    found += _docstrings(ast.parse(source))
    return found


def figures(path: str, source: str) -> list[str]:
    """``path:line: phrase`` for each measured figure in the comments and docstrings of ``source``."""
    found = []
    for first_line, text in texts(source):
        for match in MEASURED_FIGURE.finditer(text):
            line = first_line + text.count("\n", 0, match.start())
            phrase = " ".join(text[max(0, match.start() - 30) : match.end() + 10].split())
            found.append(f"{path}:{line}: ...{phrase}...")
    return found


def _python_files() -> list[Path]:
    return sorted(path for folder in SOURCES for path in (ROOT / folder).rglob("*.py"))


def test_comments_and_docstrings_hold_no_measured_figures() -> None:
    found = [
        hit
        for path in _python_files()
        for hit in figures(path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8"))
    ]
    assert not found, (
        "Measured figures in comments or docstrings: say why in the code and move the figure to "
        "docs/benchmarks.md, 'Figures behind the code':\n" + "\n".join(found)
    )


def test_the_sources_are_read() -> None:
    assert len(_python_files()) > 50
    assert any(path.parts[-2:] == ("dags", "cooperation_nightly.py") for path in _python_files())


@pytest.mark.parametrize(
    "comment",
    [
        "# 200 single-row inserts took 0.8 s",
        "# country_converter's regex matching costs ~70 ms a call",
        "# at 1M rows the load grew by 3 MB a file, to 0.7 GB.",
        "# an ORDER BY cost 0.8 GB more",
        "# Vega-Embed in one script (about 900 kB)",
        "# small on disk (1-2 MB)",
        "# vl-convert builds it in about 3 s",
        "# 1.29 GB peak and 17.9 s before, 12.6s after",
        "# the pandas loader is 13x faster",
        "# 2 times faster than before",
        "# nothing changed costs 2.5% of a full run",
        "# at 1M rows, most of a suite's time",
        "# At 1M rows, validating the whole suite again cost as much",
        "# a sixth of the validation at 100k",
    ],
)
def test_a_measured_figure_is_found(comment: str) -> None:
    found = figures("libcoop/x.py", f"x = 1\n\n{comment}\ny = 2\n")
    assert found
    assert all(hit.startswith("libcoop/x.py:3: ") for hit in found)


def test_a_figure_in_a_docstring_is_found_on_its_line() -> None:
    source = 'def f():\n    """Cached.\n\n    vl-convert builds it in about 3 s."""\n'
    assert [hit.split(": ")[0] for hit in figures("dags/d.py", source)] == ["dags/d.py:4"]


@pytest.mark.parametrize(
    "comment",
    [
        "# before it keeps the first 20",
        "# at most 200 columns, 32,767 characters of 4 bytes",
        "# Longer than one task may take (execution_timeout 1 h) plus its retry delays",
        "# a drop of 1M rows is never in memory at once",
        "# the 1990s and 2000s",
        "# the sample drop (10 files) is checked in this process",
        "# every LIBCOOP_WATCH_INTERVAL_MINUTES minutes (default 15)",
        "# return f'\\x{code:02x}'",
        "# midnight UTC in seconds (the contract's years from 1000 on)",
        "# 0x10000 and U+200B",
        "# the largest file the door accepts (LIBCOOP_DOOR_MAX_UPLOAD_MB, default 50)",
    ],
)
def test_configuration_and_plain_numbers_pass(comment: str) -> None:
    assert figures("libcoop/x.py", f"{comment}\n") == []
