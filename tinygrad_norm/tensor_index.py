"""PyTorch's shape, indexing and reduction functions beyond ``tensor_ops``: ``t``, ``mm``,
``unbind``, ``movedim``, ``narrow``, ``select``, ``unflatten``, ``tile``, ``index_select``,
``masked_select``, ``repeat_interleave``, the out-of-place scatters (``scatter``,
``scatter_add``, ``index_add``, ``index_fill``), ``amax``/``amin``, ``any``/``all``,
``argsort``, ``median``, ``norm``, ``var_mean``/``std_mean``, ``count_nonzero``, ``allclose``,
``equal`` and ``sum_to_size``. Each is a composite of indexing, ``Scatter`` (the adjoint of
indexing), selects, reshapes and reductions, so every derivative comes from the primitives;
no new primitive. Arguments keep torch's names (``dim``, ``keepdim``); errors are
ValueError/TypeError/IndexError with torch's wording where torch has one."""
from __future__ import annotations

import builtins
import math
import numbers
from collections import namedtuple

import numpy as np

from . import _argname, ops
from .tensor import Tensor, _bool_arg, _axes, _one_axis, _scalar_arg, apply, matmul, where

__all__ = ["t", "mm", "unbind", "movedim", "narrow", "unflatten", "tile", "index_select",
           "masked_select", "nonzero", "select", "repeat_interleave", "scatter", "scatter_add",
           "index_add", "index_fill", "index_copy", "index_reduce",
           "scatter_reduce", "amax", "amin", "any", "all", "argsort", "median",
           "norm", "var_mean", "std_mean", "count_nonzero", "allclose", "equal",
           "sum_to_size", "flatten", "reshape", "transpose", "permute", "squeeze", "unsqueeze",
           "split", "chunk", "gather", "sort", "topk", "take_along_dim", "index_put",
           "masked_scatter"]

MedianResult = namedtuple("MedianResult", "values indices")  # torch.return_types.median's


def _tensor(x, fn, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def _closeness(fn, a, b, rtol, atol, equal_nan):
    """The checked ``(b_array, equal_nan)`` of ``isclose``/``allclose``: NumPy's own errors for a
    string tolerance, a negative or NaN one (taken: every comparison False), or shapes that do
    not broadcast named nothing. ``other`` may be a number too (a documented extension)."""
    if isinstance(b, Tensor):
        b = b._data
    elif isinstance(b, (bool, np.bool_)) or not isinstance(b, numbers.Real):
        raise TypeError(f"{fn}(): argument 'other' must be Tensor, not {type(b).__name__}")
    else:
        b = np.asarray(b)
    for name, v in (("rtol", rtol), ("atol", atol)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise TypeError(f"{fn}(): argument '{name}' must be float, not {type(v).__name__}")
        if not v >= 0:  # NaN too
            raise ValueError(f"{fn}(): {name} must be greater than or equal to zero, but got {v}")
    try:
        np.broadcast_shapes(a._data.shape, b.shape)
    except ValueError:
        raise ValueError(f"{fn}(): the shapes of input {list(a._data.shape)} and other "
                         f"{list(b.shape)} cannot be broadcast together") from None
    return b, _bool_arg(equal_nan, "equal_nan", fn)


def _int(v, fn, name):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{fn}(): argument '{name}' must be int, not {type(v).__name__}")
    return int(v)


def _dim(x, dim, fn, name="dim"):
    """One dim of ``x`` (negative allowed); a 0-d tensor takes 0 and -1, as torch."""
    return _one_axis(_int(dim, fn, name), max(x._data.ndim, 1), name)


def _dims(x, dim, fn):
    """``dim`` (None, an int or a tuple/list of ints) as a sorted tuple of axes; None and an
    empty tuple mean every axis, as torch's reductions."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(x._data.ndim))
    return _axes(dim, x._data.ndim, "dim")


def _index(index, fn, name="index"):
    """An integer index as an int64 array (a Tensor, an array or a list)."""
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{fn}(): Expected dtype int32 or int64 for {name}, got {idx.dtype}")
    return idx.astype(np.int64, copy=False)


def _const(value, like):
    """A Python number (or a 1-element tensor) as a 0-d tensor of ``like``'s dtype."""
    v = _scalar_arg(value, "value")
    if v is None:  # np.asarray(None, float) is NaN: a fill of NaN, silently
        raise TypeError("value must be a number or a 1-element tensor, got None")
    return Tensor._wrap(np.asarray(v, dtype=like._data.dtype))


# ---- matrices and movement -------------------------------------------------------------------

def t(input):
    """The transpose of a matrix (a 0-d or 1-D tensor as it is), as ``torch.t``."""
    x = _tensor(input, "t")
    nd = x._data.ndim
    if nd > 2:
        raise ValueError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    return x.swapaxes(0, 1) if nd == 2 else x


def mm(input, mat2):
    """The product of two matrices, without broadcasting, as ``torch.mm``."""
    a, b = _tensor(input, "mm"), _tensor(mat2, "mm", "mat2")
    for v, name in ((a, "self"), (b, "mat2")):
        if v._data.ndim != 2:
            raise ValueError(f"{name} must be a matrix")
    if a._data.shape[1] != b._data.shape[0]:
        (p, q), (r, s) = a._data.shape, b._data.shape
        raise ValueError(f"mat1 and mat2 shapes cannot be multiplied ({p}x{q} and {r}x{s})")
    return matmul(a, b)


def unbind(input, dim=0):
    """The slices along ``dim``, as a tuple, as ``torch.unbind``."""
    x = _tensor(input, "unbind")
    if x._data.ndim == 0:
        raise ValueError("Dimension specified as 0 but tensor has no dimensions")
    d = _dim(x, dim, "unbind")
    lead = (slice(None),) * d
    return tuple(x[lead + (i,)] for i in range(x._data.shape[d]))


def _dim_list(v, nd, fn, name):
    items = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    return [_one_axis(_int(a, fn, name), max(nd, 1), name) for a in items]


def movedim(input, source, destination):
    """The dims ``source`` moved to the places ``destination`` (ints or sequences of one
    length), the others keeping their order, as ``torch.movedim``."""
    x = _tensor(input, "movedim")
    nd = x._data.ndim
    src = _dim_list(source, nd, "movedim", "source")
    dst = _dim_list(destination, nd, "movedim", "destination")
    if len(src) != len(dst):
        raise ValueError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                         f"should contain the same number of dims as destination ({dst} dims)")
    if len(set(src)) != len(src):
        raise ValueError(f"movedim: repeated dim in `source` ({list(source)})")
    if len(set(dst)) != len(dst):
        raise ValueError(f"movedim: repeated dim in `destination` ({list(destination)})")
    if nd == 0:
        return x
    perm = [None] * nd
    for s, d in zip(src, dst):
        perm[d] = s
    rest = iter(a for a in range(nd) if a not in src)
    perm = tuple(p if p is not None else next(rest) for p in perm)
    return x.permute(perm)


def narrow(input, dim, start, length):
    """``length`` elements along ``dim`` from ``start`` (negative: from the end), as
    ``torch.narrow`` (which returns a view; this is a slice recorded on the tape)."""
    x = _tensor(input, "narrow")
    if x._data.ndim == 0:
        raise ValueError("narrow() cannot be applied to a 0-dim tensor.")
    d = _dim(x, dim, "narrow")
    start, length = _int(start, "narrow", "start"), _int(length, "narrow", "length")
    n = x._data.shape[d]
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if length < 0:
        raise ValueError("narrow(): length must be non-negative.")
    if start + length > n:
        raise ValueError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return x[(slice(None),) * d + (slice(start, start + length),)]


def select(input, dim, index):
    """The slice at ``index`` along ``dim``, that dim removed (``x.select(1, i)`` is
    ``x[:, i]``), as ``torch.select``; negative ``index`` counts from the end. A basic index,
    so the gradient is scattered back to that slice."""
    x = _tensor(input, "select")
    if x._data.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _dim(x, dim, "select")
    i = _int(index, "select", "index")
    n = x._data.shape[d]
    if not -n <= i < n:
        raise IndexError(f"select(): index {i} out of range for tensor of size "
                         f"{list(x.data.shape)} at dimension {d}")
    return x[(slice(None),) * d + (i,)]


def unflatten(input, dim, sizes):
    """``dim`` split into dims of ``sizes`` (one may be -1), as ``torch.unflatten``."""
    x = _tensor(input, "unflatten")
    d = _dim(x, dim, "unflatten")
    if not isinstance(sizes, (tuple, list)) or not sizes:
        raise ValueError("unflatten: sizes must be non-empty")
    sizes = [_int(s, "unflatten", "sizes") for s in sizes]
    n = x._data.shape[d] if x._data.ndim else 1
    known = math.prod(s for s in sizes if s != -1)
    if sizes.count(-1) > 1:
        raise ValueError("unflatten: only one dimension can be inferred")
    if (-1 in sizes and (known == 0 or n % known)) or (-1 not in sizes and known != n):
        raise ValueError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of "
                         f"dim {dim} ({n}) in the input tensor")
    shp = x._data.shape
    return x.reshape(shp[:d] + tuple(sizes) + shp[d + 1:])


