"""PyTorch's elementwise math beyond the operators, as Tensor methods call it: rounding with
``decimals``, ``fmod``/``remainder``/``floor_divide``, the two-input functions that make floats
(``atan2``, ``hypot``, ``logaddexp``), the tests (``isnan``, ...), the logical ops, and the
composites ``frac``, ``lerp``, ``nan_to_num`` and ``diff`` (``cumprod`` calls its primitive). The differentiable ones
are primitives of ``ops`` or composites of them: no derivative is written here. Errors use
torch's wording where it has one."""
from __future__ import annotations

import numbers

import numpy as np

from . import _argname, _shape_checks
from . import default_dtype as _dd
from . import ops
from .tensor import Tensor, _binary, _one_axis, _operand, _promoted, _unary, apply, concatenate, \
    where


def _int(v, fn, name):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{fn}(): argument '{name}' must be int, not {type(v).__name__}")
    return int(v)


def _not_bool(x, fn):
    if x._data.dtype == np.bool_:
        raise TypeError(f'{fn}(): "{fn}" is not implemented for bool tensors (as in torch)')


def step(x, op):
    """floor, ceil, trunc: an integer tensor is its own result (a copy, same dtype, as torch)."""
    _not_bool(x, op.name)
    if x._data.dtype.kind in "iu":
        return Tensor._wrap(x._data.copy())
    return _unary(op, x)


def round_(x, decimals=0):
    decimals = _int(decimals, "round", "decimals")
    if x._data.dtype.kind in "iu" and decimals == 0:  # its own result: a copy, same dtype (torch)
        return Tensor._wrap(x._data.copy())
    if x._data.dtype.kind != "f":  # bool, or an integer with decimals: torch refuses both
        raise TypeError(f'round(): "round" is not implemented for {x.data.dtype} tensors'
                        f'{" with decimals" if x.data.dtype.kind in "iu" else ""} (as in '
                        f"torch); round a float tensor")
    if decimals == 0:
        return _unary(ops.Round, x)
    if abs(decimals) > 308:
        # 10 ** decimals must be a finite float64 (torch answers NaN past it); refused before
        # the op computes the Python int 10 ** 10**12, which took hours
        raise ValueError(f"round(): decimals must be in [-308, 308], got {decimals}")
    from .tensor import apply
    return apply(ops.Round, x, decimals=decimals)


def frac(x):
    """``x - trunc(x)`` (exact in floating point), sign of ``x``; gradient ``g``, as torch."""
    if x._data.dtype.kind != "f":
        raise TypeError(f'frac(): "frac" is not implemented for {x.data.dtype} tensors (as in '
                        f"torch)")
    return x - _unary(ops.Trunc, x)


def _floats(a, b):
    """Operands for a function that makes floats (atan2, hypot, logaddexp): integer and bool
    tensors become floats -- the other operand's float type when it has one, else as ``exp``
    would (``Tensor._floating``)."""
    a, b = _operand(a), _operand(b)
    ta, tb = type(a) is Tensor, type(b) is Tensor
    fa = ta and a._data.dtype.kind == "f"
    fb = tb and b._data.dtype.kind == "f"
    if ta and not fa:
        a = a.astype(b._data.dtype) if fb else a._floating()
    if tb and not fb:
        b = b.astype(a._data.dtype) if fa else b._floating()
    if not ta and not tb:
        raise TypeError("expected at least one Tensor operand")
    return a, b


def float_binary(op, a, b):
    a, b = _floats(a, b)
    return _binary(op, a, b)


def _divisor_check(fn, a, b):
    """torch's error for an integer division by zero (NumPy would give 0 and a warning)."""
    ad = a._data if type(a) is Tensor else np.asarray(a)
    bd = b._data if type(b) is Tensor else np.asarray(b)
    if np.result_type(ad, bd).kind in "iub" and np.any(bd == 0):
        try:  # an empty result divides nothing: torch returns it
            if 0 in np.broadcast_shapes(ad.shape, bd.shape):
                return
        except ValueError:
            return  # the op itself raises the shape error, in its words
        raise ZeroDivisionError(f"{fn}(): integer division by zero (torch: ZeroDivisionError)")


def modulo(op, a, b):
    """fmod (sign of the dividend) or remainder (sign of the divisor, Python's %)."""
    a, b = _operand(a), _operand(b)
    _divisor_check(op.name, a, b)
    return _binary(op, a, b)


