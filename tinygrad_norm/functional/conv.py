"""Convolution and pooling as composites of the ``im2col`` primitive.

``conv2d`` is ``weight @ im2col(input)``: one copy of the input into its sliding windows and one
(batched) matrix product. Its backward is the product's two VJPs and ``col2im``, the adjoint of
``im2col`` -- no derivative is written here. ``avg_pool2d`` sums the same windows; ``max_pool2d``
finds each window's winner off the tape and gathers it, so its backward is one scatter-add.
"""
from __future__ import annotations

import functools

import numbers

import numpy as np

from .._argname import called
from .. import ops
from ..autograd import scope
from ..tensor import Tensor, apply, where
from ._checks import _flag

__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "unfold", "fold"]


def _pair(v, name, fn, minimum=1, single=True):
    """An int or a pair of ints, as PyTorch's ``_pair`` takes them, checked. A one-element
    sequence counts as its int where PyTorch's conv and pooling take it (``single``; unfold and
    fold refuse it, as PyTorch's do)."""
    items = v if isinstance(v, (tuple, list)) else (v, v)
    if single and len(items) == 1:
        items = (items[0], items[0])
    if len(items) != 2:
        raise ValueError(f"{fn}: {name} must be an int or a pair of ints, got {v!r}")
    out = []
    for x in items:
        if isinstance(x, bool) or not isinstance(x, numbers.Integral):
            raise TypeError(f"{fn}: {name} must be an int or a pair of ints, got {v!r}")
        if x < minimum:
            raise ValueError(f"{fn}: {name} must be at least {minimum}, got {v!r}")
        out.append(int(x))
    return tuple(out)


def _check_float(t, name, fn):
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}: {name} must be a Tensor, got {type(t).__name__}")
    if t.dtype.kind != "f":
        raise TypeError(f"{fn}: {name} must be floating point, got dtype {t.dtype}")


def _batched(input, fn):
    """(input as 4-D, whether it was unbatched 3-D)."""
    _check_float(input, "input", fn)
    if input.ndim == 4:
        return input, False
    if input.ndim == 3:
        return input.reshape((1,) + input.shape), True
    raise ValueError(f"{fn}: expected a 3-D (unbatched) or 4-D (batched) input, got shape "
                     f"{input.shape}")


def _im2col(x, kernel, stride, padding, dilation, value=0.0):
    return apply(ops.Im2col, x, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                 value=value)


# ---- convolution ----------------------------------------------------------------------------

