"""The graph object both views return, and the small text helpers they share.

``Graph`` is a ``graphviz.Digraph`` that renders through ``viz.render``'s renderer search instead
of calling ``dot`` directly, so that a graph returned in Jupyter displays inline with only
``graphviz-pure`` installed, and ``.pipe()`` / ``.render()`` work the same way.
"""
from __future__ import annotations

import math
import os
import re
from pathlib import Path

import graphviz

import numpy as np

from . import rendering as _render

__all__ = ["Graph"]


class Graph(graphviz.Digraph):
    """A ``graphviz.Digraph`` whose rendering (Jupyter display, ``pipe``, ``render``) goes through
    the system ``dot`` or, when that is missing, ``graphviz-pure``."""

    def pipe(self, format=None, renderer=None, formatter=None, neato_no_op=None, quiet=False, *,
             engine=None, encoding=None):
        if renderer is not None or formatter is not None or neato_no_op:
            raise ValueError("Graph.pipe(): renderer, formatter and neato_no_op are not supported; "
                             "pass format only")
        if engine not in (None, "dot"):
            raise ValueError(f"Graph.pipe(): only the dot layout is supported, got {engine!r}")
        out = _render.pipe(self.source, format or self.format or "svg")
        return out.decode(encoding) if encoding is not None else out

    def render(self, filename=None, directory=None, view=False, cleanup=False, format=None,
               renderer=None, formatter=None, neato_no_op=None, quiet=False, quiet_view=False, *,
               outfile=None, engine=None, raise_if_result_exists=False, overwrite_source=False):
        """Like ``graphviz.Digraph.render``: ``outfile="g.svg"``, or ``filename`` plus ``format``.
        Writes the source next to the output (unless ``cleanup``) and returns the output path."""
        if view or renderer is not None or formatter is not None or neato_no_op:
            raise ValueError("Graph.render(): view, renderer, formatter and neato_no_op are not "
                             "supported; use viz.render(graph, path)")
        if engine not in (None, "dot"):
            raise ValueError(f"Graph.render(): only the dot layout is supported, got {engine!r}")
        if outfile is not None:
            out = Path(outfile)
            fmt = format or out.suffix.lstrip(".") or self.format or "svg"
            src = out.with_suffix(".gv") if filename is None else Path(filename)
        else:
            fmt = format or self.format or "svg"
            src = Path(filename if filename is not None else (self.filename or "Digraph.gv"))
            out = Path(f"{src}.{fmt}")
        if directory is not None:
            src, out = Path(directory) / src, Path(directory) / out
        if raise_if_result_exists and out.exists():
            raise FileExistsError(f"output file exists: {out}")
        out.parent.mkdir(parents=True, exist_ok=True)
        data = _render.pipe(self.source, fmt)  # before writing anything: fail with nothing left
        if not cleanup:
            src.parent.mkdir(parents=True, exist_ok=True)
            src.write_text(self.source, encoding="utf-8")
        out.write_bytes(data)
        return os.fspath(out)

    def _repr_mimebundle_(self, include=None, exclude=None, **_):
        try:
            return super()._repr_mimebundle_(include=include, exclude=exclude)
        except _render.RendererNotFoundError as e:
            # No picture possible: show why, and the DOT text, rather than a traceback.
            return {"text/plain": f"{e}\n\n{self.source}"}


# ---- text ----------------------------------------------------------------------------------------

_CONTROL = {c: "\ufffd" for c in [*range(32), 127]}  # no valid DOT or XML text: shown as "\ufffd"
_CONTROL[9] = " "  # a tab: a space, as a newline


def esc(text):
    """One line of label text, safe inside a DOT string: backslashes doubled, so that only the
    ``\\n`` line breaks we add are escapes (the graphviz package escapes the quotes); other
    control characters, which neither DOT nor the SVG's XML may hold, become U+FFFD."""
    return str(text).replace("\\", "\\\\").replace("\n", " ").translate(_CONTROL)


def lines(*parts):
    """A multi-line label from its lines (None and "" skipped). Never read as an HTML label,
    which graphviz would make of a one-line ``<...>`` (a scope named ``<b>``)."""
    return graphviz.nohtml("\\n".join(esc(p) for p in parts if p not in (None, "")))


def css_token(name):
    """``name`` as one CSS class token (letters, digits, ``_`` and ``-``): the graphviz package
    does not escape backslashes, so a name ending in one would swallow the attributes after it."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(name))


def num(v):
    """A number, short: 3 significant digits."""
    v = float(v)
    if v == 0:
        return "0"
    if not np.isfinite(v):
        return str(v)
    return f"{v:.3g}"


def pct(k, n):
    """``k`` of ``n`` as a percentage, never rounded to 0% or 100% when it is neither."""
    if n == 0:
        return "0%"
    p = 100.0 * k / n
    if 0 < p < 1:
        return "<1%"
    if 99 < p < 100:
        return ">99%"
    return f"{p:.0f}%"


def shape_str(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def value_str(v, limit=24):
    """A keyword argument or scalar operand, as short text."""
    if isinstance(v, (bool, np.bool_)):
        s = str(bool(v))
    elif isinstance(v, (float, np.floating)):
        s = num(v)
    elif isinstance(v, (int, np.integer)):
        s = str(int(v))
    elif isinstance(v, str):
        s = v
    elif isinstance(v, (tuple, list)):
        s = "(" + ", ".join(value_str(x, limit) for x in v) + ("," if len(v) == 1 else "") + ")"
    elif isinstance(v, np.dtype) or isinstance(v, type):
        s = np.dtype(v).name if not isinstance(v, type) or issubclass(v, np.generic) else v.__name__
    elif v is None:
        s = "None"
    elif isinstance(v, np.ndarray):
        s = f"array{shape_str(v.shape)}"
    elif hasattr(v, "shape") and hasattr(v, "dtype"):
        s = f"{type(v).__name__}{shape_str(v.shape)}"
    else:
        s = type(v).__name__
    return s if len(s) <= limit else s[:limit - 1] + "…"


def data_stat(a):
    """A short statistic of an array: mean and std of floats, how many true of bools, the range
    of integers."""
    a = np.asarray(a)
    if a.size == 0:
        return "empty"
    if a.dtype == np.bool_:
        return f"{int(np.count_nonzero(a))} of {a.size} true"
    if a.dtype.kind in "iu":
        return f"min {int(a.min())}, max {int(a.max())}"
    if a.size == 1:
        return f"value {num(a.reshape(-1)[0])}"
    m = float(np.mean(a, dtype=np.float64))
    s = float(np.std(a, dtype=np.float64))
    if a.dtype.kind == "f" and abs(m) <= 8 * np.finfo(a.dtype).eps * math.sqrt(m * m + s * s):
        # within the rounding of the values themselves (a normalized output's mean): that noise
        # differs from one CPU's summation order to another's, and says nothing to a reader
        m = 0.0
    return f"mean {num(m)}, std {num(s)}"


def grad_stat(g):
    """Norm of a gradient and, if any, its fraction of exact zeros."""
    g = np.asarray(g)
    n = float(np.sqrt(np.sum(np.square(g, dtype=np.float64))))
    z = int(g.size - np.count_nonzero(g))
    text = f"grad norm {num(n)}"
    if z:
        text += f", {pct(z, g.size)} zero"
    return text
