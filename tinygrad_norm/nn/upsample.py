"""Upsample, UpsamplingNearest2d and UpsamplingBilinear2d, as ``torch.nn``: ``F.interpolate``
with fixed arguments."""
from __future__ import annotations

import numbers

import numpy as np

from .. import functional as F
from ..functional.interpolate import _MODES
from .module import Module

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]


class Upsample(Module):
    """Resize (N, C, *spatial) inputs to ``size`` or by ``scale_factor`` (``F.interpolate``).
    The mode is checked here, at construction (torch checks it at the first forward)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        if not isinstance(mode, str) or mode not in _MODES:
            raise ValueError(f"{type(self).__name__}: mode must be one of {_MODES}, got {mode!r}")
        self.size = size
        factors = scale_factor if isinstance(scale_factor, tuple) else (scale_factor,)
        if scale_factor is not None and any(isinstance(f, (bool, np.bool_)) or not isinstance(
                f, numbers.Real) for f in factors):  # float("abc") named nothing
            raise TypeError(f"{type(self).__name__}: scale_factor must be a float or a tuple of "
                            f"floats, got {scale_factor!r}")
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(mode='nearest')`` for (N, C, H, W) inputs (kept by torch for old code)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(mode='bilinear', align_corners=True)`` for (N, C, H, W) inputs."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
