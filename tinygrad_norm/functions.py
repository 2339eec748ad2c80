"""PyTorch's top-level tensor functions (``tg.sin(x)``, ``tg.sum(x, dim=1)``, ...): thin calls
of the Tensor methods under torch's names and argument names. Reductions take torch's
``dim``/``keepdim`` and this library's ``axis``/``keepdims`` alike (one of each pair). Nothing
here computes or differentiates anything itself."""
from __future__ import annotations

import builtins

import numpy as np

from . import _argname
from .tensor import MaxResult, MinResult, Tensor, _operand, maximum, minimum  # noqa: F401
from .tensor import concatenate as _concatenate, stack as _stack, where as _where
from .tensor_ops import prod as _prod

__all__ = [
    "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "abs", "absolute", "sign", "neg",
    "negative", "square", "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos",
    "arctan", "sinh", "cosh", "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh",
    "log2", "log10", "exp2", "reciprocal", "erf", "floor", "ceil", "trunc", "fix", "round",
    "frac", "atan2", "arctan2", "hypot", "logaddexp", "fmod", "remainder", "floor_divide",
    "pow", "clamp", "clip", "clamp_min", "clamp_max", "lerp", "isnan", "isinf", "isfinite",
    "nan_to_num", "logical_not", "logical_and", "logical_or", "logical_xor", "sigmoid",
    "tanh", "relu", "sum", "mean", "std", "var", "max", "min", "argmax", "argmin", "softmax",
    "log_softmax", "logsumexp", "cumsum", "cumprod", "diff", "prod", "cat", "concat", "stack",
    "where", "flip", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal", "float16", "float32", "float64", "half",
    "float", "double", "int8", "int16", "int32", "int64", "uint8", "short", "int", "long",
    "bool",
]

# torch's dtype names, as the NumPy dtypes the library takes everywhere a dtype is accepted
# (``tg.zeros(2, dtype=tg.float32)``, ``x.astype(tg.int64)``). They shadow the builtins in
# this module: its code says ``builtins.int`` where it means Python's.
float16 = half = np.float16
float32 = float = np.float32
float64 = double = np.float64
int8, int16, int32, int64, uint8 = np.int8, np.int16, np.int32, np.int64, np.uint8
short, int, long = np.int16, np.int32, np.int64
bool = np.bool_


def _t(input, fn):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(input).__name__}")
    return input


def _unary(name):
    def fn(input):
        return getattr(_t(input, name), name)()
    _argname.rename(fn, name)
    fn.__doc__ = f"``input.{name}()``, as ``torch.{name}``."
    return fn


exp, log, log1p, expm1 = _unary("exp"), _unary("log"), _unary("log1p"), _unary("expm1")
sqrt, rsqrt, abs, sign = _unary("sqrt"), _unary("rsqrt"), _unary("abs"), _unary("sign")
neg, square, erf = _unary("neg"), _unary("square"), _unary("erf")
sin, cos, tan = _unary("sin"), _unary("cos"), _unary("tan")
asin, acos, atan = _unary("asin"), _unary("acos"), _unary("atan")
sinh, cosh = _unary("sinh"), _unary("cosh")
asinh, acosh, atanh = _unary("asinh"), _unary("acosh"), _unary("atanh")
log2, log10, exp2 = _unary("log2"), _unary("log10"), _unary("exp2")
reciprocal = _unary("reciprocal")
floor, ceil, trunc, frac = _unary("floor"), _unary("ceil"), _unary("trunc"), _unary("frac")
isnan, isinf, isfinite = _unary("isnan"), _unary("isinf"), _unary("isfinite")
sigmoid, tanh, relu = _unary("sigmoid"), _unary("tanh"), _unary("relu")
logical_not = _unary("logical_not")
absolute, negative, fix = abs, neg, trunc
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


def _binary(name):
    def fn(input, other):
        return getattr(_t(input, name), name)(other)
    _argname.rename(fn, name)
    fn.__doc__ = f"``input.{name}(other)``, as ``torch.{name}``."
    return fn


