"""Execute the notebooks in a fresh kernel of *this* Python, and optionally store their outputs.

    python notebooks/execute.py                 # re-run every notebook, save it with its outputs
    python notebooks/execute.py 03 04           # only those whose name starts with 03 / 04
    python notebooks/execute.py --check         # run them all, save nothing (what the tests do)

The notebooks are committed *with* their outputs, so that a reader sees the figures without
running anything; after editing one, re-run this script and commit the result.

The kernel is started from a kernel spec written to a temporary folder, whose command is
``sys.executable -m ipykernel_launcher``. So the kernel always runs the interpreter (and venv) that
runs this script or the tests: no ``python -m ipykernel install``, and no user-level kernel spec
named ``python3`` that points at another Python can get in the way. ``IPYTHONDIR`` and the
connection file live in that temporary folder too, so a user's IPython profile and startup files do
not run, and nothing is written to the Jupyter directories under ``$HOME``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
KERNEL_NAME = "tinygrad-norm-python"
CELL_TIMEOUT_S = 120  # per cell; every notebook as a whole runs in well under a minute


def notebook_paths(prefixes=()):
    """The notebooks of this folder, in name order; with ``prefixes``, only the matching ones."""
    paths = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    if prefixes:
        paths = [p for p in paths if any(p.name.startswith(s) for s in prefixes)]
    return paths


def _write_kernel_spec(root: Path) -> Path:
    spec = root / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "metadata": {"debugger": False},
    }))
    return root / "kernels"


def execute(path, timeout=CELL_TIMEOUT_S, cwd=None):
    """Run the notebook at ``path`` top to bottom in a new kernel; return ``(notebook, seconds)``.

    Raises ``nbclient.exceptions.CellExecutionError`` (with the cell and the traceback) on the
    first cell that fails, and ``CellTimeoutError`` on a cell that runs longer than ``timeout``
    seconds. The file itself is not changed."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="tgn-kernel-") as tmp:
        tmp = Path(tmp)
        ksm = KernelSpecManager(kernel_dirs=[str(_write_kernel_spec(tmp))])
        # the connection file in the temporary folder too: no writable Jupyter runtime dir needed
        km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ksm,
                                connection_file=str(tmp / "connection.json"))
        env = dict(os.environ)
        env["IPYTHONDIR"] = str(tmp / "ipython")
        env.pop("MPLBACKEND", None)  # the notebooks choose the inline backend themselves
        env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # debugpy's frozen-modules note on stderr
        client = NotebookClient(nb, km=km, timeout=timeout, allow_errors=False,
                                record_timing=False, kernel_name=KERNEL_NAME)
        start = time.perf_counter()
        client.execute(cwd=str(cwd or path.parent), env=env)
        seconds = time.perf_counter() - start
    # The stored notebook names the standard kernel, not the temporary spec it ran under.
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    return nb, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prefixes", nargs="*", help="run only notebooks whose name starts so")
    parser.add_argument("--check", action="store_true", help="run, but do not save the outputs")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT_S,
                        help=f"seconds per cell (default {CELL_TIMEOUT_S})")
    args = parser.parse_args(argv)
    import nbformat

    paths = notebook_paths(args.prefixes)
    if not paths:
        parser.error(f"no notebook matches {args.prefixes}")
    total = 0.0
    for path in paths:
        nb, seconds = execute(path, timeout=args.timeout)
        total += seconds
        if not args.check:
            nbformat.write(nb, path)
        print(f"{path.name:<42} {seconds:6.1f} s{'' if args.check else '  (saved)'}", flush=True)
    print(f"{'total':<42} {total:6.1f} s")


if __name__ == "__main__":
    main()
