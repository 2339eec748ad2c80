"""AdaptiveAvgPool1d, LPPool1d/2d/3d and MaxUnpool1d/2d/3d, as ``torch.nn``."""
from __future__ import annotations

from .. import functional as F
from ..functional._checks import _flag
from ..functional.conv import _pair
from ..functional.conv1d import _single
from ..functional.conv3d import _triple
from ..functional.pooling_extra import _norm_type, _one_size
from .module import Module

__all__ = ["AdaptiveAvgPool1d", "LPPool1d", "LPPool2d", "LPPool3d", "MaxUnpool1d", "MaxUnpool2d",
           "MaxUnpool3d"]


class AdaptiveAvgPool1d(Module):
    """``F.adaptive_avg_pool1d``; ``output_size`` checked at construction."""

    def __init__(self, output_size):
        super().__init__()
        _one_size(output_size, "AdaptiveAvgPool1d")
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class _LPPoolNd(Module):
    _pool = None

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        cls = type(self).__name__
        self.norm_type = _norm_type(norm_type, cls)
        self.ceil_mode = _flag(ceil_mode, "ceil_mode", cls)
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, input):
        return type(self)._pool(input, float(self.norm_type), self.kernel_size, self.stride,
                                self.ceil_mode)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """Power-average pooling along L (``F.lp_pool1d``)."""

    _pool = staticmethod(F.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """Power-average pooling over (H, W) (``F.lp_pool2d``)."""

    _pool = staticmethod(F.lp_pool2d)


class LPPool3d(_LPPoolNd):
    """Power-average pooling over (D, H, W) (``F.lp_pool3d``)."""

    _pool = staticmethod(F.lp_pool3d)


class MaxUnpool1d(Module):
    """``F.max_unpool1d``; ``forward(input, indices, output_size=None)``."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        fn = "MaxUnpool1d"
        self.kernel_size = (_single(kernel_size, "kernel_size", fn),)
        self.stride = self.kernel_size if stride is None else (_single(stride, "stride", fn),)
        self.padding = (_single(padding, "padding", fn, minimum=0),)

    def forward(self, input, indices, output_size=None):
        return F.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(Module):
    """``F.max_unpool2d``; ``forward(input, indices, output_size=None)``."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        fn = "MaxUnpool2d"
        self.kernel_size = _pair(kernel_size, "kernel_size", fn)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", fn)
        self.padding = _pair(padding, "padding", fn, minimum=0)

    def forward(self, input, indices, output_size=None):
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool3d(Module):
    """``F.max_unpool3d``; ``forward(input, indices, output_size=None)``."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        fn = "MaxUnpool3d"
        self.kernel_size = _triple(kernel_size, "kernel_size", fn)
        self.stride = self.kernel_size if stride is None else _triple(stride, "stride", fn)
        self.padding = _triple(padding, "padding", fn, minimum=0)

    def forward(self, input, indices, output_size=None):
        return F.max_unpool3d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
