"""Shape checks shared by functions that compute with NumPy directly (not through the operators,
which word their own broadcast errors): NumPy's "operands could not be broadcast together with
shapes (3,4) (4,3)" names neither the function nor the arguments."""
from __future__ import annotations

import numpy as np


def broadcast(fn, **shapes):
    """The broadcast shape of the named shapes, or a ValueError naming the function and each
    argument with its shape (``xlogy(): the shapes of input [3, 4] and other [4, 3] cannot be
    broadcast together``)."""
    try:
        return np.broadcast_shapes(*shapes.values())
    except ValueError:
        listed = [f"{name} {list(shape)}" for name, shape in shapes.items()]
        joined = ", ".join(listed[:-1]) + " and " + listed[-1]
        raise ValueError(f"{fn}(): the shapes of {joined} cannot be broadcast together") from None