atan2, hypot, logaddexp = _binary("atan2"), _binary("hypot"), _binary("logaddexp")
fmod, remainder, floor_divide = _binary("fmod"), _binary("remainder"), _binary("floor_divide")
logical_and, logical_or = _binary("logical_and"), _binary("logical_or")
logical_xor = _binary("logical_xor")
arctan2 = atan2


def round(input, *, decimals=0):
    """``input.round(decimals)``, as ``torch.round``: an integer tensor (decimals 0) is its own
    result, a copy of the same dtype."""
    return _t(input, "round").round(decimals)


def pow(input, exponent):
    """``input ** exponent``; ``input`` may be a number when ``exponent`` is a Tensor, as
    ``torch.pow``."""
    if not isinstance(input, Tensor):
        if not isinstance(exponent, Tensor):
            raise TypeError(f"pow(): expected a Tensor as input or exponent, got "
                            f"{type(input).__name__} and {type(exponent).__name__}")
        return _operand(input) ** exponent
    return input ** exponent


def clamp(input, min=None, max=None):
    return _t(input, "clamp").clip(min, max)


clip = clamp


def clamp_min(input, min):
    return _t(input, "clamp_min").clamp_min(min)


def clamp_max(input, max):
    return _t(input, "clamp_max").clamp_max(max)


def lerp(input, end, weight):
    return _t(input, "lerp").lerp(end, weight)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    return _t(input, "nan_to_num").nan_to_num(nan, posinf, neginf)


def _pick(fn, torch_name, torch_value, name, value, default):
    """One of torch's argument and this library's (``dim``/``axis``), not both."""
    if torch_value is not default and value is not default:
        raise TypeError(f"{fn}(): give {torch_name} or {name} (the same thing), not both")
    return value if value is not default else torch_value


def _all_if_empty(d):
    """torch's reductions read ``dim=()`` or ``[]`` as every dim (NumPy's ``axis=()`` reduces
    none, and the Tensor methods keep NumPy's meaning)."""
    return None if isinstance(d, (tuple, list)) and len(d) == 0 else d


def _reduce(method):
    def fn(input, dim=None, keepdim=False, *, axis=None, keepdims=False):
        name = method
        d = _all_if_empty(_pick(name, "dim", dim, "axis", axis, None))
        k = _pick(name, "keepdim", keepdim, "keepdims", keepdims, False)
        return getattr(_t(input, name), name)(axis=d, keepdims=k)
    _argname.rename(fn, method)
    fn.__doc__ = (f"``input.{method}(dim, keepdim)`` over ``dim`` (an int, a tuple or None for "
                  f"all), as ``torch.{method}``.")
    return fn


sum, mean, logsumexp = _reduce("sum"), _reduce("mean"), _reduce("logsumexp")


def _moment(method):
    def fn(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
           keepdims=False):
        d = _all_if_empty(_pick(method, "dim", dim, "axis", axis, None))
        k = _pick(method, "keepdim", keepdim, "keepdims", keepdims, False)
        if unbiased is not None:
            if correction is not None:
                raise TypeError(f"{method}(): give unbiased or correction, not both")
            if not isinstance(unbiased, (builtins.bool, np.bool_)):
                raise TypeError(f"{method}(): unbiased must be a bool, got "
                                f"{type(unbiased).__name__}")
            correction = builtins.int(unbiased)
        return getattr(_t(input, method), method)(axis=d, correction=correction, keepdims=k)
    _argname.rename(fn, method)
    fn.__doc__ = (f"``input.{method}`` over ``dim``, as ``torch.{method}`` (``correction`` "
                  f"1 by default; the old ``unbiased`` flag too).")
    return fn


std, var = _moment("std"), _moment("var")

def _extreme(name, elementwise):
    def fn(input, dim=None, keepdim=False, *, axis=None, keepdims=False):
        x = _t(input, name)
        if isinstance(dim, Tensor):  # torch.max(a, b): the elementwise one
            return elementwise(x, dim)
        d = _pick(name, "dim", dim, "axis", axis, None)
        k = _pick(name, "keepdim", keepdim, "keepdims", keepdims, False)
        # the method's torch spelling: (values, indices) along an int dim, all elements for
        # None; either spelling here is torch's (``axis`` is torch's alias of ``dim``)
        return getattr(x, name)(dim=d, keepdim=k)
    _argname.rename(fn, name)
    fn.__doc__ = (f"As ``torch.{name}``: of all elements; along ``dim``, the named tuple "
                  f"``(values, indices)``; with a Tensor second argument, elementwise. The "
                  f"same as ``input.{name}(dim=...)``.")
    return fn


