"""AdaptiveMaxPool1d and AdaptiveMaxPool2d, as ``torch.nn``."""
from __future__ import annotations

from .. import functional as F
from ..functional.adaptive_pool import _output_size
from .module import Module

__all__ = ["AdaptiveMaxPool1d", "AdaptiveMaxPool2d"]


class _AdaptiveMaxPoolNd(Module):
    _n, _pool = None, None

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        _output_size(output_size, self._n, type(self).__name__)  # checked now, not at the first call
        self.output_size, self.return_indices = output_size, bool(return_indices)

    def forward(self, input):
        return type(self)._pool(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """``F.adaptive_max_pool1d``: each of ``output_size`` overlapping windows along L."""

    _n, _pool = 1, staticmethod(F.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """``F.adaptive_max_pool2d``; ``output_size`` an int or a pair (None keeps that size)."""

    _n, _pool = 2, staticmethod(F.adaptive_max_pool2d)
