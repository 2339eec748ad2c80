"""Activations, as ``torch.nn.functional``: thin wrappers over Tensor primitives, or a few of
them inside a named scope. Subgradients at kinks are PyTorch's (relu'(0) = 0, leaky_relu'(0) =
negative_slope)."""
from __future__ import annotations

import functools
import inspect
import math
import numbers
import warnings

import numpy as np

from .. import ops
from ..autograd import scope
from ._checks import _flag
from ..tensor import Tensor, apply, where

__all__ = ["relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax", "gelu", "silu",
           "elu", "softplus", "logsigmoid", "linear", "relu6", "hardtanh", "hardsigmoid",
           "hardswish", "mish", "selu", "celu", "softsign", "tanhshrink", "softshrink",
           "hardshrink", "threshold", "prelu", "glu", "softmin"]


def _check(input, fn):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{fn}: input must be floating point, got dtype {input.dtype}")


def _number(v, name, fn):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a number, got {type(v).__name__}")
    return float(v)


def _inplace_flag(inplace, fn):
    return _flag(inplace, "inplace", fn)


def _may_write_input(fn):
    """torch's ``inplace=True`` for an activation ``fn(input, ..., inplace=False)``: the result
    written into ``input`` and ``input`` returned. Where the input requires grad the write is
    recorded, as torch's (``Tensor._apply_``, inplace_record.py): the input takes the result's
    history, and a node recorded before that reads the values before is refused at backward,
    as torch's version counter refuses it (``y = x.sigmoid(); F.relu(y, inplace=True)``).
    Outermost (above ``_half_in_float32``), so a float16 input gets the rounded result."""
    name = fn.__name__
    pos = list(inspect.signature(fn).parameters).index("inplace")

    @functools.wraps(fn)
    def run(*args, **kwargs):
        if "inplace" in kwargs:
            inplace = kwargs.pop("inplace")
        elif len(args) > pos:
            inplace, args = args[pos], args[:pos] + args[pos + 1:]
        else:
            return fn(*args, **kwargs)
        if not _inplace_flag(inplace, name):
            return fn(*args, **kwargs)
        if args:
            input, rest = args[0], args[1:]
        else:
            input, rest = kwargs.pop("input"), ()
        if not isinstance(input, Tensor):
            return fn(input, *rest, **kwargs)  # its TypeError
        # (fn checks its arguments before anything is written, recorded or not)
        return input._apply_(f"{name}_", lambda t: fn(t, *rest, **kwargs))
    return run


def relu(input, inplace=False):
    """max(input, 0); the gradient at 0 is 0. ``inplace`` as ``_may_write_input`` says, tested
    here without its wrapper: relu is on every MLP's hot path."""
    _check(input, "relu")
    if inplace is False:
        return input.relu()
    return input._apply_("relu_", Tensor.relu) if _inplace_flag(inplace, "relu") else \
        input.relu()


@_may_write_input
def leaky_relu(input, negative_slope=0.01, inplace=False):
    """input where input > 0, else negative_slope * input (slope at 0: negative_slope)."""
    _check(input, "leaky_relu")
    slope = _number(negative_slope, "negative_slope", "leaky_relu")
    # one primitive, as relu: its VJP keeps the input, so higher derivatives are zeros as in
    # PyTorch (the where-composite's gradient did not depend on x: "not used in the graph")
    return apply(ops.LeakyRelu, input, negative_slope=slope)


def sigmoid(input):
    _check(input, "sigmoid")
    return input.sigmoid()


def tanh(input):
    _check(input, "tanh")
    return input.tanh()


def _dim(input, dim, fn):
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{fn}: dim must be an int, got {dim!r}")
    nd = max(input.ndim, 1)
    if not -nd <= dim < nd:
        raise ValueError(f"{fn}: dim {dim} is out of range for a tensor of {input.ndim} "
                         f"dimension(s)")
    return int(dim)


