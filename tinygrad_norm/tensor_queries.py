"""torch's questions about a tensor's dtype and size, and its type-promotion functions:
``is_floating_point``, ``is_complex``, ``is_signed``, ``is_nonzero``, ``is_same_size`` (also as
Tensor methods), ``promote_types``, ``result_type``, ``can_cast``.

Promotion is torch's, which differs from NumPy's in two places: a float type absorbs any
integer type whole (float16 with int64 is float16; NumPy says float64), and in ``result_type``
a dimensioned tensor's dtype wins over a 0-d tensor's and that over a Python number's within a
category (a float64 0-d tensor with a float32 vector is float32), while a higher category always
wins (an int vector with a float number is the default float dtype).
"""
from __future__ import annotations

import numbers

import numpy as np

from . import default_dtype as _dd
from .tensor import Tensor, _dtype_arg

__all__ = ["is_floating_point", "is_complex", "is_signed", "is_nonzero", "is_same_size",
           "promote_types", "result_type", "can_cast"]

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # torch's: bool < integer < float


def _tensor(x, fn, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def is_floating_point(input):
    return _tensor(input, "is_floating_point").dtype.kind == "f"


def is_complex(input):
    """False: a Tensor here never holds complex numbers."""
    _tensor(input, "is_complex")
    return False


def is_signed(input):
    """Whether the dtype holds negative numbers (bool and unsigned integers do not)."""
    return _tensor(input, "is_signed").dtype.kind in "if"


def is_nonzero(input):
    """The truth of a one-element tensor, as ``torch.is_nonzero``; any other size is ambiguous
    (torch's message, as a ValueError)."""
    n = _tensor(input, "is_nonzero").size
    if n != 1:
        what = "no values" if n == 0 else "more than one value"
        raise ValueError(f"Boolean value of Tensor with {what} is ambiguous")
    return bool(input.numpy().reshape(()) != 0)


def is_same_size(input, other):
    return _tensor(input, "is_same_size").shape == _tensor(other, "is_same_size",
                                                           "other").shape


def _dtype(v, fn):
    if v is None:  # np.dtype(None) is float64: an answer to a question nobody asked
        raise TypeError(f"{fn}(): dtype must be a NumPy dtype, got None")
    return _dtype_arg(v, fn)


def _promote(a, b):
    """torch's promotion of two dtypes (see the module docstring)."""
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def promote_types(type1, type2):
    """The smallest dtype both promote to under torch's rules, as ``torch.promote_types``."""
    return _promote(_dtype(type1, "promote_types"), _dtype(type2, "promote_types"))


def _number_dtype(x, fn, name):
    """The dtype a Python number takes in an operation: bool, int64, or the default float."""
    if isinstance(x, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(x, numbers.Integral):
        return np.dtype(np.int64)
    if isinstance(x, numbers.Real):
        return np.dtype(_dd.DEFAULT)
    raise TypeError(f"{fn}(): argument '{name}' must be a Tensor or a real number, not "
                    f"{type(x).__name__}")


def _combine(higher, lower):
    """A result of a higher-priority group (dimensioned over 0-d over numbers) meets a lower one:
    the higher keeps its dtype unless the lower is of a higher category."""
    if higher is None or lower is None:
        return lower if higher is None else higher
    if higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return _promote(higher, lower)
    return higher


def result_type(tensor1, tensor2):
    """The dtype an arithmetic operation of the two would give, as ``torch.result_type``; each a
    Tensor or a Python number."""
    groups = [None, None, None]  # dimensioned tensors, 0-d tensors, numbers
    for x, name in ((tensor1, "tensor1"), (tensor2, "tensor2")):
        if isinstance(x, Tensor):
            g, dt = (0 if x.ndim else 1), x.dtype
        else:
            g, dt = 2, _number_dtype(x, "result_type", name)
        groups[g] = dt if groups[g] is None else _promote(groups[g], dt)
    return _combine(groups[0], _combine(groups[1], groups[2]))


def can_cast(from_, to):
    """Whether torch's casting rules allow ``from_`` to ``to`` without a lower category: no
    float to integer or bool, no integer to bool."""
    a, b = _dtype(from_, "can_cast"), _dtype(to, "can_cast")
    if a.kind == "f" and b.kind in "biu":
        return False
    return not (a.kind != "b" and b.kind == "b")


# the same questions as Tensor methods, as torch has them
for _name in ("is_floating_point", "is_complex", "is_signed", "is_nonzero", "is_same_size"):
    setattr(Tensor, _name, globals()[_name])
del _name
