"""The examples of README.md and docs/ run as they are written.

* Every fenced ```python (or ```py) block of README.md, docs/*.md and docs/experiments/*.md is
  executed on its own, in a fresh namespace, in an empty temporary working directory (so the
  files it writes go nowhere near the repository). A block that cannot run here says so on its
  first line with the marker ``# docs-test: skip -- <why>`` (it needs a system program, torch,
  network access, or minutes of running); nothing else is skipped.
* Every ``tinygrad-norm ...`` command line in a ```sh block of those pages, and every example
  line of each subcommand's ``--help``, is parsed by the real argument parser: an option that
  was renamed or removed fails here instead of in a reader's shell. Parsing runs no command.

Fast: the slowest block trains a small MLP for a few seconds.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
         *sorted((ROOT / "docs" / "experiments").glob("*.md"))]
SKIP = re.compile(r"^#\s*docs-test:\s*skip\b")
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)

# Files some examples read, as a reader would have them: the CSV stream of api.md's "Streams".
FIXTURES = {"train.csv": "a,b,c,label\n" + "".join(f"{i},{i + 1},{i + 2},{i % 3}\n"
                                                    for i in range(10))}


def _blocks(languages):
    """(page, first line number, language, code) of every fenced block in ``languages``."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            if m.group(1) in languages:
                line = text.count("\n", 0, m.start()) + 2  # the block's first line of code
                found.append((page, line, m.group(1), m.group(2)))
    return found


def _id(page, line):
    return f"{page.relative_to(ROOT)}:{line}"


PYTHON_BLOCKS = _blocks({"python", "py"})


def test_the_pages_have_examples():
    # the extraction itself must not silently find nothing (a changed fence style, a moved page)
    assert len(PYTHON_BLOCKS) >= 4, [_id(p, n) for p, n, _, _ in PYTHON_BLOCKS]
    assert any(p.name == "index.md" for p, *_ in PYTHON_BLOCKS)


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """An empty working directory holding the fixture files; the default dtype and the
    framework generator are put back afterwards, so one example cannot change another test."""
    import tinygrad_norm as tg
    from tinygrad_norm import random as tg_random

    for name, text in FIXTURES.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    dtype = tg.get_default_dtype()
    state = tg_random.generator().bit_generator.state
    yield tmp_path
    tg.set_default_dtype(dtype)
    tg_random.generator().bit_generator.state = state


@pytest.mark.parametrize("page, line, lang, code", PYTHON_BLOCKS,
                         ids=[_id(p, n) for p, n, _, _ in PYTHON_BLOCKS])
def test_python_block_runs(page, line, lang, code, scratch):
    if SKIP.match(code.lstrip()):
        pytest.skip(code.lstrip().splitlines()[0])
    # compiled under the page's name and line, so a traceback points into the Markdown file
    padded = "\n" * (line - 1) + code
    namespace = {"__name__": "__docs_example__"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(padded, str(page), "exec"), namespace)  # noqa: S102 - our own docs


# ---- command lines ----------------------------------------------------------------------------

def _command_lines():
    """(where, argv) of every ``tinygrad-norm`` line of the pages' ```sh blocks."""
    lines = []
    for page, line, _, code in _blocks({"sh", "bash", "console"}):
        for k, text in enumerate(code.splitlines()):
            text = text.split(" #", 1)[0].strip()
            if text.startswith("tinygrad-norm "):
                lines.append((_id(page, line + k), text))
    return lines


def _help_examples():
    """(where, command line) of every example line in ``--help`` and the subcommands'."""
    from tinygrad_norm.cli import COMMANDS, build_parser

    lines = []
    for args in ([], *([name] for name in COMMANDS)):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
            build_parser().parse_args([*args, "--help"])
        for text in out.getvalue().splitlines():
            text = text.strip()
            if text.startswith("tinygrad-norm "):
                # the help aligns a description after the command with two or more spaces
                where = " ".join(["tinygrad-norm", *args, "--help"])
                lines.append((where, re.split(r"\s{2,}", text)[0]))
    return lines


COMMAND_LINES = _command_lines()


def test_the_pages_have_command_lines():
    assert len(COMMAND_LINES) >= 20, COMMAND_LINES
    assert {shlex.split(c)[1] for _, c in COMMAND_LINES} >= {"train", "graph", "bench",
                                                              "experiment"}


def _parses(command, home):
    """Parse ``command`` as the shell would hand it over (``~`` expanded against ``home``)."""
    from tinygrad_norm.cli import build_parser

    argv = [os.path.expanduser(a) if a.startswith("~") else a for a in shlex.split(command)]
    assert argv[0] == "tinygrad-norm", command
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(argv[1:])
    except SystemExit as e:  # --help exits 0; a usage error exits 2 with its message
        assert e.code == 0, f"{command!r}: {err.getvalue().strip().splitlines()[-1]}"


@pytest.fixture
def home_with_mnist(tmp_path, monkeypatch):
    # the examples read IDX files from ~/mnist: the directory has to exist for --data-dir
    (tmp_path / "mnist").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("where, command", COMMAND_LINES, ids=[w for w, _ in COMMAND_LINES])
def test_documented_command_parses(where, command, home_with_mnist):
    _parses(command, home_with_mnist)


def test_help_examples_parse(home_with_mnist):
    examples = _help_examples()
    assert len(examples) >= 16, examples  # every --help has its examples
    for where, command in examples:
        _parses(command, home_with_mnist)


def test_a_renamed_option_is_caught(home_with_mnist):
    # the check above can fail: an option the parser does not know is reported with its line
    with pytest.raises(AssertionError, match="unrecognized arguments: --epoks"):
        _parses("tinygrad-norm train --epoks 3", home_with_mnist)
