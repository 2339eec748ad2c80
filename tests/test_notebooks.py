"""The notebooks in ``notebooks/``: each one runs top to bottom in a fresh kernel without an error,
and each is committed with the outputs of one such run, so that a reader sees its figures without
running it.

Execution goes through ``notebooks/execute.py`` (the same code that stores the outputs): a
kernel of the Python that runs the tests, started from a temporary kernel spec, so nothing has to
be installed with ``python -m ipykernel install`` first. A cell that raises fails the test with
the cell and its traceback; a cell that runs longer than ``execute.CELL_TIMEOUT_S`` fails it too
(that guards against a hang; no test asserts how fast anything runs).

After changing a notebook (or code it shows), refresh the stored outputs with
``python notebooks/execute.py`` and commit them.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
IMAGE_TYPES = ("image/png", "image/svg+xml")


def _runner():
    """``notebooks/execute.py`` as a module (``notebooks/`` is not a package); no ``__pycache__``
    is left in ``notebooks/``."""
    spec = importlib.util.spec_from_file_location("_notebook_runner", NOTEBOOK_DIR / "execute.py")
    module = importlib.util.module_from_spec(spec)
    before, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = before
    return module


def _errors(nb):
    """(cell index, error name, message) of every error output."""
    return [(i, o.get("ename"), o.get("evalue"))
            for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def test_the_notebooks_are_there():
    assert len(NOTEBOOKS) >= 5, [p.name for p in NOTEBOOKS]
    assert NOTEBOOKS == _runner().notebook_paths()


def test_docs_list_every_notebook():
    text = (ROOT / "docs" / "notebooks.md").read_text(encoding="utf-8")
    missing = [p.name for p in NOTEBOOKS if p.name not in text]
    assert not missing, f"docs/notebooks.md does not mention {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_with_outputs(path):
    """Committed after one clean run from the top: every code cell executed once, in order, none
    failed, and the figures are in the file."""
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name} is not stored as one run from the top (execution counts {counts}); "
        f"refresh it with `python notebooks/execute.py {path.name[:2]}`")
    assert not _errors(nb), f"{path.name} is stored with errors: {_errors(nb)}"
    images = sum(1 for c in code for o in c.outputs
                 if o.get("output_type") in ("display_data", "execute_result")
                 and any(t in o.get("data", {}) for t in IMAGE_TYPES))
    assert images, f"{path.name} has no figure in its stored outputs"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_executes(path):
    """Runs top to bottom in a fresh kernel (raises ``CellExecutionError`` on a failing cell)."""
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb, _ = _runner().execute(path)
    assert not _errors(nb)
    # the fresh run reproduced the figures, not only the text
    assert any(t in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
               for o in c.outputs for t in IMAGE_TYPES)
