"""PyTorch's tensor functions beyond the operators: ``prod`` (a primitive), and ``roll``,
``tril``/``triu``, ``diagonal``, ``trace``, ``outer``, ``bmm`` and ``baddbmm``, composites of
indexing, selects and products, so every derivative comes from the primitives below them. Each
is a Tensor method as well (``x.roll(1)``) where torch has one. Arguments keep torch's names;
errors are ValueError/TypeError with torch's wording."""
from __future__ import annotations

import numbers

import numpy as np

from . import ops
from .tensor import Tensor, _bool_arg, _axes, _one_axis, apply, matmul, where

__all__ = ["prod", "roll", "tril", "triu", "diagonal", "trace", "outer", "bmm", "baddbmm"]


def _tensor(x, fn, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): {name} must be a Tensor, got {type(x).__name__}")
    return x


def _int(v, fn, name):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{fn}(): {name} must be an int, got {type(v).__name__}")
    return int(v)


def prod(input, axis=None, keepdims=False):
    """The product of the elements over ``axis`` (an int, a tuple or None for all), as
    ``torch.prod`` (which takes one dim); integers and bools give int64. The gradient is
    torch's where factors are 0 (see ``ops.Prod``)."""
    x = _tensor(input, "prod")
    keep = _bool_arg(keepdims, "keepdim", "prod")
    return apply(ops.Prod, x, axis=_axes(axis, x._data.ndim), keepdims=keep)


