"""GeneralizedPareto(loc, scale, concentration), as ``torch.distributions.GeneralizedPareto``:
the law of exceedances over a high threshold; concentration 0 is the exponential limit (taken
where |concentration| <= 1e-8, torch's isclose to 0)."""
from __future__ import annotations

import numbers

import numpy as np

from .. import random as _random
from ..tensor import Tensor, where
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """Survival (1 + c z)^(-1/c), z = (x - loc) / scale; exp(-z) at c = 0."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        scalar = all(isinstance(v, numbers.Number) for v in (loc, scale, concentration))
        super().__init__(() if scalar else self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = tuple(batch_shape)
        for name in ("loc", "scale", "concentration"):
            setattr(new, name, getattr(self, name).expand(batch_shape))
        return self._finish_expand(GeneralizedPareto, new, batch_shape)

    def _zero_and_safe(self):
        """Where concentration is (close to) 0, and concentration with 1 there (so the c != 0
        branch, evaluated everywhere, stays finite where it is not used)."""
        c = self.concentration
        zero = np.isclose(c.data, 0.0, rtol=1e-5, atol=1e-8)
        return zero, where(zero, 1.0, c)

    def _z(self, x):
        return (x - self.loc) / self.scale

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return self.icdf(Tensor(_random.generator().random(shape).astype(self.loc.dtype)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        zero, c = self._zero_and_safe()
        y = 1 / c + Tensor.ones_like(z)
        nonzero = where(y.data == 0, y, y * (c * z).log1p())
        return -self.scale.log() - where(zero, z, nonzero)

    def log_survival_function(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        zero, c = self._zero_and_safe()
        return where(zero, -z, -(c * z).log1p() / c)

    def log_cdf(self, value):
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value):
        return self.log_cdf(value).exp()

    def icdf(self, value):
        zero, c = self._zero_and_safe()
        logu = (-value).log1p()
        nonzero = self.loc + self.scale / c * (-c * logu).expm1()
        return where(zero, self.loc - self.scale * logu, nonzero)

    @property
    def mean(self):
        valid = self.concentration.data < 1
        c = where(valid, self.concentration, 0.5)
        return where(valid, self.loc + self.scale / (1 - c), np.nan)

    @property
    def variance(self):
        valid = self.concentration.data < 0.5
        c = where(valid, self.concentration, 0.25)
        return where(valid, self.scale ** 2 / ((1 - c) ** 2 * (1 - 2 * c)), np.nan)

    @property
    def mode(self):
        return self.loc

    def entropy(self):
        h = self.scale.log() + self.concentration + 1
        return h.expand(self._batch_shape) if tuple(h.shape) != self._batch_shape else h

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        c = self.concentration
        with np.errstate(divide="ignore"):
            upper = where(c.data < 0, self.loc - self.scale / c, np.inf)
        return constraints.interval(self.loc, upper)
