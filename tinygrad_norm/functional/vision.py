"""Padding and adaptive pooling, as ``torch.nn.functional.pad`` and ``adaptive_avg_pool2d``:
composites of slicing, the ``pad`` primitive and means."""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd import scope
from ..tensor import Tensor, stack

__all__ = ["pad", "adaptive_avg_pool2d"]

_OTHER_MODES = ("reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative sizes, crop) the trailing axes, PyTorch's way: ``pad`` lists
    ``(left, right)`` of the last axis first, then of the one before, and so on (``Tensor.pad``
    takes NumPy's order instead). Constant padding with ``value`` (None: 0)."""
    fn = "pad"
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): input must be a Tensor, got {type(input).__name__}")
    if mode != "constant":
        if mode in _OTHER_MODES:
            raise NotImplementedError(f"{fn}(): mode {mode!r} is not implemented; only "
                                      f"'constant'")
        raise ValueError(f"{fn}(): mode must be 'constant' (or PyTorch's {_OTHER_MODES}), got "
                         f"{mode!r}")
    if isinstance(pad, (str, bytes)) or not hasattr(pad, "__len__") or any(
            isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Integral) for p in pad):
        raise TypeError(f"{fn}(): pad must be a sequence of ints, got {pad!r}")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"{fn}(): pad must have an even length of at most twice the {input.ndim} "
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
        rows = []
        for i in range(oh):
            h0, h1 = (i * H) // oh, math.ceil((i + 1) * H / oh)
            cells = [input[..., h0:h1, (j * W) // ow:math.ceil((j + 1) * W / ow)].mean(
                axis=(-2, -1)) for j in range(ow)]
            rows.append(stack(cells, axis=-1))
        return stack(rows, axis=-2)
