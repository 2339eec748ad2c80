"""The 3-D members of the pooling families that ``pooling_extra`` holds in 1-D and 2-D:
power-average pooling (``lp_pool3d``), max unpooling (``max_unpool3d``) and the
``*_with_indices`` spellings, as ``torch.nn.functional``. Composites of ``avg_pool3d``,
``max_pool3d`` and one gather: no derivative is written here."""
from __future__ import annotations

import math

from ..autograd import scope
from ._checks import _flag
from .adaptive_pool3d import adaptive_max_pool3d
from .conv import _check_float
from .conv3d import _triple
from .pool3d import avg_pool3d, max_pool3d
from .pooling_extra import _norm_type, _root_of_sum, _unpool, _unpool_inputs, _unpool_size

__all__ = ["lp_pool3d", "max_unpool3d", "max_pool3d_with_indices",
           "adaptive_max_pool3d_with_indices"]


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (D, H, W), as ``torch.nn.functional.lp_pool3d``: per window
    ``(sum x ** p) ** (1 / p)``, an ``avg_pool3d`` of ``x ** p`` times the window's volume, no
    padding; ``inf`` is max pooling of ``|x|``, ``-inf`` its min. The gradient at a window whose
    sum is 0 is 0, as PyTorch's (see ``lp_pool2d``)."""
    fn = "lp_pool3d"
    _check_float(input, "input", fn)
    p = _norm_type(norm_type, fn)
    ceil_mode = _flag(ceil_mode, "ceil_mode", fn)
    if p in (math.inf, -math.inf):
        # dilation 1, padding 0: as lp_pool2d's infinite norms
        pooled = max_pool3d(input.abs() if p > 0 else -input.abs(), kernel_size, stride, 0, 1,
                            ceil_mode)
        return pooled if p > 0 else -pooled
    kernel = _triple(kernel_size, "kernel_size", fn)
    with scope(fn, norm_type=p, kernel_size=kernel, stride=stride, ceil_mode=ceil_mode):
        mean = avg_pool3d(input ** p, kernel_size, stride, 0, ceil_mode)
        return _root_of_sum(mean, math.prod(kernel), p)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool3d``, as ``torch.nn.functional.max_unpool3d``: zeros of
    the unpooled size with each input value put at its ``indices`` entry (the flat
    ``d * H * W + h * W + w`` index that ``max_pool3d(..., return_indices=True)`` gives).
    Default size per axis ``(in - 1) * stride - 2 * padding + kernel``; ``output_size`` (3
    numbers, or 5 whose last three count) may differ from it by less than ``stride``. As
    ``max_unpool2d``: where two windows share a winner, only the last write gets the gradient."""
    fn = "max_unpool3d"
    kernel = _triple(kernel_size, "kernel_size", fn)
    stride = kernel if stride is None else _triple(stride, "stride", fn)
    padding = _triple(padding, "padding", fn, minimum=0)
    _unpool_inputs(input, indices, 3, fn)
    size = _unpool_size(input.shape[-3:], kernel, stride, padding, output_size)
    return _unpool(input, indices, size, fn)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool3d(..., return_indices=True)``: (output, indices) whatever ``return_indices``
    says, as PyTorch's."""
    _flag(return_indices, "return_indices", "max_pool3d_with_indices")
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool3d(..., return_indices=True)``, as PyTorch's."""
    _flag(return_indices, "return_indices", "adaptive_max_pool3d_with_indices")
    return adaptive_max_pool3d(input, output_size, True)
