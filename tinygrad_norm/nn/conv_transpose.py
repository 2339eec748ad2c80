"""ConvTranspose1d and ConvTranspose2d, as ``torch.nn``: weight (in_channels,
out_channels / groups, *kernel), torch's initialization, and ``forward(input, output_size)``."""
from __future__ import annotations

import numbers

import numpy as np

from .. import devices as _devices
from .. import functional as F
from .conv import _ConvNd

__all__ = ["ConvTranspose1d", "ConvTranspose2d"]


class _ConvTransposeNd(_ConvNd):
    _fn = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype, transposed=True,
                         output_padding=output_padding)

    def forward(self, input, output_size=None):
        self._check_input(input)
        output_padding = self._output_padding(input, output_size)
        return type(self)._fn(input, self.weight, self.bias, self.stride, self.padding,
                              output_padding, self.groups, self.dilation)

    def _output_padding(self, input, output_size):
        """``output_padding``, or the one that gives ``output_size`` (its spatial sizes, or all
        sizes), checked against the range the stride allows, as torch."""
        if output_size is None:
            return self.output_padding
        n = self._dims
        size = tuple(output_size)
        lead = input.ndim - n  # the batch and channel sizes that output_size may include
        if len(size) == lead + n:
            size = size[lead:]
        if len(size) != n or any(isinstance(v, bool) or not isinstance(v, numbers.Integral)
                                 for v in size):
            raise ValueError(f"{type(self).__name__}: for {input.ndim}D input, output_size must "
                             f"have {n} or {lead + n} ints (got {output_size!r})")
        low = [(i - 1) * s - 2 * p + d * (k - 1) + 1 for i, s, p, d, k in zip(
            input.shape[-n:], self.stride, self.padding, self.dilation, self.kernel_size)]
        high = [m + s - 1 for m, s in zip(low, self.stride)]
        if any(not lo <= v <= hi for v, lo, hi in zip(size, low, high)):
            raise ValueError(f"requested an output size of {size}, but valid sizes range from "
                             f"{low} to {high} (for an input of {tuple(input.shape[-n:])})")
        return tuple(int(v) - m for v, m in zip(size, low))


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution (``F.conv_transpose1d``) over (N, C, L) or (C, L) inputs."""
    _dims = 1
    _fn = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution (``F.conv_transpose2d``) over (N, C, H, W) or (C, H, W)
    inputs: the gradient of Conv2d with respect to its input, as a layer (upsampling)."""
    _fn = staticmethod(F.conv_transpose2d)