def floor_divide(a, b):
    """``floor(a / b)`` as torch's ``div(rounding_mode='floor')`` (Python's ``//``: the
    quotient that ``remainder`` completes). A constant: torch has no derivative for it."""
    a, b = _operand(a), _operand(b)
    _divisor_check("floor_divide", a, b)
    ad = a._data if type(a) is Tensor else a
    bd = b._data if type(b) is Tensor else b
    # torch's result type, as the operators take it: float32 with int64 stays float32, an
    # integer tensor with a Python float is the default dtype (NumPy made both float64)
    if isinstance(ad, np.ndarray) and isinstance(bd, np.ndarray):
        if ad.shape != bd.shape:
            _shape_checks.broadcast("floor_divide", ad.shape, bd.shape)
        ad, bd = _promoted(ad, bd, ops.Mul)
    elif isinstance(ad, np.ndarray) and isinstance(bd, float) and ad.dtype.kind in "biu":
        ad = ad.astype(_dd.DEFAULT)
    elif isinstance(bd, np.ndarray) and isinstance(ad, float) and bd.dtype.kind in "biu":
        bd = bd.astype(_dd.DEFAULT)
    with np.errstate(divide="ignore", invalid="ignore"):
        return Tensor._wrap(np.asarray(np.floor_divide(ad, bd)))


def test(x, fn):
    """isnan / isinf / isfinite: a bool tensor, no gradient; integers are always finite."""
    d = x._data
    if d.dtype.kind == "f":
        return Tensor._wrap(fn(d))
    return Tensor._wrap(np.full(d.shape, fn is np.isfinite))


_UNARY = object()  # logical_not's missing operand: None is a (bad) operand of the others


def logical(fn, a, b=_UNARY):
    """A bool tensor: nonzero counts as True, as torch's logical_* (no gradient)."""
    ad = a._data if isinstance(a, Tensor) else np.asarray(a)
    if b is _UNARY:
        return Tensor._wrap(np.asarray(fn(ad)))
    bd = b._data if isinstance(b, Tensor) else np.asarray(b)
    if bd.dtype.kind not in "biuf":  # a str or a dict was read as True, silently
        raise TypeError(f"{fn.__name__}(): argument 'other' must be Tensor or Number, not "
                        f"{type(b).__name__}")
    try:
        return Tensor._wrap(np.asarray(fn(ad, bd)))
    except ValueError:
        head = _argname.head(f"{fn.__name__}: ", fn.__name__)  # logical_and_ calls logical_and
        raise ValueError(f"{head}operands of shapes {ad.shape} and {bd.shape} cannot "
                         f"be broadcast together") from None


def lerp(x, end, weight):
    """``x + weight * (end - x)``, as torch's kernel: for ``|weight| >= 0.5`` it is
    ``end - (end - x) * (1 - weight)`` instead, exact at ``weight = 1``. A select between the
    two, one primitive whose gradients (to ``x``, ``end`` and a tensor ``weight``) are torch's
    formulas, finite or not (ops.Lerp)."""
    end = _operand(end)
    if type(end) is not Tensor:
        raise TypeError(f"lerp(): argument 'end' must be Tensor, not {type(end).__name__}")
    weight = _operand(weight)
    shapes = [t.shape for t in (x, end, weight) if isinstance(t, Tensor)]
    if any(s != shapes[0] for s in shapes):  # (NumPy's words in the primitive name nothing)
        _shape_checks.broadcast("lerp", *shapes)
    return apply(ops.Lerp, x, end, weight)


