"""Adaptive max pooling, as ``torch.nn.functional.adaptive_max_pool1d`` and ``2d``.

Output cell ``i`` of an axis of length ``n`` pooled to ``out`` covers PyTorch's window
``floor(i n / out)`` to ``ceil((i + 1) n / out)`` (windows overlap where ``out`` does not divide
``n``). As ``max_pool2d``, the winners are found in NumPy, off the tape, by PyTorch's rule (a
later value wins if it is greater, or NaN), and the output is one gather of them: each window's
gradient goes to its winner alone, and overlapping windows that share one add up, as PyTorch's
backward scatters. The max over a rectangle is separable: columns first, then rows, which keeps
PyTorch's row-major scan (its first maximum, its last NaN) and its index, ``h * W + w``, of the
window's first element when everything there is -inf.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd import scope
from ._checks import _flag
from ..tensor import Tensor
from .conv import _connect
from .vision import _windows

__all__ = ["adaptive_max_pool1d", "adaptive_max_pool2d"]


def _out_size(v, none_ok, fn):
    """One output size: a non-negative int (0 gives an empty output, as PyTorch), or None
    where ``none_ok`` (2-D: the input's own size)."""
    if v is None and none_ok:
        return None
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{fn}(): output_size must hold ints{' or None' if none_ok else ''}, "
                        f"got {v!r}")
    if v < 0:
        raise ValueError(f"{fn}(): output_size must be non-negative, got {v}")
    return int(v)


def _output_size(output_size, n, fn, shape=None):
    """The ``n`` output sizes: an int for all, or a sequence of ``n`` (in 2-D a None keeps the
    input's size, as PyTorch's; ``shape``, the input's spatial sizes, resolves it)."""
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * n
    if len(sizes) != n:
        raise ValueError(f"{fn}(): output_size should contain {'one int' if n == 1 else 'two'} "
                         f"(got {len(sizes)}): {output_size!r}")
    sizes = tuple(_out_size(v, n == 2, fn) for v in sizes)
    if shape is None:  # a layer's construction-time check
        return sizes
    return tuple(s if v is None else v for v, s in zip(sizes, shape))


def _scan_last(a, out):
    """(max, argmax) of each window along the last axis, by PyTorch's scan: a later element
    wins if greater, or NaN; from -inf with the window's first index."""
    n = a.shape[-1]
    lo, hi = _windows(n, out)
    best = np.full(a.shape[:-1] + (out,), -np.inf, a.dtype)
    arg = np.broadcast_to(lo, best.shape).copy()
    for k in range(int((hi - lo).max()) if out else 0):  # the longest window's length
        pos = lo + k
        v = a[..., np.minimum(pos, n - 1)]
        win = (pos < hi) & ((v > best) | np.isnan(v))
        best = np.where(win, v, best)
        arg = np.where(win, pos, arg)
    return best, arg


def _argmax_2d(a, oh, ow):
    """Flat in-plane index ``h * W + w`` of each window's winner of an (N, C, H, W) array."""
    W = a.shape[-1]
    rows, col = _scan_last(a, ow)  # (N, C, H, ow): each row's winner per column window
    _, row = _scan_last(np.swapaxes(rows, -1, -2), oh)  # (N, C, ow, oh)
    row = np.swapaxes(row, -1, -2)  # (N, C, oh, ow): the winning row of each window
    return row * W + np.take_along_axis(col, row, axis=-2)


def _check_input(input, ranks, fn):
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        raise TypeError(f"{fn}(): input must be a floating-point Tensor, got "
                        f"{getattr(input, 'dtype', type(input).__name__)}")
    if input.ndim not in ranks:
        raise ValueError(f"{fn}(): Expected {ranks[0]}D or {ranks[1]}D tensor, but got: "
                         f"{list(input.shape)}")
    for i in range(1, input.ndim):  # PyTorch's test: every dim but the first
        if input.shape[i] == 0:
            raise ValueError(f"{fn}(): Expected input to have non-zero size for non-batch "
                             f"dimensions, but input has sizes {list(input.shape)} with "
                             f"dimension {i} being empty")


def _pool(x, oh, ow, fn):
    """The pool of a 4-D (N, C, H, W) Tensor: output and int64 indices (N, C, oh, ow)."""
    n, c, h, w = x.shape
    index = _argmax_2d(x.data, oh, ow)
    with scope(fn, output_size=(oh, ow)):
        # one gather from the flattened input, as max_pool2d's: its backward is one scatter-add
        planes = (np.arange(n * c, dtype=np.intp) * (h * w))[:, None]
        flat = (index.reshape(n * c, oh * ow) + planes).reshape(-1)
        out = _connect(x).reshape(-1)[flat].reshape(n, c, oh, ow)
    return out, index


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling of a (N, C, H, W) or (C, H, W) input to ``output_size`` (an int, or a pair
    whose None keeps that size); ``return_indices`` also gives each winner's flat ``h * W + w``
    index in its plane (int64)."""
    fn = "adaptive_max_pool2d"
    return_indices = _flag(return_indices, "return_indices", fn)
    _check_input(input, (3, 4), fn)
    oh, ow = _output_size(output_size, 2, fn, input.shape[-2:])
    x = input if input.ndim == 4 else input.unsqueeze(0)
    out, index = _pool(x, oh, ow, fn)
    if input.ndim == 3:
        out, index = out.squeeze(0), index[0]
    return (out, Tensor(index)) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of a (N, C, L) or (C, L) input to ``output_size`` (an int or a one-element
    sequence) windows along L; ``return_indices`` gives each winner's position along L."""
    fn = "adaptive_max_pool1d"
    return_indices = _flag(return_indices, "return_indices", fn)
    _check_input(input, (2, 3), fn)
    (ol,) = _output_size(output_size, 1, fn)
    x = input.unsqueeze(-2)  # (N, C, 1, L) or (C, 1, L): a height of 1, as max_pool1d
    if x.ndim == 3:
        x = x.unsqueeze(0)
    out, index = _pool(x, 1, ol, fn)
    out, index = out.reshape(input.shape[:-1] + (ol,)), index.reshape(input.shape[:-1] + (ol,))
    return (out, Tensor(index)) if return_indices else out
