"""Anti-aliased resizing (``F.interpolate(..., antialias=True)``: 4-D bilinear, bicubic and
lanczos), as PyTorch's separable CPU kernels (and PIL's): each output position averages the input
positions under a filter widened by the downscaling factor, so a shrunken image is smoothed, not
sampled.

Per spatial axis, output ``i`` has centre ``c = scale * (i + 0.5)`` in input coordinates
(``scale`` = PyTorch's ``area_pixel_compute_scale``); the filter (a triangle for bilinear, Keys'
cubic with ``a = -0.5`` for bicubic, the 3-lobe Lanczos window) is stretched by ``scale`` when
shrinking, so its support is ``interp_size / 2 * max(scale, 1)``; the input positions it covers,
clipped to the image, get the filter's values at their distances from ``c`` (divided by the
stretch), normalised to sum to 1. The weights form an (out, in) matrix, applied with a matmul:
the gradient is the matmul's."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor

_INTERP_SIZE = {"bilinear": 2, "bicubic": 4, "lanczos": 6}


def _triangle(x):
    x = np.abs(x)
    return np.where(x < 1.0, 1.0 - x, 0.0)


def _keys_cubic(x, a=-0.5):
    """Keys' cubic convolution kernel; PyTorch's anti-aliased bicubic takes a = -0.5 (its plain
    bicubic takes -0.75)."""
    x = np.abs(x)
    near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    far = (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


def _lanczos3(x):
    """The Lanczos window of 3 lobes, ``sinc(x) sinc(x / 3)`` on (-3, 3) (PIL's and PyTorch's
    'lanczos')."""
    return np.where(np.abs(x) < 3.0, np.sinc(x) * np.sinc(x / 3.0), 0.0)


_FILTERS = {"bilinear": _triangle, "bicubic": _keys_cubic, "lanczos": _lanczos3}


def _scale(n, m, scale_factor, align_corners):
    """Input positions per output position, as PyTorch's ``area_pixel_compute_scale``."""
    if align_corners:
        return (n - 1) / (m - 1) if m > 1 else 0.0
    if scale_factor is not None and scale_factor > 0:
        return 1.0 / scale_factor
    return n / m


def aa_weights(n, m, scale_factor, align_corners, mode, dtype):
    """The (m, n) matrix of anti-aliasing weights of one axis, in ``dtype`` (PyTorch computes
    them in the input's dtype)."""
    dtype = np.dtype(dtype)
    scale = dtype.type(_scale(n, m, scale_factor, align_corners))
    half = dtype.type(_INTERP_SIZE[mode] * 0.5)
    support = half * scale if scale >= 1.0 else half
    invscale = dtype.type(1.0) / scale if scale >= 1.0 else dtype.type(1.0)
    centre = scale * (np.arange(m, dtype=dtype) + dtype.type(0.5))
    # C's truncating casts of (centre -/+ support + 0.5): the first and one-past-last inputs
    lo = np.maximum((centre - support + dtype.type(0.5)).astype(np.int64), 0)
    hi = np.minimum((centre + support + dtype.type(0.5)).astype(np.int64), n)
    j = np.arange(n)
    inside = (j[None, :] >= lo[:, None]) & (j[None, :] < hi[:, None])
    dist = (j[None, :].astype(dtype) - centre[:, None] + dtype.type(0.5)) * invscale
    w = np.where(inside, _FILTERS[mode](dist).astype(dtype), dtype.type(0.0))
    total = w.sum(axis=1, keepdims=True)
    return np.where(total != 0.0, w / np.where(total != 0.0, total, 1.0), w).astype(dtype)


def aa_axis(x, axis, n, m, scale_factor, align_corners, mode):
    """``x`` resized along ``axis`` from ``n`` to ``m`` positions with the weights above."""
    w = Tensor(aa_weights(n, m, scale_factor, align_corners, mode, x.dtype).T.copy())
    return (x.swapaxes(axis, -1) @ w).swapaxes(axis, -1)
