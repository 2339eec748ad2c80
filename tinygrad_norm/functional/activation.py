"""Activations, as ``torch.nn.functional``: thin wrappers over Tensor primitives, or a few of
them inside a named scope. Subgradients at kinks are PyTorch's (relu'(0) = 0, leaky_relu'(0) =
negative_slope)."""
from __future__ import annotations

import functools
import math
import numbers
import warnings

import numpy as np

from .. import ops
from ..autograd import scope
from ..tensor import Tensor, apply, where

__all__ = ["relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax", "gelu", "silu",
           "elu", "softplus", "logsigmoid", "linear"]


def _check(input, fn):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{fn}: input must be floating point, got dtype {input.dtype}")


def _number(v, name, fn):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a number, got {type(v).__name__}")
    return float(v)


def relu(input):
    """max(input, 0); the gradient at 0 is 0."""
    _check(input, "relu")
    return input.relu()


def leaky_relu(input, negative_slope=0.01):
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
    """Gaussian error linear unit: x * Phi(x), with Phi the standard normal CDF, computed with
    the ``erf`` primitive (``approximate="none"``) or the tanh approximation (``"tanh"``)."""
    _check(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    with scope("gelu", approximate=approximate):
        if approximate == "none":
            cdf = apply(ops.Erf, input * (1.0 / math.sqrt(2.0))) + 1.0
        else:
            inner = (input + input * input * input * 0.044715) * math.sqrt(2.0 / math.pi)
            cdf = inner.tanh() + 1.0
        return input * 0.5 * cdf


@_half_in_float32
def silu(input):
    """x * sigmoid(x) (also called swish)."""
    _check(input, "silu")
    with scope("silu"):
        return input * input.sigmoid()


@_half_in_float32
def elu(input, alpha=1.0):
    """x where x > 0, else alpha * (exp(x) - 1)."""
    _check(input, "elu")
    alpha = _number(alpha, "alpha", "elu")
    with scope("elu", alpha=alpha):
        # expm1 of the non-positive part only: no overflow for large positive inputs, and exact
        # just below 0 (exp(x) - 1 lost every digit of -1e-9 in float32). "Not x <= 0" puts NaN
        # on the identity side, whose gradient passes, as PyTorch's
        pos = ~(input.data <= 0)
        neg = where(pos, 0.0, input)
        return where(pos, input, neg.expm1() * alpha)


@_half_in_float32
def logsigmoid(input):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), stable and exact in the tails."""
    _check(input, "logsigmoid")
    with scope("logsigmoid"):
        return _logsigmoid(input)


def _logsigmoid(x):
    # min(x, 0) and -|x| as selects that take the x <= 0 side at 0: every derivative there is
    # then the smooth branch's (first 0.5, second -0.25). With minimum() and abs() the first
    # came out right (a shared tie plus a zero sign) but the second was 0.
    neg = x.data <= 0
    return where(neg, x, 0.0) - where(neg, x, -x).exp().log1p()


@_half_in_float32
def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, linear where beta * x > threshold (as PyTorch)."""
    _check(input, "softplus")
    beta = _number(beta, "beta", "softplus")
    threshold = _number(threshold, "threshold", "softplus")
    with scope("softplus", beta=beta, threshold=threshold):
        z = input * beta if beta != 1.0 else input
        # max(z, 0) + log1p(exp(-|z|)), the kinks as selects (see _logsigmoid): exact second
        # derivative at 0, and log1p keeps the tail (softplus(-17) was 0 in float32)
        neg = z.data <= 0
        soft = where(neg, 0.0, z) + where(neg, z, -z).exp().log1p()
        if beta != 1.0:
            soft = soft / beta
        return where(z.data > threshold, input, soft)


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
