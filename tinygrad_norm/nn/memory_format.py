"""``torch.nn.utils.convert_conv2d_weight_memory_format`` and its 3-D twin: torch stores the
convolution weights of a module channels-last for faster kernels. NumPy arrays here have one
layout, so there is nothing to convert: the module comes back as it is, checked."""
from __future__ import annotations

from .module import Module

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def _same(module, memory_format, fn):
    if not isinstance(module, Module):
        raise TypeError(f"{fn}(): module must be a Module, got {type(module).__name__}")
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    return _same(module, memory_format, "convert_conv2d_weight_memory_format")


def convert_conv3d_weight_memory_format(module, memory_format):
    return _same(module, memory_format, "convert_conv3d_weight_memory_format")