def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``.

    input (N, C, H, W) or (C, H, W); weight (O, C/groups, kh, kw); bias (O,) or None; padding an
    int, a pair, ``"valid"`` or ``"same"`` (stride 1 only; odd extra padding goes right/bottom).

    *vs PyTorch at inf/NaN weights:* the input gradient is a correlation of the upstream
    gradient, padded (and spread by the stride) with zeros, with the flipped weight; a zero
    meeting an infinite weight there is NaN, so inputs an infinite tap never reaches (with
    ``stride``/``dilation``/``padding``) can get NaN where torch's gradient is finite. Inputs
    near 1e300 make sums of huge terms whose cancellation depends on the order (BLAS's here)."""
    return _conv2d(input, weight, bias, stride, padding, dilation, groups, "conv2d")


def _check_grouped(input, weight, bias, groups, channels, fn):
    """PyTorch's checks of a convolution's groups against the weight's out-channels and the
    input's ``channels``, then of ``bias`` (None: none), in its order and words; conv1d, conv2d
    and conv3d share them."""
    o, cg = weight.shape[:2]
    if o < groups or o % groups:  # before the channels, as PyTorch: else the input gets the blame
        raise ValueError(f"{fn}: given groups={groups}, expected weight to be "
                         f"{'at least' if o < groups else 'divisible by'} {groups} at dimension "
                         f"0, but got weight of shape {weight.shape}")
    if channels != cg * groups:
        raise ValueError(f"{fn}: given groups={groups}, weight of shape {weight.shape} expects an "
                         f"input with {cg * groups} channels, but the input of shape {input.shape} "
                         f"has {channels}")
    if bias is not None:
        _check_float(bias, "bias", fn)
        if bias.shape != (o,):
            raise ValueError(f"{fn}: bias must have shape ({o},), got {bias.shape}")
        if bias.dtype != weight.dtype:
            raise TypeError(f"{fn}: bias has dtype {bias.dtype} but weight has dtype {weight.dtype}")


def _conv2d(input, weight, bias, stride, padding, dilation, groups, fn, drop_height=False):
    """conv2d under the name ``fn`` (its errors and scope): conv1d runs here on a height of 1
    (``drop_height``: the result comes without that axis)."""
    x, unbatched = _batched(input, fn)
    _check_float(weight, "weight", fn)
    if weight.ndim != 4:
        raise ValueError(f"{fn}: weight must be 4-D (out_channels, in_channels/groups, kH, kW), "
                         f"got shape {weight.shape}")
    if x.dtype != weight.dtype:
        raise TypeError(f"{fn}: input has dtype {x.dtype} but weight has dtype {weight.dtype}")
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    stride = _pair(stride, "stride", fn)
    dilation = _pair(dilation, "dilation", fn)
    n, c, h, w = x.shape
    o, cg, kh, kw = weight.shape
    if kh < 1 or kw < 1:  # an empty window: every output would silently be the bias
        raise ValueError(f"{fn}: kernel size should be greater than zero, but weight has shape "
                         f"{weight.shape}")
    _check_grouped(input, weight, bias, groups, c, fn)
    pads = _conv_padding(padding, stride, dilation, (kh, kw), fn)
    oh = ops.window_out_size(h, kh, stride[0], sum(pads[0]), dilation[0])
    ow = ops.window_out_size(w, kw, stride[1], sum(pads[1]), dilation[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"{fn}: padded input of size ({h + sum(pads[0])} x {w + sum(pads[1])}) is "
                         f"smaller than the dilated kernel ({dilation[0] * (kh - 1) + 1} x "
                         f"{dilation[1] * (kw - 1) + 1})")
    spatial = 1 if drop_height else 2
    shape = ((n, o) + ((ow,) if drop_height else (oh, ow)))[1 if unbatched else 0:]
    with scope(fn, stride=stride, padding=pads, dilation=dilation, groups=groups):
        # Depthwise (MobileNet's, ConvNeXt's): kh*kw shifted multiply-adds, no window copy. One
        # output per channel only: with more, each group's product is a real GEMM again and the
        # window route measured faster (multiplier 2, (8, 32, 32, 32) 3x3: 6.5 ms against 10.3).
        if groups == c == o > 1:
            out = apply(ops.DepthwiseConv2d, x, weight.reshape(o, kh, kw), stride=stride,
                        padding=pads, dilation=dilation)
            return _finish(out, bias, shape, spatial)
        cols = _im2col(x, (kh, kw), stride, pads, dilation)  # (N, C, kh, kw, OH, OW)
        k = cg * kh * kw
        # The GEMM's (N, O, L) or (N, G, O/G, L) comes out in the layer's shape: a reshape on
        # the graph would make the output a view, refused by an in-place activation after it.
        if groups == 1:
            out = apply(ops.MatMulShaped, weight.reshape(o, k), cols.reshape(n, k, oh * ow),
                        shape=shape)
        else:
            out = apply(ops.MatMulShaped, weight.reshape(groups, o // groups, k),
                        cols.reshape(n, groups, k, oh * ow), shape=shape)
        return _finish(out, bias, shape, spatial)


def _finish(out, bias, shape, spatial):
    """A convolution's result in its final ``shape`` (unbatched again, conv1d's height axis
    gone), with its bias added over the ``spatial`` trailing axes. The result is a new array,
    never a view of a tensor on the graph: an in-place activation after the layer
    (``ReLU(inplace=True)``) would refuse that."""
    if out.shape != shape:
        out = out.reshape(shape)
        if bias is None:  # (depthwise only) a copy, as the bias add would make one
            return out.clone()
    if bias is not None:
        out = out + bias.reshape((bias.shape[0],) + (1,) * spatial)
    return out


def _conv_padding(padding, stride, dilation, kernel, fn):
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0), (0, 0))
        if padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{fn}: padding='same' is not supported for strided convolutions")
            pads = []
            for d, k in zip(dilation, kernel):
                total = d * (k - 1)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise ValueError(f"{fn}: invalid padding string {padding!r}, should be one of "
                         f"{{'valid', 'same'}}")
    ph, pw = _pair(padding, "padding", fn, minimum=0)
    return ((ph, ph), (pw, pw))


# ---- unfold / fold --------------------------------------------------------------------------

def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks, as ``torch.nn.functional.unfold``: (N, C, H, W) ->
    (N, C*kh*kw, L); an unbatched (C, H, W) gives (C*kh*kw, L)."""
    fn = "unfold"
    _check_float(input, "input", fn)
    if input.ndim == 3:  # unbatched, as torch: the batch of one added, then taken off
        out = unfold(input.reshape((1,) + input.shape), kernel_size, dilation, padding, stride)
        return out.reshape(out.shape[1:])
    if input.ndim != 4:
        raise ValueError(f"{fn}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape "
                         f"{input.shape}")
    kernel = _pair(kernel_size, "kernel_size", fn, single=False)
    dilation = _pair(dilation, "dilation", fn, single=False)
    stride = _pair(stride, "stride", fn, single=False)
    ph, pw = _pair(padding, "padding", fn, minimum=0, single=False)
    pads = ((ph, ph), (pw, pw))
    n, c, h, w = input.shape
    if 0 in (c, h, w):  # as torch (a batch of 0 is fine)
        raise ValueError(f"{fn}: expected a 3-D or 4-D (batch mode) input with possibly 0 batch "
                         f"size and other non-zero dimensions, got shape {input.shape}")
    oh = ops.window_out_size(h, kernel[0], stride[0], 2 * ph, dilation[0])
    ow = ops.window_out_size(w, kernel[1], stride[1], 2 * pw, dilation[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"{fn}: the kernel {kernel} (dilation {dilation}) does not fit the padded "
                         f"input ({h + 2 * ph} x {w + 2 * pw})")
    with scope("unfold", kernel_size=kernel, stride=stride, padding=pads, dilation=dilation):
        cols = _im2col(input, kernel, stride, pads, dilation)
        return cols.reshape(n, c * kernel[0] * kernel[1], oh * ow)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of ``unfold`` (overlapping values add up), as ``torch.nn.functional.fold``:
    (N, C*kh*kw, L) -> (N, C, H, W); an unbatched (C*kh*kw, L) gives (C, H, W)."""
    fn = "fold"
    _check_float(input, "input", fn)
    if input.ndim == 2:  # unbatched, as torch
        out = fold(input.reshape((1,) + input.shape), output_size, kernel_size, dilation,
                   padding, stride)
        return out.reshape(out.shape[1:])
    if input.ndim != 3:
        raise ValueError(f"{fn}: expected a 2-D (C*kh*kw, L) or 3-D (N, C*kh*kw, L) input, got "
                         f"shape {input.shape}")
    h, w = _pair(output_size, "output_size", fn, single=False)
    kernel = _pair(kernel_size, "kernel_size", fn, single=False)
    dilation = _pair(dilation, "dilation", fn, single=False)
    stride = _pair(stride, "stride", fn, single=False)
    ph, pw = _pair(padding, "padding", fn, minimum=0, single=False)
    n, ck, length = input.shape
    if ck == 0 or length == 0:  # as torch (a batch of 0 is fine)
        raise ValueError(f"{fn}: expected a 2-D or 3-D (batch mode) input with possibly 0 batch "
                         f"size and other non-zero dimensions, got shape {input.shape}")
    kk = kernel[0] * kernel[1]
    if ck % kk:
        raise ValueError(f"{fn}: expected size of input's dimension 1 ({ck}) to be divisible by "
                         f"the product of kernel_size ({kk})")
    oh = ops.window_out_size(h, kernel[0], stride[0], 2 * ph, dilation[0])
    ow = ops.window_out_size(w, kernel[1], stride[1], 2 * pw, dilation[1])
    if oh < 1 or ow < 1 or oh * ow != length:
        raise ValueError(f"{fn}: given output_size=({h}, {w}), kernel_size={kernel}, "
                         f"dilation={dilation}, padding={(ph, pw)}, stride={stride}, expected "
                         f"size of input's dimension 2 to be {max(oh, 0) * max(ow, 0)}, got {length}")
    c = ck // kk
    pads = ((ph, ph), (pw, pw))
    with scope("fold", kernel_size=kernel, stride=stride, padding=pads, dilation=dilation):
        cols = input.reshape(n, c, kernel[0], kernel[1], oh, ow)
        return apply(ops.Col2im, cols, shape=(n, c, h, w), kernel=kernel, stride=stride,
                     padding=pads, dilation=dilation)


# ---- pooling --------------------------------------------------------------------------------

def _pool_geometry(x, kernel_size, stride, padding, dilation, ceil_mode, fn):
    """Kernel, stride, dilation, per-axis (before, after) padding and output size of a pool."""
    kernel = _pair(kernel_size, "kernel_size", fn)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _pair(stride, "stride", fn)
    pad = _pair(padding, "padding", fn, minimum=0)
    dilation = _pair(dilation, "dilation", fn)
    for p, k, d in zip(pad, kernel, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise ValueError(f"{called(fn)}pad should be at most half of effective kernel size, "
                             f"but got "
                             f"pad={p}, kernel_size={k} and dilation={d}")
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:  # PyTorch's second test (dilated pools)
        raise ValueError(f"{called(fn)}pad should be smaller than or equal to half of kernel "
                         f"size, but "
                         f"got padW = {pad[1]}, padH = {pad[0]}, kW = {kernel[1]}, kH = {kernel[0]}")
    out, pads = _pool_windows(x.shape[2:], kernel, stride, pad, dilation, ceil_mode)
    if min(out) < 1:
        raise ValueError(f"{called(fn)}given input of spatial size {tuple(x.shape[2:])}, the "
                         f"calculated output size is too small ({next(o for o in out if o < 1)})")
    return kernel, stride, dilation, pads, out


def _pool_windows(sizes, kernel, stride, pad, dilation, ceil_mode):
    """A pool's output size per axis and its (before, after) padding, PyTorch's rule of any
    rank: with ``ceil_mode`` the last window may hang over the end (padded after, not before)
    but must start inside the input or the left padding."""
    out, pads = [], []
    for size, k, s, p, d in zip(sizes, kernel, stride, pad, dilation):
        span = d * (k - 1) + 1
        o = (size + 2 * p - span + ((s - 1) if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= size + p:
            o -= 1
        out.append(o)
        pads.append((p, p + max(0, (o - 1) * s + span - (size + 2 * p))))
    return tuple(out), tuple(pads)


def _connect(x):
    """A pool is one primitive in PyTorch, whose second derivative with respect to the input is
    zeros; this composite of gathers and sums would have none (``ops.Connect``)."""
    return apply(ops.Connect, x) if x.requires_grad else x


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling, as ``torch.nn.functional.max_pool2d`` (padding counts as -inf).

    The winners are found in NumPy, off the tape, exactly as PyTorch scans a window (row-major; a
    later value wins only if it is greater, or NaN). The output is then one gather of those input
    elements, so the gradient of each window goes to its winner alone, and the backward pass is
    one scatter-add of the output's size. ``return_indices`` gives the winner's flat ``h * W + w``
    index in its input plane. A dilated window can hold padding alone: its output is -inf and it
    passes no gradient, as in PyTorch (whose index for it, kept here, lies outside the plane)."""
    fn = "max_pool2d"
    ceil_mode = _flag(ceil_mode, "ceil_mode", fn)
    return_indices = _flag(return_indices, "return_indices", fn)
    return _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                       fn)


def _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, fn,
                drop_h=False):
    """max_pool2d under the name ``fn`` (its errors and scope); ``drop_h``: the output without
    its height axis of 1 (max_pool1d's, gathered in that shape rather than squeezed after)."""
    x, unbatched = _batched(input, fn)
    kernel, stride, dilation, pads, (oh, ow) = _pool_geometry(
        x, kernel_size, stride, padding, dilation, ceil_mode, fn)
    n, c, h, w = x.shape
    plane = _window_argmax(x.data, kernel, stride, pads, dilation, (oh, ow))  # (n, c, oh, ow)
    inside = _windows_inside(x.shape[2:], kernel, stride, pads, dilation, (oh, ow))
    with scope(fn, kernel_size=kernel, stride=stride, padding=pads, dilation=dilation):
        x = _connect(x)
        # A 1-D index into the flattened input: the backward scatter-add takes NumPy's fast path.
        take = plane if inside is None else np.where(inside, plane, 0)  # never another plane
        flat = take.reshape(n * c, oh * ow) + (np.arange(n * c, dtype=np.intp) * (h * w))[:, None]
        # gathered straight into the output's shape: a reshape after the gather made the output
        # a view of a temporary, which an in-place op then refused (MaxPool2d, ReLU(True))
        shape = (n, c) + ((ow,) if drop_h else (oh, ow))
        out = x.reshape(-1)[flat.reshape(shape[1:] if unbatched else shape)]
        if inside is not None:  # a window of padding alone is -inf, as in PyTorch, with no gradient
            out = where(Tensor._wrap(np.broadcast_to(inside, out.shape)), out, -np.inf)
    if not return_indices:
        return out
    return out, Tensor(plane[0] if unbatched else plane)


def _window_argmax(a, kernel, stride, pads, dilation, out_size):
    """Flat in-plane index (h * W + w) of each window's winner, PyTorch's scan order and rule."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_size
    (pt, pb), (pl, pr) = pads
    if pt or pb or pl or pr:
        a = np.pad(a, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=-np.inf)
    n, c, h, w = a.shape
    s0, s1, s2, s3 = a.strides
    # The windows kernel-offset-major, (kh*kw, everything else), in one copy: the scan below then
    # runs over long contiguous rows (NumPy reductions over small window axes, or ops on strided
    # output-shaped views, would run one tiny inner loop per window row instead).
    rows = np.ascontiguousarray(np.lib.stride_tricks.as_strided(
        a, (kh, kw, n, c, oh, ow), (s2 * dh, s3 * dw, s0, s1, s2 * sh, s3 * sw),
        writeable=False)).reshape(kh * kw, -1)
    best = rows[0].copy()
    kind = np.uint8 if kh * kw <= 255 else np.intp
    arg = np.zeros(best.shape, kind)
    for k in range(1, kh * kw):
        v = rows[k]
        win = v > best
        win |= np.isnan(v)  # as PyTorch's scan: a NaN always takes over
        # Branch-free updates (copyto(where=win) mispredicts on every other element: 12x slower
        # on a 2x2 pool). maximum() is exactly "v where win, else best" here: a NaN in either
        # stays NaN, ties keep the value (only the sign of a zero may change, which no later
        # comparison sees); arg < k, so maximum(arg, win * k) sets k exactly where win.
        np.maximum(best, v, out=best)
        np.maximum(arg, np.multiply(win, kind(k), dtype=kind), out=arg)
    # In-plane index = window origin + the winner's offset in the window (both in input units).
    width = w - pl - pr
    offset = ((np.arange(kh, dtype=np.intp) * (dh * width))[:, None]
              + np.arange(kw, dtype=np.intp) * dw).reshape(-1)
    origin = ((np.arange(oh, dtype=np.intp) * sh - pt)[:, None] * width
              + (np.arange(ow, dtype=np.intp) * sw - pl)).reshape(-1)
    index = offset[arg].reshape(n * c, oh * ow)
    index += origin
    # A winner in the padding (every real element of the window is -inf, or there is none)
    # becomes PyTorch's: the window's first position inside the input on each axis. For a window
    # of padding alone that index lies outside the input too; max_pool2d then gives -inf.
    lost = np.isneginf(best).reshape(n * c, oh * ow)
    if lost.any():
        first = ((_first_inside(oh, sh, pt, dh)[:, None] * width
                  + _first_inside(ow, sw, pl, dw)).reshape(-1))
        index = np.where(lost, first, index)
    return index.reshape(n, c, oh, ow)


def _first_inside(count, stride, pad, dilation):
    """Per window along one axis, its first position at or after 0 (PyTorch's scan start)."""
    start = np.arange(count, dtype=np.intp) * stride - pad
    return np.where(start < 0, start + (-start + dilation - 1) // dilation * dilation, start)


def _windows_inside(size, kernel, stride, pads, dilation, out_size):
    """(oh, ow) bool: whether each window holds at least one input element, or None when all do
    (any pool with padding at most half its kernel, undilated)."""
    axes = []
    for n, k, s, (p, _), d, o in zip(size, kernel, stride, pads, dilation, out_size):
        first = _first_inside(o, s, p, d)
        ok = (first < n) & (first <= np.arange(o, dtype=np.intp) * s - p + (k - 1) * d)
        axes.append(ok)
    if axes[0].all() and axes[1].all():
        return None
    return axes[0][:, None] & axes[1][None, :]


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling, as ``torch.nn.functional.avg_pool2d``, divisors included: with
    ``count_include_pad`` the zero padding counts (but not ``ceil_mode``'s overhang)."""
    fn = "avg_pool2d"
    ceil_mode = _flag(ceil_mode, "ceil_mode", fn)
    count_include_pad = _flag(count_include_pad, "count_include_pad", fn)
    return _avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override, fn)


def _avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override, fn):
    """avg_pool2d under the name ``fn`` (its errors and scope)."""
    x, unbatched = _batched(input, fn)
    if divisor_override is not None and (isinstance(divisor_override, bool) or not isinstance(
            divisor_override, numbers.Integral) or divisor_override == 0):
        raise ValueError(f"{fn}: divisor_override must be a non-zero int, got {divisor_override!r}")
    kernel, stride, _, pads, (oh, ow) = _pool_geometry(
        x, kernel_size, stride, padding, 1, ceil_mode, fn)
    h, w = x.shape[2:]
    if x.dtype == np.float16:
        # the window sum in float32, divided, then rounded once, as PyTorch's kernel (rounded
        # after the sum and again after the division, a quarter of the outputs were 1 ulp off)
        out = _avg_pool2d(x.astype(np.float32), kernel_size, stride, padding, ceil_mode,
                          count_include_pad, divisor_override, fn).astype(np.float16)
        return out.reshape(out.shape[1:]) if unbatched else out
    with scope(fn, kernel_size=kernel, stride=stride, padding=pads):
        x = _connect(x)
        cols = _im2col(x, kernel, stride, pads, (1, 1))  # (N, C, kh, kw, OH, OW)
        total = cols.sum(axis=(2, 3))
        if divisor_override is not None:
            out = total / float(divisor_override)
        else:
            div = _avg_divisor((h, w), kernel, stride, pads, (oh, ow), count_include_pad)
            out = total / (div if isinstance(div, float) else div.astype(x.dtype))
        if unbatched:
            out = out.reshape(out.shape[1:])
    return out


def _avg_divisor(size, kernel, stride, pads, out, count_include_pad):
    """PyTorch's divisor per output position: the window clipped to the padded input (with
    ``count_include_pad``) or to the input itself. A Python float where it is the same for all."""
    per_axis = []
    for n, k, s, (p, _), o in zip(size, kernel, stride, pads, out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        per_axis.append(end - start)
    div = functools.reduce(np.multiply, np.ix_(*per_axis))  # their outer product, any rank
    if (div == div.flat[0]).all():
        return float(div.flat[0])
    return div
