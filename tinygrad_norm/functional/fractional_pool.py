"""fractional_max_pool2d and fractional_max_pool3d, as ``torch.nn.functional``'s (Graham, 2014,
"Fractional max-pooling"), as composites.

Each (sample, channel) plane has its own pseudo-random windows: along an axis of length ``n``
pooled by a window of ``k`` to ``out`` outputs, with a number ``u`` from ``_random_samples``,
window ``i < out - 1`` starts at ``trunc((i + u) * alpha) - trunc(u * alpha)``, ``alpha = (n - k)
/ (out - 1)``, and the last at ``n - k``: PyTorch's rule, computed as it does in the input's
dtype (so float32 windows match too). The samples are (N, C, 2) for 2-D -- ``[..., 0]`` for the
width, ``[..., 1]`` for the height -- and (N, C, 3) for 3-D in (time, height, width) order.

The winners are found in NumPy, off the tape, by PyTorch's row-major scan (the first maximum, the
last NaN, the window's first element when all is -inf); the output is one gather of them, so the
gradient goes to each window's winner (summed where windows share one) and the second derivative
with respect to the input is zeros, as PyTorch's (``conv._connect``)."""
from __future__ import annotations

import itertools
import numbers

import numpy as np

from ..autograd import scope
from ..random import generator
from ..tensor import Tensor
from ._checks import _flag
from .adaptive_pool import _check_input
from .conv import _connect

__all__ = ["fractional_max_pool2d", "fractional_max_pool3d"]

_AXES = {2: ("height", "width"), 3: ("time", "height", "width")}


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Fractional max pooling of a (N, C, H, W) or (C, H, W) input by a ``kernel_size`` window
    to ``output_size`` (or ``int(size * output_ratio)``); ``return_indices`` also gives each
    winner's flat ``h * W + w`` index in its plane (int64). Without ``_random_samples``, the
    samples are drawn from the framework's generator."""
    return _fractional(input, kernel_size, output_size, output_ratio, return_indices,
                       _random_samples, 2)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Fractional max pooling of a (N, C, T, H, W) or (C, T, H, W) input, as
    ``fractional_max_pool2d``; indices are flat ``t * H * W + h * W + w``."""
    return _fractional(input, kernel_size, output_size, output_ratio, return_indices,
                       _random_samples, 3)


def _ints(v, n, name, fn):
    """An int or a sequence of ``n`` ints (PyTorch's words when the count is wrong)."""
    items = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    if len(items) == 1:
        items = items * n
    if len(items) != n:
        what = "Ints" if n == 2 else "three Ints"
        raise ValueError(f"{fn}: {name} must either be a single Int or tuple of {what}")
    if any(isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral)
           for x in items):
        raise TypeError(f"{fn}(): {name} must hold ints, got {v!r}")
    return tuple(int(x) for x in items)


def _kernel(kernel_size, n, fn):
    k = _ints(kernel_size, n, "kernel_size", fn)
    if min(k) < 1:
        raise ValueError(f"kernel_size must be greater than 0, but got {kernel_size}")
    return k


def _output_size(output_size, n, fn):
    """The output sizes, checked (0 gives an empty output, as PyTorch)."""
    size = _ints(output_size, n, "output_size", fn)
    if min(size) < 0:
        raise ValueError(f"{fn}(): output_size must be non-negative, got {output_size!r}")
    return size


def _ratios(output_ratio, n, fn):
    items = tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) else (output_ratio,)
    if len(items) == 1:
        items = items * n
    if len(items) != n:
        raise ValueError(f"{fn} requires output_ratio to either be a single Int or tuple of "
                         f"Ints.")
    if any(isinstance(r, (bool, np.bool_)) or not isinstance(r, numbers.Real) for r in items):
        raise TypeError(f"{fn}(): output_ratio must hold real numbers, got {output_ratio!r}")
    return items


def _sizes(input, output_size, output_ratio, kernel, n, fn):
    """The output sizes (``output_size`` first, as PyTorch, else ``int(size * ratio)``), each
    checked to leave room for its window."""
    spatial = input.shape[-n:]
    if output_size is not None:
        out = _output_size(output_size, n, fn)
    else:
        out = tuple(int(s * r) for s, r in zip(spatial, _ratios(output_ratio, n, fn)))
        if min(out) < 0:
            raise ValueError(f"{fn}(): output_ratio must be non-negative, got {output_ratio!r}")
    # PyTorch's checks: 2-D lets the last window end at the input's end, 3-D does not (it
    # wants a spare element) and checks time, width, then height
    order, spare, where = ((0, 1), 0, fn) if n == 2 else ((0, 2, 1), 1, fn + "_out")
    for d in order:
        axis, o, k, s = _AXES[n][d], out[d], kernel[d], spatial[d]
        if o + k - 1 + spare > s:
            raise ValueError(f"{where}(): pool {axis} {k} too large relative to input {axis} "
                             f"{s}")
    return out


