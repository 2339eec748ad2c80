"""Resizing, as ``torch.nn.functional.interpolate``: one gather (nearest), or two (linear) or four
(bicubic) gathers and a weighted sum, per spatial axis, so the gradient is the gathers'
scatter-adds.

Which input positions an output reads, and with what weights, follows PyTorch's CPU kernels to
the bit: the source coordinate is computed in float32 for 'nearest' (PyTorch does so for every
dtype) and in the input's dtype for the linear and cubic modes, from ``1 / scale_factor`` when a
scale factor is given (and not recomputed) and from ``in / out`` otherwise. With a non-integer
scale factor the two differ, and so does the output. PyTorch's shortcuts are kept too: the linear
modes (not bicubic) leave an axis whose size is unchanged as it is, and 4-D 'nearest' reads
``out_index`` for an unchanged size and ``out_index // 2`` for a doubled one, whatever the factor.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ..autograd import scope
from ..tensor import Tensor
from ._checks import _flag
from .interpolate_aa import aa_axis
from .vision import adaptive_avg_pool2d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_LINEAR = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
_TORCH_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial axes of a (N, C, *spatial) input (3-D, 4-D or 5-D), as PyTorch.

    ``size`` (an int or one per spatial axis) or ``scale_factor`` (a number or one per axis;
    the output size is ``floor(in * scale_factor)``). ``mode``: 'nearest' (PyTorch's legacy
    rule, ``floor(out_index * scale)``), 'nearest-exact' (``floor((out_index + 0.5) * scale)``),
    'linear' (3-D), 'bilinear' or 'bicubic' (4-D) or 'trilinear' (5-D) with ``align_corners``
    (default False: pixel centres; True: the corner pixels of input and output line up).
    'bicubic' is PyTorch's cubic convolution (A = -0.75) with positions clamped to the edge,
    so it may overshoot the input's range, as PyTorch's.
    'area' (3-D or 4-D) is adaptive average pooling to the output size (which may be 0).
    ``recompute_scale_factor=True`` computes the output size from ``scale_factor`` and then
    forgets the factor, as if that size had been given. ``antialias=True`` (4-D 'bilinear',
    'bicubic' and 'lanczos', which needs it): PyTorch's anti-aliased kernels, see
    ``interpolate_aa``. *vs PyTorch at inf:* the linear modes weigh two neighbours as
    ``(1 - t) x0 + t x1``, torch as ``x0 + t (x1 - x0)``: where ``t`` is 0 and ``x0`` infinite
    (an output on an input row or column) the output here is ``x0``, torch's NaN (inf - inf);
    both give NaN where a weight of 0 meets an infinite neighbour. 'area' keeps an inf or NaN
    inside the windows that hold it, as torch."""
    fn = "interpolate"
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): input must be a Tensor, got {type(input).__name__}")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    else:  # align_corners="no" aligned the corners
        align_corners = _flag(align_corners, "align_corners", fn, allow_none=True) or False
    recompute_scale_factor = _flag(recompute_scale_factor, "recompute_scale_factor", fn,
                                   allow_none=True)
    antialias = _flag(antialias, "antialias", fn)
    dim = input.ndim - 2
    sizes, scales = _sizes_and_scales(input, size, scale_factor, dim, fn)
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes "
                         "and requires a 4-D tensor as input")
    if mode == "lanczos" and input.ndim == 4:  # only anti-aliased, pixel centres (PyTorch)
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    elif mode not in _MODES or input.ndim not in (3, 4, 5):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
            f"the modes: {_TORCH_MODES} (got {mode})")
    if mode == "area" and input.ndim == 5:
        raise NotImplementedError(f"{fn}(): mode 'area' is not supported for 5-D input")
    if mode in _LINEAR and input.ndim != _LINEAR[mode]:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{_LINEAR[mode]}D input")
    if input.dtype.kind != "f":
        raise TypeError(f"{fn}(): input must be floating point, got dtype {input.dtype}")
    if scales is not None:
        if not all(math.isfinite(s) for s in scales):  # else "cannot convert float NaN to int"
            raise ValueError(f"{fn}(): scale_factor must be finite, got {scale_factor}")
        sizes = [math.floor(float(n) * s) for n, s in zip(input.shape[2:], scales)]
        if recompute_scale_factor:
            scales = None
    spatial = input.shape[2:]
    # 'area' is an adaptive pool in PyTorch, which takes an output size of 0; the others refuse it
    smallest = 0 if mode == "area" else 1
    if any(n < 1 for n in spatial) or any(m < smallest for m in sizes):
        names = "DHW"[3 - dim:]
        raise ValueError(
            f"{fn}(): Input and output sizes should be greater than 0, but got input ("
            + ", ".join(f"{a}: {n}" for a, n in zip(names, spatial)) + ") output ("
            + ", ".join(f"{a}: {m}" for a, m in zip(names, sizes)) + ")")
    if input.shape[1] == 0:
        raise ValueError(f"{fn}(): Non-empty {input.ndim}D data tensor expected but got a tensor "
                         f"with sizes {list(input.shape)}")
    scales = scales or [None] * dim
    with scope(fn, size=tuple(sizes), mode=mode, align_corners=align_corners):
        if mode == "area" and 0 in sizes:  # no elements: any reshape of an empty slice of it
            return input[..., :0].reshape(input.shape[:2] + tuple(sizes))
        if mode == "area":  # adaptive average pooling to the output size, as PyTorch
            if input.ndim == 3:
                return adaptive_avg_pool2d(input.unsqueeze(2), (1, sizes[0])).squeeze(2)
            return adaptive_avg_pool2d(input, tuple(sizes))
        x = input
        for i, (n, m, s) in enumerate(zip(spatial, sizes, scales)):
            axis = 2 + i
            if (antialias or mode in _LINEAR and mode != "bicubic") and n == m:
                continue  # PyTorch's linear and anti-aliased kernels copy an unchanged axis
            if antialias:
                x = aa_axis(x, axis, n, m, s, align_corners, mode)
            elif mode == "bicubic":
                x = _cubic_axis(x, axis, n, m, s, align_corners)
            elif mode in _LINEAR:
                x = _linear_axis(x, axis, n, m, s, align_corners)
            else:
                x = x[(slice(None),) * axis + (_nearest_index(n, m, s, mode, input.ndim),)]
        return x


