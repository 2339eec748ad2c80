"""Shape checks shared by functions that compute with NumPy directly (not through the operators,
which word their own broadcast errors): NumPy's "operands could not be broadcast together with
shapes (3,4) (4,3)" names neither the function nor the arguments."""
from __future__ import annotations

import numbers

import numpy as np

from ._argname import called


def broadcast(fn, *shapes):
    """The broadcast shape of ``shapes``, or a ValueError in the operators' words, naming the
    function (``xlogy(): operands of shapes (3, 4) and (4, 3) cannot be broadcast together``)."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = ", ".join(map(str, shapes[:-1])) + f" and {shapes[-1]}"
        raise ValueError(f"{called(fn, '(): ')}operands of shapes {listed} cannot be broadcast "
                         f"together") from None  # copysign_ names itself, not copysign


def int_tuple(value, fn, name, one_int=True):
    """``value`` (an int when ``one_int``, or a list/tuple of ints) as a tuple, or torch's
    parser's TypeError naming the function and the argument: ``tuple(1.5)`` said "'float'
    object is not iterable", naming neither."""
    if one_int and isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, (list, tuple)) and all(
            isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in value):
        return tuple(value)
    raise TypeError(f"{fn}(): argument '{name}' must be tuple of ints, not "
                    f"{type(value).__name__}")
