"""Shape checks shared by functions that compute with NumPy directly (not through the operators,
which word their own broadcast errors): NumPy's "operands could not be broadcast together with
shapes (3,4) (4,3)" names neither the function nor the arguments."""
from __future__ import annotations

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
