"""pixel_shuffle and pixel_unshuffle, as ``torch.nn.functional``: a reshape, a permutation and
a reshape (their gradients are the inverse moves), on any number of leading batch dims."""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd import scope
from ..tensor import Tensor

__all__ = ["pixel_shuffle", "pixel_unshuffle"]


def _check(input, factor, name, fn):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): input must be a Tensor, got {type(input).__name__}")
    if isinstance(factor, (bool, np.bool_)) or not isinstance(factor, numbers.Integral):
        raise TypeError(f"{fn}(): argument '{name}' must be int, not {type(factor).__name__}")
    if factor <= 0:
        raise ValueError(f"{fn} expects a positive {name}, but got {factor}")
    if input.ndim < 3:
        raise ValueError(f"{fn} expects input to have at least 3 dimensions, but got input "
                         f"with {input.ndim} dimension(s)")
    return int(factor)


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): channel ``c r^2 + i r + j`` goes to pixel
    ``(h r + i, w r + j)`` of channel ``c`` (Shi et al., 2016)."""
    fn = "pixel_shuffle"
    r = _check(input, upscale_factor, "upscale_factor", fn)
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise ValueError(f"{fn} expects its input's 'channel' dimension to be divisible by the "
                         f"square of upscale_factor, but input.size(-3)={c} is not divisible by "
                         f"{r * r}")
    k = len(lead)
    with scope(fn, upscale_factor=r):
        x = input.reshape(*lead, c // (r * r), r, r, h, w)
        x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)  # (*, C, H, r, W, r)
        return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of ``pixel_shuffle``."""
    fn = "pixel_unshuffle"
    r = _check(input, downscale_factor, "downscale_factor", fn)
    *lead, c, h, w = input.shape
    for what, size, dim in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise ValueError(f"{fn} expects {what} to be divisible by downscale_factor, but "
                             f"input.size({dim})={size} is not divisible by {r}")
    k = len(lead)
    with scope(fn, downscale_factor=r):
        x = input.reshape(*lead, c, h // r, r, w // r, r)
        x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)  # (*, C, r, r, H, W)
        return x.reshape(*lead, c * r * r, h // r, w // r)