def _float_dtype(dtype, fn):
    # An integer dtype would cast the input to integers and give a float64 "softmax" of them.
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind != "f":
        raise TypeError(f"{fn}: dtype must be a floating-point dtype, got {dtype!r}")
    return dt


def _implicit_dim(input, dim, fn):
    """``dim=None``: PyTorch's deprecated implicit choice, with its warning (0 for 0-, 1- and
    3-D input, else 1: a (C, H, W) image normalizes over channels, an (N, C, ...) batch too), so
    that a port computes what PyTorch computed."""
    if dim is not None:
        return _dim(input, dim, fn)
    warnings.warn(f"Implicit dimension choice for {fn} has been deprecated. Change the call to "
                  f"include dim=X as an argument.", UserWarning, stacklevel=3)
    return 0 if input.ndim in (0, 1, 3) else 1


def softmax(input, dim=None, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim`` (None: PyTorch's implicit choice, with its warning).
    ``dtype`` casts the input first, as in PyTorch."""
    if dtype is not None and isinstance(input, Tensor):  # cast first: ints in, as PyTorch
        input = input.astype(_float_dtype(dtype, "softmax"))
    _check(input, "softmax")
    return input.softmax(_implicit_dim(input, dim, "softmax"))


def log_softmax(input, dim=None, dtype=None):
    """log(softmax(x)) along ``dim``, computed stably in one primitive."""
    if dtype is not None and isinstance(input, Tensor):  # cast first: ints in, as PyTorch
        input = input.astype(_float_dtype(dtype, "log_softmax"))
    _check(input, "log_softmax")
    return input.log_softmax(_implicit_dim(input, dim, "log_softmax"))


def _half_in_float32(fn):
    """A float16 input computed in float32 and rounded once, forward and backward, as
    PyTorch's CPU kernels: a composite in float16 rounds at every step (1 + erf(x / sqrt 2)
    cancels for negative x: gelu(-3.8) was 0, not -2.4e-4; silu's gradient was 500 ulps off)."""
    @functools.wraps(fn)
    def wrapper(input, *args, **kwargs):
        if isinstance(input, Tensor) and input.dtype == np.float16:
            return fn(input.astype(np.float32), *args, **kwargs).astype(np.float16)
        return fn(input, *args, **kwargs)
    return wrapper


@_half_in_float32
def gelu(input, approximate="none"):
    """Gaussian error linear unit: x * Phi(x), with Phi the standard normal CDF, computed by
    the ``gelu`` primitive (``approximate="none"``) or the tanh approximation (``"tanh"``)."""
    _check(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    with scope("gelu", approximate=approximate):
        if approximate == "none":  # one primitive: Phi accurate in both tails (ops.Gelu)
            return apply(ops.Gelu, input)
        inner = (input + input * input * input * 0.044715) * math.sqrt(2.0 / math.pi)
        return input * 0.5 * (inner.tanh() + 1.0)


@_may_write_input
@_half_in_float32
def silu(input, inplace=False):
    """x * sigmoid(x) (also called swish)."""
    _check(input, "silu")
    with scope("silu"):
        return input * input.sigmoid()


@_may_write_input
@_half_in_float32
def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha * (exp(x) - 1)."""
    _check(input, "elu")
    alpha = _number(alpha, "alpha", "elu")
    with scope("elu", alpha=alpha):
        return _elu(input, alpha)


def _elu(x, alpha, scale=1.0, input_scale=1.0):
    """PyTorch's elu kernel, behind elu, selu and celu: ``scale * x`` where x > 0, else
    ``alpha * scale * expm1(input_scale * x)``."""
    # expm1 of the non-positive part only: no overflow for large positive inputs, and exact
    # just below 0 (exp(x) - 1 lost every digit of -1e-9 in float32). "Not x <= 0" puts NaN
    # on the identity side, whose gradient passes, as PyTorch's
    pos = ~(x.data <= 0)
    neg = where(pos, 0.0, x)
    if input_scale != 1.0:
        neg = neg * input_scale
    return where(pos, x * scale if scale != 1.0 else x, neg.expm1() * (alpha * scale))


@_half_in_float32
def logsigmoid(input):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), stable and exact in the tails."""
    _check(input, "logsigmoid")
    with scope("logsigmoid"):
        return _logsigmoid(input)


def _logsigmoid(x):
    # min(x, 0) - log1p(exp(-|x|)), each kink taking the x <= 0 side's derivative at 0 (1 for
    # both): every derivative there is then the smooth branch's (first 0.5, second -0.25). With
    # minimum() and abs() the first came out right (a shared tie plus a zero sign) but the
    # second was 0. m is a clip (it keeps its bound: derivative 1 at 0) and -|x| = m - relu(x)
    # (relu's derivative at 0 is 0): the values and derivatives of the two selects they
    # replace, one of which was an np.where between two arrays that mispredicts a branch on
    # every other element of a random batch (a third of BCE-with-logits' step). m - relu(x)
    # never subtracts two infinities: +-inf stay as they were.
    m = x.clip(max=0.0)
    return m - (m - x.relu()).exp().log1p()


@_half_in_float32
def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, linear where beta * x > threshold (as PyTorch)."""
    _check(input, "softplus")
    beta = _number(beta, "beta", "softplus")
    threshold = _number(threshold, "threshold", "softplus")
    with scope("softplus", beta=beta, threshold=threshold):
        # one primitive (ops.Softplus): max(z, 0) + log1p(exp(-|z|)), log1p keeping the tail
        # (softplus(-17) was 0 in float32), where seven nodes computed the same
        return apply(ops.Softplus, input, beta=beta, threshold=threshold)


def linear(input, weight, bias=None):
    """input @ weight.T + bias, as ``torch.nn.functional.linear``; weight (out, in)."""
    _check(input, "linear")
    if not isinstance(weight, Tensor):
        raise TypeError(f"linear: weight must be a Tensor, got {type(weight).__name__}")
    if weight.ndim not in (1, 2):
        raise ValueError(f"linear: weight must be a 1-D or 2-D Tensor (out_features, "
                         f"in_features), got shape {weight.shape}")
    if input.dtype != weight.dtype:
        raise TypeError(f"linear: input has dtype {input.dtype} but weight has dtype "
                        f"{weight.dtype}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        got = "no feature axis" if input.ndim == 0 else f"{input.shape[-1]} features (last axis)"
        raise ValueError(f"linear: input of shape {input.shape} has {got}, but weight of shape "
                         f"{weight.shape} expects in_features {weight.shape[-1]}")
    out_shape = input.shape[:-1] + weight.shape[:-1]
    if bias is not None:
        # Checked here, not left to the add: an ndarray or float64 bias would silently turn a
        # float32 layer float64, and a wrong size would be reported as an "add" of two shapes.
        if not isinstance(bias, Tensor):
            raise TypeError(f"linear: bias must be a Tensor or None, got {type(bias).__name__}")
        if bias.dtype != weight.dtype:
            raise TypeError(f"linear: bias has dtype {bias.dtype} but weight has dtype "
                            f"{weight.dtype}")
        fits = bias.shape == out_shape[-1:]  # the usual (out_features,): no NumPy call
        if not fits:
            try:
                fits = np.broadcast_shapes(out_shape, bias.shape) == out_shape
            except ValueError:
                fits = False
        if not fits:
            raise ValueError(f"linear: bias of shape {bias.shape} does not broadcast to the "
                             f"output shape {out_shape} (out_features "
                             f"{weight.shape[0] if weight.ndim == 2 else 1})")
    out = input @ (weight.T if weight.ndim == 2 else weight)
    if bias is not None:
        out = out + bias
    return out


# ---- piecewise and gated activations --------------------------------------------------------
# Each is PyTorch's forward formula, with selects (``where`` on masks computed off the tape) at
# the kinks, so the gradient at a kink, at +-inf and at NaN is exactly that of PyTorch's
# backward kernel. A branch that is not taken is fed a masked input where its derivative could
# be inf (0 * inf would put NaN into the gradient of the branch that is taken).

def _clamped(input, lo, hi):
    """input clipped to [lo, hi]; the gradient passes strictly inside and at NaN, as PyTorch's
    hardtanh backward (0 at the bounds themselves, where clip() would pass it)."""
    d = input.data
    inside = ~((d <= lo) | (d >= hi))
    return where(inside, input, np.clip(d, lo, hi))  # NumPy 2 keeps d's dtype for the bounds


@_may_write_input
def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """input clipped to [min_val, max_val]; gradient 1 strictly inside, 0 at and beyond the
    bounds (NaN passes with gradient 1), as PyTorch."""
    _check(input, "hardtanh")
    lo, hi = _number(min_val, "min_val", "hardtanh"), _number(max_val, "max_val", "hardtanh")
    if lo > hi:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got min_val={lo} "
                         f"and max_val={hi}")
    with scope("hardtanh", min_val=lo, max_val=hi):
        return _clamped(input, lo, hi)


@_may_write_input
def relu6(input, inplace=False):
    """min(max(x, 0), 6), PyTorch's hardtanh(x, 0, 6): gradient 0 at 0 and at 6."""
    _check(input, "relu6")
    with scope("relu6"):
        return _clamped(input, 0.0, 6.0)


@_may_write_input
@_half_in_float32
def hardsigmoid(input, inplace=False):
    """min(max(x + 3, 0), 6) / 6; gradient 1/6 strictly between -3 and 3, else 0 (NaN too, as
    PyTorch's kernel, whose test ``-3 < x < 3`` a NaN fails)."""
    _check(input, "hardsigmoid")
    with scope("hardsigmoid"):
        d = input.data
        inside = (d > -3) & (d < 3)
        return where(inside, (input + 3.0) / 6.0, np.clip(d + 3.0, 0.0, 6.0) / 6.0)


@_may_write_input
@_half_in_float32
def hardswish(input, inplace=False):
    """x * min(max(x + 3, 0), 6) / 6. As PyTorch's backward: gradient 0 for x <= -3,
    x / 3 + 1/2 for -3 < x < 3, 1 from 3 on (and at NaN); -inf gives NaN, as its forward."""
    _check(input, "hardswish")
    with scope("hardswish"):
        d = input.data
        low = d <= -3
        mid = ~low & (d < 3)
        xm = where(mid, input, 0.0)
        return where(low, input * 0.0, where(mid, xm * (xm + 3.0) / 6.0, input))


@_may_write_input
@_half_in_float32
def mish(input, inplace=False):
    """x * tanh(softplus(x)) (Misra, 2019)."""
    _check(input, "mish")
    with scope("mish"):
        return input * softplus(input).tanh()


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@_may_write_input
@_half_in_float32
def selu(input, inplace=False):
    """scale * elu(x, alpha) with PyTorch's constants (Klambauer et al., 2017); the gradient at
    0 is scale * alpha, as its elu kernel's."""
    _check(input, "selu")
    with scope("selu"):
        return _elu(input, _SELU_ALPHA, scale=_SELU_SCALE)


@_may_write_input
@_half_in_float32
def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)); gradient 1 at 0."""
    _check(input, "celu")
    alpha = _number(alpha, "alpha", "celu")
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0 (ZeroDivisionError)")
    with scope("celu", alpha=alpha):
        return _elu(input, alpha, input_scale=1.0 / alpha)


def softsign(input):
    """x / (1 + |x|), PyTorch's composite (rounded at each step in float16, as its)."""
    _check(input, "softsign")
    with scope("softsign"):
        return input / (input.abs() + 1.0)


def tanhshrink(input):
    """x - tanh(x), PyTorch's composite."""
    _check(input, "tanhshrink")
    with scope("tanhshrink"):
        return input - input.tanh()


def _lambd(lambd, fn):
    lambd = _number(lambd, "lambd", fn)
    if not 0 <= lambd < math.inf:
        raise ValueError(f"{fn}: lambd must be in range [0, inf), but found {lambd}")
    return lambd


def _shrunk(d, lambd):
    """Where the shrinks pass the input (gradient 1): outside [-lambd, lambd], NaN included."""
    return ~((d >= -lambd) & (d <= lambd))


@_half_in_float32
def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, else 0 (-0.0 for a negative x, NaN
    passes), as PyTorch; gradient 0 at +-lambd."""
    _check(input, "softshrink")
    lambd = _lambd(lambd, "softshrink")
    with scope("softshrink", lambd=lambd):
        d = input.data
        shifted = where(d < -lambd, input + lambd, input - lambd)
        return where(_shrunk(d, lambd), shifted, input * 0.0)


def hardshrink(input, lambd=0.5):
    """x outside [-lambd, lambd], else 0; gradient 0 at +-lambd. A negative lambd passes
    everything, as PyTorch (which takes it)."""
    _check(input, "hardshrink")
    lambd = _number(lambd, "lambd", "hardshrink")
    with scope("hardshrink", lambd=lambd):
        return where(_shrunk(input.data, lambd), input, 0.0)


@_may_write_input
def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value; gradient 0 at the threshold (NaN passes)."""
    _check(input, "threshold")
    th = _number(threshold, "threshold", "threshold")
    value = _number(value, "value", "threshold")
    with scope("threshold", threshold=th, value=value):
        return where(input.data <= th, value, input)


def prelu(input, weight):
    """x where x > 0, else weight * x, ``weight`` of 1 or C elements, C the size of dim 1 (1
    for input of fewer than 2 dims), as PyTorch; the input gradient at 0 is the weight."""
    _check(input, "prelu")
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu: weight must be a Tensor, got {type(weight).__name__}")
    if weight.dtype != input.dtype:
        raise TypeError(f"prelu: input has dtype {input.dtype} but weight has dtype "
                        f"{weight.dtype}")
    if weight.ndim > 1:
        raise ValueError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                         f"ndim = {weight.ndim}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.size not in (1, channels):
        raise ValueError(f"prelu: Mismatch of parameter numbers and input channel size. Found "
                         f"parameter numbers = {weight.size} and channel size = {channels}.")
    with scope("prelu"):
        w = weight.reshape(()) if weight.size == 1 else \
            weight.reshape((channels,) + (1,) * (input.ndim - 2))
        pos = input.data > 0  # NaN on the weight side, as PyTorch's kernel
        return where(pos, input, w * where(pos, 0.0, input))


@_half_in_float32
def glu(input, dim=-1):
    """a * sigmoid(b), a and b the two halves of ``dim`` (gated linear unit)."""
    _check(input, "glu")
    if input.ndim == 0:
        raise ValueError("glu: glu does not support scalars because halving size must be even")
    d = _dim(input, dim, "glu")
    if input.shape[d] % 2:
        raise ValueError(f"glu: Halving dimension must be even, but dimension {d} is size "
                         f"{input.shape[d]}")
    with scope("glu", dim=d):
        a, b = input.chunk(2, d)
        return a * b.sigmoid()


def softmin(input, dim=None, dtype=None):
    """softmax(-x) along ``dim`` (None: PyTorch's implicit choice, with its warning); ``dtype``
    casts the input first."""
    if dtype is not None and isinstance(input, Tensor):
        input = input.astype(_float_dtype(dtype, "softmin"))
    _check(input, "softmin")
    return (-input).softmax(_implicit_dim(input, dim, "softmin"))
