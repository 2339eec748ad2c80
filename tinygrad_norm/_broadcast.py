"""Elementwise binary ops between a big array and a small broadcast operand, in long runs.

NumPy runs ``x * scale`` with x of shape (32, 64, 28, 28) and scale of shape (1, 64, 1, 1) as 2048
inner loops of 784 elements, each with a fixed start-up cost: 1.5x the time of the same multiply
by a full-size array. Normalizations do this several times a step, forward and backward. Here
the small operand is first spread over the trailing axes it broadcasts along (and repeated a few
times along the leading ones) into one contiguous row of up to ``_RUN`` elements, so that the op
runs as a few long loops over two contiguous operands. Same values bit for bit: each element is
the same single ufunc call on the same two numbers.

Only worth it for a big, C-contiguous operand whose native inner loop is short; everything else
returns None and the caller uses the plain ufunc.
"""
from __future__ import annotations

import math

import numpy as np

_MIN_SIZE = 1 << 17  # elements of the big operand: below this the set-up costs more than it saves
_RUN = 1 << 14       # elements in the spread-out row of the small operand (64 KiB of float32)
_PLANS = {}          # (big shape, small shape) -> plan; a model repeats a few layouts every step
_NO_PLAN = (0, 0, (), ())


def _plan(full, small_shape):
    """How to compute ``ufunc(big, small)`` as a (rows, run) by (1, run) op: ``(rows, run, k,
    tail_small)``, the small operand reshaped to ``tail_small`` and copied k times into the row;
    ``_NO_PLAN`` when the layout does not broadcast this way or would not gain."""
    nd = len(full)
    if len(small_shape) > nd:
        return _NO_PLAN
    sp = (1,) * (nd - len(small_shape)) + tuple(small_shape)
    for n, f in zip(sp, full):
        if n != 1 and n != f:
            return _NO_PLAN  # does not broadcast to the big operand (or would grow it)
    i = 0
    while i < nd and sp[i] == 1:
        i += 1
    if i == 0 or i == nd:  # varies along the leading axis, or one number: nothing to gain
        return _NO_PLAN
    m = math.prod(full[i:])
    if m > 4 * _RUN:
        return _NO_PLAN  # the spread row would be big itself
    rows = math.prod(full[:i])
    k = 1
    while m * k * 2 <= _RUN and rows % (k * 2) == 0:
        k *= 2
    if m * k <= 2 * _inner(full, sp):
        return _NO_PLAN  # NumPy's own inner loop is about as long as ours would be
    return rows // k, m * k, k, sp[i:]


def _inner(full, sp):
    """The length of NumPy's own inner loop: the trailing axes that share one broadcast status
    in the small operand (all broadcast, or all not)."""
    inner, status = 1, None
    for f, n in zip(reversed(full), reversed(sp)):
        if f != 1:
            s = n == 1
            if status is None:
                status = s
            elif s != status:
                break
        inner *= f
    return inner


def binary(ufunc, a, b, out=None):
    """``ufunc(a, b)`` (into ``out`` if given): in long runs where that pays, else plainly.
    Python scalars and small arrays go straight to the ufunc."""
    if type(a) is np.ndarray and type(b) is np.ndarray:
        if a.size >= _MIN_SIZE or b.size >= _MIN_SIZE:
            r = apply(ufunc, a, b, out)
            if r is not None:
                return r
    elif (ufunc is _MUL or ufunc is _DIV) and (
            a.dtype is _HALF and type(b) in _NUMBERS if type(a) is np.ndarray else
            b.dtype is _HALF and type(a) in _NUMBERS if type(b) is np.ndarray else False):
        # (dtype by identity: NumPy's float16 dtype is one object; two arrays never get here)
        return _half_with_number(ufunc, a, b, out)
    return ufunc(a, b) if out is None else ufunc(a, b, out=out)


_HALF = np.dtype(np.float16)
_NUMBERS = (int, float)
_MUL, _DIV = np.multiply, np.true_divide


def _half_with_number(ufunc, a, b, out):
    """A float16 array times (or divided by) a Python number, as PyTorch computes it: in
    float32, rounded once. NumPy rounds the number to float16 first: 65536.0 (the usual loss
    scale) became inf and ``x * 65536`` inf everywhere, and 0.1 became 0.09998. Only for these
    two: PyTorch's add and sub round the number to float16 first, as NumPy does."""
    a = a.astype(np.float32) if type(a) is np.ndarray else a
    b = b.astype(np.float32) if type(b) is np.ndarray else b
    r = ufunc(a, b)
    with np.errstate(over="ignore"):  # past 65504 the result is inf, as PyTorch's (no warning)
        if out is None:
            return r.astype(np.float16) if r.dtype == np.float32 else r  # comparisons: bools
        np.copyto(out, r, casting="same_kind")
    return out


def fits_into(small_shape, shape):
    """Whether ``small_shape`` broadcasts to ``shape`` without growing it (the check of
    np.broadcast_shapes(small, shape) == shape, without its 1.5 us of Python)."""
    k = len(small_shape)
    if k > len(shape):
        return False
    for n, f in zip(small_shape, shape[len(shape) - k:]):
        if n != 1 and n != f:
            return False
    return True


def view_as(g, shape):
    """``np.broadcast_to(g, shape)`` (a read-only view, stride 0 where g has size 1) in a fifth of
    its time: np.broadcast_to costs 2.4 us of Python, a reduction's VJP pays it every call. Falls
    back to it for what the fast path does not cover (g not contiguous, or not broadcastable)."""
    if not (type(g) is np.ndarray and g.flags.c_contiguous and fits_into(g.shape, shape)):
        return np.broadcast_to(g, shape)
    lead = len(shape) - g.ndim
    strides = [0] * lead
    for n, st in zip(g.shape, g.strides):
        strides.append(0 if n == 1 else st)
    v = np.ndarray(shape, g.dtype, g, 0, tuple(strides))
    v.flags.writeable = False  # stride 0: writing one element would write a whole row
    return v


def compact(g):
    """A broadcast view (stride 0 along some axes) as the small array it repeats; other arrays
    unchanged. A reduction's gradient is such a view; ``binary`` wants the small array."""
    if type(g) is np.ndarray and g.ndim and 0 in g.strides:
        return g[tuple(slice(0, 1) if st == 0 else slice(None) for st in g.strides)]
    return g


def apply(ufunc, a, b, out=None):
    """``ufunc(a, b, out=out)`` in long runs when one operand is a big C-contiguous array and the
    other a small array of the same dtype that broadcasts to it; else None."""
    if a.shape == b.shape or a.dtype != b.dtype or a.dtype.kind != "f":
        return None
    if a.size >= b.size:
        big, small, big_first = a, b, True
    else:
        big, small, big_first = b, a, False
    if big.size < _MIN_SIZE or not big.flags.c_contiguous:
        return None
    if out is not None and (out.shape != big.shape or not out.flags.c_contiguous
                            or out.dtype != big.dtype):
        return None
    key = (big.shape, small.shape)
    plan = _PLANS.get(key)
    if plan is None:
        if len(_PLANS) > 1024:  # many layouts: start over rather than grow without bound
            _PLANS.clear()
        plan = _PLANS[key] = _plan(big.shape, small.shape)
    rows, run, k, tail_small = plan
    if not rows:
        return None
    # the small operand spread over the trailing axes (one broadcasting copy, k times over)
    row = np.empty((k,) + big.shape[big.ndim - len(tail_small):], small.dtype)
    np.copyto(row, small.reshape(tail_small))
    row = row.reshape(1, run)
    if out is None:
        # an array that owns its memory, like the plain ufunc's (a reshaped view would not: the
        # tape only writes into gradients that own theirs)
        out = np.empty(big.shape, big.dtype)
    big2, out2 = big.reshape(rows, run), out.reshape(rows, run)
    if big_first:
        ufunc(big2, row, out=out2)
    else:
        ufunc(row, big2, out=out2)
    return out
