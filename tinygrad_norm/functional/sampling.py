"""The functions that draw random numbers on every call: ``gumbel_softmax`` and ``rrelu``'s
training mode. The noise comes from the framework's one seeded generator, off the tape: it is a
constant of the graph, so the gradients are those of the composite given the noise."""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import random as _random
from ..autograd import scope
from ..tensor import Tensor
from ._checks import _flag
from .activation import _dim, _inplace_flag, leaky_relu

__all__ = ["gumbel_softmax", "rrelu"]


def _floating(t, name, fn):
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}(): {name} must be a Tensor, got {type(t).__name__}")
    if t.dtype.kind != "f":
        raise TypeError(f"{fn}(): {name} must be floating point, got dtype {t.dtype}")


def _number(v, name, fn):
    """A real number, refused in PyTorch's words otherwise (a bool too: True as a bound is a
    slip)."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
        raise TypeError(f"{fn}(): argument '{name}' must be Number, not {type(v).__name__}")
    return float(v)


def _draw(shape, dtype, draw):
    """``draw(rng, shape)`` from the framework's generator, in ``dtype`` (float16 drawn in
    float32: NumPy draws float32 and float64 only)."""
    wide = np.float64 if dtype == np.float64 else np.float32
    return draw(_random.generator(), shape, wide).astype(dtype, copy=False)


# ---- gumbel_softmax ----------------------------------------------------------------------------

def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """A sample of the Gumbel-softmax (concrete) distribution, as
    ``torch.nn.functional.gumbel_softmax``: ``softmax((logits + g) / tau)`` along ``dim``, with
    ``g = -log(E)``, ``E`` standard exponential draws. ``hard=True`` returns the one-hot of each
    sample's first maximum, with the soft sample's gradient (straight-through:
    ``y_hard - y_soft.detach() + y_soft``). ``eps`` does nothing, and warns if given, as
    PyTorch."""
    fn = "gumbel_softmax"
    _floating(logits, "logits", fn)
    tau = _number(tau, "tau", fn)
    hard = _flag(hard, "hard", fn)
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    d = _dim(logits, dim, fn)
    if logits.ndim == 0:  # one category: the sample is 1 (as PyTorch's), on the graph
        return gumbel_softmax(logits.reshape(1), tau, hard, dim=0).reshape(())
    e = _draw(logits.shape, logits.dtype, lambda g, s, dt: g.standard_exponential(s, dt))
    with np.errstate(divide="ignore"):  # a draw of exactly 0 is a Gumbel of +inf, as PyTorch's
        gumbels = -np.log(e)
    with scope(fn, tau=tau, hard=hard, dim=d):
        soft = ((logits + Tensor._wrap(gumbels)) / tau).softmax(d)
        if not hard:
            return soft
        index = np.expand_dims(np.argmax(soft._data, axis=d), d)  # the first maximum
        one_hot = np.zeros(soft.shape, soft.dtype)
        np.put_along_axis(one_hot, index, 1.0, axis=d)
        return Tensor._wrap(one_hot) - soft.detach() + soft


# ---- rrelu -----------------------------------------------------------------------------------

def _bounds(lower, upper, fn):
    lower, upper = _number(lower, "lower", fn), _number(upper, "upper", fn)
    for name, v in (("lower", lower), ("upper", upper)):
        if not math.isfinite(v):  # NaN slopes, silently
            raise ValueError(f"{fn}: {name} bound must be finite, got {v}")
    if lower > upper:
        raise ValueError("Lower bound should be less than or equal to the upper bound")
    return lower, upper


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU, as ``torch.nn.functional.rrelu``: ``x`` where ``x > 0``, else
    ``a * x``. Training: ``a`` drawn from U(lower, upper) for each element, from the framework's
    generator (the gradient is ``a`` there, 1 elsewhere). Eval: ``leaky_relu`` with slope
    ``(lower + upper) / 2``. ``inplace=True`` writes the result into ``input`` where nothing
    is recorded (see ``activation._may_write_input``)."""
    fn = "rrelu"
    _floating(input, "input", fn)
    lower, upper = _bounds(lower, upper, fn)
    training = _flag(training, "training", fn)
    if _inplace_flag(inplace, fn):
        return input._apply_(f"{fn}_", lambda t: rrelu(t, lower, upper, training))
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    a = _draw(input.shape, input.dtype, lambda g, s, dt: g.uniform(lower, upper, s).astype(dt))
    # the slope of each element as PyTorch's kernel keeps it: the draw at and below 0, else 1
    # (NaN too: its gradient passes unscaled, as PyTorch's)
    slope = np.where(input._data <= 0, a, np.ones((), input.dtype))
    with scope(fn, lower=lower, upper=upper, training=True):
        return input * Tensor._wrap(slope)