def tile(input, dims):
    """The tensor repeated ``dims`` times along each axis, as ``torch.tile``: fewer ``dims``
    than axes are padded with leading 1s (``repeat`` refuses them)."""
    x = _tensor(input, "tile")
    reps = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    reps = tuple(_int(r, "tile", "dims") for r in reps)
    reps = (1,) * (x._data.ndim - len(reps)) + reps
    return x.repeat(*reps)


def index_select(input, dim, index):
    """The slices of ``input`` along ``dim`` at ``index`` (a 1-D integer tensor; repeats
    allowed, their gradients add up), as ``torch.index_select``."""
    x = _tensor(input, "index_select")
    d = _dim(x, dim, "index_select")
    idx = _strict_index(index, "index_select")
    if idx.ndim > 1:
        raise ValueError("index_select(): Index is supposed to be a vector")
    n = x._data.shape[d] if x._data.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError("index out of range in self")
    if x._data.ndim == 0:
        return x.reshape(1)[idx.reshape(-1)].reshape(idx.shape)
    return x[(slice(None),) * d + (idx.reshape(-1),)]


def masked_select(input, mask):
    """The elements where the boolean ``mask`` holds (both broadcast), as a 1-D tensor in
    row-major order, as ``torch.masked_select``."""
    x = _tensor(input, "masked_select")
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_select: expected BoolTensor for mask, got {m.dtype}")
    try:
        shape = np.broadcast_shapes(x._data.shape, m.shape)
    except ValueError:
        raise ValueError(f"masked_select(): the shape of the mask {tuple(m.shape)} and the "
                         f"input {x.shape} cannot be broadcast together") from None
    xb = x.broadcast_to(shape) if x._data.shape != shape else x
    # integer coordinates: the gradient is a Scatter of them (add.at takes no boolean index)
    return xb[np.nonzero(np.broadcast_to(m, shape))] if shape else xb.reshape(1)[m.reshape(1)]


def nonzero(input, *, as_tuple=False):
    """The int64 coordinates of the non-zero elements: an (n, ndim) tensor, or with
    ``as_tuple`` one 1-D tensor per dim, as ``torch.nonzero``. No gradient."""
    x = _tensor(input, "nonzero")
    as_tuple = _bool_arg(as_tuple, "as_tuple", "nonzero")
    a = x._data if x._data.ndim else x._data.reshape(1)
    coords = np.nonzero(a)
    if as_tuple:
        return tuple(Tensor._wrap(c.astype(np.int64)) for c in coords)
    out = np.stack(coords, axis=1) if x._data.ndim else np.zeros((len(coords[0]), 0))
    return Tensor._wrap(out.astype(np.int64))


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (each slice along ``dim``; of the flattened tensor for None) repeated
    ``repeats`` times (an int, or one count per element), as ``torch.repeat_interleave``.
    Without ``repeats``, ``input`` holds the counts: index ``i`` repeated ``input[i]`` times
    (segment ids from lengths), of ``input``'s integer dtype."""
    x = _tensor(input, "repeat_interleave")
    if repeats is None:
        return _segment_ids(x, output_size)
    if dim is None:
        x, d = x.reshape(-1), 0
    else:
        d = _dim(x, dim, "repeat_interleave")
    n = x._data.shape[d] if x._data.ndim else 1
    if isinstance(repeats, Tensor) or isinstance(repeats, (list, np.ndarray)):
        r = _index(repeats, "repeat_interleave", "repeats").reshape(-1)
        if r.size == 1:
            r = np.broadcast_to(r, (n,))
        if r.size != n:
            raise ValueError("repeats must have the same size as input along dim")
    else:
        r = np.full(n, _int(repeats, "repeat_interleave", "repeats"))
    if (r < 0).any():
        raise ValueError("repeats can not be negative")
    idx = np.repeat(np.arange(n), r)
    if output_size is not None and output_size != idx.size:
        raise ValueError(f"repeat_interleave(): output_size {output_size} does not match the "
                         f"repeats' total {idx.size}")
    return index_select(x if x._data.ndim else x.reshape(1), d, idx)


def _segment_ids(x, output_size):
    r = x._data
    if r.dtype.kind not in "iu":
        raise TypeError(f'repeat_interleave(): "repeat_interleave_cpu" not implemented for '
                        f"{r.dtype} repeats (as in torch): give integer counts")
    if r.ndim != 1:
        raise ValueError("repeat_interleave only accept 1D vector as repeat")
    if (r < 0).any():
        raise ValueError("repeats can not be negative")
    idx = np.repeat(np.arange(r.size, dtype=r.dtype), r)
    if output_size is not None and output_size != idx.size:
        raise ValueError(f"repeat_interleave(): output_size {output_size} does not match the "
                         f"repeats' total {idx.size}")
    return Tensor._wrap(idx)


# ---- scatters (out of place) -----------------------------------------------------------------

