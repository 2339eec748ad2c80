"""max_pool3d and avg_pool3d, as composites.

max_pool3d finds each window's winner in NumPy, off the tape, by PyTorch's scan (depth, then
rows, then columns; a later value wins only if greater, or NaN), and gathers those elements: the
backward pass is one scatter-add. avg_pool3d sums depth windows (an ``Im2col`` of the
(N, C, D, H*W) input with a (kD, 1) kernel) and then the 2-D windows of the result (a second
``Im2col``), and divides by PyTorch's divisor. No derivative is written here.
"""
from __future__ import annotations

import numbers

import numpy as np

from .._argname import called
from .. import ops
from ..autograd import scope
from ..tensor import Tensor, apply, where
from ._checks import _flag
from .conv import _avg_divisor, _connect, _first_inside, _pool_windows
from .conv3d import _triple, _volume

__all__ = ["max_pool3d", "avg_pool3d"]


def _geometry(x, kernel_size, stride, padding, dilation, ceil_mode, fn):
    """Kernel, stride, dilation, per-axis (before, after) padding and output size of a pool on
    a 5-D ``x``; PyTorch's checks and words."""
    kernel = _triple(kernel_size, "kernel_size", fn)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _triple(stride, "stride", fn)
    pad = _triple(padding, "padding", fn, minimum=0)
    dilation = _triple(dilation, "dilation", fn)
    for p, k, d in zip(pad, kernel, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise ValueError(f"{called(fn)}pad should be at most half of effective kernel size, "
                             f"but got "
                             f"pad={p}, kernel_size={k} and dilation={d}")
    if any(p > k // 2 for p, k in zip(pad, kernel)):  # PyTorch's second test (dilated pools)
        raise ValueError(f"{called(fn)}pad should be smaller than or equal to half of kernel "
                         f"size, but "
                         f"got kT: {kernel[0]} kH: {kernel[1]} kW: {kernel[2]} padT: {pad[0]} "
                         f"padH: {pad[1]} padW: {pad[2]}")
    if fn == "avg_pool3d" and any(n < k for n, k in zip(x.shape[2:], kernel)):
        # PyTorch's avg_pool3d wants the kernel to fit the unpadded input, whatever the padding
        (t, h, w), (kt, kh, kw) = x.shape[2:], kernel
        raise ValueError(f"{called(fn)}input image (T: {t} H: {h} W: {w}) smaller than kernel size "
                         f"(kT: {kt} kH: {kh} kW: {kw})")
    out, pads = _pool_windows(x.shape[2:], kernel, stride, pad, dilation, ceil_mode)
    if min(out) < 1:
        c = x.shape[1]
        raise ValueError(f"{called(fn)}given input size: ({c}x{'x'.join(map(str, x.shape[2:]))}). "
                         f"Calculated output size: ({c}x{'x'.join(map(str, out))}). Output size "
                         f"is too small")
    return kernel, stride, dilation, pads, out


def _nonempty(input, fn):
    """(input as 5-D, whether it was unbatched); only the batch may be empty, as PyTorch."""
    x, unbatched = _volume(input, fn)
    if 0 in x.shape[1:]:
        raise ValueError(f"{fn}(): Expected input's non-batch dimensions to have positive length, "
                         f"but input has a shape of {list(input.shape)}")
    return x, unbatched


# ---- max_pool3d -----------------------------------------------------------------------------

def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-D max pooling, as ``torch.nn.functional.max_pool3d`` (padding counts as -inf).

    (N, C, D, H, W) or (C, D, H, W) input. ``return_indices`` gives each winner's flat
    ``d * H * W + h * W + w`` index in its channel (int64). A dilated window of padding alone is
    -inf and passes no gradient, as in PyTorch."""
    fn = "max_pool3d"
    ceil_mode = _flag(ceil_mode, "ceil_mode", fn)
    return_indices = _flag(return_indices, "return_indices", fn)
    x, unbatched = _nonempty(input, fn)
    kernel, stride, dilation, pads, size = _geometry(x, kernel_size, stride, padding, dilation,
                                                     ceil_mode, fn)
    n, c = x.shape[:2]
    volume = int(np.prod(x.shape[2:]))
    index = _window_argmax(x.data, kernel, stride, pads, dilation, size)  # (N, C, OD, OH, OW)
    inside = _windows_inside(x.shape[2:], kernel, stride, pads, dilation, size)
    with scope(fn, kernel_size=kernel, stride=stride, padding=pads, dilation=dilation):
        take = index if inside is None else np.where(inside, index, 0)  # never another channel
        flat = take.reshape(n * c, int(np.prod(size))) + (
            np.arange(n * c, dtype=np.intp) * volume)[:, None]
        # gathered straight into the output's shape, not reshaped after: a view of a temporary
        # refused an in-place op after it (MaxPool3d, ReLU(True))
        out = _connect(x).reshape(-1)[flat.reshape(((c,) if unbatched else (n, c)) + size)]
        if inside is not None:
            out = where(Tensor._wrap(np.broadcast_to(inside, out.shape)), out, -np.inf)
    if not return_indices:
        return out
    return out, Tensor(index[0] if unbatched else index)


def _window_argmax(a, kernel, stride, pads, dilation, size):
    """Flat in-channel index of each window's winner, PyTorch's scan order and rule."""
    if any(lo or hi for lo, hi in pads):
        a = np.pad(a, ((0, 0), (0, 0)) + pads, constant_values=-np.inf)
    n, c = a.shape[:2]
    # The windows kernel-offset-major, (kD*kH*kW, everything else), in one copy: the scan then
    # runs over long contiguous rows (as max_pool2d's, which says why).
    shape = tuple(kernel) + (n, c) + tuple(size)
    strides = tuple(s * d for s, d in zip(a.strides[2:], dilation)) + a.strides[:2] + tuple(
        s * st for s, st in zip(a.strides[2:], stride))
    rows = np.ascontiguousarray(np.lib.stride_tricks.as_strided(
        a, shape, strides, writeable=False)).reshape(int(np.prod(kernel)), -1 if n * c else 0)
    best = rows[0].copy()
    kind = np.uint8 if len(rows) <= 255 else np.intp
    arg = np.zeros(best.shape, kind)
    for k in range(1, len(rows)):
        v = rows[k]
        win = v > best
        win |= np.isnan(v)  # a NaN always takes over
        # maximum() is "v where win, else best" here (max_pool2d's comment says why); arg < k
        np.maximum(best, v, out=best)
        np.maximum(arg, np.multiply(win, kind(k), dtype=kind), out=arg)
    dims = [s - lo - hi for s, (lo, hi) in zip(a.shape[2:], pads)]  # the unpadded D, H, W
    step = (dims[1] * dims[2], dims[2], 1)  # flat-index units of one plane, row, column
    offset = _grid([np.arange(k, dtype=np.intp) * d * u
                    for k, d, u in zip(kernel, dilation, step)])
    origin = _grid([(np.arange(o, dtype=np.intp) * s - lo) * u
                    for o, s, (lo, _), u in zip(size, stride, pads, step)])
    m = int(np.prod(size))  # windows per channel (reshape cannot infer it from an empty batch)
    index = offset[arg].reshape(n * c, m)
    index += origin
    # A winner in the padding (every real element of the window is -inf, or there is none)
    # becomes PyTorch's: the window's first position inside the input on each axis.
    lost = np.isneginf(best).reshape(n * c, m)
    if lost.any():
        first = _grid([_first_inside(o, s, lo, d) * u for o, s, (lo, _), d, u in zip(
            size, stride, pads, dilation, step)])
        index = np.where(lost, first, index)
    return index.reshape((n, c) + tuple(size))


def _grid(axes):
    """The flat sum ``a[i] + b[j] + c[k]`` over the grid of three 1-D arrays."""
    a, b, c = axes
    return (a[:, None, None] + b[None, :, None] + c[None, None, :]).reshape(-1)


def _windows_inside(size, kernel, stride, pads, dilation, out_size):
    """(OD, OH, OW) bool: whether each window holds an input element; None when all do."""
    axes = []
    for n, k, s, (p, _), d, o in zip(size, kernel, stride, pads, dilation, out_size):
        first = _first_inside(o, s, p, d)
        axes.append((first < n) & (first <= np.arange(o, dtype=np.intp) * s - p + (k - 1) * d))
    if all(a.all() for a in axes):
        return None
    return axes[0][:, None, None] & axes[1][None, :, None] & axes[2][None, None, :]


# ---- avg_pool3d -----------------------------------------------------------------------------

def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-D average pooling, as ``torch.nn.functional.avg_pool3d``, divisors included: with
    ``count_include_pad`` the zero padding counts (but not ``ceil_mode``'s overhang)."""
    fn = "avg_pool3d"
    ceil_mode = _flag(ceil_mode, "ceil_mode", fn)
    count_include_pad = _flag(count_include_pad, "count_include_pad", fn)
    x, unbatched = _nonempty(input, fn)
    if divisor_override is not None and (isinstance(divisor_override, bool) or not isinstance(
            divisor_override, numbers.Integral) or divisor_override == 0):
        raise ValueError(f"{fn}: divisor_override must be a non-zero int, got {divisor_override!r}")
    kernel, stride, _, pads, size = _geometry(x, kernel_size, stride, padding, 1, ceil_mode, fn)
    if x.dtype == np.float16:  # summed and divided in float32, rounded once, as avg_pool2d
        out = avg_pool3d(input.astype(np.float32), kernel_size, stride, padding, ceil_mode,
                         count_include_pad, divisor_override)
        return out.astype(np.float16)
    n, c, d, h, w = x.shape
    od, oh, ow = size
    with scope(fn, kernel_size=kernel, stride=stride, padding=pads):
        x = _connect(x)
        deep = apply(ops.Im2col, x.reshape(n, c, d, h * w), kernel=(kernel[0], 1),
                     stride=(stride[0], 1), padding=(pads[0], (0, 0)), dilation=(1, 1))
        planes = deep.sum(axis=(2, 3)).reshape(n, c * od, h, w)  # depth sums, (N, C*OD, H, W)
        cols = apply(ops.Im2col, planes, kernel=kernel[1:], stride=stride[1:], padding=pads[1:],
                     dilation=(1, 1))
        total = cols.sum(axis=(2, 3)).reshape(n, c, od, oh, ow)
        if divisor_override is not None:
            out = total / float(divisor_override)
        else:
            div = _avg_divisor(x.shape[2:], kernel, stride, pads, size, count_include_pad)
            out = total / (div if isinstance(div, float) else div.astype(x.dtype))
        if unbatched:
            out = out.squeeze(0)
    return out
