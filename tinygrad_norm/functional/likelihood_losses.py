"""Negative log-likelihood losses of ``torch.nn.functional`` for count and real-valued targets:
``poisson_nll_loss`` and ``gaussian_nll_loss``. Composites: the tape derives every gradient."""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd import scope
from ..tensor import Tensor, where
from ._checks import _flag, _real
from .losses import _check_input, _numeric_array, _reduce, _reduction
from .margin_losses import _float_target

__all__ = ["poisson_nll_loss", "gaussian_nll_loss"]


def _stirling(target):
    """Stirling's approximation of ``log(target!)``, ``t log t - t + log(2 pi t) / 2``, where
    ``target > 1``, else 0 (PyTorch's ``full`` term: it is poor below 1, and log 0 would be
    -inf). On the tape, as in PyTorch, so a target that requires grad gets its derivative;
    where ``target <= 1`` that is 0 (PyTorch's is NaN at a target of exactly 0, from its
    ``0 * log 0``)."""
    big = target._data > 1
    t = where(big, target, 1.0)  # log of 1 where masked: no -inf, no NaN in the gradient
    return where(big, t * t.log() - t + 0.5 * (t * (2 * math.pi)).log(), 0.0)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Poisson negative log-likelihood of counts ``target`` with rate ``exp(input)``
    (``log_input``) or ``input``, as PyTorch: ``exp(input) - target * input``, or
    ``input - target * log(input + eps)``; ``full`` adds Stirling's term for ``log(target!)``
    where ``target > 1``."""
    fn = "poisson_nll_loss"
    reduction = _reduction(fn, reduction, size_average, reduce)
    log_input, full = _flag(log_input, "log_input", fn), _flag(full, "full", fn)
    eps = _real(eps, "eps", fn)
    target = _float_target(input, target, fn)
    with scope(fn, log_input=log_input, full=full, eps=eps, reduction=reduction):
        if log_input:
            loss = input.exp() - target * input
        else:
            loss = input - target * (input + eps).log()
        if full:
            loss = loss + _stirling(target)
        return _reduce(loss, reduction)


def _variance(var, input, fn):
    """``var`` as a Tensor broadcasting against ``input``, by PyTorch's rules: the input's shape;
    its shape without the last axis (one variance per sample: a size-1 axis is appended); or its
    shape with one axis of size 1 (shared along that axis). A float is one variance for all."""
    if isinstance(var, numbers.Real) and not isinstance(var, (bool, np.bool_)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        return Tensor(np.full(input.shape, var, input.dtype))
    if not isinstance(var, Tensor):
        var = Tensor(_numeric_array(var, "var", fn).astype(input.dtype))
    elif var.dtype != input.dtype and var.dtype.kind != "f":  # another float type promotes
        raise TypeError(f"{fn}: var has dtype {var.dtype} but input has dtype {input.dtype}")
    if (var._data < 0).any():
        raise ValueError("var has negative entry/entries")
    if var.shape == input.shape:
        return var
    if var.shape == input.shape[:-1]:
        return var.reshape(var.shape + (1,))
    differ = [v for i, v in zip(input.shape, var.shape) if i != v]
    if var.ndim == input.ndim and sum(differ) == 1:
        return var
    raise ValueError("var is of incorrect size")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log-likelihood of ``target`` under mean ``input`` and variance
    ``var``: ``(log(var) + (input - target) ** 2 / var) / 2`` (plus ``log(2 pi) / 2`` with
    ``full``), as PyTorch. ``var`` below ``eps`` is raised to ``eps`` for stability, and, as in
    PyTorch, the gradient with respect to ``var`` passes that clamp unchanged."""
    fn = "gaussian_nll_loss"
    full = _flag(full, "full", fn)
    eps = _real(eps, "eps", fn)
    _check_input(input, fn)
    target = _float_target(input, target, fn)
    var = _variance(var, input, fn)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"gaussian_nll_loss(): {reduction} is not valid (reduction must be "
                         f"'none', 'mean' or 'sum')")
    with scope(fn, full=full, eps=eps, reduction=reduction):
        low = var._data < eps
        if low.any():  # (var - var) is exactly 0: the value eps, the derivative 1
            var = where(low, (var - var.detach()) + eps, var)
        d = input - target
        loss = 0.5 * (var.log() + d * d / var)
        if full:
            loss = loss + 0.5 * math.log(2 * math.pi)
        return _reduce(loss, reduction)