def roll(input, shifts, dims=None):
    """The elements shifted by ``shifts`` along ``dims`` (ints, or tuples of one length), those
    pushed off one end coming back at the other, as ``torch.roll``; without ``dims``, of the
    flattened tensor, reshaped back. A new tensor, always."""
    x = _tensor(input, "roll")
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    shifts = tuple(_int(s, "roll", "shifts") for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise ValueError(f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, "
                             f"dims:0")
        return roll(x.reshape(-1), shifts, 0).reshape(x.shape)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if not shifts:
        raise ValueError("roll(): `shifts` required")
    if len(shifts) != len(dims):
        raise ValueError(f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, "
                         f"dims:{len(dims)}")
    nd = x._data.ndim
    axes = [_one_axis(_int(d, "roll", "dims"), nd, "dims") for d in dims]
    out = x
    for s, d in zip(shifts, axes):  # a dim named twice rolls twice, as torch
        n = x._data.shape[d]
        s = s % n if n else 0
        if s:
            lead = (slice(None),) * d
            # the last s elements, then the rest: two slices and one concatenation
            out = apply(ops.Concatenate, out[lead + (slice(n - s, None),)],
                        out[lead + (slice(0, n - s),)], axis=d)
    return out if out is not x else x.clone()


def _triangle(x, diagonal, fn, lower):
    x = _tensor(x, fn)
    k = _int(diagonal, fn, "diagonal")
    if x._data.ndim < 2:
        raise ValueError(f"{fn}: input tensor must have at least 2 dimensions")
    m, n = x._data.shape[-2:]
    keep = np.tri(m, n, k, dtype=bool) if lower else ~np.tri(m, n, k - 1, dtype=bool)
    # a select, so the gradient above (below) the diagonal is exactly 0, as torch's
    return where(keep, x, Tensor._wrap(np.zeros((), x._data.dtype)))


def tril(input, diagonal=0):
    """The lower triangle of the last two axes (on and below ``diagonal``; 1 takes one more
    diagonal, -1 one fewer), the rest 0, as ``torch.tril``."""
    return _triangle(input, diagonal, "tril", True)


def triu(input, diagonal=0):
    """The upper triangle of the last two axes (on and above ``diagonal``), as ``torch.triu``."""
    return _triangle(input, diagonal, "triu", False)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the planes spanned by ``dim1`` and ``dim2``, shifted right by ``offset``
    (left when negative), as a new last axis, as ``torch.diagonal`` (which returns a view; this
    is a copy, and its gradient is scattered back)."""
    x = _tensor(input, "diagonal")
    offset = _int(offset, "diagonal", "offset")
    nd = x._data.ndim
    if nd == 0:  # else "tuple index out of range" from the axis check
        raise IndexError(f"diagonal(): Dimension specified as {dim1} but tensor has no "
                         f"dimensions")
    d1 = _one_axis(_int(dim1, "diagonal", "dim1"), nd, "dim1")
    d2 = _one_axis(_int(dim2, "diagonal", "dim2"), nd, "dim2")
    if d1 == d2:
        raise ValueError(f"diagonal(): diagonal dimensions cannot be identical {dim1}, {dim2}")
    n1, n2 = x._data.shape[d1], x._data.shape[d2]
    length = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    i = np.arange(length)
    rows, cols = (i, i + offset) if offset >= 0 else (i - offset, i)
    rest = [a for a in range(nd) if a not in (d1, d2)]
    moved = x if rest + [d1, d2] == list(range(nd)) else x.transpose(rest + [d1, d2])
    return moved[..., rows, cols]


def trace(input):
    """The sum of the main diagonal of a matrix, as ``torch.trace``."""
    x = _tensor(input, "trace")
    if x._data.ndim != 2:
        raise ValueError(f"trace: expected a matrix, but got tensor with dim {x.data.ndim}")
    return diagonal(x).sum()


def outer(input, vec2):
    """``input[i] * vec2[j]``, the outer product of two vectors, as ``torch.outer``."""
    a, b = _tensor(input, "outer"), _tensor(vec2, "outer", "vec2")
    for v, name in ((a, "self"), (b, "vec2")):
        if v._data.ndim != 1:
            raise ValueError(f"outer: Expected 1-D argument {name}, but got {v.data.ndim}-D")
    return a.reshape(-1, 1) * b.reshape(1, -1)


def _batches(batch1, batch2, fn, names):
    a, b = _tensor(batch1, fn, names[0]), _tensor(batch2, fn, names[1])
    for v, name in ((a, names[0]), (b, names[1])):
        if v._data.ndim != 3:
            raise ValueError(f"{fn}(): {name} must be a 3D tensor")
    want = [a._data.shape[0], a._data.shape[2]]
    if list(b._data.shape[:2]) != want:
        raise ValueError(f"{fn}(): Expected size for first two dimensions of {names[1]} tensor "
                         f"to be: {want} but got: {list(b.data.shape[:2])}.")
    return a, b


def bmm(input, mat2):
    """Batched matrix products of (b, n, m) and (b, m, p) tensors, without broadcasting, as
    ``torch.bmm``."""
    a, b = _batches(input, mat2, "bmm", ("batch1", "batch2"))
    return matmul(a, b)


def _number(v, fn, name):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
        raise TypeError(f"{fn}(): {name} must be a real number, got {type(v).__name__}")
    return v.item() if isinstance(v, np.generic) else v  # a Python number: float32 stays


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * (batch1 @ batch2)``, ``input`` broadcast to the product's
    shape, as ``torch.baddbmm``. With ``beta=0`` the input's values are ignored (its NaN and inf
    do not propagate) and its gradient is zeros, as torch's."""
    fn = "baddbmm"
    c = _tensor(input, fn)
    beta, alpha = _number(beta, fn, "beta"), _number(alpha, fn, "alpha")
    a, b = _batches(batch1, batch2, fn, ("batch1", "batch2"))
    shape = (a._data.shape[0], a._data.shape[1], b._data.shape[2])
    try:
        fits = np.broadcast_shapes(c._data.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{fn}(): input of shape {c.shape} cannot be broadcast to the "
                         f"product's shape {shape}")
    p = matmul(a, b)
    if alpha != 1:
        p = p * alpha
    if beta == 0:
        return p + apply(ops.ZerosLike, c) if c._requires_grad else p
    return p + (c if beta == 1 else c * beta)
