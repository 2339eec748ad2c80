"""The 3-D convolution and pooling layers, as ``torch.nn``: Conv3d, ConvTranspose3d, MaxPool3d,
AvgPool3d, AdaptiveAvgPool3d and AdaptiveMaxPool3d, on (N, C, D, H, W) or (C, D, H, W) inputs.
The convolutions share Conv2d's and ConvTranspose2d's arguments, checks, initialization and
repr; the pools store their arguments as given, as torch's do (their repr shows them so)."""
from __future__ import annotations

import numpy as np

from .. import devices as _devices
from .. import functional as F
from ..functional._checks import _flag
from ..functional.adaptive_pool3d import _sizes
from .conv import _ConvNd, _MaxPoolNd
from .conv_transpose import _ConvTransposeNd
from .module import Module

__all__ = ["Conv3d", "ConvTranspose3d", "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d",
           "AdaptiveMaxPool3d"]


class Conv3d(_ConvNd):
    """3-D convolution (cross-correlation), ``F.conv3d``.

    weight (out_channels, in_channels / groups, kD, kH, kW); PyTorch's initialization (weight
    and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels / groups * kD * kH * kW)
    and padding modes ('zeros', 'reflect', 'replicate', 'circular': F.pad, then no padding)."""
    _dims = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype)

    _conv = staticmethod(F.conv3d)


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution (``F.conv_transpose3d``): weight (in_channels,
    out_channels / groups, kD, kH, kW); ``forward(input, output_size=None)``."""
    _dims = 3
    _fn = staticmethod(F.conv_transpose3d)


class MaxPool3d(_MaxPoolNd):
    """3-D max pooling (``F.max_pool3d``); indices are flat ``d * H * W + h * W + w``."""

    _pool = staticmethod(F.max_pool3d)


class AvgPool3d(Module):
    """3-D average pooling (``F.avg_pool3d``), PyTorch's divisors included."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.ceil_mode = _flag(ceil_mode, "ceil_mode", "AvgPool3d")
        self.count_include_pad = _flag(count_include_pad, "count_include_pad", "AvgPool3d")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.divisor_override = divisor_override

    def forward(self, input):
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool3d(Module):
    """Average pooling to a fixed output size (``F.adaptive_avg_pool3d``); an int, or a triple
    whose None keeps that size."""

    def __init__(self, output_size):
        super().__init__()
        _sizes(output_size, None, "AdaptiveAvgPool3d")  # checked now, not at the first call
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool3d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool3d(Module):
    """Max pooling to a fixed output size (``F.adaptive_max_pool3d``); ``return_indices``
    also gives the winners' flat ``d * H * W + h * W + w`` indices."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        _sizes(output_size, None, "AdaptiveMaxPool3d")
        self.output_size = output_size
        self.return_indices = _flag(return_indices, "return_indices", "AdaptiveMaxPool3d")

    def forward(self, input):
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"
