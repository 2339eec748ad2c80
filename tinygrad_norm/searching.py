"""torch's searching, counting and set functions: ``searchsorted``, ``bucketize``, ``unique``,
``unique_consecutive``, ``isin``, ``bincount``, ``histc`` (integer or count results, no
gradient, as in torch) and ``kthvalue`` (values with the gradient of a gather)."""
from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from .tensor import Tensor, _bool_arg, _int_arg, _one_axis

__all__ = ["searchsorted", "bucketize", "unique", "unique_consecutive", "isin", "bincount",
           "histc", "kthvalue"]

KthvalueResult = namedtuple("kthvalue", ["values", "indices"])


def _array(x, fn, name):
    if isinstance(x, Tensor):
        return x._data
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return np.asarray(x)
    raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(x).__name__}")


def _side(right, side, fn):
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise ValueError(f"{fn}(): side can only be 'left' or 'right' but got {side!r}")
    if right and side == "left":
        raise ValueError(f"{fn}(): side and right can't be set to opposites, got side of left "
                         f"while right was True")
    return side


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Where each value of ``input`` would go in ``sorted_sequence`` (along its last dim; a 1-D
    sequence serves every value, an N-D one the matching rows of ``input``), as torch: the first
    place (``side='left'``) or the last (``'right'``/``right=True``). int64 (int32 with
    ``out_int32``)."""
    fn = "searchsorted"
    out_int32, right = _bool_arg(out_int32, "out_int32", fn), _bool_arg(right, "right", fn)
    seq, vals = _array(sorted_sequence, fn, "sorted_sequence"), _array(input, fn, "input")
    side = _side(right, side, fn)
    if sorter is not None:
        order = _array(sorter, fn, "sorter")
        if order.dtype != np.int64:
            raise TypeError(f"torch.searchsorted(): sorter must be a tensor of long dtype but "
                            f"got dtype {order.dtype}")
        if order.shape != seq.shape:
            raise ValueError(f"{fn}(): boundary and sorter must have the same size, but got "
                             f"boundary tensor {list(seq.shape)} and got sorter tensor "
                             f"{list(order.shape)}")
        if order.size and (order.min() < 0 or order.max() >= seq.shape[-1]):
            raise IndexError("torch.searchsorted(): sorter index out of range")
        seq = np.take_along_axis(seq, order, axis=-1)
    if seq.ndim == 0:
        raise ValueError(f"{fn}(): boundaries tensor should be 1 dimension or the first N-1 "
                         f"dimensions of boundaries tensor and input value tensor must match, "
                         f"but we got boundaries tensor {list(seq.shape)} and input value tensor "
                         f"{list(vals.shape)}")
    if seq.ndim == 1:
        out = np.searchsorted(seq, vals, side=side)
    else:
        if vals.shape[:-1] != seq.shape[:-1]:
            raise ValueError(f"{fn}(): boundaries tensor should be 1 dimension or the first N-1 "
                             f"dimensions of boundaries tensor and input value tensor must "
                             f"match, but we got boundaries tensor {list(seq.shape)} and input "
                             f"value tensor {list(vals.shape)}")
        n = int(np.prod(seq.shape[:-1]))  # not -1: a row of length 0 leaves it undefined
        rows_s, rows_v = seq.reshape(n, seq.shape[-1]), vals.reshape(n, vals.shape[-1])
        out = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(rows_s, rows_v)]
                       ).reshape(vals.shape) if rows_s.shape[0] else np.zeros(vals.shape, int)
    return Tensor._wrap(np.asarray(out, np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value among the 1-D increasing ``boundaries``, as torch: ``i`` with
    ``boundaries[i-1] < x <= boundaries[i]`` (``right=True``: ``boundaries[i-1] <= x <
    boundaries[i]``)."""
    b = _array(boundaries, "bucketize", "boundaries")
    out_int32 = _bool_arg(out_int32, "out_int32", "bucketize")
    right = _bool_arg(right, "right", "bucketize")
    if b.ndim != 1:
        raise ValueError(f"bucketize(): boundaries tensor must be 1 dimension, but got dim("
                         f"{b.ndim})")
    return searchsorted(Tensor._wrap(b), input, out_int32=out_int32, right=right)


def _dim(x, dim):
    """``dim`` of the array ``x`` for unique's slices, checked as torch checks it: in range, and
    no other axis of size 0."""
    if x.ndim == 0:
        raise ValueError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = _one_axis(_int_arg(dim, "dim", "unique"), x.ndim, "dim")
    if x.size == 0 and x.shape[d] != 0:
        raise ValueError("There are 0 sized dimensions, and they aren't selected, so unique "
                         "cannot be applied")
    return d


def _flags(return_inverse, return_counts, fn):
    # read by truth value, return_counts="no" returned the counts
    return (_bool_arg(return_inverse, "return_inverse", fn),
            _bool_arg(return_counts, "return_counts", fn))


