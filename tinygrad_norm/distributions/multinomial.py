"""Multinomial(total_count, probs or logits), as ``torch.distributions.Multinomial``: the counts
of each of K categories in ``total_count`` Categorical draws (event shape ``(K,)``)."""
from __future__ import annotations

import operator

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..tensor import Tensor, where
from . import constraints
from .binomial import Binomial
from .categorical import Categorical
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Multinomial"]


class Multinomial(Distribution):
    """Counts over the last axis of ``probs`` (or ``logits``), ``total_count`` trials in all.
    ``total_count`` must be an int (one count for the whole batch), as torch's."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if isinstance(total_count, bool) or not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = operator.index(total_count)
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = tuple(batch_shape)
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        return self._finish_expand(Multinomial, new, batch_shape)

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            p = self.probs.data
            rows = np.broadcast_to(p, shape).reshape(-1, p.shape[-1]).astype(np.float64)
            # NumPy's multinomial wants rows summing to 1 in float64
            rows = rows / rows.sum(-1, keepdims=True)
            counts = _random.generator().multinomial(self.total_count, rows)
            return Tensor(counts.reshape(shape).astype(p.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        # a category of probability 0 (logit -inf) counted 0 times adds 0, not NaN
        logits = where((value.data == 0) & (logits.data == -np.inf), 0.0, logits)
        log_factorial_n = (value.sum(-1) + 1).lgamma()
        log_factorial_xs = (value + 1).lgamma().sum(-1)
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)

    def entropy(self):
        """The exact sum. torch 2.13 takes lgamma(n + 1) of an int64 tensor, in float32, so its
        entropy is off by that rounding (4e-7 at n = 7; its gradient is exact)."""
        n = float(self.total_count)
        dt = self.probs.dtype
        term1 = n * self._categorical.entropy() - float(np.log(np.arange(1, n + 1)).sum())
        # each category's count is Binomial(n, p_k): E[log k!] summed over the categories
        binomial = Binomial(total_count=self.total_count, probs=self.probs,
                            validate_args=False)
        support = Tensor(np.arange(1, self.total_count + 1, dtype=dt).reshape(
            (-1,) + (1,) * len(self.probs.shape)))
        weights = (support + 1).lgamma()
        term2 = (binomial.log_prob(support).exp() * weights).sum(0).sum(-1)
        return term1 + term2
