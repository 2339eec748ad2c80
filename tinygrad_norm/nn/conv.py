"""Conv2d, MaxPool2d, AvgPool2d and AdaptiveAvgPool2d, as ``torch.nn``."""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import functional as F
from . import init
from .linear import _count, _float_dtype
from .module import Module, Parameter

__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]


def _pair(v, name, cls, minimum):
    items = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(items) == 1:  # stride=(2,) means (2, 2), as in torch
        items = items * 2
    if len(items) != 2 or any(isinstance(x, bool) or not isinstance(x, numbers.Integral)
                              or x < minimum for x in items):
        raise ValueError(f"{cls}: {name} must be an int >= {minimum} or a pair of them, got {v!r}")
    return tuple(int(x) for x in items)


class Conv2d(Module):
    """2-D convolution (cross-correlation) over (N, C, H, W) or (C, H, W) inputs.

    weight (out_channels, in_channels / groups, kH, kW); PyTorch's initialization (weight and
    bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels / groups * kH * kW). Only
    ``padding_mode="zeros"`` is available."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", dtype=np.float32):
        super().__init__()
        cls = "Conv2d"
        self.in_channels = _count(in_channels, "in_channels", cls)
        self.out_channels = _count(out_channels, "out_channels", cls)
        if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
            raise ValueError("groups must be a positive integer")
        if self.in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if self.out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        self.groups = int(groups)
        self.kernel_size = _pair(kernel_size, "kernel_size", cls, 1)
        self.stride = _pair(stride, "stride", cls, 1)
        self.dilation = _pair(dilation, "dilation", cls, 1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{{'valid', 'same'}}")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _pair(padding, "padding", cls, 0)
        modes = ("zeros", "reflect", "replicate", "circular")
        if not isinstance(padding_mode, str) or padding_mode not in modes:
            raise ValueError(f"padding_mode must be one of {modes}, but got "
                             f"padding_mode={padding_mode!r}")
        if padding_mode != "zeros":
            raise NotImplementedError(f"Conv2d: padding_mode={padding_mode!r} is not supported "
                                      f"(only 'zeros')")
        self.padding_mode = padding_mode
        dtype = _float_dtype(dtype, cls)
        self.weight = Parameter(np.empty(
            (self.out_channels, self.in_channels // self.groups) + self.kernel_size, dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        self._check_input(input)
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class MaxPool2d(Module):
    """Max pooling; the gradient of each window goes to its first maximum, as PyTorch."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Average pooling, PyTorch's divisors included (``count_include_pad``, ``divisor_override``)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (``F.adaptive_avg_pool2d``); ``1`` is global
    average pooling."""

    def __init__(self, output_size):
        super().__init__()
        sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
        if len(sizes) != 2 or any(v is not None and (isinstance(v, bool) or not isinstance(
                v, numbers.Integral) or v < 1) for v in sizes):
            raise ValueError(f"AdaptiveAvgPool2d: output_size must be a positive int, None, or a "
                             f"pair of them, got {output_size!r}")
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
