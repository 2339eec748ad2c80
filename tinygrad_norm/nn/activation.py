"""Activation layers, as ``torch.nn`` (names, arguments and reprs)."""
from __future__ import annotations

import numpy as np

from .. import devices as _devices
from .. import functional as F
from ..tensor import Tensor
from ..functional.activation import _inplace_flag, _number
from . import init
from .linear import _count, _float_dtype
from .module import Module, Parameter

__all__ = ["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "GELU", "SiLU", "ELU",
           "Softplus", "LogSigmoid", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Mish",
           "SELU", "CELU", "Softsign", "Tanhshrink", "Softshrink", "Hardshrink", "Threshold",
           "PReLU", "GLU", "Softmin", "Softmax2d"]


def _inplace_repr(m, sep=""):
    """torch's ``inplace=True`` in a layer's repr, only when set."""
    return f"{sep}inplace=True" if m.inplace else ""


class ReLU(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = _inplace_flag(inplace, "ReLU")

    def forward(self, input):
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self):
        return _inplace_repr(self)


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = _inplace_flag(inplace, "LeakyReLU")

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, inplace=self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + _inplace_repr(self, ", ")


class Sigmoid(Module):
    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    def forward(self, input):
        return F.tanh(input)


class Softmax(Module):
    """Softmax along ``dim`` (None: PyTorch's implicit choice, with its warning)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, input):
        return F.log_softmax(input, self.dim)


class GELU(Module):
    """GELU, exact (``approximate="none"``) or with the tanh approximation."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = _inplace_flag(inplace, "SiLU")

    def forward(self, input):
        return F.silu(input, inplace=self.inplace)

    def extra_repr(self):
        return _inplace_repr(self)


class ELU(Module):
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, _inplace_flag(inplace, "ELU")

    def forward(self, input):
        return F.elu(input, self.alpha, inplace=self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + _inplace_repr(self, ", ")


class Softplus(Module):
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class LogSigmoid(Module):
    def forward(self, input):
        return F.logsigmoid(input)


class Hardtanh(Module):
    """``F.hardtanh``; ``max_val`` must be greater than ``min_val``, as PyTorch asserts."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        self.inplace = _inplace_flag(inplace, type(self).__name__)
        if not _number(max_val, "max_val", "Hardtanh") > _number(min_val, "min_val", "Hardtanh"):
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val "
                             f"({min_val})")
        self.min_val, self.max_val = min_val, max_val

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, inplace=self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + _inplace_repr(self, ", ")


class ReLU6(Hardtanh):
    """``F.relu6``: Hardtanh(0, 6), as PyTorch's subclass."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_repr(self)


class _Plain(Module):
    """An activation without arguments but PyTorch's ``inplace``."""

    _fn = None
    _shows_inplace = True  # in the repr, as torch's (not Hardsigmoid's, Hardswish's)

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = _inplace_flag(inplace, type(self).__name__)

    def forward(self, input):
        return type(self)._fn(input, inplace=self.inplace)

    def extra_repr(self):
        return _inplace_repr(self) if self._shows_inplace else ""


class Hardsigmoid(_Plain):
    _fn, _shows_inplace = staticmethod(F.hardsigmoid), False


class Hardswish(_Plain):
    _fn, _shows_inplace = staticmethod(F.hardswish), False


class Mish(_Plain):
    _fn = staticmethod(F.mish)


class SELU(_Plain):
    _fn = staticmethod(F.selu)


class CELU(Module):
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, _inplace_flag(inplace, "CELU")

    def forward(self, input):
        return F.celu(input, self.alpha, inplace=self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + _inplace_repr(self, ", ")


class Softsign(Module):
    def forward(self, input):
        return F.softsign(input)


class Tanhshrink(Module):
    def forward(self, input):
        return F.tanhshrink(input)


class Softshrink(Module):
    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Softshrink):
    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class Threshold(Module):
    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value = threshold, value
        self.inplace = _inplace_flag(inplace, "Threshold")

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, inplace=self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + _inplace_repr(self, ", ")


class PReLU(Module):
    """``F.prelu`` with a learnable ``weight`` of ``num_parameters`` slopes (1: shared, or one
    per channel), each ``init``, as PyTorch."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__()
        self.num_parameters = _count(num_parameters, "num_parameters", "PReLU")
        _number(init, "init", "PReLU")
        self.init = init  # as given, as PyTorch keeps it
        self.weight = Parameter(np.empty(self.num_parameters, _float_dtype(dtype, "PReLU")))
        self.reset_parameters()

    def reset_parameters(self):
        init.constant_(self.weight, self.init)

    def forward(self, input):
        self._check_input(input, "PReLU")
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class GLU(Module):
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmin(Softmax):
    """``F.softmin`` along ``dim`` (None: PyTorch's implicit choice, with its warning)."""

    def forward(self, input):
        return F.softmin(input, self.dim)


class Softmax2d(Module):
    """Softmax over the channels of a (N, C, H, W) or (C, H, W) input, at every position."""

    def forward(self, input):
        if isinstance(input, Tensor) and input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D "
                             f"instead")
        return F.softmax(input, -3)
