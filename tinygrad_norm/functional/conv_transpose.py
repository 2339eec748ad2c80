"""Transposed convolutions, as composites: the adjoint of conv2d with respect to its input.

conv2d reads windows (im2col) and multiplies by the weight; its transpose multiplies by the
transposed weight and adds the windows back (col2im, the fold). So conv_transpose2d is one
(batched) matmul and one ``Col2im``, whose VJP is ``Im2col``: the backward is a conv2d, as it
should be, and no derivative is written here. conv_transpose1d runs it on a height of 1.
"""
from __future__ import annotations

import numbers

from .. import ops
from ..autograd import scope
from ..tensor import apply
from .conv import _check_float, _pair
from .conv1d import _single

__all__ = ["conv_transpose1d", "conv_transpose2d"]


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d``.

    input (N, C_in, H, W) or (C_in, H, W); weight (C_in, C_out/groups, kH, kW); bias (C_out,)
    or None. Output size ``(H - 1) * stride - 2 * padding + dilation * (kH - 1) +
    output_padding + 1``; ``output_padding`` (smaller than stride or dilation) adds rows and
    columns at the bottom and right."""
    return _conv_transpose2d(input, weight, bias, _pair(stride, "stride", _FN2),
                             _pair(padding, "padding", _FN2, minimum=0),
                             _pair(output_padding, "output_padding", _FN2, minimum=0), groups,
                             _pair(dilation, "dilation", _FN2), _FN2)


_FN2 = "conv_transpose2d"


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution, as ``torch.nn.functional.conv_transpose1d``: input (N, C_in, L)
    or (C_in, L); weight (C_in, C_out/groups, k)."""
    fn = "conv_transpose1d"
    s = _single(stride, "stride", fn)
    p = _single(padding, "padding", fn, minimum=0)
    op = _single(output_padding, "output_padding", fn, minimum=0)
    d = _single(dilation, "dilation", fn)
    # Checked here in the caller's shapes; conv_transpose2d would name (N, C, 1, L) and 2-D pairs.
    _check(input, weight, bias, (s,), (p,), (op,), groups, (d,), fn)
    out = _conv_transpose2d(input.unsqueeze(-2), weight.unsqueeze(2), bias, (1, s), (0, p),
                            (0, op), groups, (1, d), fn)
    return out.squeeze(-2)


def _show(t):
    """(4,) as 4, (4, 5) as (4, 5): the arguments as the caller wrote them."""
    return t[0] if len(t) == 1 else t


def _check(input, weight, bias, stride, padding, output_padding, groups, dilation, fn):
    """PyTorch's checks of a transposed convolution with ``len(stride)`` spatial axes, in its
    order; the output's spatial size."""
    nd = len(stride)
    _check_float(input, "input", fn)
    _check_float(weight, "weight", fn)
    if input.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{fn}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input, "
                         f"got shape {input.shape}")
    if weight.ndim != nd + 2:
        kernel = ", ".join(f"k{a}" for a in "DHW"[3 - nd:])  # shared with conv_transpose3d
        raise ValueError(f"{fn}: weight must be {nd + 2}-D (in_channels, out_channels/groups, "
                         f"{kernel}), got shape {weight.shape}")
    if input.dtype != weight.dtype:
        raise TypeError(f"{fn}: input has dtype {input.dtype} but weight has dtype {weight.dtype}")
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    cin, cog = weight.shape[:2]
    if 0 in weight.shape[2:]:
        raise ValueError(f"{fn}: kernel size should be greater than zero, but weight has shape "
                         f"{weight.shape}")
    if cin % groups:  # before the channels, as PyTorch: else the input gets the blame
        raise ValueError(f"{fn}: given groups={groups}, expected weight to be divisible by "
                         f"{groups} at dimension 0, but got weight of shape {weight.shape}")
    c = input.shape[-nd - 1]
    if c != cin:
        raise ValueError(f"{fn}: weight of shape {weight.shape} expects an input with {cin} "
                         f"channels, but the input of shape {input.shape} has {c}")
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise ValueError(f"{fn}: output padding must be smaller than either stride or "
                             f"dilation, but got output_padding={_show(output_padding)}, "
                             f"stride={_show(stride)}, dilation={_show(dilation)}")
    cout = cog * groups
    if bias is not None:
        _check_float(bias, "bias", fn)
        if bias.shape != (cout,):
            raise ValueError(f"{fn}: bias must have shape ({cout},), got {bias.shape}")
        if bias.dtype != weight.dtype:
            raise TypeError(f"{fn}: bias has dtype {bias.dtype} but weight has dtype "
                            f"{weight.dtype}")
    spatial = input.shape[-nd:]
    size = [(i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, s, p, d, k, op in zip(
        spatial, stride, padding, dilation, weight.shape[2:], output_padding)]
    if min(size) < 1:
        raise ValueError(f"{fn}: given input size per channel ({' x '.join(map(str, spatial))}), "
                         f"the calculated output size per channel "
                         f"({' x '.join(map(str, size))}) is too small")
    return size


def _conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation,
                      fn):
    size = _check(input, weight, bias, stride, padding, output_padding, groups, dilation, fn)
    x = input if input.ndim == 4 else input.unsqueeze(0)
    n, c, h, w = x.shape
    cin, cog, kh, kw = weight.shape
    cout = cog * groups
    k = cog * kh * kw
    # The windows fill (H - 1) * stride + dilation * (kH - 1) + 1 rows; the output is those rows
    # less ``padding`` at the top and ``padding - output_padding`` at the bottom. Where
    # output_padding is the larger, the rows beyond every window are zeros, padded on after (in
    # Col2im's padding they would make its VJP, Im2col, read extra windows).
    pads = tuple((p, max(p - op, 0)) for p, op in zip(padding, output_padding))
    extra = tuple(max(op - p, 0) for p, op in zip(padding, output_padding))
    with scope(fn, stride=stride, padding=padding, output_padding=output_padding,
               dilation=dilation, groups=groups):
        if groups == 1:  # (C_out*kh*kw, C_in) @ (N, C_in, H*W)
            cols = weight.reshape(cin, k).transpose(1, 0) @ x.reshape(n, cin, h * w)
        else:  # (G, C_out/G*kh*kw, C_in/G) @ (N, G, C_in/G, H*W)
            wg = weight.reshape(groups, cin // groups, k).transpose(0, 2, 1)
            cols = wg @ x.reshape(n, groups, cin // groups, h * w)
        cols = cols.reshape(n, cout, kh, kw, h, w)
        out = apply(ops.Col2im, cols, shape=(n, cout, size[0] - extra[0], size[1] - extra[1]),
                    kernel=(kh, kw), stride=stride, padding=pads, dilation=dilation)
        if extra != (0, 0):
            out = out.pad(((0, 0), (0, 0), (0, extra[0]), (0, extra[1])))
        if bias is not None:
            out = out + bias.reshape(cout, 1, 1)
        if input.ndim == 3:
            out = out.squeeze(0)
    return out
