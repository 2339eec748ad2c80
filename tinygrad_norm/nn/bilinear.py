"""Bilinear, as ``torch.nn``: ``y = x1^T W x2 + b`` (``F.bilinear``) with PyTorch's init."""
from __future__ import annotations

import math

import numpy as np

from .. import devices as _devices
from .. import functional as F
from ..functional._checks import _flag
from . import init
from .linear import _count, _float_dtype
from .module import Module, Parameter

__all__ = ["Bilinear"]


class Bilinear(Module):
    """weight (out_features, in1_features, in2_features), bias (out_features,); both drawn from
    U(-1/sqrt(in1_features), 1/sqrt(in1_features)), as PyTorch, from the seeded generator."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__()
        cls = "Bilinear"
        self.in1_features = _count(in1_features, "in1_features", cls)
        self.in2_features = _count(in2_features, "in2_features", cls)
        if self.in1_features == 0:  # the init's bound is 1/sqrt(in1_features); as PyTorch
            raise ValueError(f"in1_features must be > 0, but got (in1_features={in1_features})")
        self.out_features = _count(out_features, "out_features", cls)
        bias = _flag(bias, "bias", cls)
        dtype = _float_dtype(dtype, cls)
        self.weight = Parameter(np.empty((self.out_features, self.in1_features,
                                          self.in2_features), dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
