"""torch's out-of-place writes into a view: ``select_scatter``, ``slice_scatter`` and
``diagonal_scatter`` return ``input`` with the view ``input.select(dim, index)`` (a slice, a
diagonal) replaced by ``src``. Each is one ``index_copy`` of ``src`` into ``input`` along the
view's positions, so gradients come from the tape: ``src`` gets the upstream gradient at those
positions, ``input`` everywhere else."""
from __future__ import annotations

import numbers

import numpy as np

from .tensor import Tensor

__all__ = ["select_scatter", "slice_scatter", "diagonal_scatter"]


def _tensors(input, src, fn):
    for x, name in ((input, "input"), (src, "src")):
        if not isinstance(x, Tensor):
            raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(x).__name__}")


def _dim(d, ndim, fn, name="dim"):
    if isinstance(d, bool) or not isinstance(d, numbers.Integral):
        raise TypeError(f"{fn}(): argument '{name}' must be int, not {type(d).__name__}")
    if not -max(ndim, 1) <= d < max(ndim, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {d})")
    return d % max(ndim, 1)


def _place(input, src, dim, positions, view_shape, fn):
    """``input`` with ``src`` (of the view's shape) copied to ``positions`` along ``dim``."""
    if tuple(src.shape) != tuple(view_shape):
        raise ValueError(f"expected src to have a size equal to the slice of self. src "
                         f"size = {list(src.shape)}, slice size = {list(view_shape)}")
    src = src.astype(input.dtype)
    return input.index_copy(dim, Tensor(np.asarray(positions, dtype=np.int64)), src)


def select_scatter(input, src, dim, index):
    """``input`` with ``input.select(dim, index)`` replaced by ``src``."""
    _tensors(input, src, "select_scatter")
    d = _dim(dim, input.ndim, "select_scatter")
    n = input.shape[d]
    if isinstance(index, bool) or not isinstance(index, numbers.Integral):
        raise TypeError(f"select_scatter(): argument 'index' must be int, not "
                        f"{type(index).__name__}")
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    view = input.shape[:d] + input.shape[d + 1:]
    if tuple(src.shape) != tuple(view):
        _place(input, src, d, [], view, "select_scatter")  # raises the size message
    return _place(input, src.unsqueeze(d), d, [index % n], input.shape[:d] + (1,)
                  + input.shape[d + 1:], "select_scatter")


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """``input`` with ``input[..., start:end:step, ...]`` (along ``dim``) replaced by ``src``."""
    _tensors(input, src, "slice_scatter")
    if input.ndim == 0:  # (the shape's index said "tuple index out of range")
        raise IndexError("slice_scatter(): slice() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, input.ndim, "slice_scatter")
    if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step <= 0:
        raise ValueError(f"slice step must be positive, got {step!r}")
    for name, v in (("start", start), ("end", end)):  # (a slice would say "slice indices")
        if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Integral)):
            raise TypeError(f"slice_scatter(): argument '{name}' must be int, not "
                            f"{type(v).__name__}")
    positions = np.arange(input.shape[d])[slice(start, end, step)]
    view = input.shape[:d] + (len(positions),) + input.shape[d + 1:]
    return _place(input, src, d, positions, view, "slice_scatter")


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """``input`` with ``input.diagonal(offset, dim1, dim2)`` replaced by ``src`` (whose last
    dimension runs along the diagonal, as ``diagonal``'s result)."""
    _tensors(input, src, "diagonal_scatter")
    d1 = _dim(dim1, input.ndim, "diagonal_scatter", "dim1")
    d2 = _dim(dim2, input.ndim, "diagonal_scatter", "dim2")
    if d1 == d2:
        raise ValueError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rows, cols = input.shape[d1], input.shape[d2]
    i = np.arange(max(0, min(rows + min(offset, 0), cols - max(offset, 0))))
    r, c = i - min(offset, 0), i + max(offset, 0)
    moved = input.movedim((d1, d2), (-2, -1))  # the two dims last, flattened into one
    flat = moved.reshape(*moved.shape[:-2], rows * cols)
    out = _place(flat, src, flat.ndim - 1, r * cols + c, moved.shape[:-2] + (len(i),),
                 "diagonal_scatter")
    return out.reshape(moved.shape).movedim((-2, -1), (d1, d2))
