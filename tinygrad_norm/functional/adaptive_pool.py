"""Adaptive max pooling, as ``torch.nn.functional.adaptive_max_pool1d`` and ``2d``.

Output cell ``i`` of an axis of length ``n`` pooled to ``out`` covers PyTorch's window
``floor(i n / out)`` to ``ceil((i + 1) n / out)`` (windows overlap where ``out`` does not divide
``n``). As ``max_pool2d``, the winners are found in NumPy, off the tape, by PyTorch's rule (a
later value wins if it is greater, or NaN), and the output is one gather of them: each window's
gradient goes to its winner alone, and overlapping windows that share one add up, as PyTorch's
backward scatters. Each window's elements are laid out in a row, in PyTorch's row-major scan
order, and ``np.argmax`` finds the first maximum of each row, as the scan does; NaN, where the
scan keeps a later NaN, is fixed up to the last one; a window of -inf keeps its first element,
index ``h * W + w`` as PyTorch's.
"""
from __future__ import annotations

import numbers

import numpy as np

from .._argname import called
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


def _table(n, out):
    """(out, L): the input positions of each of the ``out`` windows over ``n``, L the longest
    window's length; a shorter window repeats its last position, which never wins the scan (a
    repeat comes after the original) and maps back to it when it does (the last NaN)."""
    lo, hi = _windows(n, out)
    length = int((hi - lo).max())
    return np.minimum(lo[:, None] + np.arange(length), (hi - 1)[:, None])


def _argmax_2d(a, oh, ow):
    """Flat in-plane index ``h * W + w`` of each window's winner of an (N, C, H, W) array, by
    PyTorch's row-major scan: the first maximum, else the last NaN, else (all -inf) the first
    element. Each window's elements are laid out in a row (a transposing copy when the windows
    tile the plane, one ``np.take`` otherwise, nothing for one window) and ``np.argmax`` scans
    the rows: an element-by-element scan over the windows, in NumPy, took 5-12x PyTorch's whole
    forward and backward."""
    n, c, h, w = a.shape
    if not (n * c and oh and ow):
        return np.zeros((n, c, oh, ow), np.intp)
    rows, cols = _table(h, oh), _table(w, ow)
    lh, lw = rows.shape[1], cols.shape[1]
    # (oh * ow, lh * lw): window (i, j)'s positions in its scan order
    flat = (rows[:, None, :, None] * w + cols[None, :, None, :]).reshape(oh * ow, lh * lw)
    planes = a.reshape(n * c, h * w)
    if oh == ow == 1 and lh == h and lw == w:  # one window: the plane (global pooling; an
        # output bigger than the input has windows as long as the plane too, not one)
        win = planes.reshape(n * c, 1, h * w)
    elif h % oh == 0 and w % ow == 0:  # windows tile the plane: a transposing copy
        win = np.ascontiguousarray(planes.reshape(n * c, oh, lh, ow, lw).transpose(0, 1, 3, 2, 4))
        win = win.reshape(n * c, oh * ow, lh * lw)
    else:
        win = np.take(planes, flat.reshape(-1), axis=1).reshape(n * c, oh * ow, lh * lw)
    k = np.argmax(win, axis=-1)  # the first maximum; NaN counts as the maximum
    # the winners' values by one flat take (a pair of index arrays cost 10x that)
    won = np.take(win.reshape(-1), np.arange(0, win.size, lh * lw) + k.reshape(-1))
    nan = np.isnan(won).reshape(k.shape)
    if nan.any():  # NaN: the scan keeps taking a later NaN, so the last one wins
        k[nan] = lh * lw - 1 - np.argmax(np.isnan(win[nan][:, ::-1]), axis=-1)
    return flat[np.arange(oh * ow), k].reshape(n, c, oh, ow)


def _check_input(input, ranks, fn):
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        raise TypeError(f"{fn}(): input must be a floating-point Tensor, got "
                        f"{getattr(input, 'dtype', type(input).__name__)}")
    if input.ndim not in ranks:
        raise ValueError(f"{called(fn, '(): ')}Expected {ranks[0]}D or {ranks[1]}D tensor, but "
                         f"got: "
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
        # one gather by (n, c, h, w) coordinates: its backward is one scatter-add straight into
        # an array of the input's shape (from the flattened input, the gradient was a reshaped
        # view, which the leaf's .grad then copied: 25 MB at (32, 64, 56, 56))
        rows, cols = np.divmod(index, w)
        out = _connect(x)[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
                          rows, cols]
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
