"""torch's elementwise functions that are compositions of the primitives: ``xlogy``, ``logit``,
``sinc``, ``copysign``, ``fmax``/``fmin``, ``float_power``, ``logaddexp2``, the degree/radian
conversions, ``addcdiv``, ``isclose``; and the top-level spellings of the arithmetic methods
(``tg.add(x, y, alpha=2)``, ``tg.div(..., rounding_mode=)``, ``tg.clone``...).

Where a formula has a branch that would be NaN or infinite (``log(0)`` in ``xlogy`` at x = 0,
``sin(pi x) / (pi x)`` at 0), the branch is fed a harmless value there before the select: a
select passes a zero gradient to the side it did not take, but 0 times an infinite local
derivative would still be NaN."""
from __future__ import annotations

import math

import numpy as np

from . import _shape_checks
from . import default_dtype as _dd
from . import ops
from .tensor import Tensor, _alpha_times, _operand, apply, where

__all__ = ["xlogy", "logit", "sinc", "copysign", "fmax", "fmin", "float_power", "logaddexp2",
           "deg2rad", "rad2deg", "addcdiv", "isclose", "signbit", "sgn", "positive", "add",
           "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "rsub",
           "clone", "detach", "masked_fill", "broadcast_to", "swapaxes", "swapdims", "moveaxis"]