def _scatter_places(x, d, idx, src_shape, fn):
    """The coordinates in ``x`` that ``idx`` (of ``x``'s rank, along ``d``) names, as a tuple of
    broadcast int arrays of ``idx``'s shape, after torch's checks."""
    nd = x._data.ndim
    if idx.ndim != nd and not (nd == 0 and idx.ndim <= 1):
        raise ValueError("Index tensor must have the same number of dimensions as self tensor")
    if src_shape is not None and len(src_shape) != idx.ndim and idx.size:
        raise ValueError("Index tensor must have the same number of dimensions as src tensor")
    shp = x._data.shape if nd else (1,)
    for i in range(idx.ndim):
        if (i != d and idx.shape[i] > shp[i]) or (
                src_shape is not None and idx.shape[i] > src_shape[i]):
            raise ValueError(f"Expected index {list(idx.shape)} to be no larger than self "
                             f"{list(x.data.shape)} apart from dimension {d} and to be no "
                             f"larger size than src {list(src_shape or ())}")
    bad = idx[(idx < 0) | (idx >= shp[d])]  # torch takes no negative index here
    if bad.size:
        raise IndexError(f"index {int(bad[0])} is out of bounds for dimension {d} with size "
                         f"{shp[d]}")
    grid = list(np.ogrid[tuple(slice(k) for k in idx.shape)])
    grid[d] = idx
    return tuple(np.broadcast_arrays(*grid)), shp


def _src_part(src, shape):
    """The leading block of ``src`` of ``shape`` (torch reads only that much of it)."""
    if tuple(src._data.shape) == tuple(shape):
        return src
    return src[tuple(slice(k) for k in shape)]


def _scattered(values, places, shape):
    """Zeros of ``shape`` with ``values`` added at ``places``: the Scatter primitive, whose
    gradient is indexing, so this is differentiable to every order."""
    return apply(ops.Scatter, values, index=places, shape=tuple(shape), basic=False)


def _scatter_args(input, dim, index, src, fn):
    x = _tensor(input, fn, "self")
    d = _dim(x, dim, fn)
    idx = _index(index, fn)
    if x._data.ndim == 0 and idx.ndim > 1:
        raise ValueError("Index tensor must have the same number of dimensions as self tensor")
    if isinstance(src, Tensor) and src._data.dtype != x._data.dtype:
        raise TypeError(f"{fn}(): Expected self.dtype to be equal to src.dtype")
    return x, d, idx


def scatter_add(input, dim, index, src):
    """``input`` with ``src[i][j]`` added at ``[index[i][j]][j]`` (dim 0; and so on), repeats
    adding up, as ``torch.scatter_add`` (out of place). Differentiable wrt both."""
    s = _tensor(src, "scatter_add", "src")
    x, d, idx = _scatter_args(input, dim, index, s, "scatter_add")
    if x._data.ndim == 0:  # torch: a 0-d tensor as one element along dim 0
        return scatter_add(x.reshape(1), 0, idx.reshape(-1), s.reshape(-1)).reshape(())
    places, shp = _scatter_places(x, d, idx, s._data.shape, "scatter_add")
    if not idx.size:
        return _untouched(x, s)
    part = _src_part(s, idx.shape)
    return x + _scattered(part, places, shp).reshape(x._data.shape)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """``input`` with ``src[i][j]`` (or the number ``value``) written at ``[index[i][j]][j]``
    (dim 0; and so on), as ``torch.scatter`` (out of place). The gradient passes to ``input``
    where nothing was written and to ``src`` at the elements written. *vs torch:* where
    ``index`` names one place twice, torch leaves the choice undefined; here the last one wins
    (NumPy's assignment order) and only it gets a gradient. ``reduce='add'`` or
    ``'multiply'`` (torch's older API) folds them in instead; as in torch, that result has no
    derivative (backward through it raises; ``scatter_reduce`` has one)."""
    fn = "scatter"
    if (src is None) == (value is None):
        raise TypeError("scatter(): give exactly one of src (a Tensor) and value (a number)")
    if src is not None and not isinstance(src, Tensor):
        value, src = src, None  # scatter(dim, index, 2.0), as torch's overload
    if reduce is not None and reduce not in ("add", "multiply"):
        raise ValueError("reduce argument must be either add or multiply.")
    x, d, idx = _scatter_args(input, dim, index, src, fn)
    if x._data.ndim == 0:  # torch: a 0-d tensor as one element along dim 0
        s1 = None if src is None else src.reshape(-1)
        return scatter(x.reshape(1), 0, idx.reshape(-1), s1, value=value,
                       reduce=reduce).reshape(())
    places, shp = _scatter_places(x, d, idx, None if src is None else src._data.shape, fn)
    if reduce is not None:
        return _scatter_folded(x, idx, src, value, d, reduce)
    if not idx.size:
        return _untouched(x, src)
    if src is None:
        return where(_landed(places, shp), _const(value, x), x)
    return _written(x, _src_part(src, idx.shape), places, shp)


def _untouched(x, src):
    """``x`` unchanged (an empty index writes nothing), with ``src`` still on the graph when it
    requires grad: its gradient is zeros, as torch's, not None."""
    if src is not None and src._requires_grad:
        return x + apply(ops.ZerosLike, src.sum())
    return x.clone()


def _landed(places, shp):
    """Where anything lands, a bool array of ``shp``."""
    hit = np.zeros(shp, bool)
    hit[places] = True
    return hit


def _written(x, part, places, shp):
    """``x`` with ``part`` (of the shape of the arrays in ``places``) written at ``places``,
    the last write to a place winning, the gradient going to that one and to ``x`` elsewhere."""
    flat = np.ravel_multi_index(places, shp).reshape(-1)
    # the last write to each place wins: unique on the reversed list finds each one's last
    last = flat.size - 1 - np.unique(flat[::-1], return_index=True)[1]
    hit = _landed(places, shp).reshape(x._data.shape)
    winners = np.unravel_index(last, places[0].shape)
    targets = tuple(p.reshape(-1)[last] for p in places)
    new = _scattered(part[winners], targets, shp).reshape(x._data.shape)
    return where(hit, new, x)


def _scatter_folded(x, idx, src, value, d, reduce):
    """torch's ``scatter(..., reduce=)``: a value with no derivative (as torch's), on the
    graph through ``Refuse`` so that a backward through it is torch's error, not a silent 0."""
    if src is None:
        part = np.broadcast_to(_const(value, x)._data, idx.shape)
    else:
        part = src._data[tuple(slice(k) for k in idx.shape)]
    flat = _flat_places(idx, d, x._data.shape)
    if reduce == "add":
        out = x._data.copy()
        np.add.at(out.reshape(-1), flat.reshape(-1), part.reshape(-1))
    else:
        out = ops.ScatterReduce.forward(x._data, part, flat, "prod", True)
    res = Tensor._wrap(out)
    tied = [t for t in (x, src) if isinstance(t, Tensor) and t._requires_grad]
    if not tied:
        return res
    return apply(ops.Refuse, res, *tied, message="scatter(): the derivative of scatter with "
                 "reduce= is not implemented (as in torch); scatter_reduce has one")


_SCATTER_REDUCE = ("sum", "prod", "mean", "amax", "amin")


def _strict_index(index, fn, name="index"):
    """An int32/int64 index, as torch's scatter_reduce and index_reduce take (no other ints)."""
    idx = _index(index, fn, name)  # (a non-integer index is refused there)
    raw = index._data if isinstance(index, Tensor) else np.asarray(index)
    if raw.dtype not in (np.int32, np.int64):
        raise TypeError(f"{fn}(): Expected dtype int32/int64 for {name}, got {raw.dtype}")
    return idx