max = _extreme("max", maximum)
min = _extreme("min", minimum)


def _arg(name):
    def fn(input, dim=None, keepdim=False, *, axis=None, keepdims=False):
        d = _pick(name, "dim", dim, "axis", axis, None)
        k = _pick(name, "keepdim", keepdim, "keepdims", keepdims, False)
        return getattr(_t(input, name), name)(axis=d, keepdims=k)
    _argname.rename(fn, name)
    return fn


argmax, argmin = _arg("argmax"), _arg("argmin")


def _along(method):
    """softmax, log_softmax, cumsum, cumprod: along one ``dim``, which torch requires."""
    def fn(input, dim=None, *, axis=None):
        d = _pick(method, "dim", dim, "axis", axis, None)
        if d is None:
            raise TypeError(f"{method}(): missing required argument 'dim'")
        return getattr(_t(input, method), method)(d)
    _argname.rename(fn, method)
    fn.__doc__ = f"``input.{method}(dim)``, as ``torch.{method}``."
    return fn


softmax, log_softmax = _along("softmax"), _along("log_softmax")
cumsum, cumprod = _along("cumsum"), _along("cumprod")


def diff(input, n=1, dim=-1, prepend=None, append=None):
    return _t(input, "diff").diff(n, dim, prepend, append)


def prod(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=False):
    """``input.prod`` over ``dim`` (an int; None for all), as ``torch.prod``; the library's
    ``axis``/``keepdims`` (a tuple too) as well, and ``dtype`` to cast to first."""
    d = _pick("prod", "dim", dim, "axis", axis, None)
    k = _pick("prod", "keepdim", keepdim, "keepdims", keepdims, False)
    x = _t(input, "prod")
    return _prod(x if dtype is None else x.astype(dtype), d, k)


def cat(tensors, dim=0, *, axis=None):
    """The tensors joined along ``dim`` (or ``axis``), as ``torch.cat``."""
    return _concatenate(tensors, _dim_or_axis("cat", dim, axis))


concat = cat


def stack(tensors, dim=0, *, axis=None):
    """The tensors (one shape) stacked along a new ``dim`` (or ``axis``), as ``torch.stack``."""
    return _stack(tensors, _dim_or_axis("stack", dim, axis))


def _dim_or_axis(fn, dim, axis):
    if axis is None:
        return dim
    if dim != 0:
        raise TypeError(f"{fn}(): give dim or axis (the same thing), not both")
    return axis


def where(condition, input=None, other=None):
    """``input`` where ``condition`` holds, else ``other``, as ``torch.where`` (the gradient a
    select); ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``."""
    if input is None and other is None:
        from .tensor_index import nonzero
        c = condition if isinstance(condition, Tensor) else Tensor._wrap(np.asarray(condition))
        return nonzero(c, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where(): give both input and other, or neither (the nonzero form)")
    return _where(condition, input, other)


def flip(input, dims):
    """``input`` reversed along ``dims`` (an int, a tuple or list), as ``torch.flip``."""
    return _t(input, "flip").flip(dims)


def _comparison(name, method):
    def fn(input, other):
        return getattr(_t(input, name), name)(other)  # the named method: it refuses a str
    _argname.rename(fn, name)
    fn.__doc__ = f"``input.{method}(other)``, a bool tensor, as ``torch.{name}``."
    return fn


eq, ne = _comparison("eq", "__eq__"), _comparison("ne", "__ne__")
lt, le = _comparison("lt", "__lt__"), _comparison("le", "__le__")
gt, ge = _comparison("gt", "__gt__"), _comparison("ge", "__ge__")
less, less_equal, greater, greater_equal, not_equal = lt, le, gt, ge, ne
