"""LogNormal(loc, scale), as ``torch.distributions.LogNormal``: exp of a Normal(loc, scale).

Written directly over its base Normal rather than as a TransformedDistribution (this package has
no transforms); the values, and torch's errors, are those of ``Normal`` and ``exp``."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .normal import Normal

__all__ = ["LogNormal"]


class LogNormal(Distribution):
    """The distribution of ``exp(X)`` for ``X ~ Normal(loc, scale)``."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.base_dist = Normal(loc, scale, validate_args=validate_args)
        super().__init__(self.base_dist.batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LogNormal, _instance)
        batch_shape = tuple(batch_shape)
        new.base_dist = self.base_dist.expand(batch_shape)
        return self._finish_expand(LogNormal, new, batch_shape)

    @property
    def loc(self):
        return self.base_dist.loc

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mean(self):
        return (self.loc + self.scale ** 2 / 2).exp()

    @property
    def mode(self):
        return (self.loc - self.scale ** 2).exp()

    @property
    def variance(self):
        s2 = self.scale ** 2
        return s2.expm1() * (2 * self.loc + s2).exp()

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape).exp()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        x = value.log()
        return self.base_dist.log_prob(x) - x  # the change of variables: log |d exp(x)/dx| = x

    def cdf(self, value):
        if self._validate_args and not isinstance(value, Tensor):
            self._validate_sample(value)  # its "must be a Tensor" error
        with np.errstate(divide="ignore", invalid="ignore"):  # log 0 and log(< 0): silent
            x = value.log()
        if self._validate_args:
            # torch checks log(value) against the base's support (the reals): 0 (log -inf)
            # and inf pass, a negative value (log NaN) does not
            self.base_dist._validate_sample(x)
        return self.base_dist.cdf(x)

    def icdf(self, value):
        return self.base_dist.icdf(value).exp()

    def entropy(self):
        return self.base_dist.entropy() + self.loc
