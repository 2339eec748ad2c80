"""torch's bitwise and integer functions under their names: ``bitwise_and``, ``bitwise_or``,
``bitwise_xor``, ``bitwise_not``, ``bitwise_left_shift``, ``bitwise_right_shift``, ``gcd`` and
``lcm`` (also as Tensor methods). No gradient: integer results.

The binary ones are the Tensor operators (``&``, ``|``, ``^``, ``<<``, ``>>``), so dtypes,
broadcasting and the shift rules (a count past the width gives 0) are theirs. ``bitwise_not``
is ``~`` on bool tensors and the two's-complement inverse on integers (the operator ``~`` here
takes bools only). Floats are a TypeError, as torch's "not implemented".
"""
from __future__ import annotations

import numbers

import numpy as np

from .tensor import Tensor
from .tensor_queries import result_type

__all__ = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
           "bitwise_right_shift", "gcd", "lcm"]


def _either_tensor(a, b, fn):
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{fn}(): expected at least one Tensor argument, got "
                        f"{type(a).__name__} and {type(b).__name__}")


def bitwise_and(input, other):
    _either_tensor(input, other, "bitwise_and")
    return input & other


def bitwise_or(input, other):
    _either_tensor(input, other, "bitwise_or")
    return input | other


def bitwise_xor(input, other):
    _either_tensor(input, other, "bitwise_xor")
    return input ^ other


def bitwise_left_shift(input, other):
    _either_tensor(input, other, "bitwise_left_shift")
    return input << other


def bitwise_right_shift(input, other):
    _either_tensor(input, other, "bitwise_right_shift")
    return input >> other


def bitwise_not(input):
    if not isinstance(input, Tensor):
        raise TypeError(f"bitwise_not(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not(): not implemented for dtype {input.dtype} (bool and "
                        f"integer tensors only)")
    return Tensor._wrap(np.invert(input.numpy()))  # on bools NumPy's invert is logical not


def _integers(a, b, fn):
    """Both operands as arrays of torch's common integer dtype (bools refused, as torch)."""
    _either_tensor(a, b, fn)
    for x, name in ((a, "input"), (b, "other")):
        kind = x.dtype.kind if isinstance(x, Tensor) else (
            "i" if isinstance(x, numbers.Integral) and not isinstance(x, bool) else "x")
        if kind not in "iu":
            what = x.dtype if isinstance(x, Tensor) else type(x).__name__
            raise TypeError(f"{fn}(): argument '{name}' must be an integer tensor or int, got "
                            f"{what}")
    dt = result_type(a, b)
    arrays = [np.asarray(x.numpy() if isinstance(x, Tensor) else x).astype(dt, copy=False)
              for x in (a, b)]
    try:
        np.broadcast_shapes(*(x.shape for x in arrays))
    except ValueError:
        raise ValueError(f"{fn}(): operands of shapes {arrays[0].shape} and {arrays[1].shape} "
                         f"cannot be broadcast together") from None
    return arrays


def gcd(input, other):
    """Greatest common divisor, elementwise (never negative; ``gcd(0, 0) = 0``)."""
    return Tensor._wrap(np.asarray(np.gcd(*_integers(input, other, "gcd"))))


def lcm(input, other):
    """Least common multiple, elementwise (never negative; 0 where either is 0)."""
    return Tensor._wrap(np.asarray(np.lcm(*_integers(input, other, "lcm"))))


for _name in __all__:  # torch has each as a Tensor method too
    setattr(Tensor, _name, globals()[_name])
del _name
