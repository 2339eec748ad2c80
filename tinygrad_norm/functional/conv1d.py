"""conv1d and the 1-D pools: the 2-D composites run on a height of 1.

A (N, C, L) signal is a (N, C, 1, L) image and a (O, C/groups, k) kernel a (O, C/groups, 1, k)
one, so conv1d is conv2d with stride, padding and dilation (1, s), (0, p), (1, d): one im2col
and one matmul, nothing new to differentiate. The pools likewise take (1, k) windows; max_pool1d's
flat in-plane index ``h * L + l`` of the winner is then ``l``, PyTorch's 1-D index.
"""
from __future__ import annotations

import numbers

from .._argname import called
from ._checks import _flag
from .conv import _avg_pool2d, _check_float, _check_grouped, _conv2d, _max_pool2d

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
    _check_groups(groups, fn)
    s = _single(stride, "stride", fn)
    d = _single(dilation, "dilation", fn)
    pad = padding if isinstance(padding, str) else (0, _single(padding, "padding", fn, minimum=0))
    # Everything conv2d would refuse is refused here first, in the shapes the caller passed
    # (conv2d's errors would show the (N, C, 1, L) and (O, C/groups, 1, k) it is given).
    k = weight.shape[2]
    _check_kernel(weight, fn)
    _check_grouped(input, weight, None, groups, input.shape[-2], fn)  # bias: conv2d checks it
    span = d * (k - 1) + 1
    if isinstance(pad, str):  # conv2d refuses a string other than these, and 'same' with a stride
        padded = input.shape[-1] + (span - 1 if pad == "same" else 0)
    else:
        padded = input.shape[-1] + 2 * pad[1]
    if padded < span and (not isinstance(pad, str) or pad in ("valid", "same")):
        raise ValueError(f"{fn}: calculated padded input size per channel: ({padded}). Kernel "
                         f"size: ({span}). Kernel size can't be greater than actual input size")
    return _conv2d(x, weight.unsqueeze(2), bias, (1, s), pad, (1, d), groups, fn, True)


def _check_groups(groups, fn):
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")


def _check_kernel(weight, fn):
    if 0 in weight.shape[2:]:  # an empty window: every output would silently be the bias
        raise ValueError(f"{fn}: kernel size should be greater than zero, but weight has shape "
                         f"{weight.shape}")


def _pool_args(kernel_size, stride, padding, dilation, fn):
    k = _single(kernel_size, "kernel_size", fn)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _single(stride, "stride", fn)
    return k, s, _single(padding, "padding", fn, minimum=0), _single(dilation, "dilation", fn)


def _check_pool(length, k, s, p, d, ceil_mode, fn):
    """The 2-D pools' checks in 1-D terms, made first (theirs would name a height of 1)."""
    if fn == "max_pool1d" and p > k // 2:  # the kernel, not the span (avg_pool2d's words fit)
        raise ValueError(f"{called(fn)}padding should be at most half of kernel size, but got "
                         f"padding={p} and kernel_size={k}")
    span = d * (k - 1) + 1
    o = (length + 2 * p - span + ((s - 1) if ceil_mode else 0)) // s + 1
    if ceil_mode and (o - 1) * s >= length + p:
        o -= 1  # as _pool_geometry: the last window starts inside the input or the left padding
    if o < 1:
        raise ValueError(f"{called(fn)}given input of size {length} along L, the calculated output "
                         f"size is too small ({o})")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling, as ``torch.nn.functional.max_pool1d`` (padding counts as -inf; the
    gradient of a window goes to its first maximum; indices are positions along L)."""
    fn = "max_pool1d"
    ceil_mode = _flag(ceil_mode, "ceil_mode", fn)
    return_indices = _flag(return_indices, "return_indices", fn)
    x = _signal(input, fn)
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, fn)
    _check_pool(input.shape[-1], k, s, p, d, ceil_mode, fn)
    out = _max_pool2d(x, (1, k), (1, s), (0, p), (1, d), ceil_mode, return_indices, fn,
                      drop_h=True)  # not a squeezed view: MaxPool1d then ReLU(True) works
    if return_indices:
        return out[0], out[1].squeeze(-2)
    return out


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling, as ``torch.nn.functional.avg_pool1d`` (which has no
    ``divisor_override``)."""
    fn = "avg_pool1d"
    ceil_mode = _flag(ceil_mode, "ceil_mode", fn)
    count_include_pad = _flag(count_include_pad, "count_include_pad", fn)
    x = _signal(input, fn)
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1, fn)
    _check_pool(input.shape[-1], k, s, p, 1, ceil_mode, fn)
    out = _avg_pool2d(x, (1, k), (1, s), (0, p), ceil_mode, count_include_pad, None, fn)
    return out.squeeze(-2)
