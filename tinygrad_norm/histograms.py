"""``torch.histogram``: counts (or weighted sums, or a density) of a tensor's values in bins,
with the bin edges. No gradient: the counts are step functions of the values."""
from __future__ import annotations

import numbers
from collections import namedtuple

import numpy as np

from .tensor import Tensor, _bool_arg

__all__ = ["histogram"]

_Histogram = namedtuple("histogram", ["hist", "bin_edges"])  # torch.return_types.histogram


def histogram(input, bins, *, range=None, weight=None, density=False):  # noqa: A002
    """``(hist, bin_edges)`` in the input's dtype, as torch's: ``bins`` equal-width bins over
    ``range`` (default: the values' min and max; a single value v spans v +- 0.5), or a 1-D
    tensor of increasing edges; the last bin includes its right edge; values outside are left
    out. ``weight`` (the input's shape) sums weights instead of counting; ``density`` divides
    by the total and the bin widths."""
    if not isinstance(input, Tensor):
        raise TypeError(f"histogram(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"histogram(): input must be floating point, got dtype {input.dtype}")
    _check_range(range, "histogram", 2)
    density = _bool_arg(density, "density", "histogram")  # density="no" divided
    x = input.numpy().reshape(-1)
    if isinstance(bins, Tensor):
        edges = bins.numpy().astype(np.float64)
        if edges.ndim != 1 or edges.size < 2:
            raise ValueError(f"torch.histogram(): bins must be > 0, but got {edges.size - 1} "
                             f"for dimension 0")
        if np.any(np.diff(edges) < 0):
            raise ValueError("histogram(): bin edges must increase monotonically")
    else:
        if isinstance(bins, bool) or not isinstance(bins, numbers.Integral):
            raise TypeError(f"histogram(): bins must be an int or a 1-D Tensor, got "
                            f"{type(bins).__name__}")
        if bins <= 0:
            raise ValueError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                             f"dimension 0")
        lo, hi = _range(x, range)
        # the edges in the input's dtype, as torch's, and the counting against those edges
        edges = np.linspace(lo, hi, int(bins) + 1).astype(input.dtype).astype(np.float64)
    w = None
    if weight is not None:
        if not isinstance(weight, Tensor) or weight.shape != input.shape:
            raise ValueError(f"histogram(): weight must be a Tensor of the input's shape "
                             f"{input.shape}")
        w = weight.numpy().reshape(-1)
    with np.errstate(invalid="ignore", divide="ignore"):  # density of nothing: NaN, as torch
        hist, edges = np.histogram(x, edges, weights=w, density=density)
    return _Histogram(Tensor._wrap(hist.astype(input.dtype)),
                      Tensor._wrap(edges.astype(input.dtype)))


def _check_range(given, fn, count):
    """``range`` is None or a list/tuple of real numbers (``count`` of them where given), as
    torch's argument parser wants: float("a") or iterating an int said nothing of the argument."""
    if given is None:
        return
    bad = [v for v in given if not isinstance(v, numbers.Real) or isinstance(v, bool)] \
        if isinstance(given, (list, tuple)) else [given]
    if bad:
        what = "2 floats" if count else "floats"
        got = type(given).__name__ + (f" of {type(bad[0]).__name__}" if bad[0] is not given
                                      else "")
        raise TypeError(f"{fn}(): argument 'range' must be a tuple of {what}, not {got}")
    if count is not None and len(given) != count:
        raise ValueError(f"{fn}(): argument 'range' must hold {count} floats (min, max), got "
                         f"{len(given)}")


def _range(x, given):
    if given is not None:
        lo, hi = (float(v) for v in given)
        if lo > hi:
            raise ValueError(f"torch.histogramdd: min should not exceed max, but got min "
                             f"{lo:g} max {hi:g} for dimension 0")  # torch prints 3, not 3.0
    elif x.size:
        lo, hi = float(x.min()), float(x.max())
    else:
        lo, hi = 0.0, 1.0
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"torch.histogramdd: dimension 0's range [{lo:g}, {hi:g}] is not "
                         f"finite")
    if lo == hi:  # one value: a unit-wide range around it, as torch and NumPy
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi
