"""Primitives: a NumPy forward and a vector-Jacobian product each.

These are the ONLY hand-written derivatives of the engine. Every VJP is written once, against a
namespace ``xp`` and operators that ndarrays and Tensors share:

* ``xp = NP``: the arguments are the saved ndarrays and the VJP runs as plain NumPy (fast, nothing
  recorded). This is every ordinary ``backward()``.
* ``xp = TG``: the arguments are the input Tensors themselves and the VJP is recorded on the tape,
  so gradients of gradients work (``create_graph=True``).

A VJP signature is ``vjp(g, args, out, extra, kw, needs, xp)``: ``args`` the inputs (arrays or
tensors, Python scalars as they were), ``out`` the output, ``extra`` what the forward chose to
keep (NumPy mode only, None when recorded), ``kw`` the op's keyword arguments, ``needs`` which
inputs want a gradient. It returns one gradient (or None) per input, of any broadcast-compatible
shape: the tape sums each back to its input's shape in one place.
Python scalars stay Python scalars throughout, so a float32 graph never turns float64.
"""
from __future__ import annotations

import math

import warnings

import numpy as np

from ._broadcast import binary as _bin, compact as _compact, fits_into as _fits_into, \
    view_as as _view_as

try:  # np.einsum without its Python wrapper (~1.4 us a call), which only routes to this C loop
    # when no ``optimize`` path is asked for, as here: same function, same result
    from numpy._core.multiarray import c_einsum as _einsum
except ImportError:  # NumPy 1.x
    try:
        from numpy.core.multiarray import c_einsum as _einsum
    except ImportError:
        _einsum = np.einsum


def sum_to(g, shape):
    """Sum g down to ``shape`` (the reverse of broadcasting); works on arrays and Tensors."""
    if g.shape == shape:
        return g
    if g.size == math.prod(shape):  # every summed axis has size 1: (1, C) -> (C,) is a reshape
        return g.reshape(shape)
    if len(g.shape) == 2 and type(g) is np.ndarray and shape[-1:] == g.shape[1:] and len(shape) < 3:
        # (N, C) -> (C,) or (1, C): a bias's gradient, as an array of its own (not a reshaped
        # view, which a leaf's .grad would have to copy)
        return _fast_sum(g, (0,), len(shape) == 2)
    lead = len(g.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1)
    if axes:
        if type(g) is np.ndarray:
            g = _fast_sum(g, axes)
        else:
            g = g.sum(axis=axes, keepdims=True)
    if g.shape != shape:
        g = g.reshape(shape)
    return g


def _einsum_ok(a):
    return a.dtype == np.float32 or a.dtype == np.float64


def _sum(a, axis=None, keepdims=False):
    """``np.add.reduce`` (np.sum without its ~2 us Python wrapper), accumulated in float32 for
    float16 and rounded once, as PyTorch's CPU reductions: NumPy adds float16 in float16 along a
    strided axis (a column of 20,000 values near 0.5 summed to 2048) and a sum past 65504 is
    inf."""
    dt = a.dtype  # compared by identity: NumPy's native float dtypes are one object each
    if dt is _F32 or dt is _F64:
        return np.add.reduce(a, axis=axis, keepdims=keepdims)
    if dt is _F16:
        return np.add.reduce(a, axis=axis, dtype=np.float32, keepdims=keepdims).astype(np.float16)
    if dt.kind in "bu" and dt.itemsize < 8:  # bools and unsigned ints in int64, as torch's
        return np.sum(a, axis=axis, dtype=np.int64, keepdims=keepdims)  # (NumPy: uint64)
    return np.sum(a, axis=axis, keepdims=keepdims)  # ints and bools: np.sum's wider accumulator


_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)


def _fast_sum(a, axes, keepdims=True):
    """``a.sum(axis=axes, keepdims=keepdims)``. np.sum over leading or middle axes walks memory
    badly (0.39 ms for (32, 64, 28, 28) over (0, 2, 3)); einsum's sum-of-products loop does the
    same reduction in 0.11 ms, in float32 accumulated in blocks (see ``_einsum_sum``)."""
    if not _einsum_ok(a) or len(axes) == a.ndim or a.size == 0:
        return _sum(a, axes, keepdims)
    kept = _kept(a.shape, axes)
    if (axes[-1] == len(axes) - 1  # leading axes: (N, ...) over N, row after row
            and (a.size < _SMALL_SUM or kept >= _LONG_ROW)
            and (a.dtype != np.float32 or a.size // kept <= _BLOCK)):
        # small: least Python on the way; long rows: add.reduce's row-wise loop beats einsum's
        # (by 10-25% from 256 x 1024 up); short rows of many: einsum's (20000 x 64: 1.7x)
        return np.add.reduce(a, axes, None, None, keepdims)  # positional: ~0.3 us less
    r = _einsum_sum((a,), axes)
    return r.reshape(tuple(1 if i in axes else n for i, n in enumerate(a.shape))) if keepdims \
        else r


def _kept(shape, axes):
    n = 1
    for i, s in enumerate(shape):
        if i not in axes:
            n *= s
    return n or 1


_SMALL = 4096  # elements: below this, Python overhead outweighs memory traffic
_TINY = 1024   # elements: a product this small costs less than einsum's set-up
_SMALL_SUM = 1 << 16  # elements: below this, a sum over leading axes is quicker by add.reduce
_BLOCK = 2048  # float32 terms summed in one run before a partial sum joins a float64 total
_LONG_ROW = 1024  # elements kept per reduced index: from here add.reduce is the faster sum


def _einsum_sum(operands, axes):
    """The sum over ``axes`` of the product of ``operands`` (one array, or two of one shape),
    the other axes kept in order, without the product as a temporary.

    einsum accumulates in the input's precision, term after term: in float32 a sum of n terms
    drifts by ~n ulps (1e-5 relative over a 65536-row column, 83x off for a variance over 4M
    rows of mean 100). So a float32 sum of more than ``_BLOCK`` terms is cut along its first
    reduced axis into runs of at most ~``_BLOCK`` terms; their partial sums (a small array) are
    added in float64. Same single pass over memory, error bounded by the run length."""
    a = operands[0]
    nd = a.ndim
    n = 1
    for i in axes:
        n *= a.shape[i]
    if a.dtype != np.float32 or n <= _BLOCK:
        idx, keep = _subscripts(nd, axes)
        if len(operands) == 1:
            return _einsum(a, idx, keep)
        return _einsum(a, idx, operands[1], idx, keep)
    keep = [i for i in range(nd) if i not in axes]
    r = min(axes)
    m = a.shape[r]
    step = max(1, _BLOCK // (n // m))  # rows of axis r per run
    q = m // step
    head = tuple(slice(None) for _ in range(r)) + (slice(0, q * step),)
    split = a.shape[:r] + (q, step) + a.shape[r + 1:]
    parts = [o[head].reshape(split) for o in operands]
    # axis r becomes (q, step): q is kept, step and the other reduced axes are summed
    out = [r] + [i if i < r else i + 1 for i in keep]
    total = _einsum(*_einsum_args(parts, out, nd + 1)).sum(axis=0, dtype=np.float64)
    if q * step < m:
        tail = tuple(slice(None) for _ in range(r)) + (slice(q * step, None),)
        total += _einsum(*_einsum_args([o[tail] for o in operands], keep))
    return total.astype(a.dtype)


_SUBSCRIPTS = {}  # (ndim, summed axes) -> einsum's index lists: a model repeats a few layouts


def _subscripts(nd, axes):
    """einsum's operand and output index lists for a sum over ``axes`` of ``nd``-d operands
    (built once per layout: ~1 us a call otherwise). einsum only reads them."""
    key = (nd, axes)
    r = _SUBSCRIPTS.get(key)
    if r is None:
        if len(_SUBSCRIPTS) > 256:
            _SUBSCRIPTS.clear()
        r = _SUBSCRIPTS[key] = (list(range(nd)), [i for i in range(nd) if i not in axes])
    return r


def _einsum_args(operands, out, nd=None):
    idx = list(range(operands[0].ndim if nd is None else nd))
    args = []
    for o in operands:
        args += [o, idx]
    return args + [out]


def _mul_sum_to(g, a, shape):
    """``sum_to(g * a, shape)`` for arrays without the full-size temporary ``g * a``."""
    if type(a) is not np.ndarray:
        return sum_to(g, shape) * a
    if g.size <= _TINY and a.size <= _TINY:  # a per-channel factor's own gradient: ~3 us less
        return sum_to(g * a, shape)
    if (len(g.shape) == 2 and g.shape == a.shape and shape[-1:] == g.shape[1:] and len(shape) < 3
            and g.dtype == a.dtype and _einsum_ok(g) and g.size):
        # (N, C) by (N, C) summed to a per-channel (C,) or (1, C): a 2-D norm's scale gradient,
        # without the general broadcasting set-up below
        return _einsum_sum((g, a), (0,)).reshape(shape)
    full = g.shape if _fits_into(a.shape, g.shape) else np.broadcast_shapes(g.shape, a.shape)
    if (not _einsum_ok(g) or g.dtype != a.dtype or g.size == 0 or a.size == 0
            or len(full) == len(shape) == 0):
        return sum_to(g * a, shape)
    if g.shape != full:
        g = _view_as(g, full)
    if a.shape != full:
        a = _view_as(a, full)
    lead = len(full) - len(shape)
    keep = [i for i in range(lead, len(full)) if shape[i - lead] != 1 or full[i] == 1]
    summed = tuple(i for i in range(len(full)) if i not in keep)
    return _einsum_sum((g, a), summed).reshape(shape)


def _expand_reduced(g, shape, axes, keepdims):
    """Give a reduction's gradient back its reduced axes (size 1), ready to broadcast. An array
    reduced over leading axes (a 2-D batch norm's statistics) broadcasts as it is: NumPy aligns
    shapes from the right, and the reshape would cost ~0.8 us a call. So the result may have
    fewer axes than ``shape``: callers only broadcast it, never index it or compare its shape."""
    if not keepdims:
        if type(g) is np.ndarray and axes and axes[-1] == len(axes) - 1:
            return g
        g = g.reshape(tuple(1 if i in axes else s for i, s in enumerate(shape)))
    return g


_UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}
_SINT = {2: np.int16, 4: np.int32, 8: np.int64}
_ONE_PASS_BITS = 1 << 16  # elements: from here the sign-extending mask pass beats cast + negate


def select(c, a, b):
    """``np.where(c, a, b)``, fast when one side is the scalar 0 (dropout, relu, their VJPs).

    np.where branches per element, and on a random mask every other branch mispredicts: 4.5 ms
    for 1M float32 here. ANDing the bit pattern with an all-ones/all-zeros mask is branch-free
    (0.5 ms) and still a true select: a dropped inf or NaN becomes +0.0, never NaN."""
    side = _zero_side(c, a, b)
    if side is None:
        return np.where(c, a, b)
    arr, keep_where = side
    res = np.empty(arr.shape, arr.dtype)  # owns its memory, so the tape may reuse it in place
    m = _bits_into(res.view(_UINT[arr.dtype.itemsize]), c, keep_where)
    np.bitwise_and(arr.view(m.dtype), m, out=m)
    return res


def select_keeping_bits(c, a, b):
    """``select(c, a, b)`` and, where it took the bit-mask path, the mask itself (uints, all ones
    where the array side is kept), else None. The ``where`` primitive keeps it for its VJP, whose
    select is then one AND instead of three passes (cast, negate, AND): dropout's backward."""
    side = _zero_side(c, a, b)
    if side is None:
        return np.where(c, a, b), None
    arr, keep_where = side
    bits = _bits_into(np.empty(arr.shape, _UINT[arr.dtype.itemsize]), c, keep_where)
    res = np.empty(arr.shape, arr.dtype)
    np.bitwise_and(arr.view(bits.dtype), bits, out=res.view(bits.dtype))
    return res, bits


def _zero_side(c, a, b):
    """``(array, keep_where)`` when one side of the select is the scalar 0 and the other a float
    array of the (bool) condition's shape, which bit masking can select from; else None."""
    if type(b) in (int, float) and b == 0:
        arr, keep_where = a, True
    elif type(a) in (int, float) and a == 0:
        arr, keep_where = b, False
    else:
        return None
    if (type(arr) is not np.ndarray or arr.dtype.kind != "f" or arr.shape != c.shape
            or arr.ndim == 0 or arr.dtype.itemsize not in _UINT or c.dtype != np.bool_):
        return None
    return arr, keep_where


def _bits_into(m, c, keep_where):
    """Fill the uint array ``m`` with all ones where the array side is selected, 0 elsewhere."""
    if m.size >= _ONE_PASS_BITS and c.flags.c_contiguous and np.maximum.reduce(
            c.view(np.uint8), axis=None) <= 1:
        # One pass: c's bytes as int8 (0 or 1), negated (or minus 1) in int8 and sign-extended
        # into m's width: 1M float32 elements 0.29 ms against 0.41 ms for the two passes below
        # (0.05 ms less at 256K), slower under ~64K. Only for bytes that are all 0 or 1: a bool
        # array viewed from other data may hold 2..255, which NumPy's cast reads as True but
        # the int8 arithmetic would turn into a wrong bit pattern (the check costs 17 us at 1M).
        s = m.view(_SINT[m.dtype.itemsize])
        if keep_where:
            np.negative(c.view(np.int8), out=s, casting="unsafe")
        else:
            np.subtract(c.view(np.int8), 1, out=s, casting="unsafe")
        return m
    np.copyto(m, c, casting="unsafe")  # 1 where c, else 0
    if keep_where:
        np.negative(m, out=m)          # 1 -> all ones, 0 -> 0
    else:
        np.subtract(m, 1, out=m)       # 0 -> all ones, 1 -> 0
    return m


def and_bits(g, bits, out=None):
    """``g`` where ``bits`` is all ones, +0.0 where it is 0 (one pass), or None when g's layout
    does not fit the mask (another dtype width or shape): the caller selects the slow way."""
    if (type(g) is not np.ndarray or g.shape != bits.shape or g.dtype.kind != "f"
            or g.dtype.itemsize != bits.dtype.itemsize):
        return None
    if out is None:
        out = np.empty(g.shape, g.dtype)
    np.bitwise_and(g.view(bits.dtype), bits, out=out.view(bits.dtype))
    return out


def _scatter_np(g, index, shape, basic):
    if not basic:
        axis, idx = _one_axis_gather(index, len(shape))
        if idx is not None:
            return _scatter_axis(g, idx, axis, shape)
    out = np.zeros(shape, dtype=g.dtype)
    if basic:
        out[index] = g
        return out
    items = index if type(index) is tuple else (index,)
    if items and all(type(i) is np.ndarray and i.dtype.kind in "iu" for i in items):
        # Integer arrays on the leading axes: one flat index, so add.at works on 1-D indices
        # (a multi-dimensional index array makes it ~9x slower).
        k = len(items)
        first = items[0].shape
        if any(i.shape != first for i in items):  # np.broadcast_arrays costs ~3 us: only if needed
            items = np.broadcast_arrays(*items)
        flat = np.ravel_multi_index(items, shape[:k], mode="wrap")
        # explicit row counts: -1 cannot be inferred where a trailing axis has size 0
        rows = out.reshape((math.prod(shape[:k]),) + shape[k:])
        np.add.at(rows, flat.reshape(-1), g.reshape((flat.size,) + shape[k:]))
        return out
    np.add.at(out, index, g)  # repeated indices must add up, which plain assignment loses
    return out


def _one_axis_gather(index, ndim):
    """``(axis, idx)`` when ``index`` takes a 1-D integer array along one axis and every other
    axis whole (``x[:, idx]``, the gathers of interpolate, pad and index_select), else
    ``(None, None)``."""
    items = index if type(index) is tuple else (index,)
    if len(items) > ndim:
        return None, None
    found = None
    for k, item in enumerate(items):
        if type(item) is np.ndarray:
            if found is not None or item.ndim != 1 or item.dtype.kind not in "iu":
                return None, None
            found = k
        elif not (type(item) is slice and item == _WHOLE):
            return None, None
    return (found, items[found]) if found is not None else (None, None)


_WHOLE = slice(None)


def _scatter_axis(g, idx, axis, shape):
    """The adjoint of gathering ``idx`` along ``axis``: each slice of ``g`` added onto the place
    it was read from, in the order ``np.add.at`` adds them, without it: add.at took 5-15x
    torch's time (an upsampling's backward at (16, 32, 64, 64): 200 ms against 13). Without
    repeats, one assignment; an index of a few arithmetic runs, interleaved or not (padding,
    upsampling by 2, 3 or 4), one slice add per run; a 1-D array, add.at itself (quick there:
    one element a reader); every place read ``k`` times in a row (nearest upsampling), a reshape
    and ``k`` adds; a few repeats (linear upsampling by other factors), one pass per repeat, the
    first occurrence of each place, then the second, ...; many (an embedding of frequent
    tokens), the slices sorted by place and summed by ``np.add.reduceat`` along a leading axis."""
    n = shape[axis]
    idx = np.where(idx < 0, idx + n, idx) if idx.dtype.kind == "i" else idx
    lead = (_WHOLE,) * axis
    if idx.size == 0:
        return np.zeros(shape, dtype=g.dtype)
    # (along the first axis, whole rows: the cases below are quick already, as the gather)
    runs = _runs(idx, _PERIODS if g.size >= _BIG_GATHER else ()) if axis else None
    out = None if runs is None else _scatter_runs(g, runs, idx, axis, shape)
    if out is not None:
        return out
    most = int(np.bincount(idx, minlength=n).max())
    if most == 1:
        out = np.zeros(shape, dtype=g.dtype)
        out[lead + (idx,)] = g
        return out
    if len(shape) == 1:  # one element a reader (a max pool's winners): add.at is quick there
        out = np.zeros(shape, dtype=g.dtype)
        np.add.at(out, idx, g)
        return out
    if idx.size == n * most and np.array_equal(idx, np.arange(n).repeat(most)):
        # every place read ``most`` times in a row (nearest upsampling by an integer factor):
        # the slices are consecutive, a reshape and a sum add them
        v = g.reshape(shape[:axis] + (n, most) + shape[axis + 1:])
        at = (_WHOLE,) * (axis + 1)
        out = v[at + (0,)].copy()
        for k in range(1, most):  # strided adds: a sum over a short axis runs a loop per pair
            out += v[at + (k,)]
        return out
    order = np.argsort(idx, kind="stable")
    if most <= 8:
        return _scatter_by_rank(g, idx, order, most, axis, shape)
    places = idx[order]
    starts = np.flatnonzero(np.concatenate(([True], places[1:] != places[:-1])))
    sums = np.add.reduceat(np.take(np.moveaxis(g, axis, 0), order, axis=0), starts, axis=0)
    out = np.zeros(shape, dtype=g.dtype)
    np.moveaxis(out, axis, 0)[places[starts]] = sums
    return out


def _scatter_by_rank(g, idx, order, most, axis, shape):
    """Places read at most ``most`` (<= 8) times: pass ``r`` adds each place's ``r``-th reader,
    in the order of ``idx`` (add.at's). A pass that reaches most places is one ``np.take`` over
    the whole axis, added where the place has that reader: a fancy ``+=`` along a short last
    axis took 3-4x that."""
    n, m = shape[axis], idx.size
    lead = (_WHOLE,) * axis
    places = idx[order]
    starts = np.flatnonzero(np.concatenate(([True], places[1:] != places[:-1])))
    rank = np.empty(m, np.intp)
    rank[order] = np.arange(m) - np.repeat(starts, np.diff(np.append(starts, m)))
    out = None
    for r in range(most):
        sel = np.flatnonzero(rank == r)  # the r-th readers: each of a different place
        if 2 * sel.size < n:  # a few places: only those
            if out is None:
                out = np.zeros(shape, dtype=g.dtype)
                out[lead + (idx[sel],)] = np.take(g, sel, axis=axis)
            else:
                out[lead + (idx[sel],)] += np.take(g, sel, axis=axis)
            continue
        src = np.zeros(n, np.intp)  # a place without an r-th reader reads slice 0, left out
        src[idx[sel]] = sel
        part = np.take(g, src, axis=axis)
        mask = None
        if sel.size < n:
            mask = np.zeros((n,) + (1,) * (len(shape) - axis - 1), bool)
            mask[idx[sel]] = True
        if out is None:
            if mask is not None:
                np.copyto(part, 0, where=~mask)
            out = part
        elif mask is None:
            out += part
        else:
            np.add(out, part, out=out, where=mask)
    return out


_BIG_GATHER = 1 << 15  # elements: below this, a gather's few microseconds of analysis do not pay
_FEW_RUNS = 8  # a one-axis gather of at most this many arithmetic runs goes slice by slice
_PERIODS = (2, 3, 4)  # interleaved runs tried on big arrays (upsampling by 2, 3, 4)


def _runs(idx, periods=()):
    """A 1-D, non-negative ``idx`` as a few arithmetic runs, each ``(j0, jstep, count, place,
    step)``: outputs ``j0, j0 + jstep, ...`` (``count`` of them) read ``place, place + step,
    ...``; or None. Reflect, replicate and circular padding are three runs, a range or a flip
    one. With a period ``r`` from ``periods``, the outputs ``p, p + r, ...`` of each phase ``p``
    are split into at most three runs (a middle and the clamped ends): linear upsampling by an
    integer factor. Slices then, where fancy indexing along a short last axis took 2-9x the
    time."""
    runs = _runs_of(idx, _FEW_RUNS)
    if runs is not None or idx.size < 64 or not periods:
        return runs
    head = idx[:65]
    head = head[1:] - head[:-1]
    if (head < 0).any() or (head > 1).any():  # not an upsampling's index (steps of 0 and 1)
        return None
    for r in periods:
        runs = []
        for p in range(r):
            phase = _runs_of(idx[p::r], 3)
            if phase is None:
                break
            runs += [(p + r * j0, r, count, place, step) for j0, _, count, place, step in phase]
        else:
            return runs
    return None


def _runs_of(idx, limit):
    """``_runs`` with outputs in a row (``jstep`` 1), at most ``limit`` of them, or None."""
    m = idx.size
    if m < 2:
        return [(0, 1, m, int(idx[0]), 1)] if m else []
    head = idx[:4 * limit]
    head = head[1:] - head[:-1]  # a random index fails here, in a few us whatever its size
    if np.count_nonzero(head[1:] != head[:-1]) >= 2 * limit:
        return None
    d = idx[1:] - idx[:-1]
    change = np.flatnonzero(d[1:] != d[:-1]) + 1  # where the step differs from the one before
    if change.size >= 2 * limit:
        return None
    change, runs, start, c = change.tolist(), [], 0, 0
    while start < m:
        if start == m - 1:
            runs.append((start, 1, 1, int(idx[start]), 1))
            break
        while c < len(change) and change[c] <= start:
            c += 1
        end = change[c] if c < len(change) else m - 1  # the run's last element
        runs.append((start, 1, end + 1 - start, int(idx[start]), int(d[start])))
        start = end + 1
    return runs if len(runs) <= limit else None


def _places(place, step, count):
    """The slice of the places that one run reads (a step of 0: the one place)."""
    if step == 0:
        return slice(place, place + 1)
    stop = place + step * count
    return slice(place, stop if stop >= 0 else None, step)


def _pieces(run, axis, shape, split=True):
    """``(outputs, dst, src)`` triples that make up one run: its output positions and the index
    pairs of its slices; or, with ``split``, one triple per element for a short run across short
    rows (a pad of 3 along the last axis: an add into a slice a few elements wide costs NumPy a
    loop call per row; a copy does not) and for a short run of one place (replicate padding:
    its readers are added one at a time)."""
    j0, jstep, count, place, step = run
    lead = (_WHOLE,) * axis
    if split and (count <= 8 and (math.prod(shape[axis + 1:]) < 64 or step == 0)
                  or 1 < count <= 16 and step == 0):
        return [(np.array([j0 + jstep * t]), lead + (j0 + jstep * t,), lead + (place + step * t,))
                for t in range(count)]
    outputs = np.arange(j0, j0 + jstep * count, jstep)
    return [(outputs, lead + (slice(j0, j0 + jstep * count, jstep),),
             lead + (_places(place, step, count),))]


def _gather_runs(a, runs, axis, m):
    """``np.take(a, idx, axis)`` for the runs of ``idx`` (``_runs``), by slice copies."""
    out = np.empty(a.shape[:axis] + (m,) + a.shape[axis + 1:], a.dtype)
    for run in runs:
        for _, dst, src in _pieces(run, axis, a.shape, split=False):
            out[dst] = a[src]
    return out


def _scatter_runs(g, runs, idx, axis, shape):
    """The adjoint of ``_gather_runs``: each piece of ``g`` added onto its places, each place's
    readers in add.at's order (its first two may swap: they commute), or None where the pieces
    cannot keep that order. The longest piece of distinct, adjacent places is written first
    rather than added to zeros."""
    n = shape[axis]
    pieces = sorted((pc for run in runs for pc in _pieces(run, axis, shape)),
                    key=lambda pc: pc[0][0])
    main = max(range(len(pieces)), key=lambda i: _span(pieces[i], axis) is not None
               and pieces[i][0].size)
    span = _span(pieces[main], axis)
    if span is not None and _in_order([pieces[main]] + pieces[:main] + pieces[main + 1:], idx, n):
        lead = (_WHOLE,) * axis
        out = np.empty(shape, dtype=g.dtype)
        out[lead + (slice(0, span[0]),)] = 0
        out[lead + (slice(span[1], n),)] = 0
        outputs, dst, src = pieces.pop(main)
        out[src] = g[dst]
    elif _in_order(pieces, idx, n):
        out = np.zeros(shape, dtype=g.dtype)
    else:
        return None
    for outputs, dst, src in pieces:
        if outputs.size > 1 and type(src[axis]) is slice and src[axis].step is None:
            # one place read more than 16 times (a long replicate pad): one sum of them
            out[src] += np.add.reduce(g[dst], axis=axis, keepdims=True)
        else:
            out[src] += g[dst]
    return out


def _span(piece, axis):
    """``(lo, hi)``: the places of a piece that reads each of them once, all of them in that
    range; else None."""
    src = piece[2][axis]
    if type(src) is not slice or src.step not in (1, -1):
        return None
    count = piece[0].size
    return (src.start, src.start + count) if src.step == 1 else (src.start - count + 1,
                                                                 src.start + 1)


def _in_order(pieces, idx, n):
    """Whether adding the pieces in this order adds each place's readers in add.at's order (by
    output position; the first two may swap, as ``0 + a + b == 0 + b + a``). Only places read
    three or more times can tell, and they are few (the clamped ends of an upsampling). A place
    read more than 8 times is summed out of add.at's order anyway (``_scatter_axis``'s last
    case), so any order will do there."""
    counts = np.bincount(idx, minlength=n)
    heavy = np.flatnonzero(counts >= 3)
    if heavy.size == 0 or counts[heavy].max() > 8:
        return True
    if heavy.size > 64:
        return False
    outputs = np.concatenate([pc[0] for pc in pieces])
    places = idx[outputs]
    for p in heavy.tolist():
        seq = outputs[places == p]
        if seq[0] > seq[1]:
            seq[0], seq[1] = seq[1], seq[0]
        if (np.diff(seq) < 0).any():
            return False
    return True


def _gather_axis(a, idx, axis):
    """``a[:, ..., idx]`` along one axis, for big arrays: by slices when ``idx`` is a few runs,
    else ``np.take`` (a third faster than fancy indexing along a short last axis). None when
    ``idx`` leaves the axis (the caller's indexing raises NumPy's error)."""
    n = a.shape[axis]
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        return None
    if idx.dtype.kind == "i" and idx.size and int(idx.min()) < 0:
        idx = np.where(idx < 0, idx + n, idx)
    runs = _runs(idx, _PERIODS)
    if runs is not None:
        return _gather_runs(a, runs, axis, idx.size)
    return np.take(a, idx, axis=axis)


def _relu_backward(g, x, negative_slope=None):
    if negative_slope is None:  # relu's rule (leaky_relu with slope 0 has the other NaN rule)
        # derivative 0 at 0, and g passed through at NaN, as PyTorch's (x <= 0 is False there)
        return select(x <= 0, 0, g)
    # leaky: the slope at 0 and at NaN (x > 0 is False there), as PyTorch's leaky_relu_backward
    return np.where(x > 0, g, g * negative_slope)


class _NP:
    """The un-recorded namespace: NumPy on arrays."""
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sign = staticmethod(np.sign)
    where = staticmethod(select)
    relu_backward = staticmethod(_relu_backward)
    zeros_like = staticmethod(np.zeros_like)
    zeros_attached = staticmethod(np.zeros_like)

    @staticmethod
    def sigmoid(a):
        return Sigmoid.forward(a)  # (defined below) stable: exp of non-positive numbers only

    @staticmethod
    def attach(g, x):
        return g
    transpose = staticmethod(np.transpose)
    sum_to = staticmethod(sum_to)

    @staticmethod
    def broadcast_to(g, shape):
        """A reduction's gradient spread back over its input: a read-only view when big (no
        full-size copy), a small array of its own otherwise (np.broadcast_to costs 4 us of
        Python, ``_view_as`` 0.5; a copy of a few KiB costs 2)."""
        if g.shape == shape:
            return g
        n = 1
        for s in shape:
            n *= s
        if n >= _SMALL:
            return _view_as(g, shape)
        out = np.empty(shape, g.dtype)
        np.copyto(out, g)
        return out

    @staticmethod
    def scatter(g, index, shape, basic):
        return _scatter_np(g, index, shape, basic)

    @staticmethod
    def pad_like(g, pad_width):
        return np.pad(g, pad_width)


class _TG:
    """The recorded namespace: the same functions as Tensor ops, so the VJP lands on the tape."""

    @staticmethod
    def exp(t):
        return t.exp()

    @staticmethod
    def sigmoid(t):
        return t.sigmoid()

    @staticmethod
    def log(t):
        return t.log()

    @staticmethod
    def sign(t):
        return t.sign()

    @staticmethod
    def where(c, a, b):
        from .tensor import where
        return where(c, a, b)

    @staticmethod
    def relu_backward(g, x, negative_slope=None):
        from .tensor import apply
        return apply(ReluBackward, g, x, negative_slope=negative_slope)

    @staticmethod
    def zeros_like(t):
        """Zeros that are a constant: the next derivative finds no graph (as PyTorch's)."""
        from .tensor import Tensor
        return Tensor.zeros_like(t)

    @staticmethod
    def zeros_attached(t):
        """Zeros that depend on ``t`` with derivative 0, to every order (``ZerosLike``)."""
        from .tensor import apply
        return apply(ZerosLike, t)

    @staticmethod
    def attach(g, x):
        """``g`` itself, recorded as depending on ``x`` with derivative 0 (``Attach``)."""
        from .tensor import Tensor, apply
        if type(x) is not Tensor or not x.requires_grad:
            return g
        return apply(Attach, g, x)

    @staticmethod
    def broadcast_to(t, shape):
        return t.broadcast_to(shape)

    @staticmethod
    def transpose(t, axes):
        return t.transpose(axes)

    sum_to = staticmethod(sum_to)

    @staticmethod
    def scatter(g, index, shape, basic):
        from .tensor import apply
        return apply(Scatter, g, index=index, shape=shape, basic=basic)

    @staticmethod
    def pad_like(g, pad_width):
        return g.pad(pad_width)


NP, TG = _NP(), _TG()


class Op:
    """A primitive. ``forward(*arrays, **kw)`` returns the output array, or ``(out, extra)``
    when ``keeps_extra``; ``vjp`` maps the output gradient to one per input."""
    name = "op"
    keeps_extra = False
    # Whether the VJP reads the output. Only then is it saved: a saved output of an op that does
    # not need it (add, mul) kept full-size intermediates alive until backward reached them.
    saves_out = False
    # Whether the VJP reads the input values (not just their shapes): only then does a
    # create_graph backward refuse an input whose array was replaced after the forward
    reads_inputs = True
    # Optional, for an op whose VJP reads only some inputs: ``reads(needs)`` -> one bool per
    # input, whether the gradients in ``needs`` read its value (None: every input, when
    # ``reads_inputs``). Decides which in-place writes after the forward are refused.
    reads = None
    differentiable = True
    # Optional: a VJP like ``vjp`` that may write its result into ``g``. The tape calls it only
    # when g is a full-size array of its own that nothing else holds (no hook, no caller).
    vjp_owned = None

    @staticmethod
    def forward(*args, **kw):
        raise NotImplementedError

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        raise NotImplementedError


# ---- elementwise binary ------------------------------------------------------------------

class Add(Op):
    name = "add"
    reads_inputs = False
    @staticmethod
    def forward(a, b):  # a per-channel operand broadcast in long runs (_broadcast.py)
        return _bin(np.add, a, b)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return g, g

    @staticmethod
    def vjp_owned(g, args, out, extra, kw, needs, xp):
        # Passing g on untouched: it stays the tape's own if only one input takes it whole.
        return (g if needs[0] else None), (g if needs[1] else None)


class Sub(Op):
    name = "sub"
    reads_inputs = False
    @staticmethod
    def forward(a, b):  # a per-channel operand broadcast in long runs (_broadcast.py)
        return _bin(np.subtract, a, b)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        if not needs[1]:
            return g, None
        # Reduce first, negate the small result: -g at full size would be a wasted pass.
        b = args[1]
        return g, (-xp.sum_to(g, b.shape) if b.shape != g.shape else -g)

    @staticmethod
    def vjp_owned(g, args, out, extra, kw, needs, xp):
        ga, gb = Sub.vjp(g, args, out, extra, kw, needs, xp)
        return (ga if needs[0] else None), gb


SAME = "same operand"  # a binary node's saved extra when both operands are one tensor (x * x)


class Mul(Op):
    name = "mul"
    reads = staticmethod(lambda needs: (needs[1], needs[0]))  # each for the other's gradient
    @staticmethod
    def forward(a, b):  # a per-channel operand broadcast in long runs (_broadcast.py)
        return _bin(np.multiply, a, b)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, b = args
        if extra is SAME:  # x * x: one product, routed once (half the work of two equal halves)
            return _twice(a, g, xp), None
        if xp is NP:
            # A broadcast operand (a per-channel scale) gets sum(g * other) in one fused pass.
            ga = gb = None
            if needs[0]:
                ga = _mul_sum_to(g, b, a.shape) if a.shape != g.shape else _bin(np.multiply, g, b)
            if needs[1]:
                gb = _mul_sum_to(g, a, b.shape) if b.shape != g.shape else _bin(np.multiply, g, a)
            return ga, gb
        return (g * b if needs[0] else None), (g * a if needs[1] else None)

    @staticmethod
    def vjp_owned(g, args, out, extra, kw, needs, xp):
        a, b = args
        if extra is None and needs == (True, False) and a.shape == g.shape and _scales_in_place(g, b):
            return _bin(np.multiply, g, b, out=g), None  # x * scale (dropout, a constant factor)
        if extra is None and needs == (False, True) and b.shape == g.shape and _scales_in_place(g, a):
            return None, _bin(np.multiply, g, a, out=g)
        if extra is None and needs == (True, True) and a.shape == g.shape != b.shape \
                and _scales_in_place(g, b):  # xc * scale in a norm: the scale's sum reads g first
            gb = _mul_sum_to(g, a, b.shape)
            return _bin(np.multiply, g, b, out=g), gb
        if extra is None and needs == (True, True) and b.shape == g.shape != a.shape \
                and _scales_in_place(g, a):
            ga = _mul_sum_to(g, b, a.shape)
            return ga, _bin(np.multiply, g, a, out=g)
        return Mul.vjp(g, args, out, extra, kw, needs, xp)


class Addcmul(Op):
    """``input + tensor1 * tensor2``: the last step of every normalization (``xc * scale +
    bias``) and its ``var * (1 / n) + eps``. One node and one output array where ``mul`` then
    ``add`` made two of each; the same two roundings in the same order, so the same values bit
    for bit where all operands share a dtype. A wider input (float64, float32 factors) gets the
    product in its own precision, as torch promotes all three first. (``torch.addcmul``'s
    ``value`` is a multiply before it: see ``tensor.addcmul``.)"""
    name = "addcmul"
    reads = staticmethod(lambda needs: (False, needs[2], needs[1]))

    @staticmethod
    def forward(c, a, b):
        if type(a) in (int, float) and type(b) in (int, float):
            return _bin(np.add, c, a * b)  # a Python product stays weak; NumPy's would promote c
        out = np.asarray(_bin(np.multiply, a, b))  # an array for 0-d factors too
        if type(c) is np.ndarray and c.dtype != out.dtype:
            wide = np.result_type(c, out)
            if wide != out.dtype:  # as torch, the product in the result's precision, not rounded
                out = np.multiply(a, b, dtype=wide)  # to the factors' first (f32 factors, f64 c)
        if (type(c) is np.ndarray and c.dtype == out.dtype and _fits_into(c.shape, out.shape)
                or type(c) in (int, float) and out.dtype.kind == "f"):
            return _bin(np.add, out, c, out=out)  # the product is ours: add into it
        return _bin(np.add, out, c)  # c broadcasts the result to a bigger shape

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        c, a, b = args
        ga, gb = Mul.vjp(g, (a, b), None, None, kw, needs[1:], xp)  # the factors: as in a * b
        return (g if needs[0] else None), ga, gb

    @staticmethod
    def vjp_owned(g, args, out, extra, kw, needs, xp):
        # The factors' gradients as mul's in-place VJP gives them, which may write one into g;
        # the input's is taken from g first. An input as big as g would get g itself (or a
        # reshaped view of it), which must then not be written: no in-place VJP for it.
        c, a, b = args
        if needs[0] and c.size >= g.size:
            return Addcmul.vjp(g, args, out, extra, kw, needs, xp)
        gc = sum_to(g, c.shape) if needs[0] else None
        return (gc,) + Mul.vjp_owned(g, (a, b), None, None, kw, needs[1:], xp)


def _twice(a, g, xp):
    """``a * 2g``: the gradient of ``a * a`` (and of ``a.vecdot(a)``) routed once to ``a``; g is
    often a reduction's broadcast view, multiplied as the small array it repeats."""
    g = _compact(g)
    return _bin(np.multiply, a, g + g) if xp is NP else a * (g + g)


def _scales_in_place(g, factor):
    """Whether ``g *= factor`` gives what ``g * factor`` would: a Python scalar, or an array that
    broadcasts into g without changing its dtype."""
    if type(factor) in (int, float):
        return True
    return (type(factor) is np.ndarray and factor.dtype == g.dtype
            and _fits_into(factor.shape, g.shape))


class Div(Op):
    name = "div"
    reads = staticmethod(lambda needs: (needs[1], True))  # a / b reads b; b's gradient both
    @staticmethod
    def forward(a, b):  # a per-channel operand broadcast in long runs (_broadcast.py)
        return _bin(np.true_divide, a, b)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, b = args
        # un-recorded through _bin: a float16 gradient divided by a number in float32, as the
        # forward (g / 65536.0, unscaling a loss, was 0: the number had become inf)
        ga = (_bin(np.true_divide, g, b) if xp is NP else g / b) if needs[0] else None
        # -g a / b^2 as PyTorch orders it, (a / b) / b: with b * b, the higher derivatives met
        # 0 * inf at b = 0 or inf and gave NaN where PyTorch gives inf or 0
        gb = -g * ((a / b) / b) if needs[1] else None
        return ga, gb


def _power(a, b):
    """np.power, except that an integer tensor exponent may hold negative entries, as torch:
    there ``a ** b`` is 1 for a base of 1, +-1 for -1 (by the exponent's parity) and 0 for any
    other base, 0 included (NumPy refuses the whole array). A negative Python int exponent is
    still refused, with NumPy's words, which are torch's."""
    try:
        return np.power(a, b)
    except ValueError:
        if not (isinstance(b, np.ndarray) and b.dtype.kind in "iu"):
            raise
        neg = b < 0
        res = np.power(a, np.where(neg, 0, b))  # a shape error is raised here, as before
        inv = np.where(a == 1, 1, np.where(a == -1, np.where(b % 2 == 0, 1, -1), 0))
        return np.where(neg, inv, res).astype(res.dtype, copy=False)


class Pow(Op):
    """``a ** b``. The output is not saved: the base's gradient reads only ``a`` and ``b`` (a
    write into ``x ** 2``'s output goes unrefused, as torch's, which saves only ``self`` for a
    number exponent), and the exponent's, which needs it, recomputes ``a ** b`` from the saved
    operands (the forward's promoted arrays: the same values)."""
    name = "pow"
    forward = staticmethod(_power)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, b = args
        ga = gb = None
        if needs[0]:
            if isinstance(b, (int, float)):
                if b == 0:  # b * a^(b-1) is 0 * inf at a == 0; PyTorch (and the limit) say 0
                    ga = xp.zeros_like(g)
                else:
                    # g * 2 * a only un-recorded: recorded, its derivative would be a
                    # constant and the third derivative "not used in the graph" (torch: 0)
                    ga = g * 2 * a if b == 2 and xp is NP else g * b * a ** (b - 1)
            else:
                # Same 0 * inf at a == b == 0: a select, so that the exponent-0 entries are 0.
                with np.errstate(divide="ignore", invalid="ignore"):
                    ga = xp.where(b == 0, 0, g * b * a ** (b - 1))
        if needs[1]:
            # d(a^b)/db = a^b log a; PyTorch takes it as 0 where a == 0 and b >= 0 (the limit),
            # and keeps inf * log 0 = -inf where b < 0
            out = a ** b
            if type(a) in (int, float) and a != 0:  # a Python number stays one (float32 graphs)
                gb = g * out * (math.log(a) if a > 0 else math.nan)
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    gb = g * out * xp.log(xp.where((a == 0) & (b >= 0), 1, a))
        return ga, gb


class Maximum(Op):
    name = "maximum"
    forward = staticmethod(np.maximum)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, b = args
        return _split_by_mask(g, a < b, a > b, a == b, needs, xp)


class Minimum(Op):
    name = "minimum"
    forward = staticmethod(np.minimum)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, b = args
        return _split_by_mask(g, a > b, a < b, a == b, needs, xp)


def _split_by_mask(g, a_loses, b_loses, tie, needs, xp):
    """PyTorch's rule for maximum/minimum: ties share the gradient equally, the losing side gets
    exactly 0 (a select: also for an inf upstream), and both sides get it where a NaN makes
    every comparison false."""
    if type(g) is np.ndarray and not tie.any():
        half = g  # no tie (the usual case): no halving pass and no branchy np.where
    else:
        half = xp.where(tie, g * 0.5, g)
    return (xp.where(a_loses, 0, half) if needs[0] else None,
            xp.where(b_loses, 0, half) if needs[1] else None)


class Where(Op):
    name = "where"
    reads = staticmethod(lambda needs: (True, False, False))  # the condition only
    # extra: the select's bit mask when one side is the scalar 0 (``select_keeping_bits``)
    keeps_extra = True
    forward = staticmethod(select_keeping_bits)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp, into_g=False):
        c = args[0]
        if extra is not None:
            # The array side gets g through the forward's mask; the other side is the constant 0.
            i = 1 if needs[1] else 2
            gi = and_bits(g, extra, out=g if into_g else None)
            if gi is not None:
                return (None, gi, None) if i == 1 else (None, None, gi)
        # A select, not a multiply: the unselected side gets exactly 0 even when g is inf/NaN.
        return (None,
                xp.where(c, g, 0) if needs[1] else None,
                xp.where(c, 0, g) if needs[2] else None)

    @staticmethod
    def vjp_owned(g, args, out, extra, kw, needs, xp):
        return Where.vjp(g, args, out, extra, kw, needs, xp, into_g=True)


# ---- elementwise unary -------------------------------------------------------------------

class Neg(Op):
    name = "neg"
    reads_inputs = False
    forward = staticmethod(np.negative)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (-g,)


class Exp(Op):
    name = "exp"
    reads_inputs = False
    saves_out = True
    forward = staticmethod(np.exp)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g * out,)


class Log(Op):
    name = "log"
    forward = staticmethod(np.log)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g / args[0],)


class Log1p(Op):
    """log(1 + x), exact for tiny x (softplus and logsigmoid in their tails)."""
    name = "log1p"
    forward = staticmethod(np.log1p)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g / (args[0] + 1.0),)


class Expm1(Op):
    """exp(x) - 1, exact for tiny x (elu just below 0)."""
    name = "expm1"
    forward = staticmethod(np.expm1)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        # exp(x) afresh, not out + 1: that cancels for x << 0 (float32 exp(-17) came out 44%
        # off, and 0 below -17.3)
        return (g * xp.exp(args[0]),)


class Sqrt(Op):
    name = "sqrt"
    reads_inputs = False
    saves_out = True
    forward = staticmethod(np.sqrt)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g * 0.5 / out,)


class Rsqrt(Op):
    name = "rsqrt"
    reads_inputs = False
    saves_out = True

    @staticmethod
    def forward(a):
        out = np.sqrt(a)
        if type(out) is not np.ndarray:  # a 0-d input gives a NumPy scalar: no buffer to reuse
            return np.reciprocal(out)
        np.reciprocal(out, out=out)
        return out

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g * -0.5 * out * out * out,)


class Abs(Op):
    name = "abs"
    forward = staticmethod(np.abs)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        s = xp.sign(a)
        data = a.data if xp is TG else a
        if data.dtype.kind == "f" and np.isnan(data).any():
            s = xp.where(np.isnan(data), 0, s)  # PyTorch's sgn(NaN) = 0: NaN*g would spread
        return (g * s,)


class Sign(Op):
    name = "sign"
    reads_inputs = False
    forward = staticmethod(np.sign)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (xp.zeros_like(g),)


class Relu(Op):
    name = "relu"

    @staticmethod
    def forward(a):
        if a.ndim and a.dtype.kind == "f" and a.dtype.itemsize >= 4:
            # against an array of zeros, not the scalar 0: NumPy's maximum has a SIMD loop for
            # two float32/float64 arrays only (2.2 against 5.8 us at (64, 128), 28 against 66 us
            # at (8, 16, 32, 32), 651 against 781 at (32, 64, 28, 28), the zeros made
            # included); the same bits, -0.0 and NaN payloads too (tests/test_mlp_step_paths.py)
            return np.maximum(a, np.zeros(a.shape, a.dtype))
        return np.maximum(a, 0)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (xp.relu_backward(g, args[0]),)

    @staticmethod
    def vjp_owned(g, args, out, extra, kw, needs, xp):
        # the same select, written into g (the tape's own): no fresh full-size array, whose
        # first touch costs more than the AND itself
        c = args[0] <= 0
        if _zero_side(c, 0, g) is None:
            return (select(c, 0, g),)
        bits = _bits_into(np.empty(g.shape, _UINT[g.dtype.itemsize]), c, False)
        return (and_bits(g, bits, out=g),)


class LeakyRelu(Op):
    """``x`` where ``x > 0``, else ``negative_slope * x``: a primitive, as PyTorch's, so that its
    VJP keeps ``x`` (``ReluBackward`` with the slope) and higher derivatives are zeros."""
    name = "leaky_relu"

    @staticmethod
    def forward(a, negative_slope):
        return np.where(a > 0, a, a * negative_slope)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (xp.relu_backward(g, args[0], kw["negative_slope"]),)


class ReluBackward(Op):
    """relu's (and leaky_relu's) VJP as a node of its own, recorded only under ``create_graph``:
    ``g`` where ``x > 0``, else 0 or ``negative_slope * g`` (PyTorch's ``threshold_backward`` and
    ``leaky_relu_backward``, NaN rules included). It keeps ``x`` as an input whose derivative is
    0, so every higher derivative of a ReLU network with respect to its input is zeros, as in
    PyTorch, instead of an error that the input was not used in the graph."""
    name = "relu_backward"
    forward = staticmethod(_relu_backward)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (xp.relu_backward(g, args[1], kw["negative_slope"]) if needs[0] else None,
                xp.zeros_attached(args[1]) if needs[1] else None)


class ZerosLike(Op):
    """Zeros of ``x``'s shape and dtype that depend on ``x`` with derivative 0: the derivative of
    a piecewise-linear primitive's VJP with respect to its input, kept on the graph to every
    order (PyTorch's backward functions take the input, so its derivatives there are zeros)."""
    name = "zeros_like"
    reads_inputs = False
    forward = staticmethod(np.zeros_like)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (xp.zeros_attached(args[0]),)


class Attach(Op):
    """``g`` unchanged, recorded as depending on ``x`` with derivative 0: a linear primitive's
    VJP (nll_loss, the pools) made a function of its input, as PyTorch's backward functions are,
    so that the next derivative with respect to that input is zeros, not an error. Recorded only
    under ``create_graph``."""
    name = "attach"
    reads_inputs = False

    @staticmethod
    def forward(g, x):
        return g.view()

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g if needs[0] else None, xp.zeros_attached(args[1]) if needs[1] else None)


class Connect(Op):
    """The identity, whose VJP attaches the gradient to the input (``Attach``): put by a
    composite that is one primitive in PyTorch (the pools, a weighted nll_loss) before its own
    linear ops, so that its second derivative with respect to the input is zeros, as there."""
    name = "connect"
    reads_inputs = False

    @staticmethod
    def forward(a):
        return a.view()

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (xp.attach(g, args[0]),)


class Sigmoid(Op):
    name = "sigmoid"
    reads_inputs = False
    saves_out = True

    @staticmethod
    def forward(a):
        if a.dtype is _F16:  # in float32, rounded once, as PyTorch (sigmoid(2) was 0.8804)
            return Sigmoid.forward(a.astype(np.float32)).astype(np.float16)
        # 1 / (1 + exp(-a)) in three passes over one buffer (the select between two stable
        # branches took nine). exp(-a) overflows to inf below -88.7 (float32) or -709.8
        # (float64), and 1 / inf = 0 there: PyTorch's values too, which also go to 0 there
        # rather than through the subnormals. Within range each step rounds once: ~1 ulp.
        if a.dtype.kind != "f":  # integers: in float64, as NumPy's exp would
            a = a.astype(np.float64)
        out = np.empty_like(a)  # an array even for 0-d input (a ufunc would return a scalar)
        np.negative(a, out=out)
        with np.errstate(over="ignore"):
            np.exp(out, out=out)
        out += 1.0
        return np.reciprocal(out, out=out)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        if xp is NP and out.dtype is _F16:
            o = out.astype(np.float32)
            return ((g.astype(np.float32) * o * (1 - o)).astype(np.float16),)
        return (g * out * (1 - out),)


class Tanh(Op):
    name = "tanh"
    reads_inputs = False
    saves_out = True
    forward = staticmethod(np.tanh)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g * (1 - out * out),)


class Clip(Op):
    name = "clip"

    @staticmethod
    def forward(a, lo=None, hi=None):
        return np.clip(a, lo, hi)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        lo, hi = kw["lo"], kw["hi"]
        keep = None
        if lo is not None:
            keep = a >= lo
        if hi is not None:
            keep = (a <= hi) if keep is None else keep & (a <= hi)
        return (g if keep is None else xp.where(keep, g, 0),)


class Cast(Op):
    name = "astype"
    reads_inputs = False

    @staticmethod
    def forward(a, dtype):
        return a.astype(dtype)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g.astype(args[0].dtype),)


# ---- reductions ----------------------------------------------------------------------------

class Sum(Op):
    name = "sum"
    reads_inputs = False

    @staticmethod
    def forward(a, axis, keepdims):
        if 0 < len(axis) < a.ndim and _einsum_ok(a):
            return _fast_sum(a, axis, keepdims)
        if _einsum_ok(a):  # the ufunc's reduce: np.sum's Python wrapper costs ~2 us a call
            return np.add.reduce(a, axis=axis, keepdims=keepdims)
        return _sum(a, axis, keepdims)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        shape = args[0].shape
        g = _expand_reduced(g, shape, kw["axis"], kw["keepdims"])
        return (xp.broadcast_to(g, shape),)


class Cumsum(Op):
    """Running sums along one axis. Its VJP is the running sum taken from the other end (each
    input adds into every output at or after it), itself a cumsum, so every order is
    differentiable. float16 sums in float32 and rounds each result once, as PyTorch's kernel."""
    name = "cumsum"
    reads_inputs = False

    @staticmethod
    def forward(a, axis):
        if a.dtype == np.float16:
            return np.cumsum(a, axis=axis, dtype=np.float32).astype(np.float16)
        if a.dtype.kind in "biu":
            return np.cumsum(a, axis=axis, dtype=np.int64)  # PyTorch's int64 for every integer
        return np.cumsum(a, axis=axis)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        axis = kw["axis"]
        if xp is NP:
            return (np.flip(Cumsum.forward(np.flip(g, axis), axis), axis),)
        return (g.flip(axis).cumsum(axis).flip(axis),)


class Cumprod(Op):
    """Running products along one axis, in O(n). Its VJP is PyTorch's cumprod_backward: where
    a slice has no zero, ``revcumsum(g * out) / x`` (differentiable as it stands); where it
    has, each input's gradient is ``sum_{j >= i} g_j * prod_{m <= j, m != i} x_m``, without a
    division by 0. Unrecorded that takes O(n): ahead of the first zero the quotient above, at
    it the reverse running sum of ``g`` times the running products with that zero replaced by
    1, after it 0. Recorded (create_graph) the zeros after the first have a gradient of 0 but
    a derivative that is not, so, as torch falls back to O(n^2) there, each element's
    running products with it replaced by 1 are taken (n^2 values a slice, only where a slice
    holds a zero). float16 multiplies in float32 and rounds each result once; integers and
    bools give int64, as torch.cumprod."""
    name = "cumprod"
    saves_out = True

    @staticmethod
    def forward(a, axis):
        if a.dtype == np.float16:
            with np.errstate(over="ignore"):  # past 65504: inf, silently, as torch
                return np.cumprod(a, axis=axis, dtype=np.float32).astype(np.float16)
        if a.dtype.kind in "biu":
            return np.cumprod(a, axis=axis, dtype=np.int64)
        return np.cumprod(a, axis=axis)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, axis = args[0], kw["axis"]
        zero = (a if type(a) is np.ndarray else a.data) == 0
        if not zero.any():
            return (_rev_cumsum(g * out, axis, xp) / a,)
        if xp is not NP:
            return (_cumprod_grad_recorded(g, a, axis),)
        seen = np.cumsum(zero, axis=axis)
        ahead, first = seen == 0, zero & (seen == 1)  # before a slice's first zero; that zero
        ga = np.where(ahead, _rev_cumsum(g * out, axis, xp) / np.where(ahead, a, 1), 0)
        # at the first zero: sum_{j >= k} g_j * the running product with that zero as 1
        run = Cumprod.forward(np.where(first, 1, a), axis)
        return (np.where(first, _rev_cumsum(g * run, axis, xp), ga),)


def _cumprod_grad_recorded(g, a, axis):
    """``sum_{j >= i} g_j * prod_{m <= j, m != i} x_m`` for every ``i``, in Tensor ops: row
    ``i`` of an (n, n) block is the slice with ``x_i`` replaced by 1, whose running products
    (Cumprod again, so every order is differentiable) are weighted by ``g`` from column ``i``
    on and summed."""
    from .tensor import apply, where
    last = len(a.shape) - 1
    if axis != last:
        a, g = a.swapaxes(axis, -1), g.swapaxes(axis, -1)
    n = a.shape[-1]
    rows = where(np.eye(n, dtype=bool), 1, a.unsqueeze(-2).broadcast_to(a.shape + (n,)))
    runs = apply(Cumprod, rows, axis=last + 1)
    later = np.triu(np.ones((n, n), dtype=bool))  # column j at or after row i
    r = where(later, g.unsqueeze(-2) * runs, 0).sum(axis=-1)
    return r.swapaxes(axis, -1) if axis != last else r


def _rev_cumsum(a, axis, xp):
    """The running sum from the far end of ``axis``: each element plus all after it."""
    if xp is NP:
        return np.flip(Cumsum.forward(np.flip(a, axis), axis), axis)
    return a.flip(axis).cumsum(axis).flip(axis)


class Mean(Op):
    name = "mean"
    reads_inputs = False

    @staticmethod
    def forward(a, axis, keepdims):
        return _mean(a, axis, keepdims)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        shape, axes = args[0].shape, kw["axis"]
        n = _count(shape, axes)
        g = _expand_reduced(g, shape, axes, kw["keepdims"])
        return (xp.broadcast_to(g * (1.0 / n) if n else g, shape),)


def _mean(a, axes, keepdims):
    n = _count(a.shape, axes)
    if 0 < len(axes) < a.ndim and n and _einsum_ok(a):
        r = _fast_sum(a, axes, keepdims)
        r *= 1.0 / n
        return r
    if n and axes and _einsum_ok(a):  # all axes: np.mean's Python wrapper costs ~4 us a call
        return np.add.reduce(a, axis=axes, keepdims=keepdims) * (1.0 / n)
    if not n:  # an empty slice: NaN, as torch, without NumPy's "Mean of empty slice" warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.mean(a, axis=axes, keepdims=keepdims)
    return np.mean(a, axis=axes, keepdims=keepdims)


def _count(shape, axes):
    n = 1
    for i in axes:
        n *= shape[i]
    return n


class _Extreme(Op):
    saves_out = True

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, axes, keep = args[0], kw["axis"], kw["keepdims"]
        out = _expand_reduced(out, a.shape, axes, keep)
        g = _expand_reduced(g, a.shape, axes, keep)
        A = a if type(a) is np.ndarray else a.data
        O = out if type(out) is np.ndarray else out.data
        # Ties share the gradient evenly, as torch.amax/amin do; a NaN maximum is the NaN
        # elements' (NaN != NaN would leave no winner and give 0/0 everywhere).
        hit = (A == O) | (np.isnan(A) & np.isnan(O)) if A.dtype.kind in "fc" else A == O
        share = (hit / hit.sum(axis=axes, keepdims=True)).astype(A.dtype, copy=False)
        return (g * share,)


class Max(_Extreme):
    name = "max"

    @staticmethod
    def forward(a, axis, keepdims):
        return np.maximum.reduce(a, axis=axis, keepdims=keepdims)  # np.max, without its wrapper


class Min(_Extreme):
    name = "min"

    @staticmethod
    def forward(a, axis, keepdims):
        return np.minimum.reduce(a, axis=axis, keepdims=keepdims)


_KEEP_DEVIATION = 1 << 20  # bytes


def _deviation(a, axes):
    if type(a) is np.ndarray:
        return _centered(a, axes)
    return a - a.mean(axis=axes, keepdims=True)


def _centered(a, axes):
    """``a - mean(a)`` over ``axes``, taken from ``a`` shifted by each slice's first element
    (which the difference does not depend on): exactly 0 for a constant slice, as PyTorch's
    variance gives -- the rounded mean of n copies of v is not always v (float32 0.1 three
    times: 1 ulp over), and std's gradient was then O(1) instead of 0 -- and no cancellation
    where the mean is large against the spread. One subtraction more than the plain form."""
    if a.dtype.kind in "biu":  # integers and bools: float64 deviations, as NumPy's var
        a = a.astype(np.float64)
    if a.size and axes:
        d = np.subtract(a, a[tuple(slice(0, 1) if i in axes else slice(None)
                                   for i in range(a.ndim))])
        m = _mean(d, axes, True)
        # else the shift overflowed (2e38 - -2e38 in float32) or the data holds inf/NaN: the
        # plain form below, whose inf is NumPy's and PyTorch's (the shifted one gave inf - inf)
        if np.isfinite(m).all():
            return np.subtract(d, m, out=d)
    with np.errstate(invalid="ignore"):  # inf - inf: NaN, the variance torch gives too
        return np.subtract(a, _mean(a, axes, True))


class Var(Op):
    """Variance in two passes (mean first, then the mean square of the deviations): stable
    where E[x^2] - E[x]^2 cancels catastrophically."""
    name = "var"
    keeps_extra = True

    @staticmethod
    def forward(a, axis, correction, keepdims, whole=False):  # whole: for the VJP only
        if a.dtype == np.float16:  # in float32, rounded once: d * d and its sum pass 65504
            out, d = Var.forward(a.astype(np.float32), axis, correction, keepdims)
            return out.astype(np.float16), (None if d is None else d.astype(np.float16))
        d = _centered(a, axis)
        n = _count(a.shape, axis) - correction
        if 0 < len(axis) < a.ndim and d.size and _einsum_ok(d):
            out = _einsum_sum((d, d), axis)  # no d*d temporary
            if keepdims:
                out = out.reshape(tuple(1 if i in axis else s for i, s in enumerate(a.shape)))
        else:
            out = np.sum(np.multiply(d, d), axis=axis, keepdims=keepdims)
        if n > 0:
            out /= n
        else:  # no degrees of freedom: sum / 0, inf (nan for a constant set), as NumPy and torch
            with np.errstate(divide="ignore", invalid="ignore"):
                out = out / 0.0
        # Kept for the VJP only when small: a big one would be a second full-size copy beside
        # the caller's own centred values (a batch norm step peaked at 5.0x its input's size
        # with it, 4.0x without); recomputing it in backward costs one mean and one subtract.
        return out, (d if d.nbytes <= _KEEP_DEVIATION else None)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, axes = args[0], kw["axis"]
        n = _count(a.shape, axes) - kw["correction"]
        g = _expand_reduced(g, a.shape, axes, kw["keepdims"])
        if n <= 0:
            return (_no_dof_grad(g * 2.0, a, axes, n, kw, xp),)
        factor = g * (2.0 / n)
        with np.errstate(invalid="ignore"):  # inf * 0 where an inf upstream meets a zero deviation
            if extra is None and xp is NP:
                d = _deviation(a, axes)  # ours alone: scaled in place, no second full-size array
                np.multiply(d, factor, out=d, casting="unsafe")
                return (d,)
            d = extra if extra is not None else _deviation(a, axes)
            return (d * factor,)


class VecDot(Op):
    """``sum(a * b)`` over ``axis`` in one pass, without the full-size product: the sum of
    products of ``torch.linalg.vecdot`` and ``np.vecdot`` (real inputs), over any set of axes of
    the broadcast shape. ``x.vecdot(x)`` is a sum of squares that never materializes ``x * x``;
    the norms take their variance so. Float32 sums of many terms are blocked as every other
    reduction (``_einsum_sum``)."""
    name = "vecdot"
    reads = staticmethod(lambda needs: (needs[1], needs[0]))  # each for the other's gradient

    @staticmethod
    def forward(a, b, axis, keepdims):
        if axis and a.shape == b.shape and a.size and a.dtype == b.dtype and _einsum_ok(a):
            out = _einsum_sum((a, b), axis)
            if keepdims:
                out = out.reshape(tuple(1 if i in axis else n for i, n in enumerate(a.shape)))
            return out
        return _sum(np.multiply(a, b), axis, keepdims)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, b = args
        shape = a.shape if a.shape == b.shape else np.broadcast_shapes(a.shape, b.shape)
        g = _expand_reduced(g, shape, kw["axis"], kw["keepdims"])
        if extra is SAME:  # x.vecdot(x): one product, routed once
            return _twice(a, g, xp), None
        # g * b can be smaller than a (a summed axis where b has size 1): broadcast it back up,
        # the tape sums it to a's shape
        ga = xp.broadcast_to(g * b, shape) if needs[0] else None
        gb = xp.broadcast_to(g * a, shape) if needs[1] else None
        return ga, gb


class Std(Op):
    """Standard deviation, a primitive of its own (not ``var().sqrt()``) so that a zero deviation
    (a constant slice) gives the gradient 0 that PyTorch gives, instead of 0 * inf = NaN."""
    name = "std"
    saves_out = True
    keeps_extra = True

    @staticmethod
    def forward(a, axis, correction, keepdims, whole=False):  # whole: for the VJP only
        if a.dtype.kind != "f" or a.dtype.itemsize == 8:
            out, d = Var.forward(a, axis, correction, keepdims)
            return np.sqrt(out, out=out) if type(out) is np.ndarray else np.sqrt(out), d
        with np.errstate(over="ignore", under="ignore"):  # handled here
            out, d = Var.forward(a, axis, correction, keepdims)
        if not (np.isfinite(out).all() and (out >= np.finfo(out.dtype).tiny).all()) \
                and _count(a.shape, axis) > correction and np.isfinite(a).all():
            # the variance of finite float32 values near 1e20 overflows (1e40), of values near
            # 1e-25 underflows (1e-50), their standard deviation does neither: taken in float64
            # and rounded once, as PyTorch's (a constant set, std 0, passes here too)
            out, d = Var.forward(a.astype(np.float64), axis, correction, keepdims)
            with np.errstate(over="ignore"):  # a std beyond the dtype's range: inf, as PyTorch
                out, d = np.sqrt(out).astype(a.dtype), None if d is None else d.astype(a.dtype)
            return (out if type(out) is np.ndarray else np.asarray(out)), d
        return np.sqrt(out, out=out) if type(out) is np.ndarray else np.sqrt(out), d

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, axes = args[0], kw["axis"]
        n = _count(a.shape, axes) - kw["correction"]
        out = _expand_reduced(out, a.shape, axes, kw["keepdims"])
        g = _expand_reduced(g, a.shape, axes, kw["keepdims"])
        if n <= 0:  # torch's rule, d std = d var / (2 std), 0 where std is 0: here std is inf/NaN
            with np.errstate(divide="ignore", invalid="ignore"):
                half = xp.where(out == 0, 0, g / (out * 2.0))
            return (_no_dof_grad(half * 2.0, a, axes, n, kw, xp),)
        d = extra if extra is not None else _deviation(a, axes)
        half = xp is NP and a.dtype == np.float16
        if half:  # in float32, rounded once, as PyTorch's: 1 / n is below float16's range
            d, out, g = d.astype(np.float32), out.astype(np.float32), g.astype(np.float32)
        zero = out == 0
        # d std / d a = (a - mean) / std * (g / n), taken as 0 where std == 0 (a select, not
        # 0 * inf); d / std first, each factor of order one: n * std overflowed float16 at
        # std 1 and 65504 elements
        factor = xp.where(zero, 0, g * (1.0 / n if n > 0 else float("nan")))
        grad = d / xp.where(zero, 1, out) * factor
        return (grad.astype(np.float16) if half else grad,)


def _no_dof_grad(g2, a, axes, n, kw, xp):
    """The gradient of a variance with no degrees of freedom (correction >= the count, the
    value sum / 0), as torch 2.13 takes it from ``g2`` (twice the upstream gradient, broadcast):
    without a dim (or of a 0-d tensor) inf times its sign, NaN where a value equals the mean;
    along a dim ``g2 / n * (a - mean)``, n == 0 giving inf and n < 0 a finite negative slope."""
    with np.errstate(divide="ignore", invalid="ignore"):  # the inf and NaN are torch's
        if kw.get("whole"):
            m = a.mean(axis=axes, keepdims=True)
            return xp.where(a == m, float("nan"), g2 * float("inf"))  # g2's dtype kept
        return g2 * (1.0 / n if n else float("inf")) * _deviation(a, axes)


class Logsumexp(Op):
    name = "logsumexp"
    saves_out = True

    @staticmethod
    def forward(a, axis, keepdims):
        m = np.max(a, axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        s = np.log(_sum(np.exp(a - m), axis, True)) + m
        return s if keepdims else np.squeeze(s, axis=axis)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, axes, keep = args[0], kw["axis"], kw["keepdims"]
        out = _expand_reduced(out, a.shape, axes, keep)
        g = _expand_reduced(g, a.shape, axes, keep)
        return (g * xp.exp(a - out),)


class Softmax(Op):
    name = "softmax"
    reads_inputs = False
    saves_out = True

    @staticmethod
    def forward(a, axis):
        if a.dtype is _F16:  # in float32, rounded once, as PyTorch (exp in float16: 8 ulps off)
            return Softmax.forward(a.astype(np.float32), axis).astype(np.float16)
        # the ufuncs' reduce, not np.max / np.sum: their Python wrappers cost ~2 us a call each
        e = np.exp(a - np.maximum.reduce(a, axis=axis, keepdims=True))
        e /= _sum(e, axis, True)
        return e

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        if xp is NP and out.dtype is _F16:
            gi, = Softmax.vjp(g.astype(np.float32), args, out.astype(np.float32), extra, kw,
                              needs, xp)
            return (gi.astype(np.float16),)
        gy = g * out
        total = _sum(gy, kw["axis"], True) if xp is NP else gy.sum(axis=kw["axis"], keepdims=True)
        return (gy - out * total,)


class LogSoftmax(Op):
    name = "log_softmax"
    reads_inputs = False
    saves_out = True

    @staticmethod
    def forward(a, axis):
        if a.dtype is _F16:  # in float32, rounded once, as PyTorch
            return LogSoftmax.forward(a.astype(np.float32), axis).astype(np.float16)
        z = a - np.maximum.reduce(a, axis=axis, keepdims=True)
        z -= np.log(_sum(np.exp(z), axis, True))
        return z

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        if xp is NP and out.dtype is _F16:
            gi, = LogSoftmax.vjp(g.astype(np.float32), args, out.astype(np.float32), extra, kw,
                                 needs, xp)
            return (gi.astype(np.float16),)
        total = _sum(g, kw["axis"], True) if xp is NP else g.sum(axis=kw["axis"], keepdims=True)
        return (g - xp.exp(out) * total,)


# ---- linear algebra ------------------------------------------------------------------------

def _matmul(a, b):
    """``a @ b``; two float16 arrays in float32, rounded once, as PyTorch's CPU kernel: NumPy
    has no float16 BLAS kernel, and its own loop took 1 s for a (256, 512) @ (512, 512)."""
    if a.dtype is _F16 and b.dtype is _F16:
        return np.matmul(a.astype(np.float32), b.astype(np.float32)).astype(np.float16)
    return np.matmul(a, b)


class MatMul(Op):
    name = "matmul"
    reads = staticmethod(lambda needs: (needs[1], needs[0]))  # each for the other's gradient
    forward = staticmethod(_matmul)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, b = args
        a_shape, b_shape = a.shape, b.shape
        if len(a_shape) == 2 and len(b_shape) == 2 and xp is NP:  # a layer's (N, in) @ (in, out)
            return (_matmul(g, b.T) if needs[0] else None), (_matmul(a.T, g) if needs[1] else None)
        # Promote 1-D operands to matrices as matmul does, and give g the matching axes.
        if len(b_shape) == 1:
            b = b.reshape(b_shape + (1,))
            g = g.reshape(g.shape + (1,))
        if len(a_shape) == 1:
            a = a.reshape((1,) + a_shape)
            g = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:])
        if xp is NP and g.dtype is _F16:  # products and the batch sum in float32, rounded once
            a, b, g = a.astype(np.float32), b.astype(np.float32), g.astype(np.float32)
        ga = gb = None
        if needs[0]:
            ga = xp.sum_to(_product(g, _mT(b, xp), xp), a.shape).reshape(a_shape)
        if needs[1]:
            gb = xp.sum_to(_product(_mT(a, xp), g, xp), b.shape).reshape(b_shape)
        if xp is NP and args[0].dtype is _F16 and args[1].dtype is _F16:
            ga = None if ga is None else ga.astype(np.float16)
            gb = None if gb is None else gb.astype(np.float16)
        return ga, gb


def _product(x, y, xp):
    """``x @ y``; where the contracted axis has length 1 (a depthwise convolution's weight
    gradient: one output channel per group), the broadcast product ``x * y`` instead. It is the
    same single product per entry, bit for bit, but NumPy's batched matmul runs those outer
    products one small GEMM at a time: 9 ms against 2.4 for a 3x3 depthwise layer on
    (8, 64, 32, 32)."""
    if xp is NP and x.shape[-1] == 1 and len(x.shape) > 2:
        return x * y
    return x @ y


def _mT(t, xp):
    n = len(t.shape)
    axes = tuple(range(n - 2)) + (n - 1, n - 2)
    return xp.transpose(t, axes)


# ---- movement --------------------------------------------------------------------------------

class Reshape(Op):
    name = "reshape"
    reads_inputs = False

    @staticmethod
    def forward(a, shape):
        return np.reshape(a, shape)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g.reshape(args[0].shape),)


class Transpose(Op):
    name = "transpose"
    reads_inputs = False

    @staticmethod
    def forward(a, axes):
        return np.transpose(a, axes)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        inv = tuple(np.argsort(kw["axes"]).tolist())
        return (xp.transpose(g, inv),)


class BroadcastTo(Op):
    name = "expand"
    reads_inputs = False

    @staticmethod
    def forward(a, shape):
        return np.broadcast_to(a, shape)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (xp.sum_to(g, args[0].shape),)


class GetItem(Op):
    name = "getitem"
    reads_inputs = False

    @staticmethod
    def forward(a, index, basic):
        if not basic and a.size >= _BIG_GATHER:  # x[:, idx] of interpolate, pad, index_select
            axis, idx = _one_axis_gather(index, a.ndim)
            if axis:  # (along the first axis, fancy indexing copies whole rows: quick already)
                out = _gather_axis(a, idx, axis)
                if out is not None:
                    return out
        out = a[index]
        if basic and type(out) is not np.ndarray:
            # every dim taken by an int: NumPy gives a scalar, a copy; a 0-d view instead, as
            # torch's x[0] (under no_grad() `v = x[0]; v += 1` writes through to x)
            out = a[(index if type(index) is tuple else (index,)) + (Ellipsis,)]
        return out

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (xp.scatter(g, kw["index"], args[0].shape, kw["basic"]),)


class NllLoss(Op):
    """``-sum(a[i, target[i]])`` over the N rows of an (N, C) input, or that over N (``mean``):
    PyTorch's ``nll_loss`` for the usual batch (every target a class, no class weights), which is
    a primitive there too. The same values, bit for bit, as the composite it replaces (pick by
    indexing, negate, mean or sum), in one node instead of three; its gradient, ``-g`` (over N)
    at each row's target and 0 elsewhere, is one assignment, as every row picks one place."""
    name = "nll_loss"

    @staticmethod
    def forward(a, target, mean):
        n = a.shape[0]
        # negated before the sum, as the composite does: -sum(p) would give -0.0 where every
        # picked log-probability is 0 (C = 1, or a batch fitted to the last bit), torch +0.0
        total = np.add.reduce(np.negative(a[np.arange(n), target]))
        return total * (1.0 / n) if mean else total

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        shape, target = args[0].shape, kw["target"]
        n = shape[0]
        v = -(g * (1.0 / n)) if kw["mean"] else -g
        rows = np.arange(n)
        if xp is NP:
            gx = np.zeros(shape, dtype=np.result_type(v))
            gx[rows, target] = v
            return (gx,)
        gx = xp.scatter(xp.broadcast_to(v, (n,)), (rows, target), shape, False)
        return (xp.attach(gx, args[0]),)  # zeros as the next derivative, as PyTorch's


# ---- special functions ----
# torch.special's functions whose derivatives need a function of their own. The kernels live in
# special_kernels.py (float64, vectorised NumPy); each forward rounds its result once to the
# input's dtype. Each VJP is a formula in xp, or another of these primitives through _run, so
# create_graph records it and derivatives of every order follow.

from . import special_kernels as _sk  # noqa: E402  (pure NumPy; kept with the block it serves)


def _special(kernel, a, *more):
    return _sk.on_array(kernel, a, *more).astype(a.dtype, copy=False)


def _nonzero(a, xp):
    """``a`` with its zeros replaced by 1: fed to a ``/ a`` branch that a select then drops
    (0 times an infinite local derivative would still be NaN)."""
    return xp.where(a == 0, 1.0, a)


class Lgamma(Op):
    """log|Gamma(x)|; d/dx = digamma(x)."""
    name = "lgamma"

    @staticmethod
    def forward(a):
        return _special(_sk.lgamma, a)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g * _run(Digamma, xp, args[0]),)


class Digamma(Op):
    """psi(x); d/dx = polygamma(1, x)."""
    name = "digamma"

    @staticmethod
    def forward(a):
        return _special(_sk.digamma, a)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g * _run(Polygamma, xp, args[0], n=1),)


class Polygamma(Op):
    """The ``n``-th derivative of digamma; d/dx = polygamma(n + 1, x)."""
    name = "polygamma"

    @staticmethod
    def forward(a, n):
        return _special(lambda x: _sk.polygamma(n, x), a)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g * _run(Polygamma, xp, args[0], n=kw["n"] + 1),)


class Erfc(Op):
    """1 - erf(x), exact in the right tail; d/dx = -2/sqrt(pi) exp(-x^2)."""
    name = "erfc"

    @staticmethod
    def forward(a):
        return _special(_sk.erfc, a)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        return (g * (xp.exp(-(a * a)) * -1.1283791670955126),)


class Erfcx(Op):
    """exp(x^2) erfc(x); d/dx = 2 x erfcx(x) - 2/sqrt(pi)."""
    name = "erfcx"
    saves_out = True

    @staticmethod
    def forward(a):
        return _special(_sk.erfcx, a)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g * (2.0 * args[0] * out - 1.1283791670955126),)


class Erfinv(Op):
    """The inverse of erf; d/dy = sqrt(pi)/2 exp(erfinv(y)^2)."""
    name = "erfinv"
    reads_inputs = False
    saves_out = True

    @staticmethod
    def forward(a):
        return _special(_sk.erfinv, a)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g * (xp.exp(out * out) * 0.886226925452758),)  # sqrt(pi) / 2


class Ndtri(Op):
    """The inverse of the standard normal CDF; d/dp = sqrt(2 pi) exp(ndtri(p)^2 / 2)."""
    name = "ndtri"
    reads_inputs = False
    saves_out = True

    @staticmethod
    def forward(a):
        return _special(_sk.ndtri, a)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g * (xp.exp(out * out * 0.5) * 2.5066282746310002),)  # sqrt(2 pi)


class I0(Op):
    """The modified Bessel function I0; d/dx = I1(x)."""
    name = "i0"

    @staticmethod
    def forward(a):
        return _special(_sk.i0, a)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g * _run(I1, xp, args[0]),)


class I1(Op):
    """The modified Bessel function I1; d/dx = I0(x) - I1(x)/x (1/2 at 0)."""
    name = "i1"
    saves_out = True

    @staticmethod
    def forward(a):
        return _special(_sk.i1, a)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        # 1/2 + 3 x^2 / 16 below 1e-8 is 1/2 to the ulp; at the smallest subnormals I1(x)
        # rounds to 0 (not x / 2), and I1(x) / x gave the derivative 1 there
        tiny = np.abs(_values(a)) < 1e-8
        d = _run(I0, xp, a) - out / xp.where(tiny, 1.0, a)
        return (g * xp.where(tiny, 0.5, d),)


class I0e(Op):
    """exp(-|x|) I0(x); d/dx = I1e(x) - sign(x) I0e(x)."""
    name = "i0e"
    saves_out = True

    @staticmethod
    def forward(a):
        return _special(_sk.i0e, a)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        return (g * (_run(I1e, xp, a) - xp.sign(a) * out),)


class I1e(Op):
    """exp(-|x|) I1(x); d/dx = I0e(x) - I1e(x) (sign(x) + 1/x) (1/2 at 0)."""
    name = "i1e"
    saves_out = True

    @staticmethod
    def forward(a):
        return _special(_sk.i1e, a)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        d = _run(I0e, xp, a) - out * (xp.sign(a) + 1.0 / _nonzero(a, xp))
        return (g * xp.where(a == 0, 0.5, d),)


class Zeta(Op):
    """Hurwitz's zeta(x, q); d/dq = -x zeta(x + 1, q). Like torch, no derivative in ``x``."""
    name = "zeta"

    @staticmethod
    def forward(x, q):
        dt = np.result_type(x, q)
        return _sk.zeta(x, q).astype(dt, copy=False)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        if needs[0]:
            raise RuntimeError("the derivative for 'zeta' is not implemented.")
        x, q = args
        return None, g * (-x * _run(Zeta, xp, x + 1.0, q))


class Scatter(Op):
    """The adjoint of indexing: zeros of ``shape`` with g added at ``index``. Exists so that the
    gradient of ``__getitem__`` is itself differentiable."""
    name = "scatter"
    reads_inputs = False

    @staticmethod
    def forward(g, index, shape, basic):
        return _scatter_np(g, index, shape, basic)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g[kw["index"]],)


class ScatterReduce(Op):
    """``a`` with the elements of ``s`` folded in by ``reduce`` ('amax', 'amin' or 'prod') at
    ``index``, each place of ``a`` counting itself too when ``include_self`` (else only what
    lands on it): torch's scatter_reduce and index_reduce for the reductions that are not a
    sum. ``index``, an int array of ``s``'s shape, names where each element of ``s`` goes as a
    flat index into ``a.ravel()``. The VJP is torch's scatter_reduce backward:
    amax/amin share the gradient evenly among the elements equal to the result; prod gives each
    factor the product of the others, never dividing by a zero factor."""
    name = "scatter_reduce"
    saves_out = True
    _UFUNC = {"amax": np.maximum, "amin": np.minimum, "prod": np.multiply}

    @staticmethod
    def forward(a, s, index, reduce, include_self, fn="scatter_reduce"):
        # (fn: the torch function it serves, named by the refusal of a second derivative)
        fold = ScatterReduce._UFUNC[reduce]
        out = a.copy()
        flat = out.reshape(-1)
        places = index.reshape(-1)
        if not include_self:  # the fold starts from its identity where anything lands
            flat[places] = _fold_identity(reduce, a.dtype)
        # NumPy 2's fold.at has a fast loop for flat indices: at (1024, 256) into 64 places it
        # took 0.35 ms, sorting the places for reduceat 20-40 ms, by slices 0.6
        with np.errstate(invalid="ignore"):  # a NaN propagates, as torch's
            fold.at(flat, places, s.reshape(-1))
        return out

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        if kw["reduce"] == "prod":
            return _scatter_prod_vjp(g, args, out, kw, needs, xp)
        a, s = args
        A, S, O = (v if type(v) is np.ndarray else v.data for v in (a, s, out))
        index = kw["index"]
        # torch's rule, NaN included (NaN != NaN: no share there, and 0 * (g / 0) is NaN):
        # each element equal to its result takes g / (how many are), self counted even when
        # include_self is False (torch's count does so too)
        self_hit = (A == O).astype(A.dtype)
        src_hit = (S == _pick(O, index)).astype(A.dtype)
        count = self_hit + _scatter_sum(src_hit, index, A.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = g / count
        gs = _pick(share, index) * src_hit if needs[1] else None
        ga = None
        if needs[0]:
            ga = share * self_hit
            if not kw["include_self"]:
                ga = xp.where(_landed(index, A.shape), 0, ga)
        return ga, gs


def _fold_identity(reduce, dtype):
    """The value a fold starts from, which leaves it unchanged: 1 for prod; for amax -inf (an
    integer type's smallest value, False), for amin +inf (the largest, True)."""
    if reduce == "prod":
        return 1
    big = True if dtype.kind == "b" else np.inf if dtype.kind in "fc" else np.iinfo(dtype).max
    if reduce == "amin":
        return big
    return False if dtype.kind == "b" else -np.inf if dtype.kind in "fc" else np.iinfo(dtype).min


def _pick(v, index):
    """The elements of ``v`` (an array or a Tensor) at the flat ``index``: a gather, whose
    adjoint scatters back, so it is differentiable when recorded."""
    return v.reshape(-1)[index]


def _scatter_sum(v, index, shape):
    """Zeros of ``shape`` with the array ``v`` added at the flat ``index``."""
    return np.bincount(index.reshape(-1), v.reshape(-1), math.prod(shape)).reshape(
        shape).astype(v.dtype, copy=False)


def _landed(index, shape):
    """Where anything lands: a bool array of ``shape``."""
    hit = np.zeros(shape, bool)
    hit.reshape(-1)[index.reshape(-1)] = True
    return hit


def _scatter_prod_vjp(g, args, out, kw, needs, xp):
    """Each factor's gradient: g times the product of the other factors of its place, as
    torch's: ``g * out / a`` where the factor is not 0; a zero factor of ``a`` gets g times the
    product of what landed on it (the fold of ``a`` with its zeros set to 1, divided by 1); a
    source element that is its place's only zero source gets g times the fold of the other
    factors (itself set to 1). Where two or more zeros of ``s`` land on one place, their
    gradients are g * 0 / 1 = 0, right, but that formula's own derivative is not, so a second
    derivative through them is refused, as torch does."""
    a, s = args
    A, S = (v if type(v) is np.ndarray else v.data for v in (a, s))
    index, include_self = kw["index"], kw["include_self"]
    again = _fold_again(xp, kw)
    ga = gs = None
    if needs[0]:
        if not include_self:
            ga = xp.where(_landed(index, A.shape), 0, g)
        elif not (A == 0).any():
            ga = g * out / a
        else:
            nonzero = xp.where(A == 0, 1, a)
            ga = g * again(nonzero, s) / nonzero
    if needs[1]:
        zero = S == 0
        if not zero.any():
            return ga, _pick(g * out, index) / s
        zeros_at = _pick(_scatter_sum(zero.astype(np.int64), index, A.shape), index)
        only = zero & (zeros_at == 1)
        rest = _pick(g * out, index) / xp.where(zero, 1, s)
        gs = xp.where(only, _pick(g * again(a, xp.where(only, 1, s)), index), rest)
        if xp is TG and (zeros_at > 1).any():
            from .tensor import apply
            fn = kw.get("fn", "scatter_reduce")
            arg = "source" if fn == "index_reduce" else "src"
            gs = apply(Refuse, gs, message=f"{fn}(): Double backward is unsupported for {arg} "
                       f"when >1 zeros in {arg} are scattered to the same position in self")
    return ga, gs


def _fold_again(xp, kw):
    """The op's own forward on other operands (recorded when ``xp`` records)."""
    def run(a, s):
        if xp is TG:
            from .tensor import apply
            return apply(ScatterReduce, a, s, **kw)
        return ScatterReduce.forward(a, s, **kw)
    return run


class Refuse(Op):
    """``a`` itself, whose gradient is an error carrying ``message``: what torch records where
    it has no derivative (a scatter with ``reduce=``; a second derivative of a scatter product
    over several zeros). The other inputs only tie the node to what should get no gradient."""
    name = "refuse"
    reads_inputs = False

    @staticmethod
    def forward(a, *tied, message):
        return a

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        raise RuntimeError(kw["message"])


class Concatenate(Op):
    name = "concatenate"
    reads_inputs = False

    @staticmethod
    def forward(*arrays, axis):
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        axis, start, grads = kw["axis"], 0, []
        lead = (slice(None),) * axis
        for a, need in zip(args, needs):
            stop = start + a.shape[axis]
            grads.append(g[lead + (slice(start, stop),)] if need else None)
            start = stop
        return tuple(grads)


class Pad(Op):
    name = "pad"
    reads_inputs = False

    @staticmethod
    def forward(a, pad_width, value):
        if a.ndim == 0:  # nothing to pad; np.pad reads the empty pad_width () as floats and fails
            return a.copy()
        return np.pad(a, pad_width, mode="constant", constant_values=value)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        index = tuple(slice(lo, s - hi) for (lo, hi), s in zip(kw["pad_width"], g.shape))
        return (g[index],)


# ---- sliding windows: im2col and its adjoint col2im ------------------------------------------
# conv2d and the pools are composites over these two. Each is linear and the other's adjoint, so
# each VJP is the other op: recorded (create_graph) gradients of any order work.

def _run(op, xp, *args, **kw):
    """Run ``op`` as NumPy (``xp is NP``) or recorded on the tape (``xp is TG``)."""
    if xp is NP:
        return op.forward(*args, **kw)
    from .tensor import apply
    return apply(op, *args, **kw)


def window_out_size(size, kernel, stride, pad_total, dilation):
    """Output length of a sliding window along one axis (0 or less: the window does not fit)."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


class Im2col(Op):
    """Sliding windows of an (N, C, H, W) array as a new (N, C, kh, kw, OH, OW) array.

    ``out[n, c, i, j, y, x] = padded[n, c, y*sh + i*dh, x*sw + j*dw]`` where ``padded`` is the
    input padded by ``padding = ((top, bottom), (left, right))`` with ``value``. Reshaped to
    (N, C*kh*kw, OH*OW) it is ``torch.nn.functional.unfold``'s layout."""
    name = "im2col"
    reads_inputs = False

    @staticmethod
    def forward(a, kernel, stride, padding, dilation, value=0.0):
        (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
        (pt, pb), (pl, pr) = padding
        if pt or pb or pl or pr:
            a = np.pad(a, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=value)
        n, c, h, w = a.shape
        oh = window_out_size(h, kh, sh, 0, dh)
        ow = window_out_size(w, kw, sw, 0, dw)
        s0, s1, s2, s3 = a.strides
        # Every index of the view lies inside ``a`` (oh and ow were computed to fit), and the view
        # is read-only and copied at once: no aliasing escapes.
        view = np.lib.stride_tricks.as_strided(
            a, (n, c, kh, kw, oh, ow), (s0, s1, s2 * dh, s3 * dw, s2 * sh, s3 * sw),
            writeable=False)
        return np.ascontiguousarray(view)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (_run(Col2im, xp, g, shape=args[0].shape, kernel=kw["kernel"], stride=kw["stride"],
                     padding=kw["padding"], dilation=kw["dilation"]),)


class Col2im(Op):
    """The adjoint of ``Im2col``: add every window entry back onto the (N, C, H, W) position it
    was read from (entries read from the padding are dropped)."""
    name = "col2im"
    reads_inputs = False

    @staticmethod
    def forward(g, shape, kernel, stride, padding, dilation):
        (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
        (pt, pb), (pl, pr) = padding
        n, c, h, w = shape
        oh, ow = g.shape[-2:]
        hp, wp = h + pt + pb, w + pl + pr
        # kh*kw strided adds, one per kernel offset (windows overlap, so they must add in turn).
        if sw == 1 and ow < 16:
            # Short rows: NumPy's cost per row would dominate, so move (N, C) innermost first; a
            # window row then is one contiguous run of ow * n * c values.
            gt = np.ascontiguousarray(g.transpose(2, 3, 4, 5, 0, 1))
            out = np.zeros((hp, wp, n, c), dtype=g.dtype)
            for i in range(kh):
                rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
                for j in range(kw):
                    out[rows, j * dw:j * dw + ow] += gt[i, j]
            out = out.transpose(2, 3, 0, 1)
        else:
            out = np.zeros((n, c, hp, wp), dtype=g.dtype)
            for i in range(kh):
                rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
                for j in range(kw):
                    x = j * dw
                    out[:, :, rows, x:x + sw * (ow - 1) + 1:sw] += g[:, :, i, j]
        if pt or pb or pl or pr:
            out = out[:, :, pt:pt + h, pl:pl + w]
        return out

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (_run(Im2col, xp, g, kernel=kw["kernel"], stride=kw["stride"],
                     padding=kw["padding"], dilation=kw["dilation"]),)


# ---- special functions ---------------------------------------------------------------------------

def _erf_array(a):
    """erf in ``a``'s dtype by the package's own vectorised kernel (SciPy's erf was a dependency
    only by accident, and without it a Python call per element); float16 through float32 and
    rounded once, as PyTorch."""
    from .special_kernels_erf import erf
    if a.dtype == np.float16:
        return erf(a.astype(np.float32)).astype(np.float16)
    if a.dtype not in (np.float32, np.float64):  # integers and bools: in float64, as before
        return erf(a.astype(np.float64))
    return erf(a)


class Erf(Op):
    """The error function (for the exact GELU); d erf(a)/da = 2/sqrt(pi) exp(-a^2)."""
    name = "erf"

    @staticmethod
    def forward(a):
        return np.asarray(_erf_array(a), dtype=a.dtype)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        if xp is NP and type(g) is np.ndarray and g.shape == a.shape and g.dtype == a.dtype:
            # the same operations in the same order, in one buffer (five fresh arrays before)
            # out= keeps a 0-d result an array (np.multiply would give a NumPy scalar)
            d = np.multiply(a, a, out=np.empty_like(a))
            np.negative(d, out=d)
            np.exp(d, out=d)
            d *= 1.1283791670955126
            d *= g
            return (d,)
        return (g * (xp.exp(-(a * a)) * 1.1283791670955126),)  # 2 / sqrt(pi)


# ---- products --------------------------------------------------------------------------------

class Prod(Op):
    """The product over ``axis`` (a tuple, as ``sum``). Its VJP is PyTorch's: ``g * (out / a)``
    where no input is 0; where one is, each element's gradient is the product of the others in
    its slice (never 0/0): one zero gets the product of the rest, its neighbours 0, and a slice
    with two zeros 0 throughout. float16 multiplies in float32 and rounds once; integers and
    bools give int64, as torch.prod."""
    name = "prod"
    saves_out = True

    @staticmethod
    def forward(a, axis, keepdims):
        if a.dtype == np.float16:
            with np.errstate(over="ignore"):  # past 65504: inf, silently, as torch
                return np.prod(a, axis=axis, dtype=np.float32, keepdims=keepdims).astype(
                    np.float16)
        if a.dtype.kind in "biu":
            return np.prod(a, axis=axis, dtype=np.int64, keepdims=keepdims)
        return np.multiply.reduce(a, axis=axis, keepdims=keepdims)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, axes, keep = args[0], kw["axis"], kw["keepdims"]
        if not axes:  # a product of one factor each: the identity
            return (g,)
        g = _expand_reduced(g, a.shape, axes, keep)
        if not ((a if type(a) is np.ndarray else a.data) == 0).any():
            return (g * (_expand_reduced(out, a.shape, axes, keep) / a),)
        return (g * _prod_of_others(a, axes, xp),)


def _prod_of_others(a, axes, xp):
    """For each element, the product of the other elements of its slice over ``axes``. NumPy:
    the running products from both ends, exclusive, multiplied (as PyTorch's
    prod_safe_zeros_backward). Recorded: the slice repeated once per element with that element
    replaced by 1, then ``Prod`` again -- n^2 values a slice, but a differentiable product at
    every order, and a second derivative is rarely taken where a factor is exactly 0."""
    nd = len(a.shape)
    rest = [i for i in range(nd) if i not in axes]
    perm = tuple(rest + list(axes))
    inv = tuple(np.argsort(perm).tolist())
    moved = xp.transpose(a, perm)
    lead = moved.shape[:len(rest)]
    n = math.prod(moved.shape[len(rest):])
    if xp is NP:
        flat = moved.reshape(lead + (n,))
        left = np.ones_like(flat)
        np.cumprod(flat[..., :-1], axis=-1, out=left[..., 1:])
        right = np.ones_like(flat)
        right[..., :-1] = np.flip(np.cumprod(np.flip(flat[..., 1:], -1), axis=-1), -1)
        return np.transpose((left * right).reshape(moved.shape), inv)
    from .tensor import apply, where
    wide = moved.reshape(lead + (1, n)).broadcast_to(lead + (n, n))
    others = apply(Prod, where(np.eye(n, dtype=bool), 1.0, wide), axis=(len(lead) + 1,),
                   keepdims=False)
    return xp.transpose(others.reshape(moved.shape), inv)


class Einsum(Op):
    """``np.einsum(subscripts, *operands)`` for an explicit equation (``"ij,jk->ik"``) in which
    no label repeats within an operand or the output and every label has one size: the einsum
    composite (``tinygrad_norm.einsum``) takes diagonals, expands ellipses and broadcasts size-1
    axes first. The VJP of each operand is another einsum of the output gradient with the other
    operands, to that operand's labels; a label only that operand has (summed over) is broadcast
    back. Being an einsum itself, it is differentiable to every order."""
    name = "einsum"
    reads = staticmethod(lambda needs: tuple(
        any(n for j, n in enumerate(needs) if j != i) for i in range(len(needs))))

    @staticmethod
    def forward(*arrays, subscripts):
        if len(arrays) > 2 or (len(arrays) == 2 and arrays[0].size + arrays[1].size >= _SMALL):
            # NumPy's contraction order and BLAS (a 256 x 256 matmul-like einsum runs ~2.5x
            # slower in einsum's C loop), worth its ~20 us of path search from a few KiB up
            out = np.einsum(subscripts, *arrays, optimize=True)
        else:  # small, or one operand: the C loop directly
            out = _einsum(subscripts, *arrays)
        if len(arrays) == 1 and np.may_share_memory(out, arrays[0]):
            out = out.copy()  # "ij->ji" is a view in NumPy; an output must own its memory
        return out

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        ins, outl = kw["subscripts"].split("->")
        labels = ins.split(",")
        grads = []
        for i, (a, need) in enumerate(zip(args, needs)):
            if not need:
                grads.append(None)
                continue
            others = [(labels[j], args[j]) for j in range(len(args)) if j != i]
            have = set(outl).union(*[lab for lab, _ in others])
            mine = "".join(c for c in labels[i] if c in have)
            subs = ",".join([outl] + [lab for lab, _ in others]) + "->" + mine
            gi = _run(Einsum, xp, g, *[o for _, o in others], subscripts=subs)
            if len(mine) < len(labels[i]):  # summed only here: every element had the same weight
                gi = gi.reshape(tuple(s if c in have else 1 for c, s in zip(labels[i], a.shape)))
                gi = xp.broadcast_to(gi, a.shape)
            grads.append(gi)
        return tuple(grads)


# ---- PyTorch's elementwise math -----------------------------------------------------------------
# Each VJP is PyTorch's formula (derivatives.yaml), in its order of operations, so values at the
# special points (0, poles, inf, NaN) are PyTorch's too. ``_run`` records the ops a VJP calls on
# the tape under create_graph, so every one of them is differentiable again.

_LN2 = 0.6931471805599453
_LN10 = 2.302585092994046


class Sin(Op):
    name = "sin"
    forward = staticmethod(np.sin)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g * _run(Cos, xp, args[0]),)


class Cos(Op):
    name = "cos"
    forward = staticmethod(np.cos)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g * -_run(Sin, xp, args[0]),)


class Tan(Op):
    name = "tan"
    reads_inputs = False
    saves_out = True
    forward = staticmethod(np.tan)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g * (out * out + 1),)


class Asin(Op):
    name = "asin"
    forward = staticmethod(np.arcsin)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        return (g * _run(Rsqrt, xp, -a * a + 1),)


class Acos(Op):
    name = "acos"
    forward = staticmethod(np.arccos)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        return (g * -_run(Rsqrt, xp, -a * a + 1),)


class Atan(Op):
    name = "atan"
    forward = staticmethod(np.arctan)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        return (g / (a * a + 1),)


class Sinh(Op):
    name = "sinh"
    forward = staticmethod(np.sinh)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g * _run(Cosh, xp, args[0]),)


class Cosh(Op):
    name = "cosh"
    forward = staticmethod(np.cosh)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g * _run(Sinh, xp, args[0]),)


class Asinh(Op):
    name = "asinh"
    forward = staticmethod(np.arcsinh)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        return (g * _run(Rsqrt, xp, a * a + 1),)


class Acosh(Op):
    name = "acosh"
    forward = staticmethod(np.arccosh)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        return (g * _run(Rsqrt, xp, a * a - 1),)


class Atanh(Op):
    name = "atanh"
    forward = staticmethod(np.arctanh)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        return (g * (1 / (-a * a + 1)),)


class Log2(Op):
    name = "log2"
    forward = staticmethod(np.log2)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g / (args[0] * _LN2),)


class Log10(Op):
    name = "log10"
    forward = staticmethod(np.log10)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g / (args[0] * _LN10),)


class Exp2(Op):
    name = "exp2"
    reads_inputs = False
    saves_out = True
    forward = staticmethod(np.exp2)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (g * out * _LN2,)


class Reciprocal(Op):
    """1 / x; PyTorch's gradient ``-g * out^2`` (``1 / x`` as a division orders it (g / x) / x)."""
    name = "reciprocal"
    reads_inputs = False
    saves_out = True

    @staticmethod
    def forward(a):
        return np.reciprocal(a)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (-g * (out * out),)


class _Step(Op):
    """A piecewise-constant function: derivative 0 everywhere, as PyTorch's (not undefined at
    the jumps). The zeros are a constant, so the second derivative finds no graph either."""
    reads_inputs = False

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (xp.zeros_like(g),)


class Floor(_Step):
    name = "floor"
    forward = staticmethod(np.floor)


class Ceil(_Step):
    name = "ceil"
    forward = staticmethod(np.ceil)


class Trunc(_Step):
    name = "trunc"
    forward = staticmethod(np.trunc)


class Round(_Step):
    """Round half to even; with ``decimals``, PyTorch's kernel: ``rint(x * 10^d) / 10^d`` (or
    ``rint(x / 10^-d) * 10^-d`` for d < 0) in the input's precision, float16 in float32."""
    name = "round"

    @staticmethod
    def forward(a, decimals=0):
        if decimals == 0:
            return np.rint(a)
        wide = a.astype(np.float32) if a.dtype == np.float16 else a
        p = float(10 ** abs(decimals))  # a Python float: float32 stays float32
        with np.errstate(over="ignore", invalid="ignore"):
            r = np.rint(wide * p) / p if decimals > 0 else np.rint(wide / p) * p
        return r.astype(a.dtype, copy=False)


class Atan2(Op):
    name = "atan2"
    forward = staticmethod(np.arctan2)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, b = args
        # PyTorch's: 1 / (a^2 + b^2), taken as 0 where that is inf (at the origin): gradients
        # 0 and -0 there, not NaN
        with np.errstate(divide="ignore"):
            r = 1 / (a * a + b * b)
        r = xp.where((r.data if xp is TG else r) == math.inf, 0, r)
        return (g * b * r if needs[0] else None, g * -a * r if needs[1] else None)


class Hypot(Op):
    name = "hypot"
    saves_out = True
    forward = staticmethod(np.hypot)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, b = args  # PyTorch's g * a / out: NaN at the origin, as there
        return (g * a / out if needs[0] else None, g * b / out if needs[1] else None)


class Logaddexp(Op):
    name = "logaddexp"
    forward = staticmethod(np.logaddexp)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        # torch's g / (1 + exp(b - a)), written as g * sigmoid(a - b): the same numbers, but
        # no exp of a large positive difference, which NumPy warned about as an overflow (past
        # 709, 88 in float32) although the gradient, 0 there, was right (logcumsumexp's scan
        # meets such differences whenever its input spans that much)
        d = args[0] - args[1]
        return (g * xp.sigmoid(d) if needs[0] else None,
                g * xp.sigmoid(-d) if needs[1] else None)


def _quotient(fn, a, b, xp):
    """``fn(a, b)`` (a rounded quotient, derivative 0) as a constant: an array, or a Tensor
    that is not on the graph when recorded."""
    if xp is NP:
        with np.errstate(divide="ignore", invalid="ignore"):
            return fn(a, b)
    from .tensor import Tensor
    ad, bd = [x.data if type(x) is Tensor else x for x in (a, b)]
    with np.errstate(divide="ignore", invalid="ignore"):
        return Tensor(np.asarray(fn(ad, bd)))


class Fmod(Op):
    """C's fmod: the remainder takes the dividend's sign. PyTorch's gradients: ``g`` and
    ``-g * trunc(a / b)``."""
    name = "fmod"
    forward = staticmethod(np.fmod)
    reads = staticmethod(lambda needs: (needs[1], needs[1]))

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, b = args
        return (g if needs[0] else None,
                -g * _quotient(lambda x, y: np.trunc(x / y), a, b, xp) if needs[1] else None)


class Remainder(Op):
    """Python's %: the remainder takes the divisor's sign. PyTorch's gradients: ``g`` and
    ``-g * floor_divide(a, b)`` (the same floored quotient as Python's ``//``)."""
    name = "remainder"
    reads = staticmethod(lambda needs: (needs[1], needs[1]))

    @staticmethod
    def forward(a, b):
        if np.result_type(a, b).kind != "f":
            return np.remainder(a, b)
        # torch's kernel: fmod, moved by one divisor where its sign differs; a zero keeps the
        # dividend's sign (NumPy's remainder gives it the divisor's: 0.0 % -3 = -0.0)
        mod = np.fmod(a, b)
        fix = (mod != 0) & ((np.asarray(b) < 0) != (mod < 0))
        if fix.any():
            mod = np.where(fix, mod + b, mod)
        return mod

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, b = args
        return (g if needs[0] else None,
                -g * _quotient(np.floor_divide, a, b, xp) if needs[1] else None)


# ---- linear algebra ----
# torch.linalg's inverses, determinants and factorizations; tinygrad_norm/linalg.py builds the
# user API on them (its checks and torch's error messages are there). A factorization with
# several results (slogdet, QR, eigh, SVD) is ONE primitive whose output holds them side by
# side, each flattened, along a last axis (``_pack``): linalg.py slices them apart, so the
# gradients of every result used reach the one VJP together, zeros for a result not used.
# NumPy has no triangular solver: L^-1 and R^-1 are applied as general solves (``_solve``).

def _pack(parts, batch):
    """The arrays ``parts`` (each of the batch shape ``batch`` and more) flattened and put side
    by side along one last axis."""
    return np.concatenate([p.reshape(batch + (math.prod(p.shape[len(batch):]),))
                           for p in parts], axis=-1)


def _unpack(p, batch, shapes):
    """The inverse of ``_pack`` for an array or a Tensor: one piece of ``batch + shape`` each."""
    out, start = [], 0
    for shape in shapes:
        stop = start + math.prod(shape)
        out.append(p[..., start:stop].reshape(batch + shape))
        start = stop
    return out


def _values(t):
    """The array of an array or a Tensor: a value that decides a route, not a graph."""
    return t if type(t) is np.ndarray else t.data


def _row(v):
    """A (..., k) vector as (..., 1, k): it scales the columns of a (..., n, k) matrix."""
    return v.reshape(tuple(v.shape[:-1]) + (1, v.shape[-1]))


def _col(v):
    """A (..., k) vector as (..., k, 1): it scales the rows."""
    return v.reshape(tuple(v.shape) + (1,))


def _eye(n, like):
    return np.eye(n, dtype=like.dtype)


def _diag_embed(v, xp):
    """(..., k) -> (..., k, k) with ``v`` on the diagonal."""
    return _col(v) * _eye(v.shape[-1], v)


def _tril(a, k, xp):
    return np.tril(a, k) if xp is NP else a.tril(k)


def _cat(parts, axis, xp):
    if xp is NP:
        return np.concatenate(parts, axis=axis)
    from .tensor import concatenate
    return concatenate(parts, axis=axis)


def _inv(a, xp):
    return _run(Inv, xp, a)


def _solve(a, b, xp):
    """``a^-1 b`` (b a (..., n, k) matrix). In NumPy a singular matrix gives NaN, as torch's
    triangular solves give inf/NaN in the backward passes that use them, not an error."""
    if xp is not NP:
        return _run(Solve, xp, a, b)
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a = np.broadcast_to(a, batch + a.shape[-2:])
        b = np.broadcast_to(b, batch + b.shape[-2:])
        ok = np.linalg.det(a) != 0
        out = np.full(b.shape, np.nan, np.result_type(a, b))
        out[ok] = np.linalg.solve(a[ok], b[ok])
        return out


def _expand2(v):
    """A batch of numbers (...,) as (..., 1, 1): one factor per matrix."""
    return v.reshape(tuple(v.shape) + (1, 1))


class Inv(Op):
    """The inverse of each matrix. VJP: ``-X^T g X^T`` (X the output), so a recorded backward
    differentiates through this op again."""
    name = "inv"
    saves_out = True
    reads_inputs = False
    forward = staticmethod(np.linalg.inv)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        xt = _mT(out, xp)
        return (-(xt @ g @ xt),)


class Solve(Op):
    """X with ``A X = B`` for (..., n, n) A and (..., n, k) B, batch dims broadcast (vector
    right-hand sides and ``left=False`` are linalg.py's). VJP: ``gB = A^-T g``, ``gA = -gB X^T``
    (one more solve, with A transposed: NumPy keeps no LU factors to reuse)."""
    name = "solve"
    saves_out = True
    reads = staticmethod(lambda needs: (True, False))  # both gradients solve with A; B unread

    @staticmethod
    def forward(a, b):
        return np.linalg.solve(a, b)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        gb = _solve(_mT(args[0], xp), g, xp)
        ga = -(gb @ _mT(out, xp)) if needs[0] else None
        return ga, (gb if needs[1] else None)


def _cofactors_svd(a, xp):
    """The cofactor matrix of each square matrix (the gradient of det), valid at every rank:
    with ``A = U S V^T``, ``cof(A) = det(U) det(V) U diag(prod_{j != i} s_j) V^T``. det(U) and
    det(V) are +-1 and locally constant, taken as numbers."""
    n = a.shape[-1]
    u, s, vh = _unpack(_run(SVD, xp, a, full_matrices=False), tuple(a.shape[:-2]),
                       [(n, n), (n,), (n, n)])
    sign = np.sign(np.linalg.det(_values(u)) * np.linalg.det(_values(vh)))
    others = _prod_of_others(s, (len(s.shape) - 1,), xp)  # exact with zeros (no division)
    return _expand2(sign.astype(_values(a).dtype)) * ((u * _row(others)) @ vh)


def _cofactors(a, det, xp):
    """The cofactor matrix (``det(A) A^-T`` where A is invertible): through the inverse where
    every det is non-zero (torch's formula, and its recorded form is ``Inv``'s), through the SVD
    where one is exactly 0, where torch's gradient is 0 but the true one (the cofactors) is not
    at rank n - 1."""
    d = _values(det)
    if (d != 0).all():
        return _expand2(det) * _mT(_inv(a, xp), xp)
    if xp is not NP:
        return _cofactors_svd(a, xp)
    out = np.empty(a.shape, a.dtype)
    ok = np.broadcast_to(d != 0, a.shape[:-2])
    out[ok] = _expand2(d[ok]) * np.swapaxes(np.linalg.inv(a[ok]), -1, -2)
    out[~ok] = _cofactors_svd(a[~ok], NP)
    return out


class Det(Op):
    """The determinant of each matrix. VJP: ``g`` times the cofactor matrix (``_cofactors``)."""
    name = "det"
    saves_out = True

    @staticmethod
    def forward(a):
        with np.errstate(invalid="ignore"):  # NaN in, NaN out, silently (torch's)
            return np.linalg.det(a)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (_expand2(g) * _cofactors(args[0], out, xp),)


class Slogdet(Op):
    """``(sign, log|det|)`` of each matrix, packed along a last axis of 2. The sign's gradient
    is 0 (it is locally constant); log|det|'s VJP is ``g A^-T``. A singular matrix has
    log|det| = -inf and an infinite gradient there (the cofactors over 0: +-inf, NaN where a
    cofactor is 0), as torch's +-inf; a recorded backward takes it as a constant."""
    name = "slogdet"
    saves_out = True

    @staticmethod
    def forward(a):
        with np.errstate(invalid="ignore"):
            sign, logabs = np.linalg.slogdet(a)
        return np.stack([sign, logabs], axis=-1)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, gl = args[0], _expand2(g[..., 1])
        singular = _values(out)[..., 1] == -math.inf
        if not singular.any():
            return (gl * _mT(_inv(a, xp), xp),)
        av = _values(a)
        det = np.asarray(np.linalg.det(av))
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_t = _cofactors(av, det, NP) / _expand2(det)
        if xp is not NP:
            from .tensor import Tensor
            inv_t = Tensor(inv_t)
        return (gl * inv_t,)


class Cholesky(Op):
    """The lower Cholesky factor L (``A = L L^T``) from A's lower triangle. VJP, torch's
    symmetric one: ``L^-T P L^-1`` with ``P = sym(Phi(L^T g))`` (Phi: the lower triangle, its
    diagonal halved), i.e. ``0.5 (tril(M) + tril(M, -1)^T)`` for ``M = L^T g``."""
    name = "cholesky"
    saves_out = True
    reads_inputs = False
    forward = staticmethod(np.linalg.cholesky)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        lt = _mT(out, xp)
        m = _tril(lt @ g, 0, xp)
        p = 0.5 * (m + _mT(_tril(m, -1, xp), xp))
        y = _solve(lt, p, xp)  # L^-T P
        return (_mT(_solve(lt, _mT(y, xp), xp), xp),)  # (L^-T (L^-T P)^T)^T = L^-T P L^-1


_QR_R_ONLY = ("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
              "Please use linalg.qr(A, mode='reduced') if you are going to differentiate "
              "through linalg.qr.")
_QR_COMPLETE = ("The QR decomposition is not differentiable when mode='complete' and "
                "nrows > ncols.")


def _qr_tall_grad(q, r, gq, gr, xp):
    """The VJP of ``A = QR`` for m >= n (Q (m, n), R (n, n)): with ``M = R gR^T - gQ^T Q``,
    ``gA = (gQ + Q copyltu(M)) R^-T``, copyltu(M) the symmetric matrix of M's lower triangle."""
    m = r @ _mT(gr, xp) - _mT(gq, xp) @ q
    sym = _tril(m, 0, xp) + _mT(_tril(m, -1, xp), xp)
    b = gq + q @ sym
    return _mT(_solve(r, _mT(b, xp), xp), xp)


class QR(Op):
    """Q and R packed (``_pack``) for mode 'reduced' or 'complete'; R alone for 'r'. The VJP
    covers A = QR with Q of A's column space: m >= n (reduced), and m < n (A = [X | Y], X = QU
    square, Y = QV: X's VJP with ``gQ + Y gV^T``, and ``gY = Q gV``). mode 'r', and 'complete'
    with m > n, raise torch's errors there, at backward, as torch."""
    name = "qr"
    saves_out = True
    reads_inputs = False

    @staticmethod
    def forward(a, mode):
        if mode == "r":
            return np.linalg.qr(a, mode="r")
        q, r = np.linalg.qr(a, mode=mode)
        return _pack((q, r), a.shape[:-2])

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        m, n = args[0].shape[-2:]
        if kw["mode"] == "r":
            raise RuntimeError(_QR_R_ONLY)
        if kw["mode"] == "complete" and m > n:
            raise RuntimeError(_QR_COMPLETE)
        k, batch = min(m, n), tuple(args[0].shape[:-2])
        q, r = _unpack(out, batch, [(m, k), (k, n)])
        gq, gr = _unpack(g, batch, [(m, k), (k, n)])
        if m >= n:
            return (_qr_tall_grad(q, r, gq, gr, xp),)
        u, v = r[..., :, :m], r[..., :, m:]
        gu, gv = gr[..., :, :m], gr[..., :, m:]
        gx = _qr_tall_grad(q, u, gq + q @ (v @ _mT(gv, xp)), gu, xp)  # Y gV^T with Y = Q V
        return (_cat([gx, q @ gv], -1, xp),)


class Eigh(Op):
    """Eigenvalues (ascending) and eigenvectors of each symmetric matrix, from the triangle
    ``UPLO`` names, packed (``_pack``). VJP, torch's (symmetric, whichever triangle was read):
    ``V (diag(gL) + skew(V^T gV) / E) V^T`` with ``E_ij = L_j - L_i`` (1 on the diagonal,
    where skew is 0): infinite or NaN where eigenvalues repeat and gV is not 0, as torch's.
    Where the eigenvectors got no gradient (the ones of an unrecorded backward only), that
    term is left out, so repeated eigenvalues give a finite gradient, as torch's."""
    name = "eigh"
    saves_out = True
    reads_inputs = False

    @staticmethod
    def forward(a, UPLO):
        w, v = np.linalg.eigh(a, UPLO=UPLO)
        return _pack((w, v), a.shape[:-2])

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        n, batch = args[0].shape[-1], tuple(args[0].shape[:-2])
        w, v = _unpack(out, batch, [(n,), (n, n)])
        gw, gv = _unpack(g, batch, [(n,), (n, n)])
        inner = _diag_embed(gw, xp)
        if xp is not NP or gv.any():
            vtgv = _mT(v, xp) @ gv
            gaps = _row(w) - _col(w) + _eye(n, w)
            inner = inner + (0.5 * (vtgv - _mT(vtgv, xp))) / gaps
        return (v @ inner @ _mT(v, xp),)


class Eigvalsh(Op):
    """The eigenvalues alone. With ``vectors`` (linalg.py asks where a gradient may be taken)
    the forward keeps the eigenvectors for the VJP ``V diag(g) V^T``, finite where eigenvalues
    repeat, as torch's; a recorded VJP takes V from ``Eigh`` (its derivative is eigh's)."""
    name = "eigvalsh"
    keeps_extra = True

    @staticmethod
    def forward(a, UPLO, vectors):
        if not vectors:
            return np.linalg.eigvalsh(a, UPLO=UPLO), None
        w, v = np.linalg.eigh(a, UPLO=UPLO)
        return w, v

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        if xp is NP:
            v = extra if extra is not None else np.linalg.eigh(a, UPLO=kw["UPLO"])[1]
        else:
            n = a.shape[-1]
            v = _unpack(_run(Eigh, xp, a, UPLO=kw["UPLO"]), tuple(a.shape[:-2]),
                        [(n,), (n, n)])[1]
        return ((v * _row(g)) @ _mT(v, xp),)


def _svd_grad(u, s, vh, gu, gs, gvh, xp):
    """The VJP of the thin SVD ``A = U diag(s) V^T`` (U (m, k), V (n, k), k = min(m, n)):

        gA = U [J S + S K + diag(gs)] V^T + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T)

    with ``J = (U^T gU - gU^T U) / E`` and ``K = (V^T gV - gV^T V) / E``, ``E_ij = s_j^2 -
    s_i^2`` (1 on the diagonal, where the numerators are 0). Invariant under the sign flips of
    a singular pair, so a loss that is invariant too gets one gradient. Infinite or NaN where
    singular values repeat and gU or gV is not 0, as torch's; terms whose gradient is exactly
    0 in an unrecorded backward are left out (S alone: finite, as torch's ``svdvals``)."""
    k, m, n = s.shape[-1], u.shape[-2], vh.shape[-1]
    use_u = xp is not NP or gu.any()
    use_v = xp is not NP or gvh.any()
    inner = _diag_embed(gs, xp)
    if use_u or use_v:
        s2 = s * s
        gaps = _row(s2) - _col(s2) + _eye(k, s)
    if use_u:
        utgu = _mT(u, xp) @ gu
        inner = inner + (utgu - _mT(utgu, xp)) / gaps * _row(s)
    if use_v:
        gv = _mT(gvh, xp)
        vtgv = vh @ gv
        inner = inner + _col(s) * ((vtgv - _mT(vtgv, xp)) / gaps)
    ga = u @ inner @ vh
    if use_u and m > k:  # the part of gU outside U's columns
        ga = ga + ((gu - u @ (_mT(u, xp) @ gu)) / _row(s)) @ vh
    if use_v and n > k:
        v = _mT(vh, xp)
        ga = ga + u @ _mT((gv - v @ (vh @ gv)) / _row(s), xp)
    return ga


class SVD(Op):
    """U, S and Vh of each matrix (``full_matrices``: U (m, m) and Vh (n, n), else thin),
    packed (``_pack``). VJP: ``_svd_grad`` on the thin parts; with ``full_matrices`` the
    gradients of U's columns and Vh's rows past min(m, n) are ignored, as torch's (those are
    any orthonormal completion)."""
    name = "svd"
    saves_out = True
    reads_inputs = False

    @staticmethod
    def forward(a, full_matrices):
        u, s, vh = _svd(a, full_matrices=full_matrices)
        return _pack((u, s, vh), a.shape[:-2])

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        (m, n), batch = args[0].shape[-2:], tuple(args[0].shape[:-2])
        k = min(m, n)
        mu, nv = (m, n) if kw["full_matrices"] else (k, k)
        shapes = [(m, mu), (k,), (nv, n)]
        u, s, vh = _unpack(out, batch, shapes)
        gu, gs, gvh = _unpack(g, batch, shapes)
        if mu > k or nv > k:
            u, gu, vh, gvh = u[..., :k], gu[..., :k], vh[..., :k, :], gvh[..., :k, :]
        return (_svd_grad(u, s, vh, gu, gs, gvh, xp),)


class Svdvals(Op):
    """The singular values alone (descending). With ``vectors`` the forward keeps U and Vh for
    the VJP ``U diag(g) Vh``, finite where singular values repeat, as torch's; a recorded VJP
    takes them from ``SVD``."""
    name = "svdvals"
    keeps_extra = True

    @staticmethod
    def forward(a, vectors):
        if not vectors:
            return _svd(a, compute_uv=False), None
        u, s, vh = _svd(a, full_matrices=False)
        return s, (u, vh)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        if xp is NP:
            u, vh = extra if extra is not None else _svd(a, full_matrices=False)[::2]
        else:
            (m, n), k = a.shape[-2:], min(a.shape[-2:])
            u, _, vh = _unpack(_run(SVD, xp, a, full_matrices=False), tuple(a.shape[:-2]),
                               [(m, k), (k,), (k, n)])
        return ((u * _row(g)) @ vh,)


class Pinv(Op):
    """The Moore-Penrose pseudo-inverse X of each matrix, from its SVD (or, ``hermitian``, its
    eigendecomposition): values at most ``max(atol, rtol * largest)`` count as 0 (``atol`` and
    ``rtol`` numbers or arrays over the batch, linalg.py's defaults). VJP, torch's (for a
    perturbation that keeps the rank; finite where singular values repeat):

        gA = -X^T g X^T + (I - A X) g^T X X^T + X^T X g^T (I - X A)"""
    name = "pinv"
    saves_out = True

    @staticmethod
    def forward(a, atol, rtol, hermitian):
        m, n = a.shape[-2:]
        if m == 0 or n == 0:
            return np.zeros(a.shape[:-2] + (n, m), a.dtype)
        if hermitian:
            w, v = np.linalg.eigh(a)
            mag = np.abs(w)
            tol = np.maximum(_col(np.asarray(atol)),
                             _col(np.asarray(rtol)) * mag.max(-1, keepdims=True))
            with np.errstate(divide="ignore"):
                winv = np.where(mag > tol, 1 / w, 0).astype(a.dtype)
            return (v * _row(winv)) @ np.swapaxes(v, -1, -2)
        u, s, vh = _svd(a, full_matrices=False)
        tol = np.maximum(_col(np.asarray(atol)), _col(np.asarray(rtol)) * s[..., :1])
        with np.errstate(divide="ignore"):
            sinv = np.where(s > tol, 1 / s, 0).astype(a.dtype)
        return (np.swapaxes(vh, -1, -2) * _row(sinv)) @ np.swapaxes(u, -1, -2)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, x = args[0], out
        xt, gt = _mT(x, xp), _mT(g, xp)
        w = gt @ (x @ xt)  # g^T X X^T, then (I - A X) times it
        z = (xt @ x) @ gt  # X^T X g^T, then times (I - X A)
        return (-(xt @ g @ xt) + (w - a @ (x @ w)) + (z - (z @ x) @ a),)


# ---- linear algebra: triangular solves, the matrix exponential, LU (task s15) -----------------
# linalg_solvers.py builds torch.linalg.solve_triangular, matrix_exp, lu_factor, lu, lu_solve and
# lstsq on these, with torch's checks and messages. LU's pivots are an integer result of no
# gradient: LUFactor packs them (as floats, exact below 2**24) beside LU, as the factorizations
# above pack theirs, and linalg_solvers.py slices them out as int32.

def _triu(a, k, xp):
    return np.triu(a, k) if xp is NP else a.triu(k)


def _substitute(t, b, upper):
    """``T^-1 b`` by substitution, one row at a time, for triangles with a zero on the diagonal:
    inf and NaN wherever a division by zero leads, as LAPACK's trsm (no error, as torch's)."""
    batch = np.broadcast_shapes(t.shape[:-2], b.shape[:-2])
    t = np.broadcast_to(t, batch + t.shape[-2:])
    x = np.array(np.broadcast_to(b, batch + b.shape[-2:]))
    n = t.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i in (range(n - 1, -1, -1) if upper else range(n)):
            done = slice(i + 1, n) if upper else slice(0, i)
            x[..., i, :] -= (t[..., i:i + 1, done] @ x[..., done, :])[..., 0, :]
            x[..., i, :] /= t[..., i, i, None]
    return x


class SolveTriangular(Op):
    """X with ``T X = B`` (``left=False``: ``X T = B``), T the upper or lower triangle of A (the
    other one is never read; ``unitriangular``: its diagonal is taken as 1), batch dims
    broadcast. NumPy has no triangular solver: a triangle without a zero on its diagonal is
    solved by halves (``solve_triangle``: matmuls and small leaves), one with a zero by
    substitution (inf/NaN, as torch's).
    VJP: ``gB = T^-T g`` (the other triangle of A^T), ``gA = -gB X^T`` (left) or ``-X^T gB``
    (right), kept to the triangle read (its strict part when ``unitriangular``), as torch's."""
    name = "solve_triangular"
    saves_out = True
    reads = staticmethod(lambda needs: (True, False))  # both gradients solve with A; B unread

    @staticmethod
    def forward(a, b, upper, left, unitriangular):
        if not left:  # X T = B is T^T X^T = B^T, and T^T is the other triangle of A^T
            x = SolveTriangular.forward(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2),
                                        not upper, True, unitriangular)
            return np.swapaxes(x, -1, -2)
        n = a.shape[-1]
        if unitriangular or (a[..., range(n), range(n)] != 0).all():
            return solve_triangle(a, b, upper, unitriangular)  # blocked substitution (numspeed)
        t = np.triu(a) if upper else np.tril(a)  # a new array: the diagonal may be written
        return _substitute(t, b, upper)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, upper, left, unit = args[0], kw["upper"], kw["left"], kw["unitriangular"]
        gb = _run(SolveTriangular, xp, _mT(a, xp), g, upper=not upper, left=left,
                  unitriangular=unit)
        ga = None
        if needs[0]:
            ga = -(gb @ _mT(out, xp)) if left else -(_mT(out, xp) @ gb)
            k = (1 if upper else -1) if unit else 0
            ga = _triu(ga, k, xp) if upper else _tril(ga, k, xp)
        return ga, (gb if needs[1] else None)


# the [13/13] Pade approximant's coefficients and the largest 1-norm it serves in float64
# (Higham, "The scaling and squaring method for the matrix exponential revisited", 2005)
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _pade13(x):
    """``exp(x)`` for a float64 stack (b, n, n) of 1-norm at most _THETA13: ``(V - U)^-1 (V + U)``
    with U the odd and V the even part of the approximant's numerator."""
    c = _PADE13
    eye = np.eye(x.shape[-1])
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    u = x @ (x6 @ (c[13] * x6 + c[11] * x4 + c[9] * x2) + c[7] * x6 + c[5] * x4 + c[3] * x2
             + c[1] * eye)
    v = x6 @ (c[12] * x6 + c[10] * x4 + c[8] * x2) + c[6] * x6 + c[4] * x4 + c[2] * x2 \
        + c[0] * eye
    try:
        return np.linalg.solve(v - u, v + u)
    except np.linalg.LinAlgError:  # only after an overflow: NaN, as torch's
        return np.full(x.shape, np.nan)


def _expm(a):
    """The exponential of each matrix of a float64 array (..., n, n): each scaled by ``2^-s`` to
    a 1-norm of at most _THETA13, the Pade approximant, then squared s times. A matrix with a
    non-finite entry gives NaN everywhere, as torch's."""
    n, batch = a.shape[-1], a.shape[:-2]
    a = a.reshape((math.prod(batch), n, n))
    out = np.full(a.shape, np.nan)
    finite = np.isfinite(a).all(axis=(1, 2))
    x = a[finite]
    norm = np.abs(x).sum(axis=1).max(axis=1, initial=0.0)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        s = np.maximum(0, np.ceil(np.log2(norm / _THETA13))).astype(np.int64)
        r = _pade13(x * (0.5 ** s)[:, None, None])
        for i in range(int(s.max(initial=0))):  # each matrix its own number of squarings
            more = s > i
            r[more] = r[more] @ r[more]
    out[finite] = r
    return out.reshape(batch + (n, n))


class MatrixExp(Op):
    """The exponential of each square matrix (float64 inside: float32 is rounded once). VJP,
    torch's: the upper-right block of ``exp([[A^T, g], [0, A^T]])``, itself this op, so a
    recorded backward differentiates it again."""
    name = "matrix_exp"

    @staticmethod
    def forward(a):
        return _expm(a.astype(np.float64, copy=False)).astype(a.dtype, copy=False)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        at = _mT(args[0], xp)
        n = at.shape[-1]
        block = _cat([_cat([at, g], -1, xp), _cat([xp.zeros_like(at), at], -1, xp)], -2, xp)
        return (_run(MatrixExp, xp, block)[..., :n, n:],)


def lu_np(a):
    """LU with partial pivoting of each matrix of ``a`` (..., m, n), as LAPACK's getrf: ``(LU,
    pivots)``, L's unit diagonal implied, the 1-based int32 pivots of the row swaps made in
    order. A right-looking elimination, one step per column, vectorised over the batch; a zero
    pivot is left in U (getrf goes on too)."""
    m, n = a.shape[-2:]
    k = min(m, n)
    lu = np.array(a.reshape((math.prod(a.shape[:-2]), m, n)), copy=True)
    rows = np.arange(lu.shape[0])
    piv = np.empty((lu.shape[0], k), np.int32)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for j in range(k):
            p = j + np.argmax(np.abs(lu[:, j:, j]), axis=1)  # the first largest, as idamax
            piv[:, j] = p + 1
            top = lu[rows, j].copy()
            lu[rows, j] = lu[rows, p]
            lu[rows, p] = top
            pivot = lu[:, j, j]
            lu[:, j + 1:, j] /= np.where(pivot == 0, 1, pivot)[:, None]
            lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, None, j, j + 1:]
    return lu.reshape(a.shape), piv.reshape(a.shape[:-2] + (k,))


def permutation(piv, m, dtype):
    """P (..., m, m) with ``A = P L U`` from getrf's 1-based pivots (row j swapped with row
    piv[j], in order)."""
    batch, k = piv.shape[:-1], piv.shape[-1]
    perm = np.array(np.broadcast_to(np.arange(m), batch + (m,)))
    flat = perm.reshape(math.prod(batch), m)  # a view: the swaps below land in perm
    swaps = piv.reshape(math.prod(batch), k).astype(np.intp) - 1
    rows = np.arange(flat.shape[0])
    for j in range(k):
        top = flat[:, j].copy()
        flat[:, j] = flat[rows, swaps[:, j]]
        flat[rows, swaps[:, j]] = top
    p = np.zeros(batch + (m, m), dtype)
    np.put_along_axis(p, perm[..., None, :], 1, axis=-2)  # (P^T A)_i = A_perm[i]
    return p


