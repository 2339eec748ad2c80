"""Poisson(rate), as ``torch.distributions.Poisson``."""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..pointwise import xlogy
from ..tensor import Tensor
from . import constraints
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Poisson"]


def _lgamma_or_inf(x):
    """math.lgamma, but inf at its poles (0, -1, -2, ...) as torch.lgamma, where math.lgamma
    raises: a count outside the support, scored with validation off, is then -inf."""
    return math.inf if x <= 0 and float(x).is_integer() else math.lgamma(x)


_lgamma = np.frompyfunc(_lgamma_or_inf, 1, 1)


def log_factorial(k):
    """log k! of the data (a count: nothing to differentiate), as a constant Tensor."""
    a = k.data
    return Tensor(np.asarray(_lgamma(a + 1), dtype=a.dtype if a.dtype.kind == "f" else np.float64))


class Poisson(ExponentialFamily):
    """The number of events of a Poisson process with mean ``rate``."""
    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        shape = () if isinstance(rate, numbers.Number) else self.rate.shape
        super().__init__(shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Poisson, _instance)
        batch_shape = tuple(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        return self._finish_expand(Poisson, new, batch_shape)

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            rate = np.broadcast_to(self.rate.data, shape)
            # asarray: for a 0-d rate the generator returns a Python int
            return Tensor(np.asarray(_random.generator().poisson(rate)).astype(rate.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return xlogy(value, rate) - rate - log_factorial(value)

    # the exponential-family form, as torch's (ExponentialFamily: Bregman KL, isinstance)
    @property
    def _natural_params(self):
        return (self.rate.log(),)

    def _log_normalizer(self, x):
        return x.exp()
