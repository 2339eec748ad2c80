"""Bernoulli(probs or logits), as ``torch.distributions.Bernoulli``."""
from __future__ import annotations

import numbers

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits, softplus

__all__ = ["Bernoulli"]


def _one_of(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


class BinaryParam(Distribution):
    """A success probability given as ``probs`` or ``logits`` (Bernoulli, Binomial,
    NegativeBinomial): the one not given is derived from the other at its first use."""

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.shape

    def _init_param(self, probs, logits, validate_args):
        """Keep whichever of ``probs`` and ``logits`` is given (exactly one), as a Tensor, and
        take the batch shape from it (() for a Python number)."""
        _one_of(probs, logits)
        given = probs if probs is not None else logits
        (param,) = broadcast_all(given)
        if probs is not None:
            self.probs = param
        else:
            self.logits = param
        self._param = param
        super(BinaryParam, self).__init__(() if isinstance(given, numbers.Number) else param.shape,
                                          validate_args=validate_args)

    def _expand_param(self, new, batch_shape):
        """``new`` holds whichever of probs/logits this one has, expanded."""
        for name in ("probs", "logits"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(batch_shape))
                new._param = new.__dict__[name]


class Bernoulli(BinaryParam, ExponentialFamily):
    """1 with probability ``probs`` (or ``sigmoid(logits)``), else 0."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._init_param(probs, logits, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Bernoulli, _instance)
        batch_shape = tuple(batch_shape)
        self._expand_param(new, batch_shape)
        return self._finish_expand(Bernoulli, new, batch_shape)

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        p = self.probs.data
        return Tensor(np.where(p == 0.5, np.nan, (p >= 0.5)).astype(p.dtype))

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            p = np.broadcast_to(self.probs.data, shape)
            return Tensor((_random.generator().random(shape) < p).astype(p.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        # -binary_cross_entropy_with_logits: value * logits - log(1 + exp(logits))
        logits, value = broadcast_all(self.logits, value)
        return logits * value - softplus(logits)

    def entropy(self):
        return softplus(self.logits) - self.logits * self.probs

    def enumerate_support(self, expand=True):
        values = Tensor(np.arange(2, dtype=self._param.dtype).reshape(
            (-1,) + (1,) * len(self._batch_shape)))
        return values.expand((2,) + self._batch_shape) if expand else values

    # the exponential-family form, as torch's (ExponentialFamily: Bregman KL, isinstance)
    _mean_carrier_measure = 0

    @property
    def _natural_params(self):
        return (self.probs.logit(),)

    def _log_normalizer(self, x):
        return x.exp().log1p()
