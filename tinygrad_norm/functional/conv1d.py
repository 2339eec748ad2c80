"""conv1d and the 1-D pools: the 2-D composites run on a height of 1.

A (N, C, L) signal is a (N, C, 1, L) image and a (O, C/groups, k) kernel a (O, C/groups, 1, k)
one, so conv1d is conv2d with stride, padding and dilation (1, s), (0, p), (1, d): one im2col
and one matmul, nothing new to differentiate. The pools likewise take (1, k) windows; max_pool1d's
flat in-plane index ``h * L + l`` of the winner is then ``l``, PyTorch's 1-D index.
"""
from __future__ import annotations

import numbers

from .conv import _avg_pool2d, _check_float, _conv2d, _max_pool2d

__all__ = ["conv1d", "max_pool1d", "avg_pool1d"]


def _single(v, name, fn, minimum=1):
    """An int or a one-element sequence of one, checked (PyTorch's ``_single``)."""
    items = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    if len(items) != 1:
        raise ValueError(f"{fn}: {name} must be an int or a one-element sequence, got {v!r}")
    x = items[0]
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{fn}: {name} must be an int or a one-element sequence, got {v!r}")
    if x < minimum:
        raise ValueError(f"{fn}: {name} must be at least {minimum}, got {v!r}")
    return int(x)


def _signal(input, fn):
    _check_float(input, "input", fn)
    if input.ndim not in (2, 3):
        raise ValueError(f"{fn}: expected a 2-D (unbatched) or 3-D (batched) input, got shape "
                         f"{input.shape}")
    return input.unsqueeze(-2)  # (N, C, 1, L) or (C, 1, L)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation, as ``torch.nn.functional.conv1d``.

    input (N, C, L) or (C, L); weight (O, C/groups, k); bias (O,) or None; padding an int, a
    one-element sequence, ``"valid"`` or ``"same"`` (stride 1 only; odd extra padding goes
    right)."""
    fn = "conv1d"
    x = _signal(input, fn)
    _check_float(weight, "weight", fn)
    if weight.ndim != 3:
        raise ValueError(f"{fn}: weight must be 3-D (out_channels, in_channels/groups, kW), got "
                         f"shape {weight.shape}")
    if isinstance(groups, numbers.Integral) and not isinstance(groups, bool) and groups >= 1 \
            and input.shape[-2] != weight.shape[1] * groups:  # said in 1-D shapes, not 2-D ones
        raise ValueError(f"{fn}: given groups={groups}, weight of shape {weight.shape} expects an "
                         f"input with {weight.shape[1] * groups} channels, but the input of shape "
                         f"{input.shape} has {input.shape[-2]}")
    s = _single(stride, "stride", fn)
    d = _single(dilation, "dilation", fn)
    pad = padding if isinstance(padding, str) else (0, _single(padding, "padding", fn, minimum=0))
    out = _conv2d(x, weight.unsqueeze(2), bias, (1, s), pad, (1, d), groups, fn)
    return out.squeeze(-2)


def _pool_args(kernel_size, stride, padding, dilation, fn):
    k = _single(kernel_size, "kernel_size", fn)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _single(stride, "stride", fn)
    return k, s, _single(padding, "padding", fn, minimum=0), _single(dilation, "dilation", fn)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling, as ``torch.nn.functional.max_pool1d`` (padding counts as -inf; the
    gradient of a window goes to its first maximum; indices are positions along L)."""
    fn = "max_pool1d"
    x = _signal(input, fn)
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, fn)
    out = _max_pool2d(x, (1, k), (1, s), (0, p), (1, d), ceil_mode, return_indices, fn)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling, as ``torch.nn.functional.avg_pool1d`` (which has no
    ``divisor_override``)."""
    fn = "avg_pool1d"
    x = _signal(input, fn)
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1, fn)
    out = _avg_pool2d(x, (1, k), (1, s), (0, p), ceil_mode, count_include_pad, None, fn)
    return out.squeeze(-2)
