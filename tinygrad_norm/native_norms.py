"""torch's ATen-level normalization and dropout entry points, which return what their backward
would save: ``native_batch_norm`` (output, batch mean, inverse std), ``native_layer_norm``
(output, mean, reciprocal std), ``native_group_norm`` (output, mean and reciprocal std per
sample and group), ``native_dropout`` (output, boolean keep mask), and the pieces of a
synchronized batch norm: ``batch_norm_stats``, ``batch_norm_elemt``,
``batch_norm_update_stats``.

Composites over the functional norms (so the output's gradient is theirs, from the tape); the
saved statistics are computed beside them off the tape, as torch's do not require grad."""
from __future__ import annotations

import numbers

import numpy as np

from . import random as _random
from .autograd import no_grad
from .tensor import Tensor
from .torch_functional_aliases import F as _F

__all__ = ["native_batch_norm", "native_layer_norm", "native_group_norm", "native_dropout",
           "batch_norm_stats", "batch_norm_elemt", "batch_norm_update_stats"]


def _input(x, fn, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def _moments(x, axes, eps):
    """(mean, 1 / sqrt(biased variance + eps)) over ``axes``, kept as size-1 dims, off the
    tape in the input's dtype."""
    with no_grad():
        d = x.detach()
        mean = d.mean(axis=axes, keepdims=True)
        var = ((d - mean) ** 2).mean(axis=axes, keepdims=True)
        return mean, (var + eps).rsqrt()


def _channel_axes(x, fn):
    if x.ndim < 2:
        raise ValueError(f"{fn}(): expected an input of at least 2 dims (N, C, ...), got "
                         f"{x.ndim}-D")
    return (0,) + tuple(range(2, x.ndim))


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """``F.batch_norm`` (running statistics updated in training, as there), with the batch mean
    and inverse std per channel; in evaluation those two are empty, as torch's."""
    x = _input(input, "native_batch_norm")
    axes = _channel_axes(x, "native_batch_norm")
    out = _F.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        empty = Tensor._wrap(np.zeros(0, x.dtype))
        return out, empty, empty.clone()
    mean, invstd = _moments(x, axes, eps)
    return out, mean.reshape(-1), invstd.reshape(-1)


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """``F.layer_norm``, with the mean and reciprocal std over the normalized dims (kept as
    size-1 dims: shape ``input.shape[:-k] + (1,) * k``)."""
    x = _input(input, "native_layer_norm")
    out = _F.layer_norm(x, normalized_shape, weight, bias, eps)
    k = len(normalized_shape) if isinstance(normalized_shape, (list, tuple)) else 1
    mean, rstd = _moments(x, tuple(range(x.ndim - k, x.ndim)), eps)
    return out, mean, rstd


def _count(v, fn, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{fn}(): argument '{name}' must be int, not {type(v).__name__}")
    return int(v)


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """``F.group_norm(input, group, weight, bias, eps)``, with the mean and reciprocal std of
    each sample's groups (shape ``(N, group)``); ``N * C * HxW`` must be the input's size."""
    fn = "native_group_norm"
    x = _input(input, fn)
    N, C, HxW, group = (_count(v, fn, n) for v, n in ((N, "N"), (C, "C"), (HxW, "HxW"),
                                                      (group, "group")))
    if x.numel() != N * C * HxW:
        raise ValueError(f"Expected X.numel() == N * C * HxW to be true, but got false: "
                         f"{x.numel()} elements, N={N}, C={C}, HxW={HxW}")
    if group <= 0 or C % group:
        raise ValueError(f"Expected number of channels in input to be divisible by "
                         f"num_groups, but got input of shape {list(x.shape)} and "
                         f"num_groups={group}")
    out = _F.group_norm(x, group, weight, bias, eps)
    mean, rstd = _moments(x.reshape(N, group, -1), (2,), eps)
    return out, mean.reshape(N, group), rstd.reshape(N, group)


def native_dropout(input, p, train):
    """Inverted dropout with its keep mask, as ``torch.native_dropout``: with ``train`` true
    (or None), elements kept with probability ``1 - p`` and scaled by ``1 / (1 - p)`` (zero
    everywhere for p = 1); otherwise a copy of ``input`` and a mask of all True."""
    x = _input(input, "native_dropout")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if train is not None and not train:
        return x.clone(), Tensor._wrap(np.ones(x.shape, dtype=bool))
    mask = _random.keep_mask(x.shape, float(p))
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    # a select, as dropout's: a dropped element's gradient is exactly 0 (even for inf/NaN)
    return (x * scale).masked_fill(~mask, 0), Tensor._wrap(mask)


def batch_norm_stats(input, eps):
    """The per-channel mean and inverse std ``1 / sqrt(biased var + eps)`` of an (N, C, ...)
    input, off the tape (torch's is a CUDA kernel of synchronized batch norm)."""
    x = _input(input, "batch_norm_stats")
    mean, invstd = _moments(x, _channel_axes(x, "batch_norm_stats"), eps)
    return mean.reshape(-1), invstd.reshape(-1)


def batch_norm_elemt(input, weight, bias, mean, invstd, eps):
    """``(input - mean) * invstd * weight + bias`` per channel (dim 1), on the tape: the
    elementwise half of a batch norm whose statistics came from ``batch_norm_stats``. ``eps``
    is unused (it is already in ``invstd``), as in torch."""
    fn = "batch_norm_elemt"
    x = _input(input, fn)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    out = (x - _input(mean, fn, "mean").reshape(shape)) * _input(invstd, fn,
                                                                 "invstd").reshape(shape)
    if weight is not None:
        out = out * _input(weight, fn, "weight").reshape(shape)
    if bias is not None:
        out = out + _input(bias, fn, "bias").reshape(shape)
    return out


def batch_norm_update_stats(input, running_mean, running_var, momentum):
    """The per-channel batch mean and biased variance, as ``torch.batch_norm_update_stats``;
    given running statistics are updated in place (off the tape) with the mean and the
    *unbiased* variance, as a training batch norm does."""
    fn = "batch_norm_update_stats"
    x = _input(input, fn)
    axes = _channel_axes(x, fn)
    with no_grad():
        d = x.detach()
        mean = d.mean(axis=axes)
        var = ((d - mean.reshape((1, -1) + (1,) * (x.ndim - 2))) ** 2).mean(axis=axes)
        n = x.numel() // max(x.shape[1], 1)
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(mean, alpha=momentum)
        if running_var is not None:
            unbiased = var * (n / (n - 1)) if n > 1 else var * float("nan")
            running_var.mul_(1 - momentum).add_(unbiased, alpha=momentum)
    return mean, var
