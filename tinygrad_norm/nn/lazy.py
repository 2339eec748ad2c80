"""LazyLinear, as ``torch.nn.LazyLinear``: a Linear whose ``in_features`` is read off the first
input.

Simplified from PyTorch's ``UninitializedParameter`` machinery: before the first call the
module is a ``Linear(0, out_features)`` -- ``weight`` an empty (out_features, 0) Parameter,
``bias`` zeros -- so its state dict holds those (PyTorch's holds uninitialized parameters, and
loading a state dict into it materializes them; here the shapes do not match: call the module
once first). The first call gives the same Parameter objects their real arrays, draws them as
``Linear.reset_parameters`` does, and turns the module into a plain ``Linear``, as PyTorch's
``cls_to_become``; an optimizer built before that holds those objects and sees the new
arrays."""
from __future__ import annotations

import numpy as np

from .. import devices as _devices
from ..functional._checks import _flag
from ..tensor import Tensor
from .linear import Linear, _count, _float_dtype
from .module import Module, Parameter
from .uninitialized_params import has_uninitialized, mark_module, unmark_module

__all__ = ["LazyLinear"]


class LazyLinear(Linear):
    """``Linear`` with ``in_features`` inferred from the last axis of the first input."""

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        Module.__init__(self)
        self.in_features = 0
        self.out_features = _count(out_features, "out_features", "LazyLinear")
        bias = _flag(bias, "bias", "LazyLinear")
        dtype = _float_dtype(dtype, "LazyLinear")
        self.weight = Parameter(np.empty((self.out_features, 0), dtype))
        if bias:
            self.bias = Parameter(np.zeros(self.out_features, dtype))
        else:
            self.register_parameter("bias", None)
        mark_module(self)  # nn.UninitializedParameter until the first call, as torch's

    def has_uninitialized_params(self):
        """True until the first call (PyTorch's name)."""
        return has_uninitialized(self)

    def reset_parameters(self):
        """Nothing to draw before ``in_features`` is known (PyTorch's lazy modules skip it)."""

    def initialize_parameters(self, input):
        """Give the parameters ``input.shape[-1]`` input features and draw them, then become a
        ``Linear`` (what the first call does; PyTorch's name)."""
        if not isinstance(input, Tensor):
            raise TypeError(f"LazyLinear: input must be a Tensor, got {type(input).__name__}")
        if input.ndim == 0:
            raise ValueError("LazyLinear: input must have at least one dimension (the features)")
        self.in_features = int(input.shape[-1])
        dtype = self.weight.dtype
        # the same Parameter objects take the new arrays: whoever holds them (an optimizer)
        # sees the materialized parameters
        self.weight._data = np.empty((self.out_features, self.in_features), dtype)
        unmark_module(self)
        self.__class__ = self.cls_to_become
        self.reset_parameters()

    def forward(self, input):
        self._check_input(input)  # a wrong dtype refused before the parameters change
        self.initialize_parameters(input)
        return self.forward(input)
