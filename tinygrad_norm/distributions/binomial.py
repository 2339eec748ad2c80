"""Binomial(total_count, probs or logits), as ``torch.distributions.Binomial``.

The log factorials of ``total_count`` and of the value are taken on the data: both are counts,
so no gradient flows to them (torch's would give ``total_count`` a digamma gradient)."""
from __future__ import annotations

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..tensor import Tensor, minimum
from . import constraints
from .bernoulli import BinaryParam, _one_of
from .poisson import log_factorial
from .utils import broadcast_all

__all__ = ["Binomial"]


def _clamp_by_zero(x):
    # max(x, 0) with derivative 1/2 at 0, as torch's: clip's derivative is 1 on both sides of 0
    # at 0, so clip(x, 0) + x - clip(x, None, 0) has 1 + 1 - 1 there, halved
    return (x.clip(0) + x - x.clip(None, 0)) / 2


class Binomial(BinaryParam):
    """The number of successes in ``total_count`` independent Bernoulli(probs) trials."""
    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            n, self.probs = broadcast_all(total_count, probs)
            self._param = self.probs
        else:
            n, self.logits = broadcast_all(total_count, logits)
            self._param = self.logits
        self.total_count = n.astype(self._param.dtype)
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Binomial, _instance)
        batch_shape = tuple(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        self._expand_param(new, batch_shape)
        return self._finish_expand(Binomial, new, batch_shape)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return minimum(((self.total_count + 1) * self.probs).floor(), self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            n = np.broadcast_to(self.total_count.data, shape)
            p = np.broadcast_to(self.probs.data, shape)
            draws = _random.generator().binomial(n.astype(np.int64), p)
            return Tensor(np.asarray(draws).astype(p.dtype))  # a Python int for 0-d parameters

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        # k log p + (n - k) log(1 - p) = k logit - n max(logit, 0) - n log1p(exp(-|logit|))
        normalize = n * _clamp_by_zero(logits) + n * (-logits.abs()).exp().log1p() \
            - log_factorial(n)
        rest = Tensor((n.data - value.data).astype(n.dtype))
        return value * logits - log_factorial(value) - log_factorial(rest) - normalize

    def _homogeneous(self, what):
        top = self.total_count.data.max(initial=0)
        if not (self.total_count.data == top).all():
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
        return int(top)

    def entropy(self):
        self._homogeneous("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        n = self._homogeneous("enumerate_support")
        values = Tensor(np.arange(1 + n, dtype=self._param.dtype).reshape(
            (-1,) + (1,) * len(self._batch_shape)))
        return values.expand((1 + n,) + self._batch_shape) if expand else values
