"""``torch.nn.parameter``'s names, for imports spelled as torch's (``from torch.nn.parameter
import Parameter``): Parameter, Buffer, UninitializedParameter, UninitializedBuffer, is_lazy."""
from __future__ import annotations

from .module import Buffer, Parameter
from .uninitialized_params import UninitializedBuffer, UninitializedParameter, is_uninitialized

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "is_lazy"]


def is_lazy(param):
    """True for an ``UninitializedParameter`` or ``UninitializedBuffer`` (not yet
    materialized), as torch's."""
    return is_uninitialized(param)
