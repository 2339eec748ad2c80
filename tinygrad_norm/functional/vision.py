"""Padding and adaptive pooling, as ``torch.nn.functional.pad`` and ``adaptive_avg_pool2d``:
composites of slicing, the ``pad`` primitive and means."""
from __future__ import annotations

import math
import numbers

import numpy as np

from .._argname import called
from ..autograd import scope
from ..tensor import Tensor, stack

__all__ = ["pad", "adaptive_avg_pool2d"]

_OTHER_MODES = ("reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative sizes, crop) the trailing axes, PyTorch's way: ``pad`` lists
    ``(left, right)`` of the last axis first, then of the one before, and so on (``Tensor.pad``
    takes NumPy's order instead). ``mode``: ``"constant"`` (with ``value``, None: 0) on any
    axes; ``"reflect"`` (mirror without repeating the edge; each size below the axis'),
    ``"replicate"`` (repeat the edge) and ``"circular"`` (wrap around, at most once) on the last
    1, 2 or 3 axes of an input with one or two more axes, as PyTorch. The other modes are one
    gather per padded axis, so the gradient is the gather's scatter-add."""
    fn = "pad"
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): input must be a Tensor, got {type(input).__name__}")
    if mode != "constant" and mode not in _OTHER_MODES:
        raise ValueError(f"{fn}(): mode must be 'constant' or one of {_OTHER_MODES}, got "
                         f"{mode!r}")
    if isinstance(pad, (str, bytes)) or not hasattr(pad, "__len__") or any(
            isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Integral) for p in pad):
        raise TypeError(f"{fn}(): pad must be a sequence of ints, got {pad!r}")
    if mode != "constant":
        return _pad_other(input, tuple(int(p) for p in pad), mode, value, fn)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"{called(fn, '(): ')}pad must have an even length of at most twice "
                         f"the {input.ndim} "
                         f"dimensions, got {len(pad)}")
    widths = [(0, 0)] * input.ndim
    for k in range(len(pad) // 2):
        widths[input.ndim - 1 - k] = (int(pad[2 * k]), int(pad[2 * k + 1]))
    for axis, (lo, hi) in enumerate(widths):
        if input.shape[axis] + lo + hi < 0 or min(lo, 0) + input.shape[axis] < 0 \
                or min(hi, 0) + input.shape[axis] < 0:
            raise ValueError(f"{fn}(): padding {(lo, hi)} would crop axis {axis} of size "
                             f"{input.shape[axis]} below nothing")
    with scope("pad", pad=tuple(pad), value=value):
        x = input
        if any(lo < 0 or hi < 0 for lo, hi in widths):  # a negative size crops
            x = x[tuple(slice(-min(lo, 0), x.shape[i] - (-min(hi, 0)))
                        for i, (lo, hi) in enumerate(widths))]
        grow = tuple((max(lo, 0), max(hi, 0)) for lo, hi in widths)
        if any(lo or hi for lo, hi in grow):
            x = x.pad(grow, value=0.0 if value is None else value)
        # a new array, as torch's: a crop or no padding at all would be a view of the input,
        # which an in-place write into the result would change
        return x.clone() if np.may_share_memory(x.data, input.data) else x


def _pad_other(input, pad, mode, value, fn):
    """Reflect, replicate or circular padding: PyTorch's checks, then one index array per
    padded axis. All three may crop with negative sizes too."""
    if value is not None and value != 0:
        raise ValueError(f'{fn}(): Padding mode "{mode}" doesn\'t take in value argument')
    if len(pad) % 2:
        raise ValueError(f"{fn}(): Padding length must be divisible by 2, got {len(pad)}")
    k = len(pad) // 2
    if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(f"{fn}(): Padding size {len(pad)} is not supported for "
                                  f"{input.ndim}D input tensor (mode {mode!r} pads the last 1, "
                                  f"2 or 3 dimensions of an input with 1 or 2 more)")
    # the dimensions other than a batch one must be non-empty, except for circular padding
    if mode != "circular" and 0 in input.shape[input.ndim - k - 1:]:
        raise ValueError(f"{fn}(): expected a {k + 1}D or {k + 2}D (batch mode) tensor with "
                         f"possibly 0 batch size and other non-zero dimensions for input, but "
                         f"got: {list(input.shape)}")
    index = []
    for i in range(k):
        axis = input.ndim - 1 - i
        n, lo, hi = input.shape[axis], pad[2 * i], pad[2 * i + 1]
        index.append((axis, _pad_index(n, lo, hi, mode, axis, input.shape, k, fn)))
    with scope("pad", pad=pad, mode=mode):
        x = input
        for axis, idx in index:
            x = x[(slice(None),) * axis + (idx,)]
        return x


def _pad_index(n, lo, hi, mode, axis, shape, k, fn):
    """The input positions that make up one padded axis (``lo`` before, ``hi`` after)."""
    if mode == "circular":  # crop first, then wrap around what is left (torch's order)
        kept = n + min(lo, 0) + min(hi, 0)
        if kept < 0:
            raise ValueError(f"{fn}(): Negative padding value is resulting in an empty dimension "
                             f"(padding {(lo, hi)} at dimension {axis} of input {list(shape)})")
        if max(lo, 0) > kept or max(hi, 0) > kept:
            raise ValueError(f"{fn}(): Padding value causes wrapping around more than once "
                             f"(padding {(lo, hi)} at dimension {axis} of input {list(shape)})")
        if kept == 0:
            return np.zeros(0, np.intp)
        return np.arange(-max(lo, 0), kept + max(hi, 0)) % kept - min(lo, 0)
    if mode == "reflect" and (lo >= n or hi >= n):
        raise ValueError(f"{fn}(): Padding size should be less than the corresponding input "
                         f"dimension, but got: padding {(lo, hi)} at dimension {axis} of input "
                         f"{list(shape)}")
    if n + lo + hi < (1 if k == 1 else 0):  # torch's 1-D kernels refuse an empty output
        raise ValueError(f"{fn}(): input (size {n} at dimension {axis}) is too small for padding "
                         f"{(lo, hi)}: calculated output size {n + lo + hi}")
    pos = np.arange(-lo, n + hi)  # output j reads input position j - lo, mapped into the input
    if mode == "replicate":
        return np.clip(pos, 0, n - 1)
    pos = np.abs(pos)  # reflect: mirror at 0, then at n - 1 (once each: every size is below n)
    return (n - 1) - np.abs((n - 1) - pos)


def _size(v, full, fn):
    if v is None:
        return full
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral) or v < 1:
        raise ValueError(f"{fn}(): output_size must hold positive ints (or None), got {v!r}")
    return int(v)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed ``output_size`` (an int, a pair, None keeping a size), as
    PyTorch: output cell ``i`` averages rows ``floor(i H / oh)`` to ``ceil((i + 1) H / oh)``.
    ``output_size=1`` is global average pooling. (N, C, H, W) or (C, H, W) input."""
    fn = "adaptive_avg_pool2d"
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        raise TypeError(f"{fn}(): input must be a floating-point Tensor")
    if input.ndim not in (3, 4):
        raise ValueError(f"{fn}(): expected a 3-D or 4-D input, got shape {input.shape}")
    H, W = input.shape[-2:]
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(sizes) != 2:
        raise ValueError(f"{fn}(): output_size must be an int or a pair, got {output_size!r}")
    oh, ow = sizes
    oh, ow = _size(oh, H, fn), _size(ow, W, fn)
    if input.size == 0 and (H == 0 or W == 0):
        raise ValueError(f"{fn}(): input of shape {input.shape} has no pixels to average")
    with scope(fn, output_size=(oh, ow)):
        lead = input.shape[:-2]
        if H % oh == 0 and W % ow == 0:  # equal windows: one reshape and one mean
            x = input.reshape(lead + (oh, H // oh, ow, W // ow))
            return x.mean(axis=(-3, -1))
        # unequal (overlapping) windows: the average is separable, rows then columns, each a
        # product with a small (out, in) matrix of window weights 1/len. One cell at a time was
        # 400-800x PyTorch (a slice, a mean and a stack per cell: 10,000 cells for 100 x 100)
        dt = input.dtype
        if dt == np.float16:  # summed in float32, as the float16 means here and PyTorch's are
            return adaptive_avg_pool2d(input.astype(np.float32), (oh, ow)).astype(dt)
        if not np.isfinite(input._data).all():
            # a weight of 0 times an inf or NaN is NaN: the products would spread it to every
            # cell of its row and column (torch: only the windows holding it)
            cols = _window_means(input, -1, W, ow)
            return _window_means(cols, -2, H, oh)
        cols = input @ Tensor(_window_weights(W, ow, dt).T)
        return Tensor(_window_weights(H, oh, dt)) @ cols


def _window_means(x, axis, n, out):
    """The mean of each adaptive window along ``axis`` (-1 or -2), one slice per window."""
    lead = (slice(None),) * (x.ndim + axis)
    return stack([x[lead + (slice(int(lo), int(hi)),)].mean(axis=axis)
                  for lo, hi in zip(*_windows(n, out))], axis=axis)


def _window_weights(n, out, dtype):
    """(out, n): row i is 1 / len over PyTorch's window ``floor(i n / out)`` to
    ``ceil((i + 1) n / out)`` and 0 elsewhere."""
    m = np.zeros((out, n), dtype)
    for i, (lo, hi) in enumerate(zip(*_windows(n, out))):
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


def _windows(n, out):
    """(start, stop) of each of the ``out`` adaptive-pooling windows over ``n`` elements,
    PyTorch's rule: ``floor(i n / out)`` to ``ceil((i + 1) n / out)``."""
    i = np.arange(out, dtype=np.intp)
    return (i * n) // out, -(-(i + 1) * n // out)
