"""NegativeBinomial(total_count, probs or logits), as ``torch.distributions.NegativeBinomial``:
the number of successes (each with probability ``probs``) before ``total_count`` failures; with a
real, learnable ``total_count`` the over-dispersed count likelihood of scVI-style models.

Unlike Binomial's integer count, ``total_count`` here is a parameter with a gradient (through
``lgamma``), as torch's."""
from __future__ import annotations

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..special import gammaln
from ..tensor import Tensor, where
from . import constraints
from .bernoulli import BinaryParam, _one_of
from .utils import broadcast_all

__all__ = ["NegativeBinomial"]


class NegativeBinomial(BinaryParam):
    """Counts k >= 0 with P(k) = C(k + r - 1, k) p^k (1 - p)^r, r = ``total_count``."""
    arg_constraints = {"total_count": constraints.nonnegative,
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self._param = self.probs
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self._param = self.logits
        if self.total_count.dtype != self._param.dtype:
            self.total_count = self.total_count.to(self._param.dtype)
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(NegativeBinomial, _instance)
        batch_shape = tuple(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        self._expand_param(new, batch_shape)
        return self._finish_expand(NegativeBinomial, new, batch_shape)

    @property
    def mean(self):
        return self.total_count * self.logits.exp()

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clip(min=0.0)

    @property
    def variance(self):
        return self.mean / (-self.logits).sigmoid()

    def sample(self, sample_shape=()):
        # a Gamma-Poisson mixture, as torch's (the draws differ from torch's generator)
        shape = self._extended_shape(sample_shape)
        with no_grad():
            gen = _random.generator()
            r = np.broadcast_to(self.total_count.data, shape)
            odds = np.broadcast_to(np.exp(self.logits.data), shape)
            rate = gen.gamma(np.where(r > 0, r, 1.0)) * odds * (r > 0)
            return Tensor(np.asarray(gen.poisson(rate)).astype(self._param.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        from ..functional import logsigmoid  # here: importing the package must not load functional
        r, logits = self.total_count, self.logits
        unnormalized = r * logsigmoid(-logits) + value * logsigmoid(logits)
        # r + k == 0 (no failures asked, no successes seen): probability 1, where the lgammas
        # would be inf - inf; those entries read r = 1 instead (a select: no gradient there,
        # as torch's masked_fill), and no NaN passes through the tape
        empty = (r.data + value.data) == 0
        one = Tensor(np.ones((), r.dtype))
        rs = where(empty, one, r) if empty.any() else r
        norm = -gammaln(rs + value) + gammaln(1.0 + value) + gammaln(rs)
        if empty.any():
            norm = where(empty, one * 0, norm)
        return unnormalized - norm
