"""``pdist``, as ``torch.nn.functional.pdist``: the p-norm distance between every pair of rows,
a gather of the pairs' differences and the norm of ``torch.norm`` (``tensor_index._norm``), whose
gradient at a zero distance is 0 as PyTorch's pdist gives it."""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd import scope
from ..creation import _largest_each_tie_whole
from ..tensor import Tensor
from ..tensor_index import _norm

__all__ = ["pdist"]


def pdist(input, p=2):
    """Distances ``||x_i - x_j||_p`` for ``i < j`` of an (N, M) input, in row-major order of
    the pairs (0-1, 0-2, ..., 1-2, ...): shape (N * (N - 1) / 2,). ``p`` a non-negative number
    or inf (0 counts the differing coordinates). The pairwise differences are materialized,
    (N * (N - 1) / 2, M): fine for the small N it is meant for."""
    fn = "pdist"
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): input must be a Tensor, got {type(input).__name__}")
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real):
        raise TypeError(f"{fn}(): argument 'p' must be float, not {type(p).__name__}")
    if input.ndim != 2:
        raise ValueError(f"{fn} only supports 2D tensors, got: {input.ndim}D")
    if input.dtype.kind != "f":
        raise TypeError(f"{fn} only supports floating-point dtypes")
    if not p >= 0:  # NaN too
        raise ValueError(f"{fn} only supports non-negative p values")
    p = float(p)
    n, m = input.shape
    i, j = np.triu_indices(n, 1)
    with scope(fn, p=p):
        diff = input[i] - input[j]  # (pairs, M)
        if m == 0:  # no coordinates: every distance is 0 (the max of nothing would fail)
            return diff.sum(axis=1)
        if p == math.inf:  # every coordinate tied for the largest gets the whole gradient, as
            return _largest_each_tie_whole(diff.abs())  # torch's pdist (norm shares it)
        return _norm(diff, p, (1,), False)
