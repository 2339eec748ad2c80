"""torch's ``put`` and ``Tensor.put_``/``put``: ``source``'s elements written into ``input``
read as 1-D at ``index`` (negative indices count from the end), or added with
``accumulate=True``. A composite of ``index_put`` on the flat tensor: ``source`` gets the
gradient at the places written, ``input`` everywhere else (everywhere with ``accumulate``)."""
from __future__ import annotations

import numpy as np

from .tensor import Tensor

__all__ = ["put"]


def _checked(input, index, source):
    for v, name in ((input, "input"), (index, "index"), (source, "source")):
        if not isinstance(v, Tensor):
            raise TypeError(f"put(): argument '{name}' must be Tensor, not {type(v).__name__}")
    idx = index._data
    if idx.dtype != np.int64:  # torch's words (a RuntimeError there)
        raise TypeError(f"put_(): Expected a long tensor for index, but got {idx.dtype}")
    if source.dtype != input.dtype:
        raise TypeError(f"put_(): self and source expected to have the same dtype, but got "
                        f"self.dtype = {input.dtype} and source.dtype = {source.dtype}")
    if source.numel() != idx.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {source.numel()}, index.numel() = "
                         f"{idx.size}")
    n = input.numel()
    bad = idx[(idx < -n) | (idx >= n)]
    if bad.size:
        raise IndexError(f"out of range: tried to access index {int(bad.flat[0])} on a tensor "
                         f"of {n} elements.")
    return Tensor._wrap(np.where(idx < 0, idx + n, idx).reshape(-1))


def put(input, index, source, accumulate=False):
    """``input`` with ``source`` put at the flat places ``index``, out of place, as
    ``torch.put``; where ``index`` repeats a place without ``accumulate``, the last wins
    (torch leaves it undefined)."""
    flat = _checked(input, index, source)
    if not isinstance(accumulate, (bool, np.bool_)):
        raise TypeError(f"put(): argument 'accumulate' must be bool, not "
                        f"{type(accumulate).__name__}")
    out = input.reshape(-1).index_put((flat,), source.reshape(-1), bool(accumulate))
    return out.reshape(input.shape)


def _put_(self, index, source, accumulate=False):
    """``put`` in place, as ``torch.Tensor.put_``; the checks run before anything is written."""
    _checked(self, index, source)
    return self._write_("put_", lambda t: put(t, index, source, accumulate), source)


Tensor.put = put
Tensor.put_ = _put_
