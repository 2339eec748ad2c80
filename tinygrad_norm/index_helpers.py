"""torch's index helpers: ``argwhere`` (the indices of the nonzero elements, one row each),
``unravel_index`` (flat indices to coordinates) and ``combinations`` (the r-element
combinations of a vector's elements, differentiable: a gather of the input)."""
from __future__ import annotations

import itertools
import numbers

import numpy as np

from .tensor import Tensor

__all__ = ["argwhere", "unravel_index", "combinations"]


def _tensor(x, fn, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def argwhere(input):
    """(n, input.ndim) int64: the index of each nonzero element, in row-major order."""
    return Tensor._wrap(np.argwhere(_tensor(input, "argwhere").numpy()).astype(np.int64))


def unravel_index(indices, shape):
    """A tuple of int64 tensors, one per dimension of ``shape``, each of ``indices``' shape, as
    torch's: an index out of range wraps (-1 is the last element), it is not refused."""
    _tensor(indices, "unravel_index", "indices")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    shape = tuple(shape)
    if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in shape):
        raise TypeError(f"unravel_index(): 'shape' must be a sequence of ints, got {shape!r}")
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    if 0 in shape:
        raise ValueError(f"unravel_index(): 'shape' {shape} has no elements to index")
    flat = indices.numpy().astype(np.int64) % max(1, int(np.prod(shape)))  # torch's wrap
    coords = []
    for size in reversed(shape):  # the last dimension varies fastest
        coords.append(flat % size)
        flat = flat // size
    return tuple(Tensor._wrap(c) for c in reversed(coords))


def combinations(input, r=2, with_replacement=False):
    """(n_comb, r): the r-element combinations of a 1-D tensor's elements in lexicographic
    order of positions (with repeats when ``with_replacement``), as ``itertools`` and torch.
    ``r=0`` gives an empty 1-D tensor, as torch's."""
    _tensor(input, "combinations")
    if input.ndim != 1:
        raise ValueError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if isinstance(r, bool) or not isinstance(r, numbers.Integral):
        raise TypeError(f"combinations(): argument 'r' must be int, not {type(r).__name__}")
    if r < 0:
        raise ValueError(f"Expect a non-negative number, but got {r}")
    if not isinstance(with_replacement, (bool, np.bool_)):
        raise TypeError(f"combinations(): argument 'with_replacement' must be bool, not "
                        f"{type(with_replacement).__name__}")
    if r == 0:
        return input[np.zeros(0, dtype=np.int64)]
    pick = itertools.combinations_with_replacement if with_replacement \
        else itertools.combinations
    idx = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return input[idx]


for _name in ("argwhere",):  # torch's Tensor methods among these
    setattr(Tensor, _name, globals()[_name])
del _name
