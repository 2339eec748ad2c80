"""torch's order statistics that are compositions of existing Tensor ops: ``quantile`` and
``nanquantile`` (all five interpolations), ``nanmedian``, ``mode`` and ``msort``.

The positions (which sorted element, which neighbours, their weights) are found in NumPy; the
values are then gathered from the input on the tape, so each gradient goes to the elements
picked (the two neighbours of a quantile share it by their interpolation weights, as torch's)
and no derivative is written here."""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .tensor import Tensor, _bool_arg, _one_axis, where
from .tensor_ops import _int, _tensor

__all__ = ["quantile", "nanquantile", "nanmedian", "mode", "msort"]

ModeResult = namedtuple("mode", "values indices")  # torch.return_types.mode's fields
NanMedianResult = namedtuple("nanmedian", "values indices")
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _q_array(q, dt, fn):
    """``q`` (a number or a 0-d/1-D tensor) as an array of the input's dtype, checked."""
    if isinstance(q, Tensor):
        if q._data.ndim > 1:
            raise ValueError(f"{fn}() q must be a scalar or 1D tensor")
        if q._data.dtype != dt:
            raise TypeError(f"{fn}() q tensor must be same dtype as the input tensor")
        qa = q._data
        if ((qa < 0) | (qa > 1)).any():
            raise ValueError(f"{fn}() q values must be in the range [0, 1]")
        return qa
    if isinstance(q, (bool, np.bool_)) or not isinstance(q, (int, float, np.integer,
                                                             np.floating)):
        raise TypeError(f"{fn}(): argument 'q' must be a float or a Tensor, not "
                        f"{type(q).__name__}")
    if not 0 <= q <= 1:
        raise ValueError(f"{fn}() q must be in the range [0, 1] but got {q}")
    return np.asarray(q, dt)


def _quantile(input, q, dim, keepdim, interpolation, fn, ignore_nan):
    x = _tensor(input, fn)
    if x._data.dtype.kind != "f":
        raise TypeError(f"{fn}() input tensor must be either float or double dtype")
    qa = _q_array(q, x._data.dtype, fn)
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{fn}() interpolation must be one of linear, lower, higher, midpoint "
                         f"or nearest, but got {interpolation}")
    if x._data.size == 0:
        raise ValueError(f"{fn}() input tensor must be non-empty")
    nd = x._data.ndim
    if dim is None:
        rows, kept = x.reshape(-1), (1,) * nd
    else:
        d = _one_axis(_int(dim, fn, "dim"), max(nd, 1), "dim")
        rows = x.reshape(1) if nd == 0 else x.movedim(d, -1)
        kept = () if nd == 0 else x._data.shape[:d] + (1,) + x._data.shape[d + 1:]
    # sorted along the last dim on the tape (NaN last), then the picked ranks gathered from it
    order = np.argsort(rows._data, axis=-1, kind="stable")
    srt = rows.gather(-1, order)
    ranks = _ranks(srt._data, qa, ignore_nan)
    if interpolation in ("lower", "higher", "nearest"):
        pick = {"lower": np.floor, "higher": np.ceil, "nearest": np.round}[interpolation]
        out = srt.gather(-1, pick(ranks).astype(np.int64))
    else:
        below = ranks.astype(np.int64)  # ranks are >= 0: truncation is the floor
        weight = np.full_like(ranks, 0.5) if interpolation == "midpoint" else \
            (ranks - below).astype(ranks.dtype)
        if interpolation == "linear" and isinstance(q, Tensor) and q.requires_grad:
            weight = _weight_on_tape(q, srt._data, weight, below, ignore_nan)
        else:
            weight = Tensor._wrap(weight)
        out = srt.gather(-1, below).lerp(srt.gather(-1, np.ceil(ranks).astype(np.int64)), weight)
    shape = kept if keepdim else (() if dim is None else
                                  x._data.shape[:d] + x._data.shape[d + 1:])
    if qa.ndim == 0:
        return out.reshape(*shape)
    return out.movedim(-1, 0).reshape(qa.shape[0], *shape)


def _weight_on_tape(q, srt, weight, below, ignore_nan):
    """Linear interpolation's weight, ``rank - floor(rank)``, with the rank computed on the tape
    as ``_ranks`` computes it (q times a row's count less one), so that ``q`` gets its gradient
    from the tape, as torch's; where the rank is pinned (a row holding a NaN, a nanquantile row
    with one value or none) the weight stays the constant, and ``q`` gets no gradient there (a
    select: the interpolation's own gradient there is NaN - NaN)."""
    nans = np.isnan(srt)
    if ignore_nan:
        scale = (~nans).sum(axis=-1, keepdims=True) - 1
    else:
        scale = np.where(nans.any(axis=-1, keepdims=True), 0, srt.shape[-1] - 1)
    scale = np.broadcast_to(scale, below.shape)
    rank = q.astype(srt.dtype).reshape(-1) * Tensor._wrap(scale.astype(srt.dtype))
    from .functions import where
    return where(Tensor._wrap(scale <= 0), Tensor._wrap(weight),
                 rank - Tensor._wrap(below.astype(srt.dtype)))


