"""Geometric(probs or logits), as ``torch.distributions.Geometric``: the number of failures
before the first success of Bernoulli(probs) trials (values 0, 1, 2, ...)."""
from __future__ import annotations

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..tensor import Tensor, where
from . import constraints
from .bernoulli import BinaryParam
from .utils import broadcast_all, softplus

__all__ = ["Geometric"]


class Geometric(BinaryParam):
    """P(X = k) = (1 - p)^k p for k = 0, 1, ...; ``probs`` in (0, 1]."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._init_param(probs, logits, validate_args)
        if self._validate_args and probs is not None:
            # unit_interval lets 0 through; a success probability of 0 has no distribution
            bad = ~(self.probs.data > 0)
            if bad.any():
                raise ValueError(
                    f"Expected parameter probs ({type(self.probs).__name__} of shape "
                    f"{tuple(self.probs.shape)}) of distribution {self!r} to be positive but "
                    f"found invalid values:\n{Tensor(self.probs.data[bad])}")

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Geometric, _instance)
        batch_shape = tuple(batch_shape)
        self._expand_param(new, batch_shape)
        return self._finish_expand(Geometric, new, batch_shape)

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return Tensor.zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            p = self.probs.data
            # u on [tiny, 1): log u finite; floor(log u / log(1 - p)) is the inverse cdf
            u = np.maximum(_random.generator().random(shape), np.finfo(p.dtype).tiny)
            with np.errstate(divide="ignore"):
                return Tensor(np.floor(np.log(u) / np.log1p(-p)).astype(p.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        # p = 1 at k = 0: 0 * log(0) is taken as 0 (a certain first success)
        probs = where((probs.data == 1) & (value.data == 0), 0.0, probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self):
        # binary cross entropy of logits against probs, divided by probs
        logits = self.logits
        return (softplus(logits) - logits * self.probs) / self.probs
