"""torch's functions on the representation of floats: ``frexp``, ``ldexp``, ``nextafter``,
``isposinf``, ``isneginf``, ``isreal``, ``heaviside`` (also as Tensor methods).

``frexp``'s mantissa and ``ldexp`` are products with a power of two, so their gradients come
from the tape (``frexp``: 2**-exponent, as torch's; ``ldexp``: to both arguments). ``nextafter``
passes its input's gradient through unchanged and none to ``other``, as torch. ``heaviside``
and the tests have no gradient (torch has none for heaviside either).
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from . import _shape_checks
from . import default_dtype as _dd
from .tensor import Tensor, where
from .tensor_queries import result_type

__all__ = ["frexp", "ldexp", "nextafter", "isposinf", "isneginf", "isreal", "heaviside"]

_Frexp = namedtuple("frexp", ["mantissa", "exponent"])  # torch.return_types.frexp's fields


def _tensor(x, fn, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def frexp(input):
    """``(mantissa, exponent)`` with ``input = mantissa * 2**exponent``, ``|mantissa|`` in
    [0.5, 1) (0, inf and NaN as they are, exponent 0); the exponent int32, as torch's."""
    if _tensor(input, "frexp").dtype.kind != "f":
        raise TypeError("torch.frexp() only supports floating-point dtypes")
    _, e = np.frexp(input.numpy())
    # mantissa = input * 2**-e, exact (powers of two), in two halves: 2**-e alone overflows
    # for a subnormal input (e about -1070 in float64)
    half = -e // 2
    one = np.ones((), input.dtype)
    mantissa = input * Tensor(np.ldexp(one, half)) * Tensor(np.ldexp(one, -e - half))
    return _Frexp(mantissa, Tensor._wrap(e.astype(np.int32)))


def ldexp(input, other):
    """``input * 2**other``, floating point (integer inputs in the default dtype), as torch's."""
    _tensor(input, "ldexp")
    _tensor(other, "ldexp", "other")
    x = input if input.dtype.kind == "f" else input.astype(_dd.DEFAULT)
    e = other if other.dtype.kind == "f" else other.astype(x.dtype)
    return x * 2.0 ** e


def nextafter(input, other):
    """The next float after ``input`` towards ``other``, in their common float dtype."""
    _tensor(input, "nextafter")
    _tensor(other, "nextafter", "other")
    dt = result_type(input, other)
    if dt.kind != "f":
        raise TypeError(f"nextafter(): not implemented for dtype {dt} (floating point only)")
    if input.shape != other.shape:  # (NumPy's words would name neither)
        _shape_checks.broadcast("nextafter", input.shape, other.shape)
    x = input.astype(dt)
    nxt = np.nextafter(x.numpy(), other.numpy().astype(dt))
    # value nxt, gradient 1 to the input: x + (nxt - x) is exact for finite x (the step is one
    # ulp); an infinite x, whose step is no number, takes nxt as a constant
    finite = np.isfinite(x.numpy())
    with np.errstate(invalid="ignore", over="ignore"):
        step = np.where(finite, nxt - x.numpy(), 0).astype(dt)
    return where(Tensor(finite), x + Tensor(step), Tensor(nxt))


def isposinf(input):
    return Tensor._wrap(np.isposinf(_tensor(input, "isposinf").numpy()))


def isneginf(input):
    return Tensor._wrap(np.isneginf(_tensor(input, "isneginf").numpy()))


def isreal(input):
    """All True: a Tensor here holds real numbers only."""
    return Tensor._wrap(np.ones(_tensor(input, "isreal").shape, dtype=np.bool_))


def heaviside(input, values):
    """0 where ``input < 0`` (and NaN), ``values`` where it is 0, 1 where positive, as torch's;
    both of one dtype (torch's rule). No gradient."""
    _tensor(input, "heaviside")
    _tensor(values, "heaviside", "values")
    if input.dtype != values.dtype:
        raise TypeError("heaviside is not yet implemented for tensors with different dtypes.")
    x, v = input.numpy(), values.numpy()
    try:
        out = np.where(x == 0, v, (x > 0).astype(x.dtype))
    except ValueError:
        raise ValueError(f"heaviside(): shapes {input.shape} and {values.shape} cannot be "
                         f"broadcast together") from None
    return Tensor._wrap(np.asarray(out, dtype=x.dtype))


for _name in __all__:  # torch has each as a Tensor method too
    setattr(Tensor, _name, globals()[_name])
del _name
