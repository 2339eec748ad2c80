"""Helpers shared by the families: parameters as broadcast tensors, probabilities and logits,
the draws from the package generator, and a cached property for derived parameters."""
from __future__ import annotations

import numbers

import numpy as np

from .. import default_dtype as _dd
from .. import random as _random
from ..autograd import enable_grad
from ..shaping import broadcast_tensors
from ..tensor import Tensor, where

euler_constant = 0.57721566490153286060


def broadcast_all(*values):
    """Tensors and numbers broadcast to one shape, as torch's: numbers become tensors of the
    first tensor's dtype, or of the default dtype (``set_default_dtype``) when all are numbers."""
    for v in values:
        if not isinstance(v, (Tensor, numbers.Number)):
            raise ValueError("Input arguments must all be instances of Number, "
                             "torch.Tensor or objects implementing __torch_function__.")
    dtype = next((v.dtype for v in values if isinstance(v, Tensor)), _dd.DEFAULT)
    ts = [v if isinstance(v, Tensor) else Tensor(np.asarray(v, dtype=dtype)) for v in values]
    return broadcast_tensors(*ts)


def sum_rightmost(value, dim):
    """``value`` summed over its ``dim`` rightmost axes."""
    if dim == 0:
        return value
    keep, event = value.shape[:value.ndim - dim], value.shape[value.ndim - dim:]
    # the event's size spelt out: -1 cannot be inferred when the batch is empty (torch fails)
    return value.reshape(tuple(keep) + (int(np.prod(event, dtype=np.int64)),)).sum(-1)


def softplus(x):
    """log(1 + exp(x)) without F.softplus's linear cut at 20 (which is 2e-9 off in float64):
    the kink of max(x, 0) and |x| taken as selects on the x <= 0 side, so the derivative at 0 is
    the smooth one, sigmoid(0) = 1/2."""
    neg = x.data <= 0
    return where(neg, 0.0, x) + where(neg, x, -x).exp().log1p()


def clamp_probs(probs):
    eps = float(np.finfo(probs.dtype).eps)
    return probs.clip(eps, 1 - eps)


def probs_to_logits(probs, is_binary=False):
    p = clamp_probs(probs)
    return p.log() - (-p).log1p() if is_binary else p.log()


def logits_to_probs(logits, is_binary=False):
    return logits.sigmoid() if is_binary else logits.softmax(-1)


class lazy_property:
    """A parameter derived from another (probs from logits), computed once on first use -- with
    gradients on, so that it stays connected to the parameter even when first read under
    no_grad -- and then stored on the instance, where the class attribute no longer looks."""

    def __init__(self, fn):
        self.fn = fn
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.fn(instance)
        setattr(instance, self.fn.__name__, value)
        return value


# ---- draws from the package generator (tg.manual_seed repeats them) -----------------------------

def _float_dtype(dtype):
    dt = np.dtype(dtype)
    return dt if dt in (np.float32, np.float64) else np.dtype(np.float64)


def standard_normal(shape, dtype):
    dt = _float_dtype(dtype)
    draw = _random.generator().standard_normal(tuple(shape), dtype=dt)
    return Tensor(draw.astype(dtype, copy=False))


def uniform01(shape, dtype):
    """Uniform on [0, 1), drawn in the target dtype so that rounding cannot reach 1."""
    dt = _float_dtype(dtype)
    return Tensor(_random.generator().random(tuple(shape), dtype=dt).astype(dtype, copy=False))


def standard_exponential(shape, dtype):
    dt = _float_dtype(dtype)
    return Tensor(_random.generator().standard_exponential(tuple(shape), dtype=dt)
                  .astype(dtype, copy=False))
