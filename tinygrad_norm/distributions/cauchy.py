"""Cauchy(loc, scale), and the half-distributions HalfCauchy(scale) and HalfNormal(scale), as
``torch.distributions``: the heavy-tailed and folded priors of hierarchical models (the eight
schools' ``tau ~ HalfCauchy(5)``). Composites of Tensor ops: their gradients come from the tape.

torch builds the half-distributions as a ``TransformedDistribution`` of the base folded by an
absolute value; here they are plain distributions holding that base as ``base_dist``, with
torch's formulas (density doubled on ``[0, inf)`` and ``-inf`` below 0)."""
from __future__ import annotations

import math

import numpy as np

from .. import random as _random
from ..tensor import Tensor, where
from . import constraints
from .distribution import Distribution
from .loc_scale import LocScale
from .normal import Normal
from .utils import broadcast_all

__all__ = ["Cauchy", "HalfCauchy", "HalfNormal"]

_LOG_2 = math.log(2)


class Cauchy(LocScale):
    """The Cauchy (Lorentz) distribution: density 1 / (pi scale (1 + ((x - loc) / scale)^2))."""

    @property
    def mean(self):  # undefined: NaN, as torch's
        return Tensor(np.full(self._extended_shape(), np.nan, self.loc.dtype))

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return Tensor(np.full(self._extended_shape(), np.inf, self.loc.dtype))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = Tensor(np.asarray(_random.generator().standard_cauchy(shape), self.loc.dtype))
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value):
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()


class _Half(Distribution):
    """A base distribution centred at 0 folded onto [0, inf): density doubled there."""
    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _base = None  # the base family, given scale

    def __init__(self, scale, validate_args=None):
        (scale,) = broadcast_all(scale)
        self.base_dist = self._base(Tensor(np.zeros((), scale.dtype)), scale)
        shape = self.base_dist.batch_shape
        super().__init__(shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        cls = type(self)
        new = self._get_checked_instance(cls, _instance)
        batch_shape = tuple(batch_shape)
        new.base_dist = self.base_dist.expand(batch_shape)
        return self._finish_expand(cls, new, batch_shape)

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mode(self):
        return self.scale * 0.0

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape).abs()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        lp = self.base_dist.log_prob(value) + _LOG_2
        return where(value.data >= 0, lp, Tensor(np.array(-np.inf, lp.dtype)))

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - _LOG_2


class HalfCauchy(_Half):
    """|X| for X ~ Cauchy(0, scale): the usual prior of a hierarchical model's scale."""
    _base = Cauchy

    @property
    def mean(self):
        return Tensor(np.full(self._extended_shape(), np.inf, self.scale.dtype))

    @property
    def variance(self):
        return Tensor(np.full(self._extended_shape(), np.inf, self.scale.dtype))


class HalfNormal(_Half):
    """|X| for X ~ Normal(0, scale)."""
    _base = Normal

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self):
        return self.scale ** 2 * (1 - 2 / math.pi)
