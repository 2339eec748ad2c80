"""``F.fractional_max_pool2d_with_indices`` and ``..._3d``, torch's forms that always return
``(output, indices)`` (``return_indices`` is taken and ignored, as torch ignores it)."""
from __future__ import annotations

from .fractional_pool import fractional_max_pool2d, fractional_max_pool3d

__all__ = ["fractional_max_pool2d_with_indices", "fractional_max_pool3d_with_indices"]


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True,
                                 _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return fractional_max_pool3d(input, kernel_size, output_size, output_ratio, True,
                                 _random_samples)
