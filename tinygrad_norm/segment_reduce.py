"""``torch.segment_reduce``: ``data`` cut along ``axis`` into consecutive segments of the given
``lengths`` (or between ``offsets``), each reduced to one slice by sum, mean, max, min or prod;
``initial`` joins every segment's reduction (and is an empty segment's value). A composite of
``scatter_reduce`` (ties of max/min share the gradient equally, as torch's) and a division for
the mean.

*vs PyTorch:* ``lengths``/``offsets`` must be 1-D (the same segments for every slice); torch
also takes a batch of them, one row per leading index."""
from __future__ import annotations

import numpy as np

from .tensor import Tensor

__all__ = ["segment_reduce"]

_REDUCTIONS = {"sum": "sum", "mean": "sum", "prod": "prod", "max": "amax", "amax": "amax",
               "min": "amin", "amin": "amin"}
_IDENTITY = {"sum": 0.0, "prod": 1.0, "amax": -np.inf, "amin": np.inf}


def _lengths(lengths, offsets, n, unsafe):
    fn = "segment_reduce()"
    if lengths is None and offsets is None:
        raise ValueError(f"{fn}: Either lengths or offsets must be defined.")
    given = lengths if lengths is not None else offsets
    if not isinstance(given, Tensor) or given.dtype.kind not in "iu":
        raise TypeError(f"{fn}: lengths and offsets must be integer Tensors")
    if given.ndim != 1:
        raise ValueError(f"{fn}: lengths and offsets must be 1-D here (torch also takes a "
                         f"batch of them)")
    v = given.numpy().astype(np.int64)
    L = v if lengths is not None else np.diff(v)
    if np.any(L < 0):
        raise ValueError("lengths contains negative value!")
    if not unsafe and int(L.sum()) != n:
        raise ValueError(f"{fn}: Expected all rows of lengths along axis to sum to "
                         f"data.size(lengths.dim()-1) when !unsafe.")
    return L


def segment_reduce(data, reduce, *, lengths=None, indices=None, offsets=None, axis=0,
                   unsafe=False, initial=None):
    """One slice per segment of ``data`` along ``axis``: ``reduce`` is 'sum', 'mean', 'max'
    ('amax'), 'min' ('amin') or 'prod'. An empty segment gives ``initial`` if given, else the
    reduction's identity (0, 1, -inf, inf) and NaN for a mean, as torch's."""
    if not isinstance(data, Tensor):
        raise TypeError(f"segment_reduce(): argument 'data' must be Tensor, not "
                        f"{type(data).__name__}")
    if reduce not in _REDUCTIONS:
        raise ValueError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                         f"{reduce}")
    if indices is not None:
        raise ValueError("segment_reduce(): indices based reduction is not supported yet.")
    if data.ndim == 0 or not -data.ndim <= axis < data.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(data.ndim, 1)}, {max(data.ndim, 1) - 1}], but got {axis})")
    axis %= data.ndim
    L = _lengths(lengths, offsets, data.shape[axis], unsafe)
    used = int(L.sum())
    part = data if used == data.shape[axis] else data.narrow(axis, 0, used)
    seg = np.repeat(np.arange(L.size), L)  # each element's segment
    where = [1] * data.ndim
    where[axis] = used
    index = Tensor._wrap(np.broadcast_to(seg.reshape(where), part.shape).copy())
    how = _REDUCTIONS[reduce]
    start = _IDENTITY[how] if initial is None else float(initial)
    out_shape = list(data.shape)
    out_shape[axis] = L.size
    base = Tensor.full(tuple(out_shape), start, dtype=data.dtype)
    out = base.scatter_reduce(axis, index, part, how, include_self=True)
    if reduce != "mean":
        return out
    # an empty segment's count read as NaN (0 / NaN is NaN, without NumPy's 0 / 0 warning) or,
    # where initial fills it below, as 1
    filler = np.nan if initial is None else 1.0
    count = np.where(L == 0, filler, L).astype(data.dtype)
    mean = out / Tensor._wrap(count.reshape([-1 if d == axis else 1 for d in range(data.ndim)]))
    if initial is None:
        return mean
    empty = (L == 0).reshape([-1 if d == axis else 1 for d in range(data.ndim)])
    return mean.masked_fill(Tensor._wrap(np.broadcast_to(empty, mean.shape)), float(initial))
