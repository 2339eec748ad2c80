"""Margin and soft-margin losses of ``torch.nn.functional`` that the common losses (losses.py)
leave out: two-class and multi-label soft margins, the multi-class hinge (``multi_margin_loss``),
its multi-label form, and the triplet loss over any distance. Composites: the tape derives every
gradient. Where PyTorch's kernel keeps a hinge term only for ``z > 0`` (its gradient at 0 is 0),
so do these, with a select rather than ``clip`` (whose gradient at the hinge passes)."""
from __future__ import annotations

import numpy as np

from .._shape_checks import broadcast as _broadcast
from ..autograd import scope
from ..tensor import Tensor, minimum, where
from ._checks import _flag, _real
from .activation import _logsigmoid
from .distance import pairwise_distance
from .losses import (_check_input, _elementwise_weight, _mixed_target, _not_differentiable,
                     _numeric_array, _reduce, _reduction, _safe_div)

__all__ = ["soft_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss",
           "multilabel_margin_loss", "triplet_margin_with_distance_loss"]


def _float_target(input, target, fn, mixed="promote"):
    """``target`` as a float Tensor that broadcasts with the input (PyTorch broadcasts these
    losses' operands without the warning of ``mse_loss``); another float dtype as in
    losses._pair_target."""
    _check_input(input, fn)
    if isinstance(target, Tensor):
        if target.dtype.kind in "biu":  # labels or counts as integers: PyTorch takes them
            target = target.astype(input.dtype)
        elif target.dtype != input.dtype:
            target = _mixed_target(input, target, fn, mixed)
    else:
        target = Tensor(_numeric_array(target, "target", fn).astype(input.dtype))
    try:
        np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise ValueError(f"{fn}: target of shape {target.shape} does not broadcast with input of "
                         f"shape {input.shape}") from None
    return target


def _index_target(target, fn):
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{fn}: target must hold integer class indices, got dtype {t.dtype}")
    return t.astype(np.int64, copy=False)


def _vector_or_matrix(input, fn):
    _check_input(input, fn)
    if input.ndim not in (1, 2) or input.ndim == 1 and input.shape[0] == 0:
        raise ValueError(f"{fn}(): Expected non-empty vector or matrix with optional 0-dim "
                         f"batch size, "
                         f"but got: {list(input.shape)}")


def _hinge(z):
    """``z`` where ``z > 0``, else 0, with PyTorch's kernels' gradient 0 at ``z == 0``."""
    return where(z._data > 0, z, 0.0)