def _reduce_args(reduce, include_self, fn, allowed):
    if not isinstance(reduce, str):
        raise TypeError(f"{fn}(): argument 'reduce' must be str, not {type(reduce).__name__}")
    if reduce not in allowed:
        if fn == "index_reduce":
            raise ValueError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                             f"amin but got {reduce}.")
        raise ValueError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                         f"{reduce}")
    if not isinstance(include_self, (bool, np.bool_)):
        raise TypeError(f"{fn}(): argument 'include_self' must be bool, not "
                        f"{type(include_self).__name__}")
    return bool(include_self)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """``input`` with each ``src[i][j]`` folded into ``[index[i][j]][j]`` (dim 0; and so on) by
    ``reduce``: 'sum', 'prod', 'mean', 'amax' or 'amin', as ``torch.scatter_reduce`` (out of
    place). Each place that something lands on counts its own value too when
    ``include_self``, else only what lands (places nothing lands on keep theirs). 'mean' of an
    integer tensor rounds down, as torch's. The gradients are torch's: 'mean' divides by the
    count (self included when it is); 'amax'/'amin' share it evenly among the elements equal to
    the result (self counted even when not included, as torch's rule does); 'prod' gives each
    factor the product of the others, zeros included; its second derivative with respect to
    ``src`` is refused where two zeros of ``src`` land on one place, as torch's. *vs torch:*
    torch's undocumented 'max'/'min' spellings are refused. At NaN, a place nothing lands on
    passes ``g`` to ``input`` (it is the identity there); torch's formulas give NaN: 'prod'
    as ``g * result / self`` (NaN / NaN), 'amax'/'amin' through its equality mask (NaN is
    equal to nothing, 0 / 0)."""
    fn = "scatter_reduce"
    s = _tensor(src, fn, "src")
    inc = _reduce_args(reduce, include_self, fn, _SCATTER_REDUCE)
    idx = _strict_index(index, fn)
    x, d, idx = _scatter_args(input, dim, idx, s, fn)
    if reduce == "mean" and x._data.dtype == np.bool_:
        raise TypeError('"scatter_gather_tensor_cpu_reduce_mean" not implemented for bool (as '
                        'in torch)')
    if x._data.ndim == 0:  # torch: a 0-d tensor as one element along dim 0
        return scatter_reduce(x.reshape(1), 0, idx.reshape(-1), s.reshape(-1), reduce,
                              include_self=inc).reshape(())
    places, shp = _scatter_places(x, d, idx, s._data.shape, fn)
    if not idx.size:
        return _untouched(x, s)
    part = _src_part(s, idx.shape)
    if reduce in ("sum", "mean"):
        landed = None if inc else _landed(places, shp)
        total = _summed(x, part, places, shp, landed)
        if reduce == "sum":
            return total
        count = np.bincount(_flat_places(idx, d, shp).reshape(-1),
                            minlength=math.prod(shp)).reshape(shp)
        return _mean_of(total, count + 1 if inc else np.maximum(count, 1))
    # NumPy 2's fold.at over flat places: ~2x faster here than sorting them for reduceat
    return apply(ops.ScatterReduce, x, part, index=_flat_places(idx, d, shp), reduce=reduce,
                 include_self=inc)


def _summed(x, part, places, shp, landed):
    """``x`` (0 at ``landed`` when given: self not included) plus ``part`` added at ``places``."""
    base = x if landed is None else where(landed, _const(0, x), x)
    return base + _scattered(part, places, shp).reshape(x._data.shape)


def _mean_of(total, count):
    """``total / count``, rounded down for an integer tensor (torch's), a constant count."""
    dt = total._data.dtype
    if dt.kind in "iu":
        return Tensor._wrap(np.floor_divide(total._data, count).astype(dt, copy=False))
    return total / Tensor._wrap(count.astype(dt))


def _flat_places(idx, d, shp):
    """The places ``idx`` (along ``d``) names as flat indices into an array of ``shp``: one
    multiply-add over ``idx``; ``np.ravel_multi_index`` of the broadcast coordinates took ~3x
    as long as the fold it fed."""
    strides = [math.prod(shp[i + 1:]) for i in range(len(shp))]
    off = 0
    for i, k in enumerate(idx.shape):
        if i != d:
            off = off + np.arange(k).reshape((k,) + (1,) * (idx.ndim - i - 1)) * strides[i]
    return idx * strides[d] + off


def take_along_dim(input, indices, dim=None):
    """The elements of ``input`` at ``indices`` along ``dim``, as ``torch.take_along_dim``:
    ``input`` and ``indices`` (an integer tensor of the same number of dims) broadcast against
    each other except along ``dim``, then gathered; a negative index counts from the end. With
    ``dim=None``, of the flattened tensor at the flattened indices (1-D). The gradient adds up
    repeated indices. *vs torch:* an index out of range is an IndexError (torch's CPU kernel
    reads past the slice)."""
    fn = "take_along_dim"
    x = _tensor(input, fn)
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"torch.take_along_dim(): dtype of indices should be an integer type, "
                        f"got {idx.dtype}")
    if dim is None:
        flat = x.reshape(-1)
        return flat[_in_range(idx.reshape(-1).astype(np.int64), flat._data.shape[0], fn)]
    d = _dim(x, dim, fn)
    if idx.ndim != x._data.ndim:
        raise ValueError(f"torch.take_along_dim(): input and indices should have the same "
                         f"number of dimensions, but got {x._data.ndim} dimensions for input, "
                         f"and {idx.ndim} dimensions for indices")
    if x._data.ndim == 0:
        return x.reshape(1)[_in_range(idx.reshape(1).astype(np.int64), 1, fn)].reshape(())
    xs, ids = list(x._data.shape), list(idx.shape)
    try:
        shape = list(np.broadcast_shapes(tuple(xs[:d] + [1] + xs[d + 1:]),
                                         tuple(ids[:d] + [1] + ids[d + 1:])))
    except ValueError:
        raise ValueError(f"take_along_dim(): the shapes of input {tuple(xs)} and indices "
                         f"{tuple(ids)} cannot be broadcast together outside dim {d}") from None
    want_x, want_i = tuple(shape[:d] + [xs[d]] + shape[d + 1:]), tuple(
        shape[:d] + [ids[d]] + shape[d + 1:])
    xb = x if tuple(xs) == want_x else x.broadcast_to(want_x)
    ib = _in_range(np.broadcast_to(idx, want_i).astype(np.int64), xs[d], fn)
    return xb.gather(d, ib)


def _in_range(idx, n, fn):
    """Indices in ``[-n, n)`` made non-negative; others an IndexError."""
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)].reshape(-1)[0]
        raise IndexError(f"{fn}(): index {bad} is out of bounds for a dimension of size {n}")
    return np.where(idx < 0, idx + n, idx) if idx.size and idx.min() < 0 else idx


