"""``torch.autograd.Variable``, deprecated in torch since 0.4 but still in much older code:
``Variable(t, requires_grad=True)`` is a new leaf over ``t``'s memory, and every tensor is a
Variable for ``isinstance``. Bound as ``tinygrad_norm.autograd.Variable`` (and importable from
``tinygrad_norm.autograd.variable``) by the package's ``__init__``."""
from __future__ import annotations

import sys
import warnings

from . import autograd as _ag
from .tensor import Tensor

__all__ = ["Variable"]


class _VariableMeta(type):
    def __instancecheck__(cls, obj):  # torch: isinstance(any_tensor, Variable) is True
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """Variable(data, requires_grad=False, volatile=False): ``data.detach()`` made a leaf that
    requires grad as asked, sharing the array, as torch's; ``volatile`` warns as torch's and
    does nothing (use ``no_grad()``)."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with "
                          "torch.no_grad():` instead.", UserWarning, stacklevel=2)
        if not isinstance(requires_grad, bool):
            raise TypeError(f"Variable(): argument 'requires_grad' must be bool, not "
                            f"{type(requires_grad).__name__}")
        out = data.detach()
        return out.requires_grad_(True) if requires_grad else out


_ag.Variable = Variable
sys.modules.setdefault(f"{_ag.__name__}.variable", sys.modules[__name__])