def _samples(samples, x, n, fn):
    """The (N, C, n) samples as an array of the input's dtype: drawn when None, else checked
    as PyTorch checks them (and finite: a NaN window start has no meaning)."""
    batch, channels = x.shape[:2]
    if samples is None:
        draw = x.dtype if x.dtype in (np.float32, np.float64) else np.float32
        return generator().random((batch, channels, n), dtype=draw).astype(x.dtype, copy=False)
    if not isinstance(samples, Tensor):
        raise TypeError(f"{fn}(): _random_samples must be a Tensor, got "
                        f"{type(samples).__name__}")
    if samples.requires_grad:
        raise ValueError(f"The function '{fn}' is not differentiable with respect to argument "
                         f"'_random_samples'. This input cannot have requires_grad True.")
    u = samples.data
    if u.dtype != x.dtype:
        raise TypeError(f"Expect _random_samples to have the same dtype as input (got "
                        f"{u.dtype} for an input of {x.dtype})")
    if u.ndim != 3:
        raise ValueError(f"Expect _random_samples to have 3 dimensions, got {u.ndim}")
    if u.shape[0] < batch:
        raise ValueError("Expect _random_samples.size(0) no less then input batch size.")
    if u.shape[1] != channels:
        raise ValueError("Expect _random_samples.size(1) equals to input channel size.")
    if u.shape[2] != n:
        raise ValueError(f"Expect _random_samples.size(2) equals to {n}; got {u.shape[2]}.")
    if not np.isfinite(u[:batch]).all():
        raise ValueError(f"{fn}(): _random_samples must be finite")
    return u[:batch]


def _starts(u, size, out, k):
    """(N, C, out) window starts along one axis from the (N, C) samples ``u``, in their dtype
    (PyTorch computes in the input's scalar type and truncates toward zero, as a C cast)."""
    starts = np.empty(u.shape + (out,), np.int64)
    if out > 1:
        dt = u.dtype.type
        alpha = dt(size - k) / dt(out - 1)
        i = np.arange(out - 1).astype(u.dtype)
        hi = np.trunc((i + u[..., None]) * alpha).astype(np.int64)
        starts[..., :-1] = hi - np.trunc(u * alpha).astype(np.int64)[..., None]
    if out > 0:
        starts[..., -1] = size - k
    return starts


def _winners(a, starts, kernel):
    """Flat in-plane index of each window's winner of the (N, C, *spatial) array ``a``, by
    PyTorch's scan: the window's elements in row-major order, each taking the lead if greater
    or NaN (so the first maximum wins, the last NaN, the first element when all are -inf).
    One pass per kernel offset over all windows at once: each pass is one flat ``np.take`` of
    N * C * windows values, no (windows x kernel) index array (argmax over a last axis of 4
    and the gathers for it took 5x PyTorch's forward and backward)."""
    N, C = a.shape[:2]
    spatial = a.shape[2:]
    out = tuple(s.shape[2] for s in starts)
    n = len(kernel)
    if not (N and C and all(out)):
        return np.zeros((N, C) + out, np.int64)
    strides = [int(np.prod(spatial[d + 1:], dtype=np.int64)) for d in range(n)]
    first = np.zeros((N, C) + (1,) * n, np.int64)  # each window's first element in its plane
    for d in range(n):
        shape = [N, C] + [1] * n
        shape[2 + d] = out[d]
        first = first + starts[d].reshape(shape) * strides[d]
    plane = int(np.prod(spatial, dtype=np.int64))
    at = first + (np.arange(N * C, dtype=np.int64) * plane).reshape((N, C) + (1,) * n)
    flat = a.reshape(-1)
    best = np.take(flat, at)
    lead = np.zeros(at.shape, np.int64)  # the winner's offset from the window's first element
    for offset in itertools.product(*(range(k) for k in kernel)):
        delta = sum(o * s for o, s in zip(offset, strides))
        if delta == 0:
            continue
        v = np.take(flat, at + delta)
        take = v > best
        take |= np.isnan(v)
        # Branch-free updates (a masked copyto mispredicts on every other window of a random
        # batch: 0.7 ms an offset at (8, 32, 16, 16) windows, 3x the rest). The running
        # maximum only feeds the comparisons, which see -0 and +0 alike, and np.maximum keeps a
        # NaN as the scan does (nothing is greater than it); the offset is an integer blend.
        np.maximum(best, v, out=best)
        blend = np.subtract(delta, lead)
        blend *= take
        lead += blend
    return first + lead


def _fractional(input, kernel_size, output_size, output_ratio, return_indices, samples, n):
    fn = f"fractional_max_pool{n}d"
    return_indices = _flag(return_indices, "return_indices", fn)
    if output_size is None and output_ratio is None:
        raise ValueError(f"{fn} requires specifying either an output_size or an output_ratio")
    _check_input(input, (n + 1, n + 2), fn)
    kernel = _kernel(kernel_size, n, fn)
    out = _sizes(input, output_size, output_ratio, kernel, n, fn)
    x = input if input.ndim == n + 2 else input.unsqueeze(0)
    u = _samples(samples, x, n, fn)
    spatial = x.shape[2:]
    # the sample of each axis: 2-D reads (width, height), 3-D (time, height, width)
    which = (1, 0) if n == 2 else (0, 1, 2)
    starts = [_starts(u[..., w], s, o, k) for w, s, o, k in zip(which, spatial, out, kernel)]
    # samples in [0, 1) always give windows inside the input; huge ones may not (rounding),
    # where PyTorch would read outside the plane
    if any(st.size and (st.min() < 0 or st.max() > s - k)
           for st, s, k in zip(starts, spatial, kernel)):
        raise ValueError(f"{fn}(): _random_samples give windows outside the input; draw them "
                         f"from [0, 1)")
    index = _winners(x.data, starts, kernel)
    with scope(fn, kernel_size=kernel, output_size=out):
        if index.size == 0:  # an empty slice keeps the output on the graph
            result = x[(Ellipsis,) + tuple(slice(0, o) for o in out)]
        else:
            N, C = x.shape[:2]
            lead = (np.arange(N).reshape((N,) + (1,) * (n + 1)),
                    np.arange(C).reshape((1, C) + (1,) * n))
            result = _connect(x)[lead + np.unravel_index(index, spatial)]
    if input.ndim == n + 1:
        result, index = result.squeeze(0), index[0]
    return (result, Tensor(index)) if return_indices else result
