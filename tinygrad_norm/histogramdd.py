"""``torch.histogramdd``: the counts (or weighted sums, or density) of points in a grid of
bins, one axis per coordinate, with each axis's edges. No gradient, as ``histogram``."""
from __future__ import annotations

import numbers
from collections import namedtuple

import numpy as np

from .histograms import _check_range, _range
from .tensor import Tensor, _bool_arg

__all__ = ["histogramdd"]

_HistogramDD = namedtuple("histogramdd", ["hist", "bin_edges"])


def _fail(msg):
    raise ValueError(f"torch.histogramdd: {msg}")


def _axis_edges(bins, coords, ranges, dt):
    """Each coordinate's edges (float64, rounded through the input's dtype as torch's)."""
    D = coords.shape[1]
    if isinstance(bins, numbers.Integral) and not isinstance(bins, bool):
        bins = [bins] * D
    if not isinstance(bins, (list, tuple)):
        raise TypeError(f"histogramdd(): bins must be an int, a sequence of ints or a sequence "
                        f"of 1-D Tensors, not {type(bins).__name__}")
    if len(bins) != D:
        raise ValueError("histogramdd: The size of bins must be equal to the innermost "
                         "dimension of the input.")
    if ranges is not None and len(ranges) != 2 * D:
        _fail(f"for a {D}-dimensional histogram range should have {2 * D} elements, but got "
              f"{len(ranges)}")
    edges = []
    for d, b in enumerate(bins):
        if isinstance(b, Tensor):
            e = b.numpy().astype(np.float64)
            if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) < 0):
                _fail(f"bins tensor for dimension {d} must be 1-D, of at least 2 increasing "
                      f"edges")
        else:
            if isinstance(b, bool) or not isinstance(b, numbers.Integral) or b <= 0:
                _fail(f"bins must be > 0, but got {b} for dimension {d}")
            given = None if ranges is None else ranges[2 * d:2 * d + 2]
            try:
                lo, hi = _range(coords[:, d], given)
            except ValueError as err:  # histogram's words name dimension 0
                raise ValueError(str(err).replace("dimension 0", f"dimension {d}")) from None
            e = np.linspace(lo, hi, int(b) + 1).astype(dt).astype(np.float64)
        edges.append(e)
    return edges


def histogramdd(input, bins, *, range=None, weight=None, density=False):  # noqa: A002
    """``(hist, bin_edges)``: ``input``'s last dim holds each point's D coordinates (the rest
    are flattened); ``bins`` an int (each axis), D ints, or D 1-D tensors of edges; ``range``
    ``[lo0, hi0, lo1, hi1, ...]`` (default: each coordinate's min and max); the last bin of
    each axis includes its right edge. ``weight`` (one per point) sums weights; ``density``
    divides by the total and the bin volumes. As ``torch.histogramdd``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"histogramdd(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"histogramdd(): input must be floating point, got dtype {input.dtype}")
    if input.ndim < 2:
        _fail("input tensor should have at least 2 dimensions")
    _check_range(range, "histogramdd", None)
    density = _bool_arg(density, "density", "histogramdd")
    coords = input.numpy().reshape(-1, input.shape[-1]).astype(np.float64)
    edges = _axis_edges(bins, coords, range, input.dtype)
    w = None
    if weight is not None:
        if not isinstance(weight, Tensor) or weight.shape != input.shape[:-1]:
            raise ValueError(f"histogramdd(): weight must be a Tensor of shape "
                             f"{input.shape[:-1]} (one per point)")
        w = weight.numpy().reshape(-1)
    with np.errstate(invalid="ignore", divide="ignore"):  # density of nothing: NaN
        hist, _ = np.histogramdd(coords, edges, weights=w, density=density)
    return _HistogramDD(Tensor._wrap(hist.astype(input.dtype)),
                        tuple(Tensor._wrap(e.astype(input.dtype)) for e in edges))
