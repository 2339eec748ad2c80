"""LazyConv1d/2d/3d and LazyConvTranspose1d/2d/3d, as ``torch.nn``'s: convolutions whose
``in_channels`` is read off the first input (dim 1 of a batched input, dim 0 of an unbatched one).

Before the first call the module is its eager class with ``in_channels=0``: the weight an empty
array ((out_channels, 0, *kernel), or (0, out_channels / groups, *kernel) transposed), the bias
zeros -- what its state dict holds (PyTorch's holds uninitialized parameters). The first call
works as ``lazy_base`` says: the draws are those of the eager layer built with that
``in_channels`` under the same ``manual_seed``."""
from __future__ import annotations

import numpy as np

from .. import devices as _devices
from .conv import Conv1d, Conv2d, _ConvNd
from .conv3d import Conv3d, ConvTranspose3d
from .conv_transpose import ConvTranspose1d, ConvTranspose2d, _ConvTransposeNd
from .lazy_base import _LazyMixin
from .uninitialized_params import mark_module

__all__ = ["LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
           "LazyConvTranspose2d", "LazyConvTranspose3d"]


class _LazyConv(_LazyMixin):
    _lazy_size = "in_channels"
    _transposed = False

    def _start(self):
        # _ConvNd drew nothing (reset_parameters is the lazy no-op) and left the bias np.empty
        if self.bias is not None:
            self.bias._data = np.zeros(self.out_channels, self.bias.dtype)
        mark_module(self)  # nn.UninitializedParameter until the first call, as torch's

    def _check_first_input(self, input):
        self._check_input(input)  # a Tensor of the module's dtype
        n = self._dims
        if input.ndim not in (n + 1, n + 2):
            raise ValueError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to "
                             f"{type(self).__name__}, but got input of size: {list(input.shape)}")
        if self._infer(input) % self.groups:
            raise ValueError("in_channels must be divisible by groups")

    def _infer(self, input):
        return int(input.shape[1 if input.ndim == self._dims + 2 else 0])

    def _materialize(self, in_channels):
        lead = ((in_channels, self.out_channels // self.groups) if self._transposed else
                (self.out_channels, in_channels // self.groups))
        self.weight._data = np.empty(lead + self.kernel_size, self.weight.dtype)


class _LazyConvNd(_LazyConv):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        _ConvNd.__init__(self, 0, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, dtype)
        self._start()


class _LazyConvTransposeNd(_LazyConv):
    _transposed = True

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        _ConvTransposeNd.__init__(self, 0, out_channels, kernel_size, stride, padding,
                                  output_padding, groups, bias, dilation, padding_mode,
                                  dtype=dtype)
        self._start()


class LazyConv1d(_LazyConvNd, Conv1d):
    """``Conv1d`` with ``in_channels`` inferred from the first input."""
    cls_to_become = Conv1d


class LazyConv2d(_LazyConvNd, Conv2d):
    """``Conv2d`` with ``in_channels`` inferred from the first input."""
    cls_to_become = Conv2d


class LazyConv3d(_LazyConvNd, Conv3d):
    """``Conv3d`` with ``in_channels`` inferred from the first input."""
    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTransposeNd, ConvTranspose1d):
    """``ConvTranspose1d`` with ``in_channels`` inferred from the first input."""
    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTransposeNd, ConvTranspose2d):
    """``ConvTranspose2d`` with ``in_channels`` inferred from the first input."""
    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTransposeNd, ConvTranspose3d):
    """``ConvTranspose3d`` with ``in_channels`` inferred from the first input."""
    cls_to_become = ConvTranspose3d