def _finish(values, inverse, counts, return_inverse, return_counts):
    out = (Tensor._wrap(values),)
    if return_inverse:
        out += (Tensor._wrap(inverse.astype(np.int64)),)
    if return_counts:
        out += (Tensor._wrap(counts.astype(np.int64)),)
    return out[0] if len(out) == 1 else out


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (or slices along ``dim``), sorted, as torch (which sorts on the CPU
    whatever ``sorted`` says); optionally each element's place in them and each one's count."""
    x = _array(input, "unique", "input")
    _bool_arg(sorted, "sorted", "unique")  # always sorted; a flag all the same
    return_inverse, return_counts = _flags(return_inverse, return_counts, "unique")
    if dim is None:  # NaNs kept apart, as torch's (NumPy 2 merges them by default)
        values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True,
                                            equal_nan=False)
        return _finish(values, inverse.reshape(x.shape), counts, return_inverse, return_counts)
    d = _dim(x, dim)
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True, axis=d)
    return _finish(values, inverse.reshape(-1), counts, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Each run of equal consecutive values (or slices along ``dim``) kept once, as torch."""
    x = _array(input, "unique_consecutive", "input")
    return_inverse, return_counts = _flags(return_inverse, return_counts, "unique_consecutive")
    if dim is None:
        flat = x.reshape(-1)
        starts = np.ones(flat.shape, bool)
        starts[1:] = flat[1:] != flat[:-1]
        values, shape = flat[starts], x.shape
    else:
        d = _dim(x, dim)
        rest = int(np.prod(x.shape)) // x.shape[d] if x.shape[d] else 0
        moved = np.moveaxis(x, d, 0).reshape(x.shape[d], rest)
        starts = np.ones(moved.shape[0], bool)
        starts[1:] = (moved[1:] != moved[:-1]).any(axis=1)
        values, shape = np.compress(starts, x, axis=d), (x.shape[d],)
    run = np.cumsum(starts) - 1
    counts = np.bincount(run, minlength=int(starts.sum())) if run.size else np.zeros(0, int)
    return _finish(values, run.reshape(shape), counts, return_inverse, return_counts)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each of ``elements`` is among ``test_elements`` (either may be a number), a bool
    tensor of ``elements``' shape, as torch."""
    e = _array(elements, "isin", "elements")
    t = _array(test_elements, "isin", "test_elements")
    assume_unique = _bool_arg(assume_unique, "assume_unique", "isin")
    return Tensor._wrap(np.isin(e, t, assume_unique=assume_unique,
                                invert=_bool_arg(invert, "invert", "isin")))


def bincount(input, weights=None, minlength=0):
    """How often each value of the 1-D non-negative integer ``input`` occurs, int64; weighted,
    the sum of its weights, in the weights' dtype when floating point (else float64), as
    torch."""
    x = _array(input, "bincount", "input")
    if x.ndim != 1 or x.dtype.kind not in "iu":
        raise ValueError(f"bincount only supports 1-d non-negative integral inputs, got "
                         f"{x.ndim}-d {x.dtype}")
    if x.size and x.min() < 0:
        raise ValueError("bincount only supports 1-d non-negative integral inputs.")
    minlength = _int_arg(minlength, "minlength", "bincount")
    if minlength < 0:
        raise ValueError("minlength should be >= 0")
    if weights is None:
        return Tensor._wrap(np.bincount(x, minlength=minlength).astype(np.int64))
    w = _array(weights, "bincount", "weights")
    if w.shape != x.shape:
        raise ValueError("weights should be 1-d and have the same length as input")
    # torch's result dtype: the weights' when floating point, else float64
    dt = w.dtype if w.dtype.kind == "f" else np.float64
    return Tensor._wrap(np.bincount(x, weights=w, minlength=minlength).astype(dt))


def histc(input, bins=100, min=0, max=0):
    """A histogram of ``input`` in ``bins`` equal bins over ``[min, max]`` (both 0: the data's
    range), values outside ignored, in ``input``'s dtype, as torch."""
    x = _array(input, "histc", "input")
    if x.dtype.kind != "f":
        raise TypeError(f"histc(): input must be floating point, got dtype {x.dtype}")
    if isinstance(bins, (bool, np.bool_)) or not isinstance(bins, (int, np.integer)):
        raise TypeError(f"histc(): argument 'bins' must be int, not {type(bins).__name__}")
    bins = int(bins)
    if bins <= 0:
        raise ValueError("torch.histc(): bins must be > 0")
    for name, v in (("min", min), ("max", max)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer,
                                                                   np.floating)):
            raise TypeError(f"histc(): argument '{name}' must be Number, not {type(v).__name__}")
        if not math.isfinite(v):  # NumPy's "supplied range of [nan, 0.0] is not finite"
            raise ValueError(f"torch.histc(): range of [{min}, {max}] is not finite")
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise ValueError(f"torch.histc(): max must be larger than min, got min {min} and max "
                         f"{max}")
    counts, _ = np.histogram(x, bins=bins, range=(lo, hi))
    return Tensor._wrap(counts.astype(x.dtype))


def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest value along ``dim`` (``k`` from 1) and its index, a named tuple, as
    torch; the values' gradient goes back to that index."""
    if not isinstance(input, Tensor):
        raise TypeError(f"kthvalue(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    keepdim = _bool_arg(keepdim, "keepdim", "kthvalue")
    nd = max(input.ndim, 1)
    d = _int_arg(dim, "dim", "kthvalue")
    if not -nd <= d < nd:
        raise ValueError(f"kthvalue(): dim {d} is out of range for a {input.ndim}-D tensor")
    d %= nd
    k = _int_arg(k, "k", "kthvalue")
    size = input.shape[d] if input.ndim else 1
    if not 1 <= k <= size:
        raise ValueError(f"kthvalue(): selected number k out of range for dimension {d}")
    if input.ndim == 0:
        return KthvalueResult(input * 1, Tensor._wrap(np.zeros((), np.int64)))
    order = np.argsort(input._data, axis=d, kind="stable")  # a tie: the first
    idx = np.take(order, [k - 1], axis=d)
    values = input.take_along_dim(Tensor._wrap(idx), d)
    if not keepdim:
        values, idx = values.squeeze(d), np.squeeze(idx, d)
    return KthvalueResult(values, Tensor._wrap(idx.astype(np.int64)))