def _deprecated(name):
    # UserWarning, as PyTorch (a DeprecationWarning is hidden by default), at the caller's line
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` "
                  f"instead.", stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate`` (PyTorch's ``F.upsample``), with its warning."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``, with PyTorch's warning."""
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)`` (corners aligned,
    unlike ``interpolate``'s default), with PyTorch's warning."""
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def _sizes_and_scales(input, size, scale_factor, dim, fn):
    """(output sizes, None) or (None, scale factors as floats), checked as PyTorch does."""
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        items = list(size) if isinstance(size, (tuple, list)) else None
        if items is not None and len(items) != dim:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, "
                             f"but got input with spatial dimensions of {list(input.shape[2:])} "
                             f"and output size of {size}. Please provide input tensor in (N, C, "
                             f"d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
        items = items if items is not None else [size] * dim
        if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in items):
            raise TypeError(f"{fn}(): expected size to be an int or a tuple of ints, got {size!r}")
        return [int(v) for v in items], None
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    items = list(scale_factor) if isinstance(scale_factor, (tuple, list)) else None
    if items is not None and len(items) != dim:
        raise ValueError(f"Input and scale_factor must have the same number of spatial "
                         f"dimensions, but got input with spatial dimensions of "
                         f"{list(input.shape[2:])} and scale_factor of shape {scale_factor}. "
                         f"Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                         f"scale_factor in (s1, s2, ...,sK) format.")
    items = items if items is not None else [scale_factor] * dim
    if any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in items):
        raise TypeError(f"{fn}(): expected scale_factor to be a number or a tuple of numbers, "
                        f"got {scale_factor!r}")
    return None, [float(v) for v in items]


def _scale(n, m, s, dtype):
    """PyTorch's ``compute_scales_value``: 1 / scale_factor when one is given, else in / out."""
    return dtype(1.0 / s) if s is not None and s > 0 else dtype(n) / dtype(m)


def _nearest_index(n, m, s, mode, ndim):
    if mode == "nearest":
        # PyTorch's 2-D kernel takes two shortcuts (its 1-D and 3-D ones do not), which differ
        # from the float rule for a scale factor such as 1.1 (5 -> 5) or 2.1 (5 -> 10)
        if ndim == 4 and m == n:
            return np.arange(m)
        if ndim == 4 and m == 2 * n:
            return np.arange(m) >> 1
        src = np.arange(m, dtype=np.float32) * _scale(n, m, s, np.float32)
    else:  # nearest-exact: pixel centres
        src = (np.arange(m, dtype=np.float32) + np.float32(0.5)) * _scale(n, m, s, np.float32)
    return np.minimum(np.floor(src).astype(np.intp), n - 1)


def _linear_axis(x, axis, n, m, s, align_corners):
    """Two gathers along ``axis`` and their weighted sum, weights in the input's dtype."""
    dtype = x.dtype.type
    dst = np.arange(m, dtype=dtype)
    if align_corners:
        scale = dtype(n - 1) / dtype(m - 1) if m > 1 else dtype(0)
        src = scale * dst
    else:
        src = _scale(n, m, s, dtype) * (dst + dtype(0.5)) - dtype(0.5)
        src = np.maximum(src, dtype(0))
    i0 = np.minimum(np.floor(src).astype(np.intp), n - 1)
    lam1 = np.clip(src - i0.astype(dtype), dtype(0), dtype(1))
    lam0 = dtype(1) - lam1
    i1 = i0 + (i0 < n - 1)
    shape = (m,) + (1,) * (x.ndim - 1 - axis)
    lead = (slice(None),) * axis
    return (x[lead + (i0,)] * Tensor(lam0.reshape(shape))
            + x[lead + (i1,)] * Tensor(lam1.reshape(shape)))


_A = -0.75  # PyTorch's (and OpenCV's) cubic convolution constant


def _cubic_axis(x, axis, n, m, s, align_corners):
    """Four gathers along ``axis`` (positions clamped to the edge) and their weighted sum, with
    the cubic convolution weights of PyTorch's bicubic kernel, in the input's dtype."""
    dtype = x.dtype.type
    dst = np.arange(m, dtype=dtype)
    if align_corners:
        src = (dtype(n - 1) / dtype(m - 1) if m > 1 else dtype(0)) * dst
    else:  # not clamped at 0, unlike the linear modes
        src = _scale(n, m, s, dtype) * (dst + dtype(0.5)) - dtype(0.5)
    i0 = np.floor(src)
    t = src - i0
    a = dtype(_A)

    def near(d):  # |d| <= 1
        return ((a + dtype(2)) * d - (a + dtype(3))) * d * d + dtype(1)

    def far(d):  # 1 < |d| < 2
        return ((a * d - dtype(5) * a) * d + dtype(8) * a) * d - dtype(4) * a

    weights = (far(t + dtype(1)), near(t), near(dtype(1) - t), far(dtype(2) - t))
    shape = (m,) + (1,) * (x.ndim - 1 - axis)
    lead = (slice(None),) * axis
    out = None
    for k, w in enumerate(weights):
        idx = np.clip(i0.astype(np.intp) - 1 + k, 0, n - 1)
        term = x[lead + (idx,)] * Tensor(w.astype(dtype).reshape(shape))
        out = term if out is None else out + term
    return out