def _lu_grad(lu, piv, glu, xp):
    """The VJP of ``A = P L U`` packed in LU (m, n), k = min(m, n), L1, U1 the leading k x k
    blocks, L2 the rows of L below, U2 the columns of U right of them (one of the two empty):

        gM = tril(L1^T gL1 - gU2 U2^T, -1) + triu(gU1 U1^T - L2^T gL2)
        gA = P [[L1^-T gM U1^-T, L1^-T gU2], [gL2 U1^-T, .]]

    (torch's, for every shape; gL is the strictly lower, gU the upper part of g)."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    lu1, l2, u2 = lu[..., :k, :k], lu[..., k:, :k], lu[..., :k, k:]
    g1, gl2, gu2 = glu[..., :k, :k], glu[..., k:, :k], glu[..., :k, k:]
    l1 = _tril(lu1, -1, xp) + _eye(k, lu1)
    gm = _tril(_mT(l1, xp) @ _tril(g1, -1, xp) - gu2 @ _mT(u2, xp), -1, xp) \
        + _triu(_triu(g1, 0, xp) @ _mT(_triu(lu1, 0, xp), xp) - _mT(l2, xp) @ gl2, 0, xp)
    lt = _mT(lu1, xp)  # L1^T in its strict upper part, U1^T in its lower one

    def left_l(x):  # L1^-T x
        return _run(SolveTriangular, xp, lt, x, upper=True, left=True, unitriangular=True)

    def right_u(x):  # x U1^-T
        return _run(SolveTriangular, xp, lt, x, upper=False, left=False, unitriangular=False)

    if n > k:
        ga = left_l(_cat([right_u(gm), gu2], -1, xp))
    elif m > k:
        ga = right_u(_cat([left_l(gm), gl2], -2, xp))
    else:
        ga = right_u(left_l(gm))
    p = permutation(piv, m, _values(lu).dtype)
    if xp is not NP:
        from .tensor import Tensor
        p = Tensor(p)
    return p @ ga


class LUFactor(Op):
    """LU with partial pivoting (``lu_blocked``): LU (..., m, n) and the pivots (..., k) as
    floats, packed (``_pack``). VJP: ``_lu_grad`` (the pivots' gradient is ignored: they are
    integers)."""
    name = "lu_factor"
    saves_out = True
    reads_inputs = False

    @staticmethod
    def forward(a):
        lu, piv, _ = lu_blocked(a)  # by halves: BLAS-3 (numspeed)
        return _pack((lu, piv.astype(a.dtype)), a.shape[:-2])

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        (m, n), batch = args[0].shape[-2:], tuple(args[0].shape[:-2])
        shapes = [(m, n), (min(m, n),)]
        lu, piv = _unpack(out, batch, shapes)
        glu = _unpack(g, batch, shapes)[0]
        if xp is NP:  # the same formula, no permutation matrix (numspeed)
            return (_lu_grad_np(lu, piv, glu),)
        return (_lu_grad(lu, _values(piv).astype(np.int64), glu, xp),)

# ---- speed3: grid_sample's gather (take, add_at), CTC's step (window_logsumexp) ----------
# ``Take`` is ``np.take`` along one axis and ``AddAt`` its adjoint, each the other's VJP (as
# Im2col and Col2im), so gradients of any order work. GetItem covers the same gather, but its
# scatter first studies the index (runs, repeats) to pick a strategy; for an index that reads a
# few places very often (grid_sample's zero column, the clipped edges of 'border') that study
# ends in a sort, 3-5x slower than ``np.add.at`` on flat element positions, which ``AddAt``
# uses always.

class Take(Op):
    """``np.take(a, index, axis)``: the slices of ``a`` along ``axis`` at ``index``, an integer
    array of any shape (its axes replace ``axis``) with values in [0, a.shape[axis]) (checked by
    the caller), repeats allowed. The VJP adds each slice of the gradient back onto the slice it
    was read from (``AddAt``)."""
    name = "take"
    reads_inputs = False

    @staticmethod
    def forward(a, index, axis):
        return np.take(a, index, axis=axis)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (_run(AddAt, xp, g, index=kw["index"], axis=kw["axis"],
                     size=args[0].shape[kw["axis"]]),)


_ADD_AT_ROWS = 256  # rows before the axis: at most this many, each its own add.at ...
_ADD_AT_ROW_SIZE = 4096  # ... when each row adds at least this many values


class AddAt(Op):
    """The adjoint of ``Take``: zeros of ``g``'s shape with the index's axes (at ``axis``)
    replaced by one of length ``size``, and each slice of ``g`` added onto the slice
    ``index`` names; repeated places add up in the order of the index, in g's dtype, as
    ``np.add.at``. The VJP takes the slices back (``Take``)."""
    name = "add_at"
    reads_inputs = False

    @staticmethod
    def forward(g, index, axis, size):
        lead = g.shape[:axis]
        tail = g.shape[axis + index.ndim:]
        out = np.zeros(lead + (size,) + tail, g.dtype)
        if out.size == 0 or index.size == 0:
            return out
        # One flat output position per element of g, in g's order: add.at's quick 1-D loop
        # (rows of values, a loop per row, took ~9x as long).
        width = math.prod(tail)
        pos = index.reshape(-1).astype(np.intp, copy=False)
        if width > 1:
            pos = (pos * width)[:, None] + np.arange(width, dtype=np.intp)
        rows = math.prod(lead)
        if rows <= _ADD_AT_ROWS and pos.size >= _ADD_AT_ROW_SIZE:
            # a few long rows (grid_sample's channels): one add.at each with the same positions,
            # neither a position per element of g (~4 MiB of them there) nor a copy of a strided
            # g all at once: 35% less time
            pos = pos.reshape(-1)
            for r, dst in enumerate(out.reshape(rows, size * width)):
                np.add.at(dst, pos, g[np.unravel_index(r, lead)].reshape(-1))
            return out
        pos = np.arange(rows, dtype=np.intp)[:, None] * (size * width) + pos.reshape(1, -1)
        np.add.at(out.reshape(-1), pos.reshape(-1), g.reshape(-1))
        return out

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        return (_run(Take, xp, g, index=kw["index"], axis=kw["axis"]),)


class WindowLogsumexp(Op):
    """The log-space sum over a sliding window with additive weights, along axis 0:
    ``out[i] = log sum_k exp(x[i - size + 1 + k] + w[k, i])`` for ``k < size``, where ``x`` at
    a negative position is the constant ``fill`` (the window of place i ends at i; the output has
    x's shape, ``w`` has ``(size,) + x.shape``). One step of a banded recursion in log space (an
    HMM's forward variable, CTC's alpha): a window of shifted copies, the weights added, a
    logsumexp over the window, as one node where ``im2col`` + add + ``logsumexp`` were three
    (a CTC step is a few hundred elements: the per-node cost was most of its time). As
    ``logsumexp``, a window whose terms are all -inf gives -inf and a NaN gradient.

    ``w`` (a Tensor or a constant array) has x's dtype.

    VJP: with ``p[k, i] = exp(x[i - size + 1 + k] + w[k, i] - out[i])`` (the window's softmax,
    kept from the forward; logsumexp's rule), ``gw = g * p`` and ``gx`` the same summed back
    onto the places of x (``col2im``). Recorded, p is recomputed from x, w and out on the tape
    (``im2col``), so every order of derivative works."""
    name = "window_logsumexp"
    keeps_extra = True
    saves_out = True

    @staticmethod
    def forward(x, w, size, fill):
        n = x.shape[0]
        flat = x.reshape(n, math.prod(x.shape[1:]))
        padded = np.concatenate([np.full((size - 1, flat.shape[1]), fill, x.dtype), flat])
        s0, s1 = padded.strides
        # window k of place i is padded[i + k]: a view (np.ndarray over the buffer: as_strided's
        # Python wrapper cost 3 us, a sixth of the op), copied by the add at once
        view = np.ndarray((size,) + flat.shape, padded.dtype, padded, 0, (s0, s0, s1))
        z = view + w.reshape(view.shape)
        m = np.max(z, axis=0)
        if not np.isfinite(m).all():  # (rare: a check costs half the select)
            m = np.where(np.isfinite(m), m, 0).astype(z.dtype, copy=False)
        e = np.exp(z - m)
        with np.errstate(divide="ignore"):  # a window of -infs only: -inf
            out = np.log(np.add.reduce(e, axis=0)) + m
        # the VJP's weights as logsumexp's: exp(z - out), not e / total (where ruled-out terms
        # of -1e30 tie, out rounds to their value and each weighs 1, as in torch)
        with np.errstate(invalid="ignore"):
            np.subtract(z, out, out=z)
        np.exp(z, out=z)
        return out.reshape(x.shape), z.reshape(w.shape)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        x, w = args
        size = kw["size"]
        n = x.shape[0]
        cols = math.prod(x.shape[1:])
        if xp is NP:
            p = extra
        else:  # recorded: the softmax again, from x, w and out, on the tape
            windows = _run(Im2col, xp, x.reshape(1, 1, n, cols), kernel=(size, 1), stride=(1, 1),
                           padding=((size - 1, 0), (0, 0)), dilation=(1, 1), value=kw["fill"])
            p = xp.exp(windows.reshape(w.shape) + w - out.reshape((1,) + out.shape))
        gz = g.reshape((1,) + g.shape) * p
        gx = None
        if needs[0] and xp is NP:
            # col2im's adds in col2im's order (onto zeros, window row by row), without its
            # general machinery: ~4 us a call less, a CTC step's eighth
            acc = np.zeros((n + size - 1, cols), g.dtype)
            for k, part in enumerate(gz.reshape(size, n, cols)):
                acc[k:k + n] += part
            gx = acc[size - 1:].reshape(x.shape)
        elif needs[0]:
            gx = _run(Col2im, xp, gz.reshape(1, 1, size, 1, n, cols), shape=(1, 1, n, cols),
                      kernel=(size, 1), stride=(1, 1), padding=((size - 1, 0), (0, 0)),
                      dilation=(1, 1)).reshape(x.shape)
        return gx, (gz if needs[1] else None)

# ---- special2: the regularized incomplete gamma functions ---------------------------------------

class Igamma(Op):
    """P(a, x) (``upper=False``, torch's igamma/gammainc) or Q(a, x) = 1 - P (igammac/gammaincc).
    d/dx = +-x^(a-1) e^-x / Gamma(a), written as torch's ``exp((a - 1) log x - x - lgamma(a))``
    so that its edges (NaN at x = 0 for a = 1, ...) are torch's too. Like torch, no derivative in
    ``a``: backward through it raises NotImplementedError (a RuntimeError)."""
    name = "igamma"

    @staticmethod
    def forward(a, x, upper=False):
        from . import special_kernels_gamma as _skg  # (imported on first use: big tables)
        kernel = _skg.gammaincc if upper else _skg.gammainc
        return kernel(a, x).astype(np.result_type(a, x), copy=False)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        upper = kw.get("upper", False)
        if needs[0]:
            raise NotImplementedError(
                f"the derivative for '{'igammac' if upper else 'igamma'}: input' is not "
                "implemented.")
        a, x = args
        with np.errstate(divide="ignore", invalid="ignore"):
            d = xp.exp((a - 1.0) * xp.log(x) - x - _run(Lgamma, xp, a))
        return None, (-g * d if upper else g * d)


# ---- recorded item assignment (inplace_record.py) ---------------------------------------------
# ``buf[t] = h`` recorded: the same write as NumPy's, with its own VJP so that a buffer filled
# row by row costs O(row) a write, forward and backward, where a select over the whole buffer
# (what index_put does) cost O(buffer) a write (T rows: O(T^2) in all).

class SetItem(Op):
    """``x`` with ``v`` written at ``x[index]`` (basic indexing only: ints, slices, None,
    Ellipsis; no place named twice). With ``into=True`` the write goes into ``x``'s own array,
    which becomes the output: only for the recorded in-place write, whose tensor is that array
    (``inplace_record.rebase``), and the VJP reads neither value. The gradient of ``x`` is ``g``
    with zeros at ``index`` (written into ``g`` itself when the tape owns it), of ``v`` the
    slice ``g[index]``, summed back over ``v``'s broadcast by the tape."""
    name = "setitem"
    reads_inputs = False

    @staticmethod
    def forward(x, v, index, into):
        out = x if into else x.copy()
        out[index] = v
        return out

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        index = kw["index"]
        if xp is NP:
            g = np.asarray(g)  # a 0-d gradient may come as a NumPy scalar (x[...] = v on 0-d x)
        gv = g[index] if needs[1] else None
        if not needs[0]:
            return None, gv
        if xp is NP:
            gx = g.copy()
            gx[index] = 0
            return gx, gv
        hit = np.zeros(g.shape, bool)
        hit[index] = True
        return xp.where(hit, 0.0, g), gv

    @staticmethod
    def vjp_owned(g, args, out, extra, kw, needs, xp):
        index = kw["index"]
        gv = g[index].copy() if needs[1] else None  # a copy: the slice is zeroed next
        if needs[0]:
            g[index] = 0
        return (g if needs[0] else None), gv


# ---- numspeed: blocked triangular solves and LU ------------------------------------------------
# NumPy has neither trsm nor getrf. Both are written here as recursions that halve the problem:
# solve (or factor) one half, update the other with ONE matmul, go on with it. So almost all the
# flops are BLAS-3 and the Python steps are the leaves: a small block solved directly. A leaf is
# LAPACK's general solver where the batch is small (one call, no Python loop), else substitution
# vectorised over the batch (a few NumPy calls a row, whatever the batch size: cheaper than
# LAPACK's per-matrix overhead once there are more than a few matrices).

_TRSM_LEAF = 16  # a triangle this small (or smaller) is a leaf
_TRSM_SOLVE_LEAF = 64  # ... this small when the batch is small enough for LAPACK's solver
_TRSM_SOLVE_BATCH = 4  # at most this many matrices go to LAPACK's solver, one by one


def _upper_solve(t, b, upper, unit):
    """``T^-1 b`` by LAPACK's general solver (gesv) always given an UPPER triangle: a lower
    one is solved as ``(J T J) (J x) = J b`` (J reverses the order), which is upper. Below an
    upper triangle's diagonal every pivot candidate is 0, so getrf never swaps a row, L is I,
    and gesv is plain back substitution: componentwise backward stable as LAPACK's trsm. (On
    a lower triangle with a small diagonal entry GEPP swaps rows, fills the zero triangle and
    loses every digit of the componentwise backward error on ill-conditioned triangles.)
    None where a diagonal entry is 0 (getrf's zero pivot): substitution decides."""
    n = t.shape[-1]
    tri = np.triu(t) if upper else np.triu(t[..., ::-1, ::-1])
    if unit:
        tri[..., range(n), range(n)] = 1
    try:
        x = np.linalg.solve(tri, b if upper else b[..., ::-1, :])
    except np.linalg.LinAlgError:
        return None
    return x if upper else x[..., ::-1, :]


def _trsm_leaf(t, x, upper, unit):
    """``x = T^-1 x`` in place for a small triangle T (the ``upper`` or lower one of ``t``)."""
    n = t.shape[-1]
    if math.prod(x.shape[:-2]) <= _TRSM_SOLVE_BATCH:
        solved = _upper_solve(t, x, upper, unit)
        if solved is not None:
            x[...] = solved
            return
    t = np.ascontiguousarray(t)  # a small block: batched matmuls of strided rows cost 3x
    for i in (range(n - 1, -1, -1) if upper else range(n)):
        done = slice(i + 1, n) if upper else slice(0, i)
        if i != (n - 1 if upper else 0):
            x[..., i, :] -= (t[..., i:i + 1, done] @ x[..., done, :])[..., 0, :]
        if not unit:
            x[..., i, :] /= t[..., i, i, None]


def _trsm(t, x, upper, unit):
    """``x = T^-1 x`` in place (``x`` (..., n, k) of the full batch shape, ``t`` broadcast to
    it), T the ``upper`` or lower triangle of ``t`` (only it is read; ``unit``: its diagonal
    taken as 1). Split T in halves: solve the half whose rows need nothing else, subtract its
    contribution from the other half's right-hand side with one matmul, solve that half."""
    n = t.shape[-1]
    few = math.prod(x.shape[:-2]) <= _TRSM_SOLVE_BATCH
    if n <= (_TRSM_SOLVE_LEAF if few else _TRSM_LEAF):
        _trsm_leaf(t, x, upper, unit)
        return
    h = n // 2
    first, second = (slice(h, n), slice(0, h)) if upper else (slice(0, h), slice(h, n))
    _trsm(t[..., first, first], x[..., first, :], upper, unit)
    x[..., second, :] -= t[..., second, first] @ x[..., first, :]
    _trsm(t[..., second, second], x[..., second, :], upper, unit)


def solve_triangle(a, b, upper, unit):
    """``T^-1 b`` for T the ``upper`` or lower triangle of ``a`` (nonzero diagonal), batch dims
    broadcast: a new array (the result type of ``a`` and ``b``)."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    if a.shape[-1] <= _TRSM_SOLVE_LEAF and math.prod(batch) <= _TRSM_SOLVE_BATCH:
        solved = _upper_solve(a, b, upper, unit)  # one leaf: straight to LAPACK, no copy of b
        if solved is not None:
            return solved
    # C order (b may be a transposed view): the leaves' row steps read contiguous rows
    x = np.array(np.broadcast_to(b, batch + b.shape[-2:]), dtype=np.result_type(a, b), order="C")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        _trsm(np.broadcast_to(a, batch + a.shape[-2:]), x, upper, unit)
    return x


_LU_LEAF = 16  # columns factored one at a time in a leaf panel


def _lu_panel_one(lu):
    """``_lu_panel`` of one matrix (m, w): plain 2-D steps, Python ints for the row order."""
    m, w = lu.shape
    k = min(m, w)
    piv = [0] * k
    order = list(range(m))
    for j in range(k):
        p = j + int(np.abs(lu[j:, j]).argmax())
        piv[j] = p
        if p != j:
            top = lu[j].copy()
            lu[j] = lu[p]
            lu[p] = top
            order[j], order[p] = order[p], order[j]
        pivot = lu[j, j]
        if j + 1 < m:
            if pivot != 0:  # a zero pivot: its column is all zeros, left as it is (as getrf)
                lu[j + 1:, j] /= pivot
            if j + 1 < w:  # (even then: 0 times an inf of the row is NaN, as the batch's step)
                lu[j + 1:, j + 1:] -= np.multiply.outer(lu[j + 1:, j], lu[j, j + 1:])
    return np.array([piv], np.intp).reshape(1, k), np.array([order], np.intp)


def _lu_panel(lu):
    """getrf on a few columns, in place: ``lu`` (b, m, w) with w small; one step a column (the
    first largest |value| of the column as the pivot, as LAPACK's idamax; a zero pivot is left
    in U, as getrf). Returns the 0-based pivots (b, k) and the rows' order (b, m): row i of the
    result is row ``order[i]`` of the input."""
    if lu.shape[0] == 1:
        return _lu_panel_one(lu[0])
    b, m, w = lu.shape
    k = min(m, w)
    piv = np.empty((b, k), np.intp)
    # the row numbers ride along as one more column, so one exchange a step moves both
    work = np.concatenate([lu, np.broadcast_to(np.arange(m, dtype=lu.dtype)[:, None],
                                               (b, m, 1))], axis=2)
    flat = work.reshape(b * m, w + 1)  # rows by flat number: take() beats 2-D fancy indexing
    first = np.arange(b) * m
    for j in range(k):
        p = np.abs(work[:, j:, j]).argmax(axis=1)
        p += j
        piv[:, j] = p
        top, other = first + j, first + p
        row = flat.take(top, axis=0)
        flat[top] = flat.take(other, axis=0)
        flat[other] = row
        if j + 1 < m:
            pivot = work[:, j, j]
            work[:, j + 1:, j] /= np.where(pivot == 0, 1, pivot)[:, None]
            if j + 1 < w:
                work[:, j + 1:, j + 1:w] -= work[:, j + 1:, j, None] * work[:, None, j, j + 1:w]
    lu[...] = work[..., :w]
    return piv, work[..., w].astype(np.intp)


def _reorder_rows(x, order):
    """``x`` (b, r, w) in place, row i replaced by row ``order[:, i]``."""
    if x.size == 0:
        return
    if x.shape[0] == 1:  # plain fancy indexing: a third of take_along_axis's overhead
        x[0] = x[0, order[0]]
    else:
        x[...] = np.take_along_axis(x, order[:, :, None], axis=1)


def _lu_rec(lu):
    """getrf in place on ``lu`` (b, m, n) by halves (Toledo's recursion): factor the left half
    of the columns, give the right half the same row swaps, ``U12 = L11^-1 A12`` (a triangular
    solve), the Schur complement ``A22 - L21 U12`` (one matmul), factor it, and give L21 its row
    swaps. Returns the 0-based pivots (b, k) and the rows' order (b, m) as ``_lu_panel``."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    if k <= _LU_LEAF:
        return _lu_panel(lu)
    h = k // 2
    piv1, order1 = _lu_rec(lu[:, :, :h])
    right = lu[:, :, h:]
    _reorder_rows(right, order1)
    _trsm(lu[:, :h, :h], right[:, :h], upper=False, unit=True)
    right[:, h:] -= lu[:, h:, :h] @ right[:, :h]
    piv2, order2 = _lu_rec(right[:, h:])
    _reorder_rows(lu[:, h:, :h], order2)
    order = np.concatenate([order1[:, :h], np.take_along_axis(order1[:, h:], order2, axis=1)],
                           axis=1)
    return np.concatenate([piv1, piv2 + h], axis=1), order


def lu_blocked(a):
    """``lu_np`` by halves (``_lu_rec``): ``(LU, pivots, order)``, the 1-based int32 pivots
    and the rows' order (..., m) with ``LU``'s L U = ``a[..., order, :]``."""
    m, n = a.shape[-2:]
    batch = a.shape[:-2]
    lu = np.array(a.reshape((math.prod(batch), m, n)), copy=True)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        piv, order = _lu_rec(lu)
    k = min(m, n)
    return (lu.reshape(a.shape), (piv + 1).astype(np.int32).reshape(batch + (k,)),
            order.reshape(batch + (m,)))


def rows_order(piv, m):
    """The rows' order (..., m) of getrf's 1-based pivots (..., k): row i of L U is row
    ``order[i]`` of A. The swaps are made in order, one step each, over the whole batch (a
    Python list for one matrix: no NumPy call a step)."""
    batch, k = piv.shape[:-1], piv.shape[-1]
    flat = piv.reshape(math.prod(batch), k).astype(np.intp) - 1
    if flat.shape[0] == 1:
        order = list(range(m))
        for j, p in enumerate(flat[0].tolist()):
            order[j], order[p] = order[p], order[j]
        return np.array(order, np.intp).reshape(batch + (m,))
    order = np.array(np.broadcast_to(np.arange(m), (flat.shape[0], m)))
    rows = np.arange(flat.shape[0])
    for j in range(k):
        top = order[:, j].copy()
        order[:, j] = order[rows, flat[:, j]]
        order[rows, flat[:, j]] = top
    return order.reshape(batch + (m,))


def _lu_grad_np(lu, piv, glu):
    """``_lu_grad`` in NumPy alone (no recording): the same formula, with the triangular solves
    called directly and ``P ga`` as a scatter of ga's rows (no m x m permutation matrix)."""
    m, n = lu.shape[-2:]
    k = min(m, n)
    lu1, l2, u2 = lu[..., :k, :k], lu[..., k:, :k], lu[..., :k, k:]
    g1, gl2, gu2 = glu[..., :k, :k], glu[..., k:, :k], glu[..., :k, k:]
    l1 = np.tril(lu1, -1) + _eye(k, lu1)
    gm = np.tril(np.swapaxes(l1, -1, -2) @ np.tril(g1, -1) - gu2 @ np.swapaxes(u2, -1, -2), -1) \
        + np.triu(np.triu(g1) @ np.swapaxes(np.triu(lu1), -1, -2)
                  - np.swapaxes(l2, -1, -2) @ gl2)
    lt = np.swapaxes(lu1, -1, -2)  # L1^T in its strict upper part, U1^T in its lower one

    def left_l(x):  # L1^-T x
        return SolveTriangular.forward(lt, x, upper=True, left=True, unitriangular=True)

    def right_u(x):  # x U1^-T
        return SolveTriangular.forward(lt, x, upper=False, left=False, unitriangular=False)

    if n > k:
        ga = left_l(np.concatenate([right_u(gm), gu2], -1))
    elif m > k:
        ga = right_u(np.concatenate([left_l(gm), gl2], -2))
    else:
        ga = right_u(left_l(gm))
    out = np.empty(ga.shape, ga.dtype)
    order = np.broadcast_to(rows_order(piv, m)[..., None], ga.shape[:-1] + (1,))
    np.put_along_axis(out, order, ga, axis=-2)  # P ga: row i of ga is row order[i] of gA
    return out


def permutation_of(piv, m, dtype):
    """``permutation`` from ``rows_order``: P (..., m, m) with ``A = P L U``, one matrix's
    swaps made in a Python list rather than a NumPy step each."""
    order = rows_order(piv, m)
    p = np.zeros(order.shape[:-1] + (m, m), dtype)
    np.put_along_axis(p, order[..., None, :], 1, axis=-2)  # (P^T A)_i = A_order[i]
    return p


# ---- forward-mode rules (task fwdad) --------------------------------------------------------
# ``jvp(tangents, args, out, extra, kw)``: the output's tangent from the inputs' (None where an
# input has none), in NumPy on the forward's arrays; None for a zero tangent, NotImplemented to
# hand over to the generic rule (forward_ad._fallback: the VJP differentiated once more, always
# right, slower). A primitive without ``jvp`` takes the generic rule. Only the primitives a
# network runs at every layer have one: the rest are checked through the fallback.

Op.jvp = None


def _fw_rule(*classes):
    def put(fn):
        for cls in classes:
            cls.jvp = staticmethod(fn)
        return fn
    return put


def _fw_sum(*terms):
    """The sum of the terms that exist (None: a zero term)."""
    total = None
    for t in terms:
        if t is not None:
            total = t if total is None else total + t
    return total


def _fw_linear(cls, **zero_kw):
    """An op linear in its first input (the others are indices or shapes): its tangent is the
    forward itself on the tangent. ``zero_kw``: the affine part set to zero (a pad value)."""
    def jvp(tans, args, out, extra, kw):
        r = cls.forward(tans[0], **{**kw, **zero_kw})
        return r[0] if cls.keeps_extra else r
    cls.jvp = staticmethod(jvp)


for _cls in (Neg, Sum, Mean, Cumsum, Reshape, Transpose, BroadcastTo, GetItem, Cast, Take,
             AddAt, Connect, Col2im, NllLoss):
    _fw_linear(_cls)
_fw_linear(Pad, value=0)
_fw_linear(Im2col, value=0.0)


@_fw_rule(Add)
def _fw_add(tans, args, out, extra, kw):
    return _fw_sum(*tans)


@_fw_rule(Sub)
def _fw_sub(tans, args, out, extra, kw):
    ta, tb = tans
    return _fw_sum(ta, None if tb is None else -tb)


@_fw_rule(Mul)
def _fw_mul(tans, args, out, extra, kw):
    (ta, tb), (a, b) = tans, args
    return _fw_sum(None if ta is None else ta * b, None if tb is None else a * tb)


@_fw_rule(Div)
def _fw_div(tans, args, out, extra, kw):
    (ta, tb), (a, b) = tans, args
    # (ta - tb * a / b) / b: the quotient rule with the forward's own output for a / b
    return _fw_sum(None if ta is None else ta / b, None if tb is None else -tb * (out / b))


@_fw_rule(Addcmul)
def _fw_addcmul(tans, args, out, extra, kw):
    (tc, ta, tb), (c, a, b) = tans, args
    return _fw_sum(tc, None if ta is None else ta * b, None if tb is None else a * tb)


@_fw_rule(MatMul)
def _fw_matmul(tans, args, out, extra, kw):
    (ta, tb), (a, b) = tans, args
    return _fw_sum(None if ta is None else _matmul(ta, b), None if tb is None else _matmul(a, tb))


@_fw_rule(VecDot)
def _fw_vecdot(tans, args, out, extra, kw):
    (ta, tb), (a, b) = tans, args
    return _fw_sum(None if ta is None else VecDot.forward(ta, b, **kw),
                   None if tb is None else VecDot.forward(a, tb, **kw))


@_fw_rule(Einsum)
def _fw_einsum(tans, args, out, extra, kw):
    # multilinear: one term per operand with a tangent, that operand replaced by it
    return _fw_sum(*(None if t is None else Einsum.forward(*args[:i], t, *args[i + 1:], **kw)
                     for i, t in enumerate(tans)))


@_fw_rule(Concatenate)
def _fw_concatenate(tans, args, out, extra, kw):
    return Concatenate.forward(*(np.zeros_like(a) if t is None else t
                                 for t, a in zip(tans, args)), **kw)


@_fw_rule(Where)
def _fw_where(tans, args, out, extra, kw):
    _, ta, tb = tans
    return select(args[0], 0 if ta is None else ta, 0 if tb is None else tb)


@_fw_rule(Exp)
def _fw_exp(tans, args, out, extra, kw):
    return tans[0] * out


@_fw_rule(Log)
def _fw_log(tans, args, out, extra, kw):
    return tans[0] / args[0]


@_fw_rule(Log1p)
def _fw_log1p(tans, args, out, extra, kw):
    return tans[0] / (args[0] + 1)


@_fw_rule(Expm1)
def _fw_expm1(tans, args, out, extra, kw):
    return tans[0] * (out + 1)


@_fw_rule(Sqrt)
def _fw_sqrt(tans, args, out, extra, kw):
    return tans[0] / (out * 2)


@_fw_rule(Rsqrt)
def _fw_rsqrt(tans, args, out, extra, kw):
    return tans[0] * (out * out * out) * -0.5


@_fw_rule(Sigmoid)
def _fw_sigmoid(tans, args, out, extra, kw):
    return tans[0] * (out * (1 - out))


@_fw_rule(Tanh)
def _fw_tanh(tans, args, out, extra, kw):
    return tans[0] * (1 - out * out)


@_fw_rule(Sin)
def _fw_sin(tans, args, out, extra, kw):
    return tans[0] * np.cos(args[0])


@_fw_rule(Cos)
def _fw_cos(tans, args, out, extra, kw):
    return -tans[0] * np.sin(args[0])


@_fw_rule(Relu)
def _fw_relu(tans, args, out, extra, kw):
    return select(args[0] > 0, tans[0], 0)  # derivative 0 at 0, as the VJP's


@_fw_rule(Abs)
def _fw_abs(tans, args, out, extra, kw):
    return tans[0] * np.sign(args[0])


@_fw_rule(Sign, ZerosLike)
def _fw_zero(tans, args, out, extra, kw):
    return None


@_fw_rule(Softmax)
def _fw_softmax(tans, args, out, extra, kw):
    t = tans[0]
    return out * (t - _sum(out * t, kw["axis"], True))


@_fw_rule(LogSoftmax)
def _fw_log_softmax(tans, args, out, extra, kw):
    t = tans[0]
    return t - _sum(np.exp(out) * t, kw["axis"], True)


@_fw_rule(Pow)
def _fw_pow(tans, args, out, extra, kw):
    (ta, tb), (a, b) = tans, args
    if tb is not None or not isinstance(b, (int, float)):
        return NotImplemented  # a tensor exponent: its edge cases are the VJP's (0^0, log 0)
    if b == 0:
        return None
    return ta * (b * a ** (b - 1))


@_fw_rule(Erf)
def _fw_erf(tans, args, out, extra, kw):
    a = args[0]
    return tans[0] * (np.exp(-(a * a)) * 1.1283791670955126)  # 2 / sqrt(pi), as the VJP's


# ---- depthwise convolution (task dwconv) ------------------------------------------------------
# A depthwise conv2d (groups == in_channels) as kh*kw shifted multiply-adds into one output
# buffer: the im2col route copied the input kh*kw times and read that copy's gradient back
# (19 MB for a 3x3 layer on (8, 64, 32, 32)). Three ops, each bilinear and each VJP made of the
# three, so gradients of any order work:
#   depthwise_conv2d(x, w)          out[n, c*m+j, y, x] = sum_(i,k) w[c*m+j, i, k] *
#                                       xpad[n, c, y*sh + i*dh, x*sw + k*dw]
#   depthwise_conv2d_input(g, w)    its adjoint in x (the input gradient)
#   depthwise_conv2d_weight(x, g)   its adjoint in w (the weight gradient)
# x (N, C, H, W), w (C*m, kh, kw) with m the channel multiplier, g (N, C*m, OH, OW);
# ``padding`` ((top, bottom), (left, right)) of zeros.

class _DwGrid:
    """Where each kernel offset reads, laid out so that every tap is ONE long contiguous slice.

    The padded input is split by stride phase (row ``a`` mod sh, column ``b`` mod sw; stride 1:
    one phase, the padded input itself) into (N, C, Hq*Wq) arrays; tap (i, k) then reads phase
    ((i*dh) % sh, (k*dw) % sw) from flat position ``start`` = r*Wq + q, r = (i*dh)//sh and
    q = (k*dw)//sw, as the output laid out Wq wide: out_wide[y*Wq + x] for x < Wq, of which
    the first ow columns are the output and the rest wrap into the next row and are dropped.
    Slices of ~oh*Wq numbers replace oh rows of ow (NumPy's per-row cost dominated)."""

    def __init__(self, shape, kernel, stride, padding, dilation, out_hw):
        n, c, h, w = shape
        (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
        (pt, pb), (pl, pr) = padding
        self.oh, self.ow = out_hw
        self.hq, self.wq = -(-(h + pt + pb) // sh), -(-(w + pl + pr) // sw)
        self.length = (self.oh - 1) * self.wq + self.ow  # past it: wrapped columns only
        self.taps = [(i, k, ((i * dh) % sh, (k * dw) % sw),
                      (i * dh) // sh * self.wq + (k * dw) // sw)
                     for i in range(kh) for k in range(kw)]
        self.phases = sorted({t[2] for t in self.taps})
        self.shape, self.stride = shape, stride
        # padded to whole phases: Hq*sh x Wq*sw
        self.pads = ((pt, self.hq * sh - h - pt), (pl, self.wq * sw - w - pl))

    def _placement(self, a, b):
        """Where phase (a, b) meets the unpadded input: (phase rows, phase columns) as slices
        and (input rows, input columns) as strided slices."""
        n, c, h, w = self.shape
        (sh, sw), ((pt, _), (pl, _)) = self.stride, self.pads
        out = []
        for phase, step, pad, size in ((a, sh, pt, h), (b, sw, pl, w)):
            first = max(0, -(-(pad - phase) // step))  # the phase's first index past the pad
            start = phase + step * first - pad  # ... as an input index
            count = len(range(start, size, step))
            out.append((slice(first, first + count), slice(start, size, step)))
        (pr, xr), (pc, xc) = out
        return (pr, pc), (xr, xc)

    def split(self, x):
        """{phase: (N, C, Hq*Wq) array} of the zero-padded ``x``: each phase written once from
        ``x`` into zeros, with no padded copy in between."""
        n, c = x.shape[:2]
        parts = {}
        for a, b in self.phases:
            part = np.zeros((n, c, self.hq, self.wq), x.dtype)
            (pr, pc), (xr, xc) = self._placement(a, b)
            part[:, :, pr, pc] = x[:, :, xr, xc]
            parts[a, b] = part.reshape(n, c, self.hq * self.wq)
        return parts

    def merge(self, parts, dtype):
        """The (N, C, H, W) array whose phases are ``parts``: the inverse of ``split`` (the
        padding dropped; input positions in no phase a tap reads: zeros)."""
        n, c, h, w = self.shape
        (sh, sw), ((pt, _), (pl, _)) = self.stride, self.pads
        if sh == 1 and sw == 1:  # one phase: the input is a window of it, no copy
            return parts[0, 0].reshape(n, c, self.hq, self.wq)[:, :, pt:pt + h, pl:pl + w]
        full = (np.empty if len(parts) == sh * sw else np.zeros)((n, c, h, w), dtype)
        for (a, b), part in parts.items():
            (pr, pc), (xr, xc) = self._placement(a, b)
            full[:, :, xr, xc] = part.reshape(n, c, self.hq, self.wq)[:, :, pr, pc]
        return full

    def widen(self, g):
        """(N, C, M, oh, ow) -> (N, C, M, oh*Wq): the wrapped columns zero."""
        n, c, m = g.shape[:3]
        wide = np.zeros((n, c, m, self.oh, self.wq), g.dtype)
        wide[..., :self.ow] = g
        return wide.reshape(n, c, m, self.oh * self.wq)


def _dw_wide(a):
    """float16 computed in float32 and rounded once at the end, as PyTorch's CPU kernels."""
    return a.astype(np.float32) if a.dtype is _F16 else a


class DepthwiseConv2d(Op):
    """Depthwise 2-D cross-correlation (see the section's header): ``F.conv2d`` with
    ``groups = C`` and weight (C*m, 1, kh, kw) reshaped to (C*m, kh, kw)."""
    name = "depthwise_conv2d"

    @staticmethod
    def forward(x, w, stride, padding, dilation):
        dtype, x_, w_ = x.dtype, _dw_wide(x), _dw_wide(w)
        n, c, h, wd = x_.shape
        o, kh, kw = w_.shape
        m = o // c
        oh = window_out_size(h, kh, stride[0], sum(padding[0]), dilation[0])
        ow = window_out_size(wd, kw, stride[1], sum(padding[1]), dilation[1])
        grid = _DwGrid(x_.shape, (kh, kw), stride, padding, dilation, (oh, ow))
        parts, L = grid.split(x_), grid.length
        # Past ``length`` the wide output holds wrapped columns only, which are dropped: no
        # zeros needed. The first tap writes, the rest add through one reused buffer.
        out = np.empty((n, c, m, oh * grid.wq), x_.dtype)
        head, tmp = out[..., :L], np.empty((n, c, m, L), x_.dtype)
        wt = w_.reshape(c, m, kh, kw)
        for t, (i, k, phase, start) in enumerate(grid.taps):
            # einsum's product with a per-channel factor: ~1.4x NumPy's broadcast multiply
            _einsum("ncl,cm->ncml", parts[phase][:, :, start:start + L], wt[:, :, i, k],
                    out=tmp if t else head)
            if t:
                head += tmp
        out = out.reshape(n, c * m, oh, grid.wq)[..., :ow]
        return out.astype(dtype)  # (a contiguous copy: the wrapped columns dropped)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        x, w = args
        geo = dict(stride=kw["stride"], padding=kw["padding"], dilation=kw["dilation"])
        gx = _run(DepthwiseConv2dInput, xp, g, w, size=x.shape[1:], **geo) if needs[0] else None
        gw = _run(DepthwiseConv2dWeight, xp, x, g, kernel=w.shape[1:], **geo) if needs[1] else None
        return gx, gw


class DepthwiseConv2dInput(Op):
    """The adjoint of ``depthwise_conv2d`` in its input: kh*kw shifted adds of ``g * w`` into a
    padded buffer, cropped to ``size`` (C, H, W). (A non-finite weight also reaches the wrapped
    columns, times a zero gradient: NaN where PyTorch's would be finite.)"""
    name = "depthwise_conv2d_input"

    @staticmethod
    def forward(g, w, size, stride, padding, dilation):
        dtype, g_, w_ = g.dtype, _dw_wide(g), _dw_wide(w)
        n, o, oh, ow = g_.shape
        _, kh, kw = w_.shape
        c = size[0]
        m = o // c
        grid = _DwGrid((n,) + tuple(size), (kh, kw), stride, padding, dilation, (oh, ow))
        L = grid.length
        gw_ = grid.widen(g_.reshape(n, c, m, oh, ow))[..., :L]
        wt = w_.reshape(c, m, kh, kw)
        parts = {p: np.zeros((n, c, grid.hq * grid.wq), g_.dtype) for p in grid.phases}
        tmp = np.empty((n, c, L), g_.dtype)
        for i, k, phase, start in grid.taps:
            # windows overlap, so the taps add in turn; einsum sums the multiplier's outputs
            _einsum("ncml,cm->ncl", gw_, wt[:, :, i, k], out=tmp)
            parts[phase][:, :, start:start + L] += tmp
        return grid.merge(parts, g_.dtype).astype(dtype, copy=False)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        go, w = args  # this op is bilinear in (go, w): each gradient is one of the other two ops
        geo = dict(stride=kw["stride"], padding=kw["padding"], dilation=kw["dilation"])
        ggo = _run(DepthwiseConv2d, xp, g, w, **geo) if needs[0] else None
        gw = _run(DepthwiseConv2dWeight, xp, g, go, kernel=w.shape[1:], **geo) if needs[1] else None
        return ggo, gw


class DepthwiseConv2dWeight(Op):
    """The adjoint of ``depthwise_conv2d`` in its weight: for each of the kh*kw offsets, the sum
    of ``g`` times the input window at that offset over the batch and the output positions;
    ``kernel`` (kh, kw)."""
    name = "depthwise_conv2d_weight"

    @staticmethod
    def forward(x, g, kernel, stride, padding, dilation):
        dtype, x_, g_ = x.dtype, _dw_wide(x), _dw_wide(g)
        n, c = x_.shape[:2]
        _, o, oh, ow = g_.shape
        m = o // c
        grid = _DwGrid(x_.shape, kernel, stride, padding, dilation, (oh, ow))
        parts, L = grid.split(x_), grid.length
        gw = np.empty((c, m) + tuple(kernel), g_.dtype)
        gt = g_.reshape(n, c, m, oh, ow)
        gw_ = grid.widen(gt)[..., :L]
        for i, k, phase, start in grid.taps:
            gw[:, :, i, k] = _einsum("ncl,ncml->cm", parts[phase][:, :, start:start + L], gw_)
        # Over the wide layout the wrapped columns multiply zeros of g: exact, unless the input
        # holds inf or NaN there (then NaN, where no window reads it). Only a non-finite result
        # can hide that, and it is redone reading the windows as rows of ow.
        if not np.isfinite(gw).all():
            for i, k, phase, start in grid.taps:
                r, q = divmod(start, grid.wq)
                rows = parts[phase].reshape(n, c, grid.hq, grid.wq)[:, :, r:r + oh, q:q + ow]
                gw[:, :, i, k] = _einsum("ncyx,ncmyx->cm", rows, gt)
        return gw.reshape((o,) + tuple(kernel)).astype(dtype, copy=False)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        x, go = args
        geo = dict(stride=kw["stride"], padding=kw["padding"], dilation=kw["dilation"])
        gx = (_run(DepthwiseConv2dInput, xp, go, g, size=x.shape[1:], **geo)
              if needs[0] else None)
        ggo = _run(DepthwiseConv2d, xp, x, g, **geo) if needs[1] else None
        return gx, ggo


@_fw_rule(DepthwiseConv2d)
def _fw_depthwise(tans, args, out, extra, kw):
    (tx, tw), (x, w) = tans, args  # bilinear: one term per input with a tangent
    return _fw_sum(None if tx is None else DepthwiseConv2d.forward(tx, w, **kw),
                   None if tw is None else DepthwiseConv2d.forward(x, tw, **kw))


# ---- models3: a product whose result is born in the caller's shape ---------------------------
# A convolution's GEMM gives (N, O, L); reshaping that tensor to (N, O, OH, OW) made the layer's
# output a view of another tensor on the graph, and an in-place activation after a bias-free
# convolution (DCGAN's LeakyReLU(inplace=True), Conv1d + ReLU(inplace=True)) was refused. Here
# the reshape happens inside the primitive, on an array no tensor holds.

class MatMulShaped(Op):
    name = "matmul"
    reads = MatMul.reads

    @staticmethod
    def forward(a, b, shape):
        return _matmul(a, b).reshape(shape)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, b = args
        mm = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1])
        return MatMul.vjp(g.reshape(mm), args, None, extra, {}, needs, xp)


@_fw_rule(MatMulShaped)
def _fw_matmul_shaped(tans, args, out, extra, kw):
    return _fw_matmul(tans, args, None, extra, {}).reshape(kw["shape"])


# ==== task speed6: fused primitives for the slowest everyday layers (to the end of the file) ====

# ---- speed6: the exact GELU as one primitive ---------------------------------------------------
# ``x * Phi(x)`` was five nodes (a scale, erf, an add, two products): five forward passes plus
# five VJPs, and ``1 + erf(x / sqrt 2)`` cancelled below x = -2.5 (float32 lost every digit
# from -6 on). One primitive now, with Phi from ``special_kernels_ndtr`` (erfc in the lower
# tail, never a difference). Its slope ``Phi + x phi`` is the primitive ``gelu_grad``, whose
# own VJP ``phi (2 - x^2)`` is written in ``xp``: derivatives of every order stay on the tape.

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _ndtr_array(a):
    """Phi in ``a``'s dtype; float16 through float32 and rounded once, integers in float64."""
    from .special_kernels_ndtr import ndtr
    if a.dtype is _F32 or a.dtype is _F64:
        return ndtr(a)
    if a.dtype is _F16:
        return ndtr(a.astype(np.float32)).astype(np.float16)
    return ndtr(a.astype(np.float64))


def _gelu_slope(a, cdf):
    """``Phi(a) + a phi(a)`` given ``cdf = Phi(a)``: five passes over one fresh buffer."""
    d = np.multiply(a, a, out=np.empty(np.shape(a), cdf.dtype))  # (an array even when 0-d)
    d *= -0.5
    with np.errstate(under="ignore"):
        np.exp(d, out=d)
    d *= a
    d *= _INV_SQRT_2PI
    d += cdf
    return d


class Gelu(Op):
    """The exact GELU ``x Phi(x)``, Phi the standard normal CDF; keeps Phi for its VJP."""
    name = "gelu"
    keeps_extra = True

    @staticmethod
    def forward(a):
        cdf = _ndtr_array(a)
        with np.errstate(invalid="ignore"):  # -inf * 0: NaN, as torch's (silently)
            out = np.multiply(a, cdf, out=np.empty(np.shape(a), cdf.dtype))
        return out, cdf

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        if xp is NP:  # Phi from the forward: only phi to compute
            d = _gelu_slope(a, extra)
            if type(g) is np.ndarray and g.shape == d.shape and g.dtype == d.dtype:
                d *= g
                return (d,)
            return (g * d,)
        return (g * _run(GeluGrad, xp, a),)


class GeluGrad(Op):
    """The exact GELU's slope ``Phi(x) + x phi(x)``; its derivative is ``phi(x) (2 - x^2)``."""
    name = "gelu_grad"

    @staticmethod
    def forward(a):
        return _gelu_slope(a, _ndtr_array(a))

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        sq = a * a
        return (g * (xp.exp(sq * -0.5) * _INV_SQRT_2PI * (2.0 - sq)),)


@_fw_rule(Gelu)
def _fw_gelu(tans, args, out, extra, kw):
    return tans[0] * _gelu_slope(args[0], extra)


# ---- speed6: fused recurrent cells ------------------------------------------------------------
# An LSTM step was 16 tape nodes (a sigmoid, four gate slices, tanh, three products, an add,
# tanh, a product, ...) and a GRU step 14, each on a (batch, hidden) state of a few KiB: the
# engine's per-node cost was most of the time. Now the LSTM's cell update and hidden output
# are one primitive each and the GRU's whole update is one. The values are the composites'
# to the bit (the same operations in the same order); the VJPs are written once over ``xp``
# with the gate activations recomputed from the inputs, or taken from the forward's ``extra``
# in plain NumPy, so double backward stays on the tape.

def _split_last(a, k):
    """The k equal slices of ``a`` along its last axis (views of arrays, or Tensor slices)."""
    n = a.shape[-1] // k
    return [a[..., j * n:(j + 1) * n] for j in range(k)]


def _xp_tanh(xp, a):
    return np.tanh(a) if xp is NP else a.tanh()


def _xp_cat(xp, parts):
    if xp is NP:
        return np.concatenate(parts, axis=-1)
    from .tensor import concatenate
    return concatenate(parts, axis=-1)


def _lstm_acts(gx, gh, xp):
    """sigmoid of the i, f gates (one call over both) and tanh of the cell gate g, of the
    pre-activations ``gx + gh``."""
    H = gx.shape[-1] // 4
    s = xp.sigmoid(gx[..., :2 * H] + gh[..., :2 * H])
    return s[..., :H], s[..., H:], _xp_tanh(xp, gx[..., 2 * H:3 * H] + gh[..., 2 * H:3 * H])


def _lstm_o(gx, gh, xp):
    H = gx.shape[-1] // 4
    return xp.sigmoid(gx[..., 3 * H:] + gh[..., 3 * H:])


def _to_both(xp, g):
    """The same gradient for both summands: a second array of its own in NumPy (the tape may
    add into a gradient it was handed as fresh)."""
    return g, (g.copy() if xp is NP else g)


class LstmCell(Op):
    """An LSTM's cell update ``c' = sigmoid(f) c + sigmoid(i) tanh(g)``: the pre-activations
    are ``gx + gh`` (..., 4H), the input's and the state's projections, in PyTorch's gate order
    i, f, g, o (the o quarter unread); ``c`` the previous cell."""
    name = "lstm_cell"
    keeps_extra = True

    @staticmethod
    def forward(gx, gh, c):
        si, sf, tg = _lstm_acts(gx, gh, NP)
        out = sf * c
        out += si * tg
        return out, (si, sf, tg)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        gx, gh, c = args
        si, sf, tg = extra if xp is NP else _lstm_acts(gx, gh, xp)
        gg = gg2 = None
        if needs[0] or needs[1]:
            if xp is NP:  # one buffer, the o quarter zero (it does not reach c')
                H = si.shape[-1]
                gg = np.empty(si.shape[:-1] + (4 * H,), np.result_type(g, si))
                np.multiply(g, tg, out=gg[..., :H])
                gg[..., :H] *= si * (1 - si)
                np.multiply(g, c, out=gg[..., H:2 * H])
                gg[..., H:2 * H] *= sf * (1 - sf)
                np.multiply(g, si, out=gg[..., 2 * H:3 * H])
                gg[..., 2 * H:3 * H] *= 1 - tg * tg
                gg[..., 3 * H:] = 0
            else:
                gg = _xp_cat(xp, [g * tg * (si * (1 - si)), g * c * (sf * (1 - sf)),
                                  g * si * (1 - tg * tg), xp.zeros_like(si)])
            gg, gg2 = _to_both(xp, gg)
        return gg, gg2, (g * sf if needs[2] else None)


class LstmHidden(Op):
    """An LSTM's hidden output ``h = sigmoid(o) tanh(c')``, o the last quarter of ``gx + gh``
    (as ``lstm_cell``'s), ``c'`` the new cell."""
    name = "lstm_hidden"
    keeps_extra = True

    @staticmethod
    def forward(gx, gh, c):
        so, tc = _lstm_o(gx, gh, NP), np.tanh(c)
        return so * tc, (so, tc)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        gx, gh, c = args
        so, tc = extra if xp is NP else (_lstm_o(gx, gh, xp), c.tanh())
        gg = gg2 = None
        if needs[0] or needs[1]:
            go = g * tc * (so * (1 - so))
            if xp is NP:
                gg = np.zeros(go.shape[:-1] + (4 * go.shape[-1],), go.dtype)
                gg[..., 3 * go.shape[-1]:] = go
            else:
                gg = _xp_cat(xp, [xp.zeros_like(go)] * 3 + [go])
            gg, gg2 = _to_both(xp, gg)
        return gg, gg2, (g * so * (1 - tc * tc) if needs[2] else None)


def _gru_acts(gx, gh, xp):
    """r, z = sigmoid of the summed (..., 2H) heads; n = tanh(gx_n + r gh_n)."""
    H = gx.shape[-1] // 3
    rz = xp.sigmoid(gx[..., :2 * H] + gh[..., :2 * H])
    r = rz[..., :H]
    return r, rz[..., H:], _xp_tanh(xp, gx[..., 2 * H:] + r * gh[..., 2 * H:])


class GruCell(Op):
    """A GRU's update ``h' = n + z (h - n)`` (PyTorch's ``(1 - z) n + z h``) from the input's
    and the state's (..., 3H) projections ``gx``, ``gh`` (biases included) in the order r, z,
    n and the previous state ``h``: r, z = sigmoid(gx + gh), n = tanh(gx_n + r gh_n)."""
    name = "gru_cell"
    keeps_extra = True

    @staticmethod
    def forward(gx, gh, h):
        r, z, n = _gru_acts(gx, gh, NP)
        out = h - n
        out *= z
        out += n
        return out, (r, z, n)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        gx, gh, h = args
        r, z, n = extra if xp is NP else _gru_acts(gx, gh, xp)
        H = n.shape[-1]
        gn = g * (1 - z) * (1 - n * n)  # through tanh to its argument gx_n + r gh_n
        grz = None
        if needs[0] or needs[1]:
            grz = [gn * gh[..., 2 * H:] * (r * (1 - r)), g * (h - n) * (z * (1 - z))]
        ggx = _xp_cat(xp, grz + [gn]) if needs[0] else None
        ggh = _xp_cat(xp, grz + [gn * r]) if needs[1] else None
        return ggx, ggh, (g * z if needs[2] else None)


class Stack(Op):
    """``np.stack`` along ``axis``: one node where ``stack`` made one reshape per tensor and a
    concatenation (an RNN's outputs, one per time step). Its VJP hands each input its slice."""
    name = "stack"
    reads_inputs = False

    @staticmethod
    def forward(*arrays, axis):
        return np.stack(arrays, axis=axis)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        lead = (slice(None),) * kw["axis"]
        return tuple(g[lead + (i,)] if need else None for i, need in enumerate(needs))


@_fw_rule(Stack)
def _fw_stack(tans, args, out, extra, kw):
    return Stack.forward(*(np.zeros_like(a) if t is None else t for t, a in zip(tans, args)),
                         **kw)


# ---- speed6: softplus as one primitive ---------------------------------------------------------
# ``max(z, 0) + log1p(exp(-|z|))`` then a select past the threshold was seven nodes (relu, clip,
# sub, exp, log1p, add, where) and as many VJPs. Now one, with the same values to the bit (the
# same operations in the same order: ``clip(z, max=0) - relu(z)`` is ``-|z|`` exactly), and
# its slope ``sigmoid(z)`` (1 past the threshold) the primitive ``softplus_grad``, whose own
# VJP ``beta s (1 - s)`` (0 past the threshold) is written in ``xp``.

def _softplus_z(a, beta):
    return a * beta if beta != 1.0 else a


def _values(a):
    """The array under a Tensor (a recorded VJP's argument) or the array itself."""
    return a if isinstance(a, np.ndarray) else a.data


class Softplus(Op):
    """``log(1 + exp(beta x)) / beta``, and ``x`` itself where ``beta x > threshold``."""
    name = "softplus"

    @staticmethod
    def forward(a, beta, threshold):
        z = _softplus_z(a, beta)
        if z.dtype.kind != "f":  # integers: in float64, as NumPy's exp would
            z = z.astype(np.float64)
        out = np.abs(z, out=np.empty(z.shape, z.dtype))  # (an array even when 0-d)
        np.negative(out, out=out)
        np.exp(out, out=out)
        np.log1p(out, out=out)
        out += np.maximum(z, 0)  # relu's value (NaN stays NaN)
        if beta != 1.0:
            out /= beta
        np.copyto(out, a, where=z > threshold)
        return out

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        if xp is NP:
            d = SoftplusGrad.forward(a, **kw)
            if type(g) is np.ndarray and g.shape == d.shape and g.dtype == d.dtype:
                d *= g
                return (d,)
            return (g * d,)
        return (g * _run(SoftplusGrad, xp, a, **kw),)


class SoftplusGrad(Op):
    """softplus's slope in x: ``sigmoid(beta x)``, 1 where ``beta x > threshold``."""
    name = "softplus_grad"

    @staticmethod
    def forward(a, beta, threshold):
        z = _softplus_z(a, beta)
        s = Sigmoid.forward(z)
        np.copyto(s, 1, where=z > threshold)
        return s

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a = args[0]
        beta, threshold = kw["beta"], kw["threshold"]
        s = xp.sigmoid(a * beta if beta != 1.0 else a)
        past = _softplus_z(_values(a), beta) > threshold
        return (xp.where(past, 0, g * (s * (1 - s) * beta)),)


# ---- speed6: the smooth L1 loss's elements as one primitive ------------------------------------

class SmoothL1(Op):
    """``m (d - m / 2) / beta`` with ``d = a - b`` and ``m = clip(d, -beta, beta)`` (beta > 0):
    ``d^2 / (2 beta)`` inside, ``|d| - beta / 2`` outside, without a select. Was five nodes
    (sub, clip, mul, sub, mul; a sixth for beta != 1); the values are theirs to the bit. The
    slope ``clip(d, -beta, beta) / beta`` is written once for arrays and Tensors (``clip`` and
    products), so recorded it gives the composite's second derivative: 1 / beta inside, the
    bounds included, as ``clip``'s VJP."""
    name = "smooth_l1"

    @staticmethod
    def forward(a, b, beta):
        d = np.subtract(a, b)
        m = np.clip(d, -beta, beta)
        out = np.multiply(m, 0.5)
        np.subtract(d, out, out=out)
        out *= m
        if beta != 1.0:
            out *= 1.0 / beta
        return out

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, b = args
        beta = kw["beta"]
        s = (a - b).clip(-beta, beta)
        if beta != 1.0:
            s = s * (1.0 / beta)
        s = g * s
        return (s if needs[0] else None), (-s if needs[1] else None)


# ---- speed6: binary cross entropy with logits (no pos_weight) as one primitive ------------------

class BceWithLogits(Op):
    """``(1 - t) x - log sigmoid(x)`` elementwise, ``log sigmoid(x)`` as
    ``m - log1p(exp(m - relu(x)))`` with ``m = min(x, 0)`` (no overflow for any x): ten nodes
    before (logsigmoid's six, three for the products), the same values to the bit. The VJP
    ``sigmoid(x) - t`` (and ``-x`` for the target) is written once for arrays and Tensors."""
    name = "bce_with_logits"

    @staticmethod
    def forward(x, t):
        m = np.minimum(x, 0)
        e = np.subtract(m, np.maximum(x, 0))
        with np.errstate(invalid="ignore"):  # NaN stays NaN, as the composite's
            np.exp(e, out=e)
        np.log1p(e, out=e)
        np.subtract(m, e, out=e)  # log sigmoid(x)
        out = np.subtract(1.0, t)
        out *= x
        out -= e
        return out

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        x, t = args
        gx = gt = None
        if needs[0]:
            if xp is NP and type(g) is np.ndarray and g.shape == x.shape and g.dtype == x.dtype:
                gx = Sigmoid.forward(x)
                gx -= t
                gx *= g
            else:
                gx = g * (xp.sigmoid(x) - t)
        if needs[1]:
            gt = -(g * x)
        return gx, gt


# ---- speed6: a whole LSTM direction as one primitive --------------------------------------------
# Even at four nodes a step (the step's slice, h @ W_hh^T, lstm_cell, lstm_hidden), an LSTM of
# 20 steps on a (16, 64) state spent most of its time in the engine: each slice's gradient is a
# full-size array, and W_hh's gradient 20 small products added up. ``lstm_sequence`` runs the
# recurrence in one forward and back-propagates through time in one VJP: W_hh's gradient is ONE
# product over all steps. The VJP is written once over ``xp`` (in NumPy it reads the forward's
# saved activations; recorded, it recomputes them with Tensor ops), so double backward holds.

def _xp_stack(xp, parts):
    if xp is NP:
        return np.stack(parts)
    from .tensor import apply
    return apply(Stack, *parts, axis=0)


def _lstm_seq_acts(gx, h0, c0, w, reverse, xp, out=None):
    """The forward recurrence: per step (in time order) the activations i, f, g, o, tanh(c_t)
    and the incoming state h_{t-1}, c_{t-1}; each step's ``[h_t | c_t]`` goes into ``out``
    (NumPy) when given."""
    L, H = gx.shape[0], h0.shape[-1]
    h, c = h0, c0
    acts = [None] * L
    wT = w.T
    for t in (range(L - 1, -1, -1) if reverse else range(L)):
        gates = gx[t] + (_matmul(h, wT) if xp is NP else h @ wT)
        s = xp.sigmoid(gates[..., :2 * H])
        i, f = s[..., :H], s[..., H:]
        g = _xp_tanh(xp, gates[..., 2 * H:3 * H])
        o = xp.sigmoid(gates[..., 3 * H:])
        c_new = f * c
        c_new = c_new + i * g
        tc = _xp_tanh(xp, c_new)
        acts[t] = (i, f, g, o, tc, h, c)
        h, c = o * tc, c_new
        if out is not None:
            out[t, ..., :H] = h
            out[t, ..., H:] = c
    return acts


class LstmSequence(Op):
    """One LSTM direction over a (L, N, 4H) input projection ``gx`` (biases included), from the
    state ``h0``, ``c0`` (N, H) with the recurrent weight ``w`` (4H, H): the (L, N, 2H) array of
    every step's ``[h_t | c_t]`` (in time order; with ``reverse`` the steps run from L - 1 down
    to 0). Step by step the values of ``lstm_cell`` and ``lstm_hidden``."""
    name = "lstm_sequence"
    keeps_extra = True

    @staticmethod
    def forward(gx, h0, c0, w, reverse):
        L, H = gx.shape[0], h0.shape[-1]
        out = np.empty((L,) + h0.shape[:-1] + (2 * H,), np.result_type(gx, h0))
        return out, _lstm_seq_acts(gx, h0, c0, w, reverse, NP, out)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        gx, h0, c0, w = args
        reverse = kw["reverse"]
        acts = extra if xp is NP else _lstm_seq_acts(gx, h0, c0, w, reverse, xp)
        L, H = gx.shape[0], h0.shape[-1]
        dh = dc = None  # the gradient flowing back into the state from the later steps
        dgates = [None] * L
        for t in (range(L) if reverse else range(L - 1, -1, -1)):
            i, f, gg, o, tc, h_prev, c_prev = acts[t]
            gh, gc = g[t, ..., :H], g[t, ..., H:]
            if dh is not None:
                gh, gc = gh + dh, gc + dc
            gc = gc + gh * o * (1 - tc * tc)
            dgates[t] = _xp_cat(xp, [gc * gg * (i * (1 - i)), gc * c_prev * (f * (1 - f)),
                                     gc * i * (1 - gg * gg), gh * tc * (o * (1 - o))])
            dh = dgates[t] @ w if xp is not NP else _matmul(dgates[t], w)
            dc = gc * f
        dgx = _xp_stack(xp, dgates) if needs[0] or needs[3] else None
        dw = None
        if needs[3]:  # sum_t dgates_t^T h_{t-1}: one product over all steps
            hs = _xp_stack(xp, [a[5] for a in acts])
            flat_g = dgx.reshape((-1, 4 * H))
            flat_h = hs.reshape((-1, H))
            dw = _matmul(flat_g.T, flat_h) if xp is NP else flat_g.T @ flat_h
        return (dgx if needs[0] else None), (dh if needs[1] else None), \
            (dc if needs[2] else None), dw


# ---- speed6: CTC's forward recursion as one primitive -------------------------------------------
# A CTC step was two nodes (window_logsumexp, the step's add) plus its slice of the
# log-probabilities (a tree of slices, ~1.3 a step): ~3.3 nodes a step on a state of a few
# hundred numbers, the engine's cost most of the loss's time. ``ctc_alpha`` runs all steps in
# one forward, keeping each step's window weights, and its VJP walks them back: the values and
# gradients of the same ``window_logsumexp`` steps (their forward and VJP are called as they
# are). Recorded, the VJP rebuilds the steps from window_logsumexp nodes and runs their
# recorded VJPs: derivatives of every order.

def _ctc_masks(move, stay, active):
    """Each step's window weights: ``move``, ``stay`` (the state kept) for the samples whose
    input has ended (``active`` (T, N) False)."""
    masks, mask, ended = [], move, None
    for done in ~active:
        if ended is None or (done != ended).any():  # a sample stopped: its mask changes once
            mask = np.where(done, stay, move) if done.any() else move
            ended = done
        masks.append(mask)
    return masks


class CtcAlpha(Op):
    """CTC's log-space forward variable after the last step: from ``start`` (L, N), T steps of
    ``alpha = window_logsumexp(alpha, mask_t, size=3, fill) + lpx[t]`` over the (T, L, N)
    log-probabilities at the extended labels, the masks from ``move``, ``stay`` and ``active``
    (``_ctc_masks``). ``start``, the masks and ``fill`` are constants."""
    name = "ctc_alpha"
    keeps_extra = True

    @staticmethod
    def forward(lpx, start, move, stay, active, fill):
        # window_logsumexp's forward, operation for operation (the same values and window
        # weights to the bit: tests/test_speed6.py), on one buffer that holds the two rows of
        # ``fill`` above the state, without its per-call set-up (a concatenation, the Python
        # wrappers of max and errstate): a step's state is a few hundred numbers
        L = start.shape[0]
        buf = np.empty((L + 2,) + start.shape[1:], start.dtype)
        buf[:2] = fill
        buf[2:] = start
        s0 = buf.strides[0]
        view = np.ndarray((3,) + start.shape, buf.dtype, buf, 0, (s0,) + buf.strides)
        ps = []
        with np.errstate(divide="ignore", invalid="ignore"):
            for t, mask in enumerate(_ctc_masks(move, stay, active)):
                z = np.add(view, mask)
                m = np.maximum.reduce(z, 0)
                if not np.isfinite(m).all():
                    m = np.where(np.isfinite(m), m, 0).astype(z.dtype, copy=False)
                e = np.subtract(z, m)
                np.exp(e, out=e)
                out = np.log(np.add.reduce(e, 0))
                out += m
                np.subtract(z, out, out=z)
                np.exp(z, out=z)
                ps.append(z)
                np.add(out, lpx[t], out=buf[2:])  # (the add primitive's forward)
        return buf[2:].copy(), ps

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        lpx = args[0]
        T = lpx.shape[0]
        wkw = dict(size=3, fill=kw["fill"])
        masks = _ctc_masks(kw["move"], kw["stay"], kw["active"])
        if xp is NP:
            steps = [(lpx[0], p) for p in extra]  # (only the state's shape is read)
        else:  # the steps again, recorded: (state before, step's logsumexp) each
            from .tensor import Tensor, apply
            alpha, steps = Tensor(kw["start"]), []
            for t, mask in enumerate(masks):
                s = apply(WindowLogsumexp, alpha, mask, **wkw)
                steps.append((alpha, s))
                alpha = s + lpx[t]
        grads = [None] * T
        for t in range(T - 1, -1, -1):
            grads[t] = g  # d alpha_t / d lpx[t] is the identity
            if t:
                prev, s_or_p = steps[t]
                if xp is NP:
                    g = WindowLogsumexp.vjp(g, (prev, masks[t]), None, s_or_p, wkw,
                                            (True, False), NP)[0]
                else:
                    g = WindowLogsumexp.vjp(g, (prev, masks[t]), s_or_p, None, wkw,
                                            (True, False), xp)[0]
        return (_xp_stack(xp, grads),)


# ---- centring (task mlp7: the batch-64 MLP step) ----------------------------------------------

class Center(Op):
    """``a - mean(a, axis)``, the mean broadcast back over ``axis``: the centring that every
    normalization (and a variance) starts with, as one primitive where ``mean`` then ``sub``
    recorded two. The forward keeps the mean (``extra``, of the shape ``keepdims`` says) for a
    running-statistics update.

    Centring is linear and its own adjoint (an orthogonal projection that removes the mean), so
    the VJP is the same op on ``g``: ``g - mean(g)``, and under create_graph one more recorded
    ``center``, whose VJP is again itself. Same values bit for bit as the two nodes it replaces:
    the same sum times ``1 / n`` subtracted, where ``sub`` and ``mean`` added ``-(sum) * (1 / n)``
    (negation is exact). At (64, 128) one node less saves ~5 us forward and ~5 us backward: a
    node, a broadcast view and an in-place add of it into the input's gradient."""
    name = "center"
    reads_inputs = False
    keeps_extra = True

    @staticmethod
    def forward(a, axis, keepdims):
        mean = _mean(a, axis, keepdims)
        # (N, C) over N: the (C,) mean broadcasts as it is; other layouts get their size-1 axes
        return _bin(np.subtract, a, _expand_reduced(mean, a.shape, axis, keepdims)), mean

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        if xp is not NP:
            return (xp_center(g, kw["axis"]),)
        if g.size == 0:  # nothing to centre (and NumPy would warn on the empty mean)
            return (g,)
        return (Center.forward(g, kw["axis"], False)[0],)

    @staticmethod
    def vjp_owned(g, args, out, extra, kw, needs, xp):
        # g is the tape's own: the mean is subtracted in place, no fresh full-size array
        if g.size == 0:
            return (g,)
        axis = kw["axis"]
        mean = _expand_reduced(_mean(g, axis, False), g.shape, axis, False)
        return (_bin(np.subtract, g, mean, out=g),)


def xp_center(t, axis):
    """``Center`` of a Tensor, recorded (the VJP's create_graph form)."""
    from .tensor import apply
    return apply(Center, t, axis=axis, keepdims=False)


_fw_linear(Center)  # linear: the tangent is centred as the value is


# ---- hunt5: torch's gradients at the edges (logit at 0 and its clamp, lerp at inf) ---------

def _logit_bounds(dtype, eps):
    """``[eps, 1 - eps]`` in ``dtype``, each rounded as torch's kernel rounds it."""
    lo = dtype.type(eps)
    return lo, dtype.type(1) - lo


class Logit(Op):
    """``log(x / (1 - x))``, torch's kernel; ``eps`` (None, or below 0: no clamp) clamps ``x``
    to ``[eps, 1 - eps]`` first by torch's rule (below ``lo`` is ``lo``, else above ``hi`` is
    ``hi``: with ``eps > 0.5`` everything below ``eps`` goes to ``eps``). A primitive, not
    ``log(p) - log1p(-p)``: torch's gradient ``g / (x (1 - x))`` is ``g * inf`` at 0 (-0.0
    included: 1/p gave -inf there) and 1, NaN at a NaN inside the clamp (the clamp gave 0),
    NaN outside [0, 1] without a clamp and 0 outside it with one."""
    name = "logit"

    @staticmethod
    def forward(a, eps=None):
        if eps is not None and eps >= 0:
            lo, hi = _logit_bounds(a.dtype, eps)
            with np.errstate(invalid="ignore"):
                a = np.where(a < lo, lo, np.where(a > hi, hi, a))
        with np.errstate(divide="ignore", invalid="ignore"):  # inf at 1, NaN outside [0, 1]
            return np.asarray(np.log(a / (1 - a)))

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        x, eps = args[0], kw["eps"]
        v = _values(x)
        with np.errstate(invalid="ignore"):
            edge = (v == 0) | (v == 1)
            if eps is None or eps < 0:
                off, fill = (v < 0) | (v > 1), float("nan")
            else:
                lo, hi = _logit_bounds(v.dtype, eps)
                off, fill = (v < lo) | (v > hi), 0.0
                edge &= ~off
        # the dropped branch must not divide by zero: its 0 * inf would be NaN in a recorded VJP
        safe = xp.where(edge | off, 0.5, x) if (edge | off).any() else x
        grad = g / (safe * (1 - safe))
        if edge.any():
            grad = xp.where(edge, g * float("inf"), grad)
        if off.any():
            grad = xp.where(off, fill, grad)
        return (grad,)


class Lerp(Op):
    """``torch.lerp``: ``a + w (b - a)`` for ``|w| < 0.5``, else ``b - (b - a)(1 - w)``, torch's
    kernel (exact at ``w = 1``); ``w`` a tensor or a number. The gradients are torch's formulas
    ``g (1 - w)``, ``g w`` and ``g (b - a)``: a select between two composites sent 0 * inf = NaN
    to the weight where ``b - a`` was infinite, and to every input where ``w`` was."""
    name = "lerp"

    @staticmethod
    def forward(a, b, w):
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: NaN, as torch's
            diff = np.subtract(b, a)
            if type(w) is not np.ndarray:
                out = a + w * diff if abs(w) < 0.5 else b - diff * (1 - w)
            else:
                out = np.where(np.abs(w) < 0.5, a + w * diff, b - diff * (1 - w))
        return np.asarray(out)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        a, b, w = args
        with np.errstate(invalid="ignore", over="ignore"):
            return (g * (1 - w) if needs[0] else None, g * w if needs[1] else None,
                    g * (b - a) if needs[2] else None)


class Addcdiv(Op):
    """``input + value * t1 / t2``, torch's kernel order (the product, then the quotient), with
    torch's gradient formulas taken at the broadcast shape: ``g``, ``g * (value / t2)`` and
    ``-g * (value * t1 / (t2 * t2))``. The composite ``x + value * (t1 / t2)`` summed the
    upstream gradient to the quotient's smaller shape before multiplying by ``1 / t2``: where
    ``t2`` is 0 and the broadcast terms disagree in sign torch's sum of +-inf is NaN, ours
    was inf; and ``t2 * t2`` underflowing (overflowing) is torch's inf (NaN) too."""
    name = "addcdiv"

    @staticmethod
    def forward(x, t1, t2, value):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # torch's inf, NaN
            return np.asarray(x + value * t1 / t2)

    @staticmethod
    def vjp(g, args, out, extra, kw, needs, xp):
        _, t1, t2 = args
        v = kw["value"]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return (g if needs[0] else None,
                    g * (v / t2) if needs[1] else None,
                    -g * (v * t1 / (t2 * t2)) if needs[2] else None)


def _svd(a, full_matrices=True, compute_uv=True):
    """``np.linalg.svd``, NaN for a matrix holding an inf, as torch gives: LAPACK's gesdd loops
    forever on some of them (a 3x3 with inf and 1e300 hung the process with vectors); the
    finite members of a batch are decomposed as usual. A NaN is LAPACK's "did not converge"
    (torch's error too), raised before LAPACK sees it."""
    ok = np.isfinite(a).all(axis=(-2, -1))
    if ok.all():
        return np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    if np.isnan(a).any():
        raise np.linalg.LinAlgError("SVD did not converge")
    m, n = a.shape[-2:]
    k, batch = min(m, n), a.shape[:-2]
    dt = a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)
    s = np.full(batch + (k,), np.nan, dt)
    u = np.full(batch + (m, m if full_matrices else k), np.nan, dt)
    vh = np.full(batch + (n if full_matrices else k, n), np.nan, dt)
    if ok.any():  # (a batch: a 2-D input is all bad here)
        if compute_uv:
            u[ok], s[ok], vh[ok] = np.linalg.svd(a[ok], full_matrices=full_matrices)
        else:
            s[ok] = np.linalg.svd(a[ok], compute_uv=False)
    return (u, s, vh) if compute_uv else s
