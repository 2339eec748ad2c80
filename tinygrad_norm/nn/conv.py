"""Conv1d, Conv2d, the 1-D and 2-D max and average pools and AdaptiveAvgPool2d, as ``torch.nn``."""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import devices as _devices
from .. import functional as F
from ..functional._checks import _flag
from . import init
from .linear import _count, _float_dtype
from .module import Module, Parameter

__all__ = ["Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
           "AdaptiveAvgPool2d"]


def _tuple(v, n, name, cls, minimum):
    """An int or a sequence of ``n`` of them (one stands for all, as in torch), checked."""
    items = tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
    if len(items) == 1:  # stride=(2,) means (2, 2), as in torch
        items = items * n
    if len(items) != n or any(isinstance(x, bool) or not isinstance(x, numbers.Integral)
                              or x < minimum for x in items):
        what = {1: "a one-element sequence of one", 2: "a pair of them"}.get(n, f"{n} of them")
        raise ValueError(f"{cls}: {name} must be an int >= {minimum} or {what}, got {v!r}")
    return tuple(int(x) for x in items)


class _ConvNd(Module):
    """What Conv1d, Conv2d and the transposed convolutions share: arguments, checks, the weight
    and bias and PyTorch's initialization, the repr. ``_dims`` is 1, 2 or 3."""
    _dims = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                 bias, padding_mode, dtype, transposed=False, output_padding=0):
        super().__init__()
        cls, n = type(self).__name__, self._dims
        self.in_channels = _count(in_channels, "in_channels", cls)
        self.out_channels = _count(out_channels, "out_channels", cls)
        if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
            raise ValueError("groups must be a positive integer")
        if self.in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if self.out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        self.groups = int(groups)
        bias = _flag(bias, "bias", cls)
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", cls, 1)
        self.stride = _tuple(stride, n, "stride", cls, 1)
        self.dilation = _tuple(dilation, n, "dilation", cls, 1)
        if isinstance(padding, str) and not transposed:
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{{'valid', 'same'}}")
            if padding == "same" and self.stride != (1,) * n:
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _tuple(padding, n, "padding", cls, 0)
        self.output_padding = _tuple(output_padding, n, "output_padding", cls, 0)
        modes = ("zeros", "reflect", "replicate", "circular")
        if not isinstance(padding_mode, str) or padding_mode not in modes:
            raise ValueError(f"padding_mode must be one of {modes}, but got "
                             f"padding_mode={padding_mode!r}")
        if transposed and padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {cls}')
        self.padding_mode = padding_mode
        self.transposed = transposed  # PyTorch's attribute; init code tests it to pick fan_in
        dtype = _float_dtype(dtype, cls)
        shape = ((self.in_channels, self.out_channels // self.groups) if transposed else
                 (self.out_channels, self.in_channels // self.groups)) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def forward(self, input):
        # Conv1d / Conv2d (_conv); the transposed convolutions have their own
        self._check_input(input)
        padded = self._padded(input)
        if padded is not None:  # padding_mode other than zeros: F.pad first, then no padding
            return self._conv(padded, self.weight, self.bias, self.stride, 0, self.dilation,
                              self.groups)
        return self._conv(input, self.weight, self.bias, self.stride, self.padding,
                          self.dilation, self.groups)

    def reset_parameters(self):
        # fan_in from the weight's dim 1: in_channels / groups, or for a transposed convolution
        # out_channels / groups, times the kernel -- as torch, whose layers share this code
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _padded(self, input):
        """The input padded by ``padding_mode`` (torch pads with F.pad, then convolves with no
        padding), or None for zeros."""
        if self.padding_mode == "zeros":
            return None
        pads = []
        for d, k, p in reversed(list(zip(self.dilation, self.kernel_size, self._pad_tuple()))):
            pads += p
        return F.pad(input, tuple(pads), mode=self.padding_mode)

    def _pad_tuple(self):
        if self.padding == "same":
            return [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                    for d, k in zip(self.dilation, self.kernel_size)]
        if self.padding == "valid":
            return [(0, 0)] * self._dims
        return [(p, p) for p in self.padding]

    def extra_repr(self):
        n = self._dims
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution (cross-correlation) over (N, C, L) or (C, L) inputs.

    weight (out_channels, in_channels / groups, k); PyTorch's initialization (weight and bias
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels / groups * k) and padding modes."""
    _dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype)

    _conv = staticmethod(F.conv1d)


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) over (N, C, H, W) or (C, H, W) inputs.

    weight (out_channels, in_channels / groups, kH, kW); PyTorch's initialization (weight and
    bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels / groups * kH * kW) and padding
    modes ('zeros', 'reflect', 'replicate', 'circular': F.pad, then no padding)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype)

    _conv = staticmethod(F.conv2d)


class _MaxPoolNd(Module):
    """Max pooling by ``_pool`` (F.max_pool1d or 2d); the gradient of each window goes to its
    first maximum, as PyTorch."""

    _pool = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        cls = type(self).__name__  # flags checked here, as F.max_pool2d would at every forward
        self.return_indices = _flag(return_indices, "return_indices", cls)
        self.ceil_mode = _flag(ceil_mode, "ceil_mode", cls)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation

    def forward(self, input):
        return type(self)._pool(input, self.kernel_size, self.stride, self.padding,
                                self.dilation, ceil_mode=self.ceil_mode,
                                return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling (``F.max_pool1d``)."""

    _pool = staticmethod(F.max_pool1d)


class AvgPool1d(Module):
    """1-D average pooling (``F.avg_pool1d``); like torch's, it has no ``divisor_override``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.ceil_mode = _flag(ceil_mode, "ceil_mode", "AvgPool1d")
        self.count_include_pad = _flag(count_include_pad, "count_include_pad", "AvgPool1d")
        self.kernel_size = _tuple(kernel_size, 1, "kernel_size", "AvgPool1d", 1)
        self.stride = self.kernel_size if stride is None else _tuple(
            stride, 1, "stride", "AvgPool1d", 1)
        self.padding = _tuple(padding, 1, "padding", "AvgPool1d", 0)

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling (``F.max_pool2d``)."""

    _pool = staticmethod(F.max_pool2d)


class AvgPool2d(Module):
    """Average pooling, PyTorch's divisors included (``count_include_pad``, ``divisor_override``)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.ceil_mode = _flag(ceil_mode, "ceil_mode", "AvgPool2d")
        self.count_include_pad = _flag(count_include_pad, "count_include_pad", "AvgPool2d")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
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
