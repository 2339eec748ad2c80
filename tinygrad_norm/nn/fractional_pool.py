"""FractionalMaxPool2d and FractionalMaxPool3d, as ``torch.nn``'s: ``F.fractional_max_pool2d``
and ``3d`` as layers. ``_random_samples``, when given, is a buffer (in the state dict, as
PyTorch's); without it every call draws new windows from the framework's generator."""
from __future__ import annotations

from .. import functional as F
from ..functional._checks import _flag
from ..functional.fractional_pool import _kernel, _output_size, _ratios
from .module import Module

__all__ = ["FractionalMaxPool2d", "FractionalMaxPool3d"]


class _FractionalMaxPoolNd(Module):
    _dims = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):
        super().__init__()
        cls, n = type(self).__name__, self._dims
        # checked here, not at the first call; stored as tuples, as PyTorch stores them
        self.kernel_size = _kernel(kernel_size, n, cls)
        self.return_indices = _flag(return_indices, "return_indices", cls)
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = None if output_size is None else _output_size(output_size, n, cls)
        self.output_ratio = None if output_ratio is None else _ratios(output_ratio, n, cls)
        if output_size is None and output_ratio is None:
            raise ValueError(f"{cls} requires specifying either an output size, or a pooling "
                             f"ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        pool = F.fractional_max_pool2d if self._dims == 2 else F.fractional_max_pool3d
        return pool(input, self.kernel_size, self.output_size, self.output_ratio,
                    self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Fractional max pooling of (N, C, H, W) or (C, H, W) inputs (``F.fractional_max_pool2d``);
    like PyTorch's, its repr shows no arguments."""
    _dims = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Fractional max pooling of (N, C, T, H, W) or (C, T, H, W) inputs
    (``F.fractional_max_pool3d``); like PyTorch's, its repr shows no arguments."""
    _dims = 3