def index_put(input, indices, values, accumulate=False):
    """``input`` with ``values`` (a Tensor of its dtype, broadcast to the indexed shape) put at
    ``input[indices]``, as ``torch.index_put`` (out of place): ``indices`` a tuple (or list) of
    integer or bool tensors, NumPy's advanced indexing. ``accumulate=True`` adds them in,
    repeated places adding up; otherwise where ``indices`` names one place twice the last one
    wins (torch leaves it undefined) and only it gets a gradient. The gradient passes to
    ``input`` where nothing was put (everywhere with ``accumulate``) and to ``values`` at the
    elements put."""
    fn = "index_put"
    x = _tensor(input, fn, "self")
    accumulate = _bool_arg(accumulate, "accumulate", fn)
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    idx = []
    for i, t in enumerate(indices):
        if not isinstance(t, Tensor):
            raise TypeError(f"index_put(): expected Tensor as element {i} in argument 0, but "
                            f"got {type(t).__name__}")
        if t._data.dtype.kind not in "biu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        idx.append(t._data)
    v = _tensor(values, fn, "values")
    if v._data.dtype != x._data.dtype:
        raise TypeError(f"Index put requires the source and destination dtypes match, got "
                        f"{x._data.dtype} for the destination and {v._data.dtype} for the source.")
    idx = tuple(idx)
    try:
        flat = np.arange(x._data.size).reshape(x._data.shape)[idx]
    except IndexError as e:
        raise IndexError(f"index_put(): {e}") from None
    try:
        vb = v if v._data.shape == flat.shape else v.broadcast_to(flat.shape)
    except ValueError:
        raise ValueError(f"shape mismatch: value tensor of shape {list(v._data.shape)} cannot be "
                         f"broadcast to indexing result of shape {list(flat.shape)}") from None
    return _put_flat(x, flat.reshape(-1), v, vb, accumulate)


def set_item(input, index, value, into=False):
    """``input`` with ``input[index] = value`` done out of place (NumPy's indexing, ``value``
    broadcast and cast to ``input``'s dtype): the recorded form of ``Tensor.__setitem__``
    (inplace_record.py). Where ``index`` names a place twice the last write wins, as NumPy's;
    only it gets a gradient. ``into``: a basic-index write may go into ``input``'s own array
    (the recorded in-place write, whose tensor that array is)."""
    x = input
    v = value if isinstance(value, Tensor) else Tensor(x._values("item assignment", value))
    if v._data.dtype != x._data.dtype:
        if not np.can_cast(v._data.dtype, x._data.dtype, "same_kind"):
            raise TypeError(f"item assignment: values of dtype {v._data.dtype} cannot be stored "
                            f"in a tensor of dtype {x._data.dtype}")
        v = v.astype(x._data.dtype)
    if _basic_index(index):
        return _set_basic(x, index, v, into)
    try:
        flat = np.arange(x._data.size).reshape(x._data.shape)[index]
    except (IndexError, TypeError) as e:
        raise type(e)(f"item assignment: index {index!r} is invalid for a tensor of shape "
                      f"{x.shape}: {e}") from None
    try:
        vb = v if v._data.shape == np.shape(flat) else v.broadcast_to(np.shape(flat))
    except ValueError:
        raise ValueError(f"item assignment: index {index!r} of a tensor of shape {x.shape} "
                         f"cannot take values of shape {v.shape}") from None
    return _put_flat(x, np.reshape(flat, -1), v, vb, False)


def _basic_index(index):
    items = index if type(index) is tuple else (index,)
    return builtins.all(i is None or i is Ellipsis or type(i) in (int, slice) for i in items)


def _set_basic(x, index, v, into):
    """A basic-index write as one ``SetItem`` node: O(slice) where the select over positions
    above is O(tensor). Shapes are checked on a zero-stride view first, so a bad index or value
    raises before anything is written (``into`` writes into ``x``'s own array)."""
    probe = np.broadcast_to(np.zeros((), x._data.dtype), x._data.shape)
    try:
        shape = probe[index].shape
    except (IndexError, TypeError) as e:
        raise type(e)(f"item assignment: index {index!r} is invalid for a tensor of shape "
                      f"{x.shape}: {e}") from None
    try:
        ok = np.broadcast_shapes(v._data.shape, shape) == shape  # v fits without growing it
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"item assignment: index {index!r} of a tensor of shape {x.shape} "
                         f"cannot take values of shape {v.shape}")
    into = into and x._data.flags.writeable
    return apply(ops.SetItem, x, v, index=index, into=into)


def _put_flat(x, flat, v, vb, accumulate):
    """``x`` with ``vb`` (``v`` broadcast to the indexed shape) put at the flat positions
    ``flat``: added in with ``accumulate``, else the last write to a place wins."""
    if not flat.size:  # nothing put: values still on the graph, with a zero gradient (torch's)
        return x + apply(ops.ZerosLike, v.sum()) if v._requires_grad else x.clone()
    vf = vb.reshape(-1)
    if accumulate:
        return x + _scattered(vf, (flat,), (x._data.size,)).reshape(x._data.shape)
    last = flat.size - 1 - np.unique(flat[::-1], return_index=True)[1]
    hit = np.zeros(x._data.size, bool)
    hit[flat] = True
    new = _scattered(vf[last], (flat[last],), (x._data.size,)).reshape(x._data.shape)
    return where(hit.reshape(x._data.shape), new, x)


def masked_scatter(input, mask, source):
    """``input`` with the elements where the bool ``mask`` holds (the two broadcast together)
    taken, in row-major order, from the first elements of ``source`` (a Tensor of ``input``'s
    dtype, any shape, with at least as many elements), as ``torch.masked_scatter``. The
    gradient passes to ``input`` where the mask is False and to those first elements of
    ``source``."""
    fn = "masked_scatter"
    x = _tensor(input, fn, "self")
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                        f"{m.dtype}")
    src = _tensor(source, fn, "source")
    if src._data.dtype != x._data.dtype:
        raise TypeError(f"masked_scatter: expected self and source to have same dtypes but got "
                        f"{x._data.dtype} and {src._data.dtype}")
    try:
        shape = np.broadcast_shapes(x._data.shape, m.shape)
    except ValueError:
        raise ValueError(f"masked_scatter(): mask of shape {m.shape} and self of shape "
                         f"{x._data.shape} cannot be broadcast together") from None
    xb = x if x._data.shape == shape else x.broadcast_to(shape)
    mb = np.broadcast_to(m, shape)
    places = np.flatnonzero(mb)
    if places.size > src._data.size:
        raise ValueError("masked_scatter(): Number of elements of source < number of ones in mask")
    if not places.size:  # source still on the graph, with a zero gradient (torch's)
        return xb + apply(ops.ZerosLike, src.sum()) if src._requires_grad else xb.clone()
    part = src.reshape(-1)[:places.size]
    new = _scattered(part, (places,), (mb.size,)).reshape(shape)
    return where(mb, new, xb)


