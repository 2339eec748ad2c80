"""Lp normalization of vectors and the distances and similarities built on norms, as
``torch.nn.functional``'s ``normalize``, ``cosine_similarity`` and ``pairwise_distance``:
composites whose gradients stay finite where a vector is 0."""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import _argname
from ..autograd import scope
from .. import ops
from ..tensor import Tensor, _one_axis, apply, where
from ._checks import _flag

__all__ = ["normalize", "cosine_similarity", "pairwise_distance"]


def _normalize_dims(dim, ndim, fn):
    """``dim`` as an int, a tuple of ints (torch 2.x normalizes over several dims at once) or
    None (all axes), checked."""
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    if dim is None:
        return None
    n = max(ndim, 1)
    for d in dims:
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, numbers.Integral):
            raise TypeError(f"{fn}(): dim must be an int, a tuple of ints or None (all axes), "
                            f"got {type(d).__name__}")
        if not -n <= d < n:
            raise ValueError(f"{fn}(): dim {d!r} is out of range for a tensor of {ndim} "
                             f"dimension(s)")
    axes = [int(d) % n for d in dims]
    repeated = [a for a in axes if axes.count(a) > 1]
    if repeated:
        raise ValueError(f"{fn}(): dim {repeated[0]} appears multiple times in the list of dims")
    return axes[0] if not isinstance(dim, (tuple, list)) else tuple(sorted(axes))


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim`` (an int, a tuple of ints or None), as
    ``torch.nn.functional.normalize``.
    ``p`` is a positive number or inf. Below ``eps`` the norm is the constant ``eps``, so a zero
    vector stays 0 with a finite gradient (as PyTorch's ``clamp_min``; the square root's own
    derivative at 0 is never taken)."""
    fn = "normalize"
    if out is not None:
        raise TypeError(f"{fn}(): out= is not supported (functions here return new tensors)")
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        raise TypeError(f"{fn}(): input must be a floating-point Tensor")
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real) or not p > 0:
        raise ValueError(f"{fn}(): p must be a positive number or inf, got {p!r}")
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, numbers.Real) or not eps >= 0:
        raise ValueError(f"{fn}(): eps must be a non-negative number, got {eps!r}")
    axis = _normalize_dims(dim, input.ndim, fn)
    if input.dtype == np.float16:  # as torch: the norm in float32 (300^2 overflows float16)
        return normalize(input.astype(np.float32), p, dim, eps).astype(np.float16)
    p, eps = float(p), float(eps)
    with scope(fn, p=p, dim=axis, eps=eps):
        if p == math.inf:
            norm = input.abs().max(axis=axis, keepdims=True)
            return input / norm.maximum(eps)
        if p == 2.0:
            total = input.vecdot(input, axis=axis, keepdims=True)
        else:
            # |x| ** p with the power's derivative never taken at 0 (inf for p < 1)
            a = input.abs()
            zero = a.data == 0
            total = where(zero, 0.0, where(zero, 1.0, a) ** p).sum(axis=axis, keepdims=True)
        # the norm would be clamped: never differentiate the root. eps ** p as a NumPy float:
        # a Python float raised OverflowError for eps=1e300 (the clamp then is everywhere)
        with np.errstate(over="ignore"):
            small = total.data <= np.float64(eps) ** p
        safe = where(small, 1.0, total)
        root = safe.sqrt() if p == 2.0 else safe ** (1.0 / p)
        return input / where(small, eps, root)


def _float_pair(x1, x2, fn):
    for x, name in ((x1, "x1"), (x2, "x2")):
        if not isinstance(x, Tensor) or x.dtype.kind != "f":
            raise TypeError(f"{fn}(): {name} must be a floating-point Tensor")
    try:
        return np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        (fn, n1), (_, n2) = _outer_names(fn, x1, x2)
        raise ValueError(f"{fn}(): {n1} of shape {x1.shape} and {n2} of shape {x2.shape} cannot "
                         f"be broadcast together") from None


def _outer_names(fn, x1, x2):
    """``((fn, name1), (fn, name2))``: the names of the call the two came in through when it is
    another one (``triplet_margin_loss(anchor, positive, negative)``), else ``fn``'s own x1, x2
    (error path only)."""
    (f1, a1), (f2, a2) = _argname.caller(x1), _argname.caller(x2)
    if a1 is not None and a2 is not None and f1 == f2 and (a1, a2) != ("x1", "x2"):
        return (f1, a1), (f2, a2)
    return (fn, "x1"), (fn, "x2")


def _eps(eps, fn):
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, numbers.Real):
        raise TypeError(f"{fn}(): eps must be a number, got {type(eps).__name__}")
    return float(eps)


def _two_norm(x, axis, keepdims):
    """``sqrt(sum(x * x))`` whose gradient is 0 where the norm is 0, as torch's norm_backward
    (the root's derivative is never taken at 0)."""
    sq = x.vecdot(x, axis=axis, keepdims=keepdims)
    zero = sq.data == 0
    return where(zero, 0.0, where(zero, 1.0, sq).sqrt())


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))`` along ``dim`` of the broadcast
    inputs, as ``torch.nn.functional.cosine_similarity`` (torch 2.x): each vector divided by
    its clamped norm first, so the result stays within [-1, 1]. As torch, the clamp is applied
    outside autograd: the gradient uses the clamped value but flows through the unclamped norm
    (whose gradient is 0 at a zero vector)."""
    fn = "cosine_similarity"
    shape = _float_pair(x1, x2, fn)
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{fn}(): dim must be an int, got {type(dim).__name__}")
    axis = _one_axis(int(dim), len(shape), "dim")
    eps = _eps(eps, fn)
    if not eps >= 0:  # a negative eps "clamps" every norm up to it: NaN or a sign flip; NaN too
        raise ValueError(f"{fn}(): eps must be non-negative, got: {eps:g}")  # torch's words
    if x1.dtype == np.float16 and x2.dtype == np.float16:  # in float32 (x*x overflowed), as torch
        return cosine_similarity(x1.astype(np.float32), x2.astype(np.float32), dim,
                                 eps).astype(np.float16)
    with scope(fn, dim=axis, eps=eps):
        if x1.shape != shape:
            x1 = x1.broadcast_to(shape)
        if x2.shape != shape:
            x2 = x2.broadcast_to(shape)
        units = []
        for x in (x1, x2):
            n = _two_norm(x, axis, True)
            # + (max(n, eps) - n) as a constant: the value is the clamped norm (exactly n where
            # n >= eps), the gradient the norm's own, as torch's clamp_min_ under no_grad
            lift = np.maximum(n.data, eps) - n.data
            units.append(x / (n + Tensor._wrap(lift)) if lift.any() else x / n)
        return units[0].vecdot(units[1], axis=axis)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of ``x1 - x2 + eps`` along the last axis of the broadcast inputs, as
    ``torch.nn.functional.pairwise_distance`` (``eps`` keeps the norm of equal vectors off 0).
    ``p`` is a non-negative number or inf (0 counts the non-zero differences)."""
    fn = "pairwise_distance"
    keepdim = _flag(keepdim, "keepdim", fn)
    shape = _float_pair(x1, x2, fn)
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real) or not p >= 0:
        raise ValueError(f"{fn}(): p must be a non-negative number or inf, got {p!r}")
    p, eps = float(p), _eps(eps, fn)
    if not shape:
        raise ValueError(f"{fn}(): x1 and x2 need at least one dimension")
    axis = len(shape) - 1
    with scope(fn, p=p, eps=eps):
        d = x1 - x2 + eps
        if d.dtype == np.float16:  # the norm in float32, rounded once, as torch's
            return _p_norm(d.astype(np.float32), p, axis, keepdim).astype(np.float16)
        return _p_norm(d, p, axis, keepdim)


def _p_norm(d, p, axis, keepdim):
    if p == 2.0:
        return _two_norm(d, axis, keepdim)
    a = d.abs()
    if p == math.inf:
        return a.max(axis=axis, keepdims=keepdim)
    if p == 0.0:  # the count of non-zero elements, on the graph with gradient 0, as torch
        count = (a.data != 0).sum(axis=axis, keepdims=keepdim).astype(d.dtype)
        return apply(ops.ZerosLike, a).sum(axis=axis, keepdims=keepdim) + Tensor._wrap(count)
    if p == 1.0:
        return a.sum(axis=axis, keepdims=keepdim)
    zero = a.data == 0  # |d| ** p with the power's derivative never taken at 0
    total = where(zero, 0.0, where(zero, 1.0, a) ** p).sum(axis=axis, keepdims=keepdim)
    small = total.data == 0  # a zero norm: gradient 0, as torch's
    return where(small, 0.0, where(small, 1.0, total) ** (1.0 / p))
