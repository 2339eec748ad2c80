"""``torch.asarray`` and ``torch.scalar_tensor``: a tensor from data, sharing memory where it
can, as torch's.

``asarray`` returns a Tensor itself (or a copy on the graph with ``copy=True``, or a cast when
``dtype`` differs), shares a NumPy array's memory unless a copy is needed (``copy=False``
refuses one, with torch's message), and builds Python data as ``tg.tensor`` does (its dtypes
are torch's: ints int64, floats the default float, bools bool)."""
from __future__ import annotations

import numbers

import numpy as np

from . import default_dtype as _dd
from . import devices as _devices
from .tensor import Tensor, _bool_arg, _dtype_arg, tensor

__all__ = ["asarray", "scalar_tensor"]


def _cant_alias(src, dst):
    return ValueError(f"can't alias tensor with dtype '{src}' into dtype '{dst}'.")


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    _devices.check_device(device, "asarray()")
    requires_grad = _bool_arg(requires_grad, "requires_grad", "asarray")
    if copy is not None and not isinstance(copy, (bool, np.bool_)):
        raise TypeError(f"asarray(): copy must be a bool or None, got {type(copy).__name__}")
    want = None if dtype is None else _dtype_arg(dtype, "asarray")
    if isinstance(obj, Tensor):
        if want is None or want == obj.dtype:
            out = obj.clone() if copy else obj
        elif copy is False:
            raise _cant_alias(obj.dtype, want)
        else:
            out = obj.astype(want)
    elif isinstance(obj, np.ndarray):
        if (want is None or want == obj.dtype) and not copy:
            out = Tensor(obj)  # shares the array, as torch.from_numpy
        elif copy is False:
            raise _cant_alias(obj.dtype, want)
        else:
            out = Tensor(np.array(obj, dtype=want, copy=True))
    else:
        out = tensor(obj, dtype=want)
    if requires_grad and not out.requires_grad:
        out.requires_grad_(True)  # a float leaf, or the method's own error
    return out


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor of the number ``s``, in the default float dtype unless ``dtype`` (a bool
    or int too: torch's scalar_tensor is float unless told)."""
    _devices.check_device(device, "scalar_tensor()")
    if isinstance(s, Tensor) or not isinstance(s, numbers.Number) or isinstance(s, complex):
        raise TypeError(f"scalar_tensor(): argument 's' must be a real number, not "
                        f"{type(s).__name__}")
    dt = _dd.DEFAULT if dtype is None else _dtype_arg(dtype, "scalar_tensor")
    return Tensor(np.array(s, dtype=dt), requires_grad=requires_grad)