def _along(x, d, idx, fn, negative):
    """The coordinates of the slices of ``x`` along ``d`` at the 1-D ``idx``, broadcast to the
    shape of those slices (``d`` of length ``len(idx)``). ``negative``: whether an index may
    count from the end (torch's index_fill takes -1, its index_add does not)."""
    if idx.ndim > 1:
        raise ValueError(f"{fn}(): Index is supposed to be a vector")
    idx = idx.reshape(-1)
    shp = x._data.shape if x._data.ndim else (1,)
    if idx.size and (idx.min() < (-shp[d] if negative else 0) or idx.max() >= shp[d]):
        if not negative:
            raise IndexError("index out of range in self")
        bad = idx[(idx < -shp[d]) | (idx >= shp[d])][0]
        raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {shp[d]}")
    idx = idx % shp[d] if shp[d] else idx
    want = shp[:d] + (idx.size,) + shp[d + 1:]
    grid = list(np.ogrid[tuple(slice(k) for k in want)])
    grid[d] = idx.reshape((-1,) + (1,) * (len(shp) - d - 1))
    return tuple(np.broadcast_arrays(*grid)), shp, want


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source``'s slices along ``dim`` added at the places ``index``
    names (repeats add up), as ``torch.index_add`` (out of place)."""
    fn = "index_add"
    x = _tensor(input, fn)
    s = _tensor(source, fn, "source")
    d = _dim(x, dim, fn)
    idx = _strict_index(index, "index_add_")
    alpha = _scalar_arg(alpha, f"{fn}(): alpha")
    if x._data.dtype.kind in "iu":  # torch casts alpha to the integer type (2.7 -> 2)
        alpha = int(alpha)
    if s._data.dtype != x._data.dtype:
        raise TypeError(f"index_add_(): self ({x.data.dtype}) and source ({s.data.dtype}) must "
                        f"have the same scalar type")
    places, shp, want = _along(x, d, idx, fn, False)
    if tuple(s._data.shape if s._data.ndim else (1,)) != want:
        raise ValueError(f"{fn}(): source of shape {s.shape} does not fit: expected {want} "
                         f"(self's shape with dim {d} of the index's length)")
    if not idx.size:
        return _untouched(x, s)
    v = s.reshape(want) * alpha if alpha != 1 else s.reshape(want)
    return x + _scattered(v, places, shp).reshape(x._data.shape)


def index_fill(input, dim, index, value):
    """``input`` with the slices along ``dim`` at ``index`` set to ``value``, as
    ``torch.index_fill`` (out of place); the gradient passes elsewhere."""
    fn = "index_fill"
    x = _tensor(input, fn)
    d = _dim(x, dim, fn)
    idx = _index(index, fn)  # (a non-integer index refused there)
    raw = index._data if isinstance(index, Tensor) else np.asarray(index)
    if raw.dtype != np.int64:  # torch's IndexError, for int32 too (index_add takes int32)
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    places, shp, _ = _along(x, d, idx, fn, True)
    hit = np.zeros(shp, bool)
    hit[places] = True
    return where(hit.reshape(x._data.shape), _const(value, x), x)


def index_copy(input, dim, index, source):
    """``input`` with the slices of ``source`` along ``dim`` copied to the places ``index`` (an
    int64 vector) names, as ``torch.index_copy`` (out of place). The gradient passes to
    ``input`` where nothing was copied and to ``source`` at the slices copied. *vs torch:*
    where ``index`` repeats a place, torch leaves the choice undefined; here the last one wins
    and only it gets a gradient."""
    fn = "index_copy"
    x = _tensor(input, fn, "self")
    s = _tensor(source, fn, "source")
    d = _dim(x, dim, fn)
    raw = index._data if isinstance(index, Tensor) else np.asarray(index)
    if raw.dtype != np.int64:
        raise TypeError(f"index_copy_(): Expected a long tensor for index, but got {raw.dtype}")
    if s._data.dtype != x._data.dtype:
        raise TypeError(f"index_copy_(): self and source expected to have the same dtype, but "
                        f"got (self) {x.data.dtype} and (source) {s.data.dtype}")
    idx = raw.reshape(-1) if raw.ndim <= 1 else raw
    shp = x._data.shape if x._data.ndim else (1,)
    n = shp[d]
    bad = idx[(idx < 0) | (idx >= n)] if idx.ndim == 1 else idx[:0]
    if bad.size:
        raise IndexError(f"index_copy_(): index {int(bad[0])} is out of bounds for dimension "
                         f"{d} with size {n}")
    places, shp, want = _along(x, d, idx, fn, False)
    _fits(x, s, want, idx.size, d, "index_copy_(): Number of indices ({k}) should be equal "
          "to source.size(dim) ({m})")
    if not idx.size:
        return _untouched(x, s)
    return _written(x.reshape(shp), s.reshape(want), places, shp).reshape(x._data.shape)


def _fits(x, s, want, k, d, count_msg):
    """That ``source`` has ``want``'s shape (self's, with dim ``d`` of the index's length ``k``),
    with torch's message for each of the two ways it can fail."""
    got = tuple(s._data.shape if s._data.ndim else (1,))
    if got == tuple(want):
        return
    m = got[d] if len(got) > d else 1
    if m != k:
        raise ValueError(count_msg.format(k=k, m=m))
    head = _argname.function_prefix(count_msg.split(" ")[0] + " ")  # the call the user wrote
    raise ValueError(f"{head}source tensor shape must match self tensor shape, excluding the "
                     f"specified dimension. Got self.shape = {list(x.data.shape)} "
                     f"source.shape = {list(s.data.shape)}")


_INDEX_REDUCE = ("prod", "mean", "amax", "amin")


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """``input`` with the slices of ``source`` along ``dim`` folded by ``reduce`` ('prod',
    'mean', 'amax' or 'amin') into the places ``index`` (an int32/int64 vector) names, as
    ``torch.index_reduce`` (out of place); ``include_self``, the integer 'mean' and the
    gradients as ``scatter_reduce``'s (torch's index_reduce backward is the same rule)."""
    fn = "index_reduce"
    s = _tensor(source, fn, "source")
    inc = _reduce_args(reduce, include_self, fn, _INDEX_REDUCE)
    x = _tensor(input, fn, "self")
    d = _dim(x, dim, fn)
    idx = _strict_index(index, "index_reduce_")
    if idx.ndim > 1:
        raise ValueError(f"index_reduce_(): Index is supposed to be a vector, but got dim: "
                         f"{idx.ndim} with size: {list(idx.shape)}")
    if s._data.dtype != x._data.dtype:
        raise TypeError(f"index_reduce_(): self ({x.data.dtype}) and source ({s.data.dtype}) "
                        f"must have the same scalar type")
    if x._data.dtype == np.bool_:
        raise TypeError('"index_func_" not implemented for bool (as in torch)')
    places, shp, want = _along(x, d, idx, fn, False)
    idx = idx.reshape(-1)
    _fits(x, s, want, idx.size, d, "index_reduce_(): Number of indices ({k}) should be equal "
          "to source.size(dim): ({m}), for dim: " + str(d))
    if not idx.size:
        return _untouched(x, s)
    part = s.reshape(want)
    if reduce == "mean":
        landed = None if inc else _landed(places, shp)
        total = _summed(x.reshape(shp), part, places, shp, landed)
        count = np.bincount(idx, minlength=shp[d]).reshape((-1,) + (1,) * (len(shp) - d - 1))
        count = np.broadcast_to(count + 1 if inc else np.maximum(count, 1), shp)
        return _mean_of(total, count).reshape(x._data.shape)
    flat = _flat_places(np.broadcast_to(idx.reshape((-1,) + (1,) * (len(shp) - d - 1)), want),
                        d, shp)
    out = apply(ops.ScatterReduce, x.reshape(shp), part, index=flat, reduce=reduce,
                include_self=inc, fn=fn)
    return out.reshape(x._data.shape)