def _tensor(x, fn, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def _float(x):
    """``x`` itself if floating point, else in the default dtype (torch's result type)."""
    return x if x.dtype.kind == "f" else x.astype(_dd.DEFAULT)


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # torch's: bool < integer < float


def _result_dtype(*tensors):
    """torch's result dtype of Tensors, where NumPy's differs: the highest category present
    wins (int64 with float32 is float32), and within it the dimensioned tensors' dtypes win
    over the 0-d ones' (a 0-d float64 with float32 values is float32) unless only 0-d tensors
    reach that category."""
    top = max(_CATEGORY[t.dtype.kind] for t in tensors)
    best = [t for t in tensors if _CATEGORY[t.dtype.kind] == top]
    dims = [t.dtype for t in best if t.ndim] or [t.dtype for t in best]
    return np.result_type(*dims)


def _both(a, b, fn, floating=True):
    """Two operands, at least one a Tensor, as Tensors of torch's result dtype, made floating
    unless ``floating`` is False (a number takes the Tensor's)."""
    a, b = _operand(a), _operand(b)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{fn}(): expected at least one Tensor argument")
    like = a if isinstance(a, Tensor) else b
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        dt = _result_dtype(a, b)
    else:  # a number: the Tensor's dtype, unless the number is of a higher category
        num, dt = (b if like is a else a), like.dtype
        if isinstance(num, float) and dt.kind != "f":
            dt = _dd.DEFAULT
        elif isinstance(num, int) and not isinstance(num, bool) and dt.kind == "b":
            dt = np.dtype(np.int64)
    if floating and dt.kind != "f":
        dt = _dd.DEFAULT
    a = a.astype(dt) if isinstance(a, Tensor) else Tensor(np.asarray(a, dt))
    b = b.astype(dt) if isinstance(b, Tensor) else Tensor(np.asarray(b, dt))
    return (a if a.dtype == dt else a.astype(dt)), (b if b.dtype == dt else b.astype(dt))


def _both_broadcast(a, b, fn, floating=True):
    """``_both``, and shapes that broadcast: a ValueError naming ``fn`` where the NumPy arrays
    computed on directly would have raised NumPy's own words."""
    x, y = _both(a, b, fn, floating)
    if x.shape != y.shape:
        _shape_checks.broadcast(fn, x.shape, y.shape)
    return x, y


def xlogy(input, other):
    """``input * log(other)``, 0 where ``input`` is 0 (unless ``other`` is NaN), as torch, with
    torch's gradients to ``input``: ``log(other)``, also where ``input`` is 0, except 0 there
    where ``other <= 0``. The gradient to ``other`` is ``input / other``, 0 where ``other`` is 0
    (torch's is inf or NaN there); at ``input`` 0, ``other`` +inf the value is 0 and the gradient
    to ``input`` 0 (torch: inf)."""
    x, y = _both_broadcast(input, other, "xlogy")
    xd, yd = x._data, y._data
    x0, y0 = xd == 0, yd == 0
    # The log's constant stand-ins: log(0) = -inf as a constant (its y-gradient kept out), and 0
    # where input is 0 and other negative (torch's zero value and zero input-gradient there)
    # (and 0 where input is 0 and other +inf: 0 * inf would be NaN)
    fixed = y0 | (x0 & ((yd < 0) | np.isposinf(yd)))
    with np.errstate(invalid="ignore"):
        log_y = where(fixed, Tensor(np.where(y0 & ~x0, -np.inf, 0.0).astype(yd.dtype)),
                      where(fixed, 1.0, y).log())
        return x * log_y


def logit(input, eps=None):
    """``log(p / (1 - p))``; with ``eps``, ``p`` clamped to ``[eps, 1 - eps]`` first (gradient 0
    outside), as torch."""
    p = _float(_tensor(input, "logit"))
    if eps is not None:
        if isinstance(eps, bool) or not isinstance(eps, (int, float)):
            raise TypeError(f"logit(): eps must be a number or None, got {type(eps).__name__}")
    # one primitive: torch's gradient at 0, 1, NaN and the clamp's bounds (ops.Logit)
    return apply(ops.Logit, p, eps=None if eps is None else float(eps))


def sinc(input):
    """``sin(pi x) / (pi x)``, 1 at 0 (with derivative 0 there), as torch. At 0 (and below
    ``|x| = 1e-8``, where the quotient's derivative cancels or overflows) the select takes the
    series ``1 - (pi x)**2 / 6 + (pi x)**4 / 120`` (exactly 1 there), not a
    constant: its higher derivatives are sinc's (the second, ``-pi**2 / 3``; a constant gave 0
    and torch gives NaN)."""
    x = _float(_tensor(input, "sinc"))
    # below 1e-8 the series (exact to the ulp there): the quotient's derivative
    # cos/(pi x) - sin/(pi x)**2 is two terms of ~1/x that cancel, off by ~1e-16/x (1e284 at
    # 1e-300), and inf - inf (NaN) at the subnormals, where torch's is 0
    with np.errstate(invalid="ignore"):
        small = np.abs(x._data) < 1e-8
    px = where(small, 1.0, x) * math.pi
    if not small.any():
        return px.sin() / px
    # the series reads only the small entries: (pi x)**4 of the others overflowed at 1e300,
    # and the select's 0 times that slope was NaN
    sq = (where(small, x, 0.0) * math.pi) ** 2
    return where(small, 1.0 - sq * (1.0 / 6.0) + sq * sq * (1.0 / 120.0), px.sin() / px)


def copysign(input, other):
    """``|input|`` with the sign of ``other`` (its sign bit: -0.0 counts as negative), as torch;
    the gradient to ``input`` is +-1, and 0 at ``input == 0`` as torch's; 0 to ``other``.
    *vs PyTorch:* at ``input = +-inf`` the gradient is +-1 too, where torch's ``result / input``
    is inf / inf (NaN)."""
    x, y = _both_broadcast(input, other, "copysign")
    value = np.copysign(x._data, y._data)
    flip = np.signbit(x._data) != np.signbit(y._data)
    out = where(flip, -x, x)
    zero = x._data == 0
    if zero.any():
        out = where(zero, Tensor(value), out)  # the zero's sign, and torch's zero gradient
    if y.requires_grad:
        # on the graph of `other` too, with a zero gradient, as torch's (else a backward from
        # a loss that reaches `other` only here fails); minus +0 keeps a -0 result's sign
        out = out - apply(ops.ZerosLike, y)
    return out


def _nan_aware(input, other, fn, keep_self):
    x, y = _both_broadcast(input, other, fn, floating=False)  # integers stay integers, as torch's
    take = keep_self(x._data, y._data)
    if x.dtype.kind == "f":
        take |= np.isnan(y._data)  # ties and NaNs: input, as torch
    return where(take, x, y)


def fmax(input, other):
    """The larger of the two, a NaN only where both are NaN, as torch (a tie's gradient goes to
    ``input``)."""
    return _nan_aware(input, other, "fmax", np.greater_equal)


def fmin(input, other):
    """The smaller of the two, a NaN only where both are NaN, as torch."""
    return _nan_aware(input, other, "fmin", np.less_equal)


def float_power(input, exponent):
    """``input ** exponent`` in float64, as torch (whatever the inputs' dtypes)."""
    x = _operand(input)
    e = _operand(exponent)
    if not isinstance(x, Tensor) and not isinstance(e, Tensor):
        raise TypeError("float_power(): expected at least one Tensor argument")
    x = x.astype(np.float64) if isinstance(x, Tensor) else float(x)
    e = e.astype(np.float64) if isinstance(e, Tensor) else float(e)
    return x ** e if isinstance(x, Tensor) else Tensor(np.asarray(x, np.float64)) ** e


def logaddexp2(input, other):
    """``log2(2**input + 2**other)``, as torch, through the stable ``logaddexp``."""
    x, y = _both(input, other, "logaddexp2")
    ln2 = math.log(2.0)
    return (x * ln2).logaddexp(y * ln2) * (1.0 / ln2)


def deg2rad(input):
    return _float(_tensor(input, "deg2rad")) * (math.pi / 180.0)


def rad2deg(input):
    return _float(_tensor(input, "rad2deg")) * (180.0 / math.pi)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2``, as torch (integer division refused, as there)."""
    t1, t2 = _operand(tensor1), _operand(tensor2)
    if all(isinstance(t, Tensor) and t.dtype.kind in "biu" for t in (t1, t2)):
        raise TypeError("Integer division with addcdiv is no longer supported, and in a future "
                        "release addcdiv will perform a true division of tensor1 and tensor2. "
                        "Use true_divide or floor_divide instead.")
    x = _tensor(input, "addcdiv")
    # checked here, where the names are known: the primitive's NumPy would say "operands could
    # not be broadcast" or "unsupported operand type(s) for *" and name nothing
    if value.ndim != 0 if isinstance(value, Tensor) else \
            not isinstance(value, (int, float, np.number)):  # (a 0-d tensor is a number to torch)
        raise TypeError(f"addcdiv(): argument 'value' must be Number, not {type(value).__name__}")
    shapes = [t.shape for t in (x, t1, t2) if isinstance(t, Tensor)]
    if any(s != shapes[0] for s in shapes):
        _shape_checks.broadcast("addcdiv", *shapes)
    # the quotient in the three's result dtype, as torch: float32 tensors divided in float32
    # and then added to a float64 input would lose float64's precision
    dt = _result_dtype(*[t for t in (x, t1, t2) if isinstance(t, Tensor)])
    if dt.kind == "f":
        t1, t2 = (t.astype(dt) if isinstance(t, Tensor) and t.dtype != dt else t
                  for t in (t1, t2))
    # one primitive: torch's gradients, +-inf and NaN included, where t2 is 0 (ops.Addcdiv)
    return apply(ops.Addcdiv, x, t1, t2, value=value)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """``|input - other| <= atol + rtol * |other|`` elementwise, a bool tensor, as torch."""
    from .tensor_index import _closeness
    a = _tensor(input, "isclose")
    b, equal_nan = _closeness("isclose", a, other, rtol, atol, equal_nan)
    return Tensor._wrap(np.isclose(a._data, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def signbit(input):
    return Tensor._wrap(np.signbit(_tensor(input, "signbit")._data))


def sgn(input):
    """``sign`` (for real numbers, torch's ``sgn`` is its ``sign``)."""
    return _tensor(input, "sgn").sign()


def positive(input):
    """``input`` itself, as torch (refused for bools, as there)."""
    if _tensor(input, "positive").dtype == np.bool_:
        raise TypeError("The `+` operator, on a bool tensor is not supported.")
    return input


# ---- the arithmetic methods, under torch's top-level names ---------------------------------

def add(input, other, *, alpha=1):
    return _first(input, other, "add").add(other, alpha=alpha)


def sub(input, other, *, alpha=1):
    return _first(input, other, "sub").sub(other, alpha=alpha)


def rsub(input, other, *, alpha=1):
    """``other - alpha * input``, as ``torch.rsub``."""
    x, o = _tensor(input, "rsub"), _operand(other)
    return o - _alpha_times(x, alpha, o if isinstance(o, Tensor) else x, "rsub")


def mul(input, other):
    return _first(input, other, "mul") * other


def div(input, other, *, rounding_mode=None):
    return _first(input, other, "div").div(other, rounding_mode=rounding_mode)


def true_divide(input, other):
    return _first(input, other, "true_divide") / other


subtract, multiply, divide = sub, mul, div


def _first(input, other, fn):
    """``input`` as a Tensor: torch takes a number there when ``other`` is a Tensor."""
    if isinstance(input, Tensor):
        return input
    if isinstance(other, Tensor) and isinstance(_operand(input), (int, float, bool)):
        return Tensor(np.asarray(input, other.dtype if other.dtype.kind == "f" or isinstance(
            input, int) else _dd.DEFAULT))
    raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(input).__name__}")


def clone(input):
    return _tensor(input, "clone").clone()


def detach(input):
    return _tensor(input, "detach").detach()


def masked_fill(input, mask, value):
    return _tensor(input, "masked_fill").masked_fill(mask, value)


def broadcast_to(input, size):
    return _tensor(input, "broadcast_to").broadcast_to(size)


def swapaxes(input, axis0, axis1):
    return _tensor(input, "swapaxes").swapaxes(axis0, axis1)


swapdims = swapaxes


def moveaxis(input, source, destination):
    return _tensor(input, "moveaxis").movedim(source, destination)

