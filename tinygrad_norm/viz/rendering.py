"""Turning DOT text into SVG or PNG: the system ``dot`` if there is one, else the ``graphviz-pure``
program that ``pip install tinygrad_norm`` brought along.

The drawing functions only ever produce DOT text, which needs no program at all. Rendering is the
one step that does, and a missing ``dot`` is the most common way graph tools fail (``pip install
graphviz`` installs the Python package, not the program). So: look for a renderer, pipe the text
through it, and when there is none, still write the ``.dot`` file and say in one error what to
install.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import warnings
from pathlib import Path

__all__ = ["render", "find_renderer", "pipe", "RendererNotFoundError", "RenderError", "FORMATS"]

# Output formats a renderer may write; the path's suffix picks one. graphviz-pure (0.2) writes
# all but pdf, which needs the system dot.
FORMATS = ("svg", "png", "jpg", "jpeg", "pdf", "json", "plain")
_SYSTEM_DOT_ONLY = ("pdf",)
_DOT_SUFFIXES = (".dot", ".gv")
_TIMEOUT_S = 120


class RendererNotFoundError(RuntimeError):
    """Neither the system ``dot`` nor ``graphviz-pure`` could be found."""


class RenderError(RuntimeError):
    """A renderer was found but failed on this graph."""


def _env_problem():
    """Why $TINYGRAD_NORM_DOT, when set, names no program that can run; None if it does or if it
    is not set."""
    env = os.environ.get("TINYGRAD_NORM_DOT")
    if not env or shutil.which(env):
        return None
    why = ("is not an executable file" if os.path.exists(env)
           else "is neither a file nor a program on PATH")
    return f"TINYGRAD_NORM_DOT={env!r} was ignored: it {why}"


def _install_hint():
    hint = ("install a renderer: `pip install graphviz-pure` (no system packages needed) or the "
            "Graphviz programs (`apt-get install graphviz`, `brew install graphviz`, `conda install "
            "graphviz`), or set TINYGRAD_NORM_DOT to the path of a dot program")
    problem = _env_problem()
    return hint if problem is None else f"{problem}; {hint}"


def _candidates():
    """Where to look, in order: $TINYGRAD_NORM_DOT, ``dot`` on PATH, then ``graphviz-pure`` on
    PATH, beside the running Python and in its scripts folders (a venv that is not activated
    still has its programs next to ``sys.executable``)."""
    env = os.environ.get("TINYGRAD_NORM_DOT")
    if env:
        yield env
    yield "dot"
    yield "graphviz-pure"
    dirs = [Path(sys.executable).parent]
    for scheme in (None, f"{os.name}_user"):
        try:
            p = sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
        except KeyError:
            continue
        if p:
            dirs.append(Path(p))
    for d in dirs:
        yield str(d / "graphviz-pure")


def find_renderer():
    """The renderers present, best first, as absolute paths (may be empty). The system ``dot``
    comes first: it is the reference implementation; ``graphviz-pure`` is the fallback.

    A ``TINYGRAD_NORM_DOT`` that names no runnable program is skipped with a ``RuntimeWarning``
    (and named again in the error when no renderer is found at all)."""
    problem = _env_problem()
    if problem is not None:
        warnings.warn(f"{problem}; looking for `dot` and `graphviz-pure` instead", RuntimeWarning,
                      stacklevel=2)
    found = []
    for c in _candidates():
        exe = shutil.which(c)
        if exe and os.path.abspath(exe) not in found:
            found.append(os.path.abspath(exe))
    return found


def pipe(source, fmt="svg"):
    """Render DOT ``source`` (text) to ``fmt`` and return the bytes. Tries each renderer found
    (a broken ``dot`` install falls through to ``graphviz-pure``); raises ``RendererNotFoundError``
    when there is none and ``RenderError`` when every one failed."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)} (or dot), got {fmt!r}")
    exes = find_renderer()
    if not exes:
        raise RendererNotFoundError(f"cannot render {fmt}: no `dot` program was found; "
                                    + _install_hint())
    data = source.encode("utf-8")
    errors = []
    for exe in exes:
        try:
            # The text goes through stdin: no temporary file, no shell, no quoting of paths.
            r = subprocess.run([exe, f"-T{fmt}"], input=data, capture_output=True,
                               timeout=_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            errors.append(f"{exe}: {e}")
            continue
        if r.returncode == 0 and r.stdout:
            return r.stdout
        msg = r.stderr.decode("utf-8", "replace").strip() or f"exit status {r.returncode}"
        errors.append(f"{exe} -T{fmt}: {msg}")
    if fmt in _SYSTEM_DOT_ONLY and all(Path(e).name.startswith("graphviz-pure") for e in exes):
        raise RenderError(f"cannot render {fmt}: graphviz-pure, the only renderer found, does not "
                          f"write it; install the Graphviz programs (`apt-get install graphviz`, "
                          f"`brew install graphviz`, `conda install graphviz`) or write .svg or "
                          f".png instead")
    raise RenderError("rendering failed:\n  " + "\n  ".join(errors))


def _source_of(obj, graph_kwargs):
    from ..tensor import Tensor
    if isinstance(obj, str):
        return obj
    if isinstance(obj, Tensor) or (isinstance(obj, (list, tuple)) and obj
                                   and all(isinstance(t, Tensor) for t in obj)):
        from .opgraph import graph
        outs = obj if isinstance(obj, (list, tuple)) else (obj,)
        return graph(*outs, **graph_kwargs).source
    src = getattr(obj, "source", None)
    if isinstance(src, str):
        return src
    raise TypeError(f"render(): expected a graph (graphviz.Digraph), DOT text or a Tensor, got "
                    f"{type(obj).__name__}")


def render(graph_or_tensor, path, **graph_kwargs):
    """Write ``graph_or_tensor`` (a graph from ``viz.graph``/``viz.neurons``, any
    ``graphviz.Digraph``, DOT text, or a Tensor whose op graph is drawn with ``graph_kwargs``) to
    ``path``; the suffix picks the format: ``.dot``/``.gv`` (text, needs no renderer), ``.svg``,
    ``.png``, ``.pdf``, ``.jpg``, ``.json``. Returns the path written.

    Without a renderer the DOT text is still written next to ``path`` (same name, ``.dot``) and
    one ``RendererNotFoundError`` says what to install."""
    if graph_kwargs and not _is_tensorish(graph_or_tensor):
        raise TypeError(f"render(): options {sorted(graph_kwargs)} apply only when drawing a "
                        f"Tensor")
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if path.suffix.lower() not in _DOT_SUFFIXES and fmt not in FORMATS:
        raise ValueError(f"render(): cannot tell the format from {str(path)!r}; end the path "
                         f"in .svg, .png, .pdf, .jpg, .json or .dot")
    # Look for the renderer before drawing: the error should come before the work, not after.
    exes = [] if path.suffix.lower() in _DOT_SUFFIXES else find_renderer()
    source = _source_of(graph_or_tensor, graph_kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in _DOT_SUFFIXES:
        path.write_text(source, encoding="utf-8")
        return path
    if not exes:
        dot_path = path.with_suffix(".dot")
        dot_path.write_text(source, encoding="utf-8")
        raise RendererNotFoundError(
            f"cannot write {path}: no `dot` program was found. The graph's DOT text was written "
            f"to {dot_path} instead; " + _install_hint() + ", then call render() again")
    path.write_bytes(pipe(source, fmt))
    return path


def _is_tensorish(obj):
    from ..tensor import Tensor
    return isinstance(obj, Tensor) or (isinstance(obj, (list, tuple)) and
                                       any(isinstance(t, Tensor) for t in obj))