# ---- reductions --------------------------------------------------------------------------------

def amax(input, dim=(), keepdim=False):
    """The largest values over ``dim`` (an int, a tuple; () or None for all), as ``torch.amax``:
    ties share the gradient evenly. The library's ``max`` (NumPy's names) is the same op."""
    x = _tensor(input, "amax")
    return x.max(_dims(x, dim, "amax"), _bool_arg(keepdim, "keepdim", "amax"))


def amin(input, dim=(), keepdim=False):
    """The smallest values over ``dim``, as ``torch.amin``; ties share the gradient evenly."""
    x = _tensor(input, "amin")
    return x.min(_dims(x, dim, "amin"), _bool_arg(keepdim, "keepdim", "amin"))


def any(input, dim=None, keepdim=False):
    """Whether any element over ``dim`` (None: all) is non-zero, a bool tensor, as
    ``torch.any``. No gradient."""
    x = _tensor(input, "any")
    if isinstance(dim, (tuple, list)) and len(dim) == 0:  # torch: no dim reduced, each as bool
        return Tensor._wrap(x._data.astype(bool))
    return Tensor._wrap(np.asarray(np.any(x._data, axis=_dims(x, dim, "any"),
                                          keepdims=_bool_arg(keepdim, "keepdim", "any"))))


def all(input, dim=None, keepdim=False):
    """Whether every element over ``dim`` (None: all) is non-zero, as ``torch.all``."""
    x = _tensor(input, "all")
    if isinstance(dim, (tuple, list)) and len(dim) == 0:  # torch: no dim reduced, each as bool
        return Tensor._wrap(x._data.astype(bool))
    return Tensor._wrap(np.asarray(np.all(x._data, axis=_dims(x, dim, "all"),
                                          keepdims=_bool_arg(keepdim, "keepdim", "all"))))


def count_nonzero(input, dim=None):
    """The number of non-zero elements over ``dim`` (None: all), int64, as
    ``torch.count_nonzero``."""
    x = _tensor(input, "count_nonzero")
    n = np.count_nonzero(x._data, axis=_dims(x, dim, "count_nonzero"))
    return Tensor._wrap(np.asarray(n, dtype=np.int64))


def argsort(input, dim=-1, descending=False, *, stable=False):
    """The int64 indices that sort ``input`` along ``dim``, as ``torch.argsort`` (always
    stable, as ``stable=True``)."""
    x = _tensor(input, "argsort")
    descending = _bool_arg(descending, "descending", "argsort")
    _bool_arg(stable, "stable", "argsort")  # always stable; a flag all the same
    if x._data.ndim == 0:
        return Tensor._wrap(np.zeros((), np.int64))
    return x.sort(dim, descending, stable=stable).indices