def _ranks(srt, qa, ignore_nan):
    """The fractional positions of ``qa`` in each sorted row, shape ``rows + q's``: a row
    holding a NaN points at its last element (a NaN), an all-NaN row of nanquantile at its first,
    as torch's (so the gradient lands where torch's does)."""
    last = srt.shape[-1] - 1
    nans = np.isnan(srt)
    qs = np.atleast_1d(qa)
    if ignore_nan:
        count = (~nans).sum(axis=-1, keepdims=True).astype(srt.dtype)
        ranks = qs * (count - 1)
        return np.where(ranks < 0, srt.dtype.type(0), ranks)
    ranks = np.broadcast_to(qs * srt.dtype.type(last), srt.shape[:-1] + qs.shape)
    return np.where(nans.any(axis=-1, keepdims=True), srt.dtype.type(last), ranks)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-th quantiles (a number, or a 1-D tensor of them: a leading dim) of ``input``
    over ``dim`` (all elements if None), as ``torch.quantile``; NaN where a slice holds one."""
    keepdim = _bool_arg(keepdim, "keepdim", "quantile")
    return _quantile(input, q, dim, keepdim, interpolation, "quantile", False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """``quantile`` over the values that are not NaN (NaN where all are), as
    ``torch.nanquantile``."""
    keepdim = _bool_arg(keepdim, "keepdim", "nanquantile")
    return _quantile(input, q, dim, keepdim, interpolation, "nanquantile", True)


def nanmedian(input, dim=None, keepdim=False):
    """The lower median of the values that are not NaN (NaN where all are), as
    ``torch.nanmedian``: without ``dim`` a 0-d tensor whose gradient ties share evenly; with
    ``dim``, ``(values, indices)``, the gradient going to the index."""
    x = _tensor(input, "nanmedian")
    keepdim = _bool_arg(keepdim, "keepdim", "nanmedian")
    if x._data.dtype.kind != "f":
        from .tensor_index import median
        return median(x, dim, keepdim)  # no NaN to skip
    if dim is None:
        flat = x.reshape(-1)
        if flat._data.size == 0:  # NaN, on the graph
            nan = Tensor._wrap(np.asarray(np.nan, x._data.dtype))
            return nan + flat.sum() if x._requires_grad else nan
        nans = np.isnan(flat._data)
        valid = flat._data[~nans]
        # all NaN: the NaNs tie, as torch's (they share the gradient)
        hit = nans if valid.size == 0 else flat._data == np.sort(valid)[(valid.size - 1) // 2]
        low = Tensor._wrap(np.asarray(-np.inf, x._data.dtype))
        # a max over the median's copies: its value, and the gradient shared among ties
        return where(hit, flat, low).max()
    d = _one_axis(_int(dim, "nanmedian", "dim"), max(x._data.ndim, 1), "dim")
    if x._data.ndim == 0:
        return NanMedianResult(x.clone(), Tensor._wrap(np.zeros((), np.int64)))
    if x._data.shape[d] == 0:
        raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size.")
    order = np.argsort(x._data, axis=d, kind="stable")  # NaN last, ties in index order
    count = (~np.isnan(x._data)).sum(axis=d, keepdims=True)
    pick = np.take_along_axis(order, np.maximum(count - 1, 0) // 2, axis=d)
    return _picked(x, d, pick, keepdim, NanMedianResult)


def _picked(x, d, pick, keepdim, result):
    values, idx = x.gather(d, pick), Tensor._wrap(pick.astype(np.int64))
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return result(values, idx)


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (of several, the smallest) and the index of its
    last occurrence, as ``torch.mode``; the gradient goes to that index."""
    x = _tensor(input, "mode")
    keepdim = _bool_arg(keepdim, "keepdim", "mode")
    d = _one_axis(_int(dim, "mode", "dim"), max(x._data.ndim, 1), "dim")
    if x._data.ndim == 0:
        return ModeResult(x.clone(), Tensor._wrap(np.zeros((), np.int64)))
    n = x._data.shape[d]
    if n == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    rows = np.moveaxis(x._data, d, -1).reshape(-1, n)
    pick = np.empty(rows.shape[0], np.int64)
    for r, row in enumerate(rows):  # one np.unique a slice: counts sorted by value
        values, counts = np.unique(row, return_counts=True)
        top = values[np.argmax(counts)]  # the first of the most counted: the smallest
        hit = (row[::-1] == top) | (np.isnan(row[::-1]) if top != top else False)  # NaN: one value
        pick[r] = n - 1 - np.flatnonzero(hit)[0]
    shape = np.moveaxis(x._data, d, -1).shape[:-1] + (1,)
    return _picked(x, d, np.moveaxis(pick.reshape(shape), -1, d), keepdim, ModeResult)


def msort(input):
    """The input sorted along its first dim (ascending), as ``torch.msort``."""
    x = _tensor(input, "msort")
    if x._data.ndim == 0:
        return x.clone()
    return x.sort(dim=0).values
