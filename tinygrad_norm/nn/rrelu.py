"""RReLU, as ``torch.nn``: random slopes in training, their mean in eval."""
from __future__ import annotations

from .. import functional as F
from ..functional.activation import _inplace_flag
from ..functional.sampling import _bounds
from .module import Module

__all__ = ["RReLU"]


class RReLU(Module):
    """``F.rrelu`` with the module's training flag: slopes drawn from U(lower, upper) per
    element in training, ``(lower + upper) / 2`` in eval."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.inplace = _inplace_flag(inplace, "RReLU")
        _bounds(lower, upper, "RReLU")
        self.lower, self.upper = lower, upper

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace
                                                              else "")