def median(input, dim=None, keepdim=False):
    """The lower median (of an even count, the smaller middle value), as ``torch.median``
    (NumPy's ``median`` averages the two): without ``dim`` of all elements, a 0-d tensor whose
    gradient ties share evenly; with ``dim``, ``(values, indices)`` along it, the gradient going
    to the index. NaN is the median where a slice holds one."""
    x = _tensor(input, "median")
    keepdim = _bool_arg(keepdim, "keepdim", "median")
    if dim is None:
        flat = x.reshape(-1)
        if flat._data.size == 0:  # NaN, on the graph (backward gives an empty gradient)
            dt = x._data.dtype  # torch: NaN, or an integer type's smallest value
            nan = Tensor._wrap(np.asarray(np.nan if dt.kind == "f" else
                                          np.iinfo(dt).min if dt.kind in "iu" else False, dt))
            return nan + flat.sum() if x._requires_grad else nan
        m = _lower_median(flat._data, 0)
        if x._data.dtype.kind == "f" and np.isnan(flat._data).any():
            m = np.nan  # NaN propagates, as torch's (sorted last, it would not be picked)
        if x._data.dtype.kind == "f" and np.isnan(m):
            hit = np.isnan(flat._data)
        else:
            hit = flat._data == m
        dt = x._data.dtype
        low = Tensor._wrap(np.asarray(-np.inf if dt.kind == "f" else False if dt.kind == "b"
                                      else np.iinfo(dt).min, dt))
        # a max over the median's copies, the rest pushed down: the value exactly, and the
        # gradient shared evenly among ties (Max's rule), as torch's median()
        return where(hit, flat, low).max()
    d = _dim(x, dim, "median")
    if x._data.ndim == 0:
        return MedianResult(x.clone(), Tensor._wrap(np.zeros((), np.int64)))
    n = x._data.shape[d]
    if n == 0:
        raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size.")
    order = np.argsort(x._data, axis=d, kind="stable")  # NaN last
    k = np.full(np.delete(np.array(x._data.shape), d), (n - 1) // 2)
    if x._data.dtype.kind == "f":
        nans = np.isnan(x._data)
        first_nan = n - nans.sum(axis=d)  # where the first NaN sorted to
        k = np.where(nans.any(axis=d), first_nan, k)
    pick = np.take_along_axis(order, np.expand_dims(k, d), axis=d)
    values = x.gather(d, pick)
    idx = Tensor._wrap(pick.astype(np.int64))
    if not keepdim:
        values, idx = values.squeeze(d), Tensor._wrap(idx._data.squeeze(d))
    return MedianResult(values, idx)


def _lower_median(a, axis):
    n = a.shape[axis]
    return np.sort(a, axis=axis, kind="stable").take((n - 1) // 2, axis=axis)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The vector p-norm over ``dim`` (None: all elements), as ``torch.norm``: ``p`` a number
    (2, 1, 3, ..., 0 counting non-zeros), ``inf``/``-inf`` (the largest/smallest magnitude) or
    ``'fro'`` (2), or ``'nuc'``: the nuclear norm of the matrices over the two dims ``dim``
    (None: a 2-D tensor's), ``linalg.matrix_norm``'s. The gradient at a zero norm is 0, as
    torch's (not NaN). *vs torch:* no other matrix norm (``'fro'`` over two dims is the 2-norm
    of their elements, as torch's)."""
    x = _tensor(input, "norm")
    if dtype is not None:
        x = x.astype(dtype)
    if x._data.dtype.kind != "f":
        raise TypeError(f"norm(): Expected a floating point tensor as input. Got "
                        f"{x.data.dtype}")
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":  # torch.norm's: the matrix norm over dim, or over every dim when None
        from .linalg import matrix_norm
        return matrix_norm(x, "nuc", tuple(range(x._data.ndim)) if dim is None else dim,
                           _bool_arg(keepdim, "keepdim", "norm"))
    if isinstance(p, str):
        raise ValueError(f"norm(): p must be a number, inf, 'fro' or 'nuc', got {p!r}")
    p = _scalar_arg(p, "norm(): p")
    axes = _dims(x, dim, "norm")
    keep = _bool_arg(keepdim, "keepdim", "norm")
    if x._data.dtype == np.float16:  # in float32, rounded once, as torch's: (x*x) overflowed
        return _norm(x.astype(np.float32), p, axes, keep).astype(np.float16)
    return _norm(x, p, axes, keep)


def _norm(x, p, axes, keep):
    if p == math.inf or p == -math.inf:
        a = x.abs()
        return a.max(axes, keep) if p > 0 else a.min(axes, keep)
    if p == 0:  # the count of non-zeros: a constant, with torch's zero gradient
        n = Tensor._wrap(np.asarray(np.count_nonzero(x._data, axis=axes, keepdims=keep),
                                    x._data.dtype))
        return n + apply(ops.ZerosLike, x.sum(axes, keep)) if x._requires_grad else n
    if p == 1:
        return x.abs().sum(axes, keep)
    if p == 2:
        s = (x * x).sum(axes, keep)
        return _root(s, 2)
    return _root(_abs_pow(x, p).sum(axes, keep), p)


def _abs_pow(x, p):
    """``|x| ** p`` whose gradient is 0 at ``x = 0`` for every ``p``, as torch's norm backward:
    below 1 the power's derivative there is inf, and inf * 0 made NaN. The power is taken of
    ``|x|`` with its zeros replaced by 1, then ``0 ** p`` selected (0, or inf for a negative
    ``p``, whose sum the root then takes to a norm of 0 with a zero gradient; the untaken
    branch's gradient is finite, so the select's 0 stays 0)."""
    a = x.abs()
    zero = a._data == 0
    if not zero.any():
        return a ** p
    dt = a._data.dtype
    safe = where(zero, Tensor._wrap(np.ones((), dt)), a)
    at_zero = np.zeros((), dt) if p > 0 else np.full((), np.inf, dt)
    return where(zero, Tensor._wrap(at_zero), safe ** p)


def _root(s, p):
    """``s ** (1/p)`` with a zero gradient where ``s`` is 0 (the norm's kink), as torch's norm
    backward masks it: the root is taken of ``s`` with its zeros replaced by 1, then selected."""
    zero = s._data == 0
    if not zero.any():
        return s.sqrt() if p == 2 else s ** (1.0 / p)
    safe = where(zero, Tensor._wrap(np.ones((), s._data.dtype)), s)
    r = safe.sqrt() if p == 2 else safe ** (1.0 / p)
    # 0 ** (1/p): 0, but inf for a negative p (a slice of infinities: every |x| ** p is 0)
    at_zero = np.zeros((), s._data.dtype) if p > 0 else np.full((), np.inf, s._data.dtype)
    return where(zero, Tensor._wrap(at_zero), r)


def _correction(fn, unbiased, correction):
    if unbiased is not None and correction is not None:
        raise ValueError(f"{fn}(): give unbiased or correction, not both")
    if unbiased is not None:
        if not isinstance(unbiased, (bool, np.bool_)):
            raise TypeError(f"{fn}(): argument 'unbiased' must be bool, not "
                            f"{type(unbiased).__name__}")
        return 1 if unbiased else 0
    return 1 if correction is None else correction


def _none_if_all(dim, axes):
    """None for no dim (or an empty one), else the axes: ``Tensor.var`` takes its gradient by
    torch's no-dim rule where there are no degrees of freedom (ops.Var)."""
    return None if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0) else axes


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim`` (None: all), as ``torch.var_mean``: ``correction`` 1
    (unbiased) by default, or ``unbiased`` (a bool)."""
    x = _tensor(input, "var_mean")
    c = _correction("var_mean", unbiased, correction)
    axes = _dims(x, dim, "var_mean")
    keep = _bool_arg(keepdim, "keepdim", "var_mean")
    return x.var(_none_if_all(dim, axes), c, keep), x.mean(axes, keep)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim``, as ``torch.std_mean``."""
    x = _tensor(input, "std_mean")
    c = _correction("std_mean", unbiased, correction)
    axes = _dims(x, dim, "std_mean")
    keep = _bool_arg(keepdim, "keepdim", "std_mean")
    return x.std(_none_if_all(dim, axes), c, keep), x.mean(axes, keep)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether ``|input - other| <= atol + rtol * |other|`` everywhere (broadcast), a Python
    bool, as ``torch.allclose``."""
    a, b = _tensor(input, "allclose"), _tensor(other, "allclose", "other")
    b, equal_nan = _closeness("allclose", a, b, rtol, atol, equal_nan)
    return bool(np.allclose(a._data, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other):
    """Whether the two tensors have one shape and equal elements (NaN is unequal), a Python
    bool, as ``torch.equal``."""
    a, b = _tensor(input, "equal"), _tensor(other, "equal", "other")
    return a._data.shape == b._data.shape and bool(np.array_equal(a._data, b._data))


def sum_to_size(input, *size):
    """``input`` summed down to ``size`` (a shape it broadcasts to), as
    ``Tensor.sum_to_size``: the gradient of a broadcast."""
    x = _tensor(input, "sum_to_size")
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    size = tuple(_int(s, "sum_to_size", "size") for s in size)
    shp = x._data.shape
    lead = len(shp) - len(size)
    if lead < 0 or builtins.any(s != 1 and s != n for s, n in zip(size, shp[lead:])):
        raise ValueError(f"sum_to_size(): size {{{list(size)}}} is not expandable to size "
                         f"{{{list(shp)}}}.")
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size)
                                      if s == 1 and shp[lead + i] != 1)
    if not axes:
        return x
    out = x.sum(axes, keepdims=True)
    return out.reshape(size)


# ---- PyTorch's movement functions as functions of the tensor (thin wrappers) -----------------

def flatten(input, start_dim=0, end_dim=-1):
    return _tensor(input, "flatten").flatten(start_dim, end_dim)


def reshape(input, shape):
    return _tensor(input, "reshape").reshape(shape)


def transpose(input, dim0, dim1):
    """``dim0`` and ``dim1`` swapped, as ``torch.transpose`` (the method ``Tensor.transpose``
    takes NumPy's full permutation; this is ``swapaxes``)."""
    return _tensor(input, "transpose").swapaxes(dim0, dim1)


def permute(input, dims):
    x = _tensor(input, "permute")
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"permute(): argument 'dims' must be tuple of ints, not "
                        f"{type(dims).__name__}")
    if len(dims) != x._data.ndim:  # () reached permute() with no axes: all reversed
        raise ValueError(f"permute(): number of dims don't match in permute: {len(dims)} dims "
                         f"for a {x._data.ndim}-D tensor")
    return x.permute(*dims)


def squeeze(input, dim=None):
    """The size-1 dims (of ``dim``, an int or a tuple; None for all) removed, the others left
    as they are, as ``torch.squeeze`` (the method's torch spelling, ``squeeze(dim=...)``)."""
    return _tensor(input, "squeeze").squeeze(dim=dim)


def unsqueeze(input, dim):
    return _tensor(input, "unsqueeze").unsqueeze(dim=dim)


def split(tensor, split_size_or_sections, dim=0):
    return _tensor(tensor, "split", "tensor").split(split_size_or_sections, dim)


def chunk(input, chunks, dim=0):
    return _tensor(input, "chunk").chunk(chunks, dim)


def gather(input, dim, index):
    return _tensor(input, "gather").gather(dim, index)


def sort(input, dim=-1, descending=False, *, stable=False):
    return _tensor(input, "sort").sort(dim, descending, stable=stable)


def topk(input, k, dim=-1, largest=True, sorted=True):
    return _tensor(input, "topk").topk(k, dim, largest, sorted)