def _per_sample(loss, reduction):
    """The mean over a batch (NaN for an empty one, as the other losses) or the sum."""
    if reduction == "mean" and loss.size == 0:
        return _safe_div(loss.sum(), 0)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``log(1 + exp(-target * input))`` for targets of +-1, as PyTorch. Computed as
    ``-logsigmoid(target * input)``: PyTorch's kernel overflows to inf past
    ``-target * input`` of about 89 (float32), this gives the finite value."""
    fn = "soft_margin_loss"
    reduction = _reduction(fn, reduction, size_average, reduce)
    _not_differentiable(target, "target", fn)  # PyTorch's kernel has no target gradient
    target = _float_target(input, target, fn, mixed="input")  # torch: the input's dtype
    if target.shape != input.shape:  # torch's output has the input's shape: no bigger broadcast
        out = _broadcast(fn, input.shape, target.shape)
        if out != input.shape:
            raise ValueError(f"{fn}(): output with shape {list(input.shape)} doesn't match the "
                             f"broadcast shape {list(out)}")
    with scope(fn, reduction=reduction):
        return _reduce(-_logsigmoid(target * input), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """One-versus-all logistic loss over the classes (the last axis), averaged over them, as
    PyTorch: ``-(y log sigmoid(x) + (1 - y) log sigmoid(-x))``, times ``weight`` (per class)."""
    fn = "multilabel_soft_margin_loss"
    reduction = _reduction(fn, reduction, size_average, reduce)
    target = _float_target(input, target, fn)
    if input.ndim == 0:  # torch reads the classes off the last dim, which a 0-d input lacks
        raise IndexError(f"{fn}(): Dimension specified as -1 but tensor has no dimensions")
    w = _elementwise_weight(weight, input.shape, input.dtype, fn, same_size=False)
    with scope(fn, reduction=reduction):
        loss = -(target * _logsigmoid(input) + (1.0 - target) * _logsigmoid(-input))
        if w is not None:
            loss = loss * w
        c = input.shape[-1] if input.ndim else 1
        return _per_sample(loss.sum(axis=-1) / c, reduction)


def _margin_weight(weight, c, dtype, fn):
    if weight is None:
        return None
    w = weight if isinstance(weight, Tensor) else Tensor(
        _numeric_array(weight, "weight", fn).astype(dtype))
    if w.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    if w.shape[0] != c:
        raise ValueError(f"inconsistent weight size, expected {c} but got {list(w.shape)}")
    if w.dtype != dtype:
        raise TypeError(f"{fn}: weight has dtype {w.dtype} but input has dtype {dtype}")
    return w


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """The multi-class hinge loss, as PyTorch: for each sample of class ``y``,
    ``sum over i != y of max(0, margin - x[y] + x[i]) ** p`` (times ``weight[y]``), over the
    number of classes. ``input`` (N, C) or (C,), ``target`` (N,) or a single index."""
    fn = "multi_margin_loss"
    reduction = _reduction(fn, reduction, size_average, reduce)
    if p not in (1, 2) or isinstance(p, bool):
        raise ValueError("only p == 1 and p == 2 supported")
    margin = _real(margin, "margin", fn)
    _not_differentiable(weight, "weight", fn)  # PyTorch's kernel has no weight gradient
    _vector_or_matrix(input, fn)
    t = _index_target(target, fn)
    x = input if input.ndim == 2 else input.reshape(1, -1)
    n, c = x.shape
    if t.size != n or t.ndim > 1:
        raise ValueError(f"multi_margin_loss: target tensor should be 1-D with size equal to the "
                         f"number of input samples (batch size). Expected target size [{n}], "
                         f"but got {list(t.shape)}. Input has shape {list(input.shape)}.")
    t = t.reshape(n)
    if ((t < 0) | (t >= c)).any():
        raise ValueError("target out of range")
    w = _margin_weight(weight, c, input.dtype, fn)
    with scope(fn, p=p, margin=margin, reduction=reduction):
        rows = np.arange(n)
        own = x[rows, t].reshape(n, 1)
        others = np.ones((n, c), bool)
        others[rows, t] = False
        h = _hinge(margin - own + x)
        if p == 2:
            h = h * h
        h = where(others, h, 0.0)
        if w is not None:
            h = h * w[t].reshape(n, 1)
        loss = h.sum(axis=1) / c
        return _per_sample(loss if input.ndim == 2 else loss.reshape(()), reduction)


def _label_sets(t, c):
    """Each row's target classes, read up to its first -1 (PyTorch's format): the valid
    positions (N, C) and the class at each (-1 turned into 0, masked)."""
    stop = np.cumsum(t == -1, axis=1) > 0
    valid = ~stop
    if ((t[valid] < 0) | (t[valid] >= c)).any():
        raise ValueError("argument #2 'target' is out of range")
    return valid, np.where(valid, t, 0)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """The multi-label hinge loss, as PyTorch: each row of ``target`` lists the sample's
    classes up to its first -1; for every listed class ``j`` and every class ``i`` not listed,
    ``max(0, 1 - (x[j] - x[i]))``, summed, over the number of classes. A class listed twice
    counts twice, as in PyTorch's kernel."""
    fn = "multilabel_margin_loss"
    reduction = _reduction(fn, reduction, size_average, reduce)
    _vector_or_matrix(input, fn)
    t = _index_target(target, fn)
    if t.shape != input.shape:
        raise ValueError(f"inconsistent target size: {list(t.shape)} for input of size: "
                         f"{list(input.shape)}")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    t = t.reshape(x.shape)
    n, c = x.shape
    valid, classes = _label_sets(t, c)
    listed = np.zeros((n, c), bool)  # whether a class is among the sample's targets
    listed[np.nonzero(valid)[0], classes[valid]] = True
    with scope(fn, reduction=reduction):
        own = x.take_along_dim(Tensor(classes), 1)  # (N, slots): x at each listed class
        z = 1.0 - own.reshape(n, c, 1) + x.reshape(n, 1, c)
        counted = valid[:, :, None] & ~listed[:, None, :]
        loss = where(counted, _hinge(z), 0.0).sum(axis=(1, 2)) / c
        return _per_sample(loss if input.ndim == 2 else loss.reshape(()), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` for any distance
    function of two Tensors (default ``pairwise_distance``), as PyTorch; ``swap`` takes the
    smaller of d(anchor, negative) and d(positive, negative)."""
    fn = "triplet_margin_with_distance_loss"
    reduction = _reduction(fn, reduction, None, None)
    swap = _flag(swap, "swap", fn)
    margin = _real(margin, "margin", fn)
    if not margin > 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    for x in (anchor, positive, negative):
        _check_input(x, fn)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(f"The anchor, positive, and negative tensors are expected to have the "
                         f"same number of dimensions, but got: anchor {anchor.ndim}D, positive "
                         f"{positive.ndim}D, and negative {negative.ndim}D inputs")
    if distance_function is not None and not callable(distance_function):
        raise TypeError(f"{fn}: distance_function must be callable or None, got "
                        f"{type(distance_function).__name__}")
    d = distance_function or pairwise_distance
    with scope(fn, margin=margin, swap=swap, reduction=reduction):
        d_pos, d_neg = d(anchor, positive), d(anchor, negative)
        if swap:
            d_neg = minimum(d_neg, d(positive, negative))
        return _reduce((margin + d_pos - d_neg).clip(min=0.0), reduction)
