"""conv3d and conv_transpose3d, as composites of the 2-D ``Im2col`` / ``Col2im`` primitives.

A 3-D window is a depth window of 2-D windows. The depth windows come from one ``Im2col`` of the
(N, C, D, H*W) input with a (kD, 1) kernel: each depth row of the view is a whole H*W plane. The
planes of every output depth then go through the ordinary 2-D ``Im2col`` as a batch of N*OD
images of C*kD channels, and one (batched) matmul with the weight finishes the job. The backward
pass is the matmul's VJPs and two ``Col2im``; conv_transpose3d runs the same chain in reverse
(matmul, 2-D ``Col2im``, depth ``Col2im``), so its backward is conv3d's forward. No derivative
is written here. (Measured at (4, 8, 16, 32, 32) with a 3x3x3 kernel and 16 output channels,
forward and backward, against kD conv2d calls on depth slices, summed: the same time within the
noise, float32 and float64; this builds one matmul over the whole window and 4 tape nodes fewer
per kernel plane. Laying the windows out kernel-major for a matmul batched over N alone was 25%
slower: that costs a transpose of the whole window array.)
"""
from __future__ import annotations

import numbers

from .. import ops
from ..autograd import scope
from ..tensor import apply
from .conv import _check_float, _check_grouped
from .conv1d import _check_groups, _check_kernel
from .conv_transpose import _check

__all__ = ["conv3d", "conv_transpose3d"]


def _triple(v, name, fn, minimum=1):
    """An int, or a sequence of one or three ints (one stands for all, as PyTorch's)."""
    items = tuple(v) if isinstance(v, (tuple, list)) else (v,) * 3
    if len(items) == 1:
        items = items * 3
    if len(items) != 3:
        raise ValueError(f"{fn}: {name} must be an int or a tuple of three ints, got {v!r}")
    for x in items:
        if isinstance(x, bool) or not isinstance(x, numbers.Integral):
            raise TypeError(f"{fn}: {name} must be an int or a tuple of three ints, got {v!r}")
        if x < minimum:
            raise ValueError(f"{fn}: {name} must be at least {minimum}, got {v!r}")
    return tuple(int(x) for x in items)


def _im2col(x, kernel, stride, padding, dilation):
    return apply(ops.Im2col, x, kernel=kernel, stride=stride, padding=padding, dilation=dilation)


def _col2im(cols, shape, kernel, stride, padding, dilation):
    return apply(ops.Col2im, cols, shape=shape, kernel=kernel, stride=stride, padding=padding,
                 dilation=dilation)


def _volume(input, fn):
    """(input as 5-D, whether it was unbatched 4-D)."""
    _check_float(input, "input", fn)
    if input.ndim == 5:
        return input, False
    if input.ndim == 4:
        return input.unsqueeze(0), True
    raise ValueError(f"{fn}: expected a 4-D (unbatched) or 5-D (batched) input, got shape "
                     f"{input.shape}")


# ---- conv3d ---------------------------------------------------------------------------------

def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation, as ``torch.nn.functional.conv3d``.

    input (N, C, D, H, W) or (C, D, H, W); weight (O, C/groups, kD, kH, kW); bias (O,) or None;
    padding an int, a triple, ``"valid"`` or ``"same"`` (stride 1 only; odd extra padding goes
    to the end of the axis)."""
    fn = "conv3d"
    x, unbatched = _volume(input, fn)
    _check_float(weight, "weight", fn)
    if weight.ndim != 5:
        raise ValueError(f"{fn}: weight must be 5-D (out_channels, in_channels/groups, kD, kH, "
                         f"kW), got shape {weight.shape}")
    if x.dtype != weight.dtype:
        raise TypeError(f"{fn}: input has dtype {x.dtype} but weight has dtype {weight.dtype}")
    _check_groups(groups, fn)
    stride = _triple(stride, "stride", fn)
    dilation = _triple(dilation, "dilation", fn)
    _check_kernel(weight, fn)
    o = weight.shape[0]
    kernel = weight.shape[2:]
    n, c = x.shape[:2]
    _check_grouped(input, weight, bias, groups, c, fn)
    pads = _padding(padding, stride, dilation, kernel, fn)
    padded = [s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads)]
    span = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    if any(p < s for p, s in zip(padded, span)):
        raise ValueError(f"{fn}: calculated padded input size per channel: "
                         f"({' x '.join(map(str, padded))}). Kernel size: "
                         f"({' x '.join(map(str, span))}). Kernel size can't be greater than "
                         f"actual input size")
    with scope(fn, stride=stride, padding=pads, dilation=dilation, groups=groups):
        out = _conv3d(x, weight, stride, pads, dilation, groups)
        if bias is not None:
            out = out + bias.reshape(o, 1, 1, 1)
        if unbatched:
            out = out.squeeze(0)
    return out


def _conv3d(x, weight, stride, pads, dilation, groups):
    n, c, d, h, w = x.shape
    o, cg, kd, kh, kw = weight.shape
    od, oh, ow = (ops.window_out_size(s, k, st, lo + hi, dl) for s, k, st, (lo, hi), dl in zip(
        (d, h, w), (kd, kh, kw), stride, pads, dilation))
    # depth windows: (N, C, kD, 1, OD, H*W); then output depth ahead of the channels, so that
    # each output depth's window stack is one (C*kD, H, W) image for the 2-D im2col
    deep = _im2col(x.reshape(n, c, d, h * w), (kd, 1), (stride[0], 1), (pads[0], (0, 0)),
                   (dilation[0], 1))
    planes = deep.transpose(0, 4, 1, 2, 3, 5).reshape(n * od, c * kd, h, w)
    cols = _im2col(planes, (kh, kw), stride[1:], pads[1:], dilation[1:])  # (N*OD, C*kD, kh, kw, ..)
    k = cg * kd * kh * kw
    if groups == 1:
        out = weight.reshape(o, k) @ cols.reshape(n, od, k, oh * ow)  # (N, OD, O, L)
    else:
        cols = cols.reshape(n, od, groups, k, oh * ow)
        out = weight.reshape(groups, o // groups, k) @ cols  # (N, OD, G, O/G, L)
    return out.reshape(n, od, o, oh * ow).transpose(0, 2, 1, 3).reshape(n, o, od, oh, ow)


def _padding(padding, stride, dilation, kernel, fn):
    """Per-axis (before, after) padding of a convolution: ints, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * 3
        if padding == "same":
            if stride != (1, 1, 1):
                raise ValueError(f"{fn}: padding='same' is not supported for strided convolutions")
            return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                         for d, k in zip(dilation, kernel))
        raise ValueError(f"{fn}: invalid padding string {padding!r}, should be one of "
                         f"{{'valid', 'same'}}")
    return tuple((p, p) for p in _triple(padding, "padding", fn, minimum=0))


