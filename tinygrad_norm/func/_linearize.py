"""``linearize``: a function's value at the primals and its Jacobian-vector product there."""
from __future__ import annotations

import numpy as np

from . import _pytree as tree
from ._jac import jvp


def linearize(func, *primals):
    """``(func(*primals), jvp_fn)``, as ``torch.func.linearize``: ``jvp_fn(*tangents)`` is the
    Jacobian of ``func`` at ``primals`` times ``tangents`` (forward mode, one pass of ``func``
    per call: nothing is cached, the values are torch's). The output stays on the caller's
    graph, and so does ``jvp_fn``'s where the primals require grad."""
    output = func(*primals)
    leaves, spec = tree.flatten(primals)

    def jvp_fn(*tangents):
        tleaves, tspec = tree.flatten(tangents)
        if tspec != spec:
            raise ValueError(f"Expected the tangents {tree.describe(tspec)} to have the same "
                             f"argspec as the primals {tree.describe(spec)}")
        for i, (p, t) in enumerate(zip(leaves, tleaves)):
            if tuple(t.shape) != tuple(p.shape):
                raise ValueError(f"tangent:{i} with shape {tuple(t.shape)} in flattened pytree "
                                 f"doesn't match the shape {tuple(p.shape)} of the "
                                 f"corresponding primal.")
            if np.dtype(t.dtype) != np.dtype(p.dtype):
                raise TypeError(f"tangent:{i} with dtype {t.dtype} in flattened pytree doesn't "
                                f"match the dtype {p.dtype} of the corresponding primal.")
        return jvp(func, primals, tangents)[1]

    return output, jvp_fn