def clamp_tensors(x, lo, hi):
    """``clamp`` with tensor bounds, as torch's: ``min(max(x, lo), hi)`` elementwise, broadcast,
    NaN in any operand giving NaN. Each element's gradient goes to one operand by torch's rule:
    ``x`` where ``lo <= x <= hi``; ``lo`` where ``x < lo < hi``; ``hi`` where ``x > hi`` or
    ``lo > hi``; nothing where ``x < lo == hi`` or at a NaN. Selects on masks, so the
    gradients (and second derivatives) come from the tape."""
    lo, hi = (t if t is None or isinstance(t, Tensor) else _bound(t) for t in (lo, hi))
    arrays = [t._data for t in (x, lo, hi) if t is not None]
    try:
        np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        shapes = " and ".join(f"{n} of shape {t.shape}" for n, t in
                              (("input", x), ("min", lo), ("max", hi)) if t is not None)
        raise ValueError(f"clamp(): {shapes} cannot be broadcast together") from None
    floats = [a.dtype for a in arrays if a.dtype.kind == "f"]
    wide = [a.dtype for a in arrays if a.dtype.kind == "f" and a.ndim]  # a 0-d one does not widen
    dtype = np.result_type(*(wide or floats)) if floats else np.result_type(*arrays)
    xd = arrays[0].astype(dtype, copy=False)
    lod = None if lo is None else lo._data.astype(dtype, copy=False)
    hid = None if hi is None else hi._data.astype(dtype, copy=False)
    value, take_x = xd, np.ones(xd.shape, bool)
    with np.errstate(invalid="ignore"):
        if lod is not None:
            value = np.maximum(value, lod)
            take_x = take_x & (xd >= lod)
        if hid is not None:
            value = np.minimum(value, hid)
            take_x = take_x & (xd <= hid)
            take_hi = (xd > hid) if lod is None else (xd > hid) | (lod > hid)
        if lod is not None:
            take_lo = (xd < lod) if hid is None else (xd < lod) & (lod < hid)
    def cast(t):  # on the tape, so the gradient returns in the operand's dtype
        return t.astype(dtype) if t.dtype != dtype else t

    out = Tensor._wrap(value)  # a constant where no operand gets the gradient
    if hid is not None:
        hi_ = cast(hi)
        lost = take_hi & np.isnan(value)  # x > max with a NaN min: torch's value is NaN, its
        if lost.any():                    # gradient still max's (max + NaN: both at once)
            hi_ = hi_ + np.where(lost, np.array(np.nan, dtype), np.array(0, dtype))
        out = where(take_hi, hi_, out)
    if lod is not None:
        out = where(take_lo, cast(lo), out)
    return where(take_x, cast(x), out)


def _bound(v):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"clamp(): a bound must be a Tensor or a number, not {type(v).__name__}")
    return Tensor._wrap(np.asarray(v))


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (default: the dtype's
    largest and lowest finite values), as torch; the gradient is ``g`` where ``x`` is finite and
    0 where a value was replaced (a select: ``grad * isfinite(x)``)."""
    for name, v in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Real)):
            raise TypeError(f"nan_to_num(): argument '{name}' must be a number, not "
                            f"{type(v).__name__}")
    d = x._data
    if d.dtype.kind != "f":
        return Tensor._wrap(d.copy())
    finite = np.isfinite(d)
    if finite.all():
        # (a clone on the graph, or carrying a forward-mode tangent: the identity's)
        return x.clone() if x._requires_grad or x._fw is not None else Tensor._wrap(d.copy())
    with np.errstate(over="ignore"):
        fill = np.nan_to_num(d, nan=float(nan), posinf=posinf, neginf=neginf)
    return where(finite, x, Tensor._wrap(fill))


def cumprod(x, dim):
    """Running products along ``dim``, as torch's ``cumprod``: the ``Cumprod`` primitive (O(n),
    torch's gradient where factors are 0). Integers and bools give int64, as torch."""
    d = _one_axis(_int(dim, "cumprod", "dim"), max(x._data.ndim, 1), "dim")
    if x._data.ndim == 0:
        return x.prod()
    return apply(ops.Cumprod, x, axis=d)


def diff(x, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along ``dim`` (``out[i] = x[i + 1] - x[i]``), after
    ``prepend`` and ``append`` are joined on, as torch's ``diff``; bools give ``!=``."""
    n = _int(n, "diff", "n")
    if n < 0:
        raise ValueError(f"diff(): order must be non-negative but got {n}")
    if x._data.ndim == 0:
        raise ValueError("diff(): diff expects input to be at least one-dimensional")
    d = _one_axis(_int(dim, "diff", "dim"), x._data.ndim, "dim")
    parts = []
    for name, p in (("prepend", prepend), ("append", append)):
        if p is not None:
            if not isinstance(p, Tensor):
                arr = np.asarray(p)
                if arr.dtype.kind not in "biuf":  # Tensor() would name "data", not this
                    raise TypeError(f"diff(): argument '{name}' must be Tensor, not "
                                    f"{type(p).__name__}")
                p = Tensor(arr)
            if p._data.ndim != x._data.ndim:
                raise ValueError(f"diff(): diff expects prepend or append to be the same "
                                 f"dimension as input (got {name} of {p.data.ndim} dimensions "
                                 f"for an input of {x.data.ndim})")
        parts.append(p)
    if parts[0] is not None or parts[1] is not None:
        x = concatenate([t for t in (parts[0], x, parts[1]) if t is not None], axis=d)
    lo = (slice(None),) * d + (slice(None, -1),)
    hi = (slice(None),) * d + (slice(1, None),)
    # past the length every difference is empty: n = 10**12 looped for hours
    for _ in range(min(n, x._data.shape[d])):
        if x._data.dtype == np.bool_:
            x = Tensor._wrap(x._data[hi] != x._data[lo])
        else:
            x = x[hi] - x[lo]
    return x