# ---- conv_transpose3d -----------------------------------------------------------------------

def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-D transposed convolution, as ``torch.nn.functional.conv_transpose3d``.

    input (N, C_in, D, H, W) or (C_in, D, H, W); weight (C_in, C_out/groups, kD, kH, kW); bias
    (C_out,) or None. ``output_padding`` (smaller than stride or dilation) adds planes at the
    end of each axis."""
    fn = "conv_transpose3d"
    stride = _triple(stride, "stride", fn)
    padding = _triple(padding, "padding", fn, minimum=0)
    output_padding = _triple(output_padding, "output_padding", fn, minimum=0)
    dilation = _triple(dilation, "dilation", fn)
    size = _check(input, weight, bias, stride, padding, output_padding, groups, dilation, fn)
    x = input if input.ndim == 5 else input.unsqueeze(0)
    n, cin, d, h, w = x.shape
    cog, kd, kh, kw = weight.shape[1:]
    cout = cog * groups
    # As conv_transpose2d: the windows' span less ``padding`` at the start and
    # ``padding - output_padding`` at the end; where output_padding is larger, the planes beyond
    # every window are zeros, padded on after (kept out of Col2im, whose VJP would read them).
    pads = tuple((p, max(p - op, 0)) for p, op in zip(padding, output_padding))
    extra = tuple(max(op - p, 0) for p, op in zip(padding, output_padding))
    sd, sh, sw = (s - e for s, e in zip(size, extra))
    with scope(fn, stride=stride, padding=padding, output_padding=output_padding,
               dilation=dilation, groups=groups):
        planes = x.reshape(n, cin, d, h * w).transpose(0, 2, 1, 3)  # (N, D, C_in, H*W)
        k = cog * kd * kh * kw
        if groups == 1:  # (C_out*kD*kH*kW, C_in) @ (N, D, C_in, H*W)
            cols = weight.reshape(cin, k).transpose(1, 0) @ planes
        else:  # (G, C_out/G*kD*kH*kW, C_in/G) @ (N, D, G, C_in/G, H*W)
            wg = weight.reshape(groups, cin // groups, k).transpose(0, 2, 1)
            cols = wg @ planes.reshape(n, d, groups, cin // groups, h * w)
        cols = cols.reshape(n * d, cout * kd, kh, kw, h, w)
        flat = _col2im(cols, (n * d, cout * kd, sh, sw), (kh, kw), stride[1:], pads[1:],
                       dilation[1:])  # (N*D, C_out*kD, sH, sW)
        deep = flat.reshape(n, d, cout, kd, sh * sw).transpose(0, 2, 3, 1, 4)
        out = _col2im(deep.reshape(n, cout, kd, 1, d, sh * sw), (n, cout, sd, sh * sw),
                      (kd, 1), (stride[0], 1), (pads[0], (0, 0)), (dilation[0], 1))
        out = out.reshape(n, cout, sd, sh, sw)
        if extra != (0, 0, 0):
            out = out.pad(((0, 0), (0, 0)) + tuple((0, e) for e in extra))
        if bias is not None:
            out = out + bias.reshape(cout, 1, 1, 1)
        if input.ndim == 4:
            out = out.squeeze(0)
    return out
