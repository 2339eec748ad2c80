"""InverseGamma(concentration, rate), as ``torch.distributions.InverseGamma``: 1 / X for X
drawn from Gamma(concentration, rate), written as torch's, a TransformedDistribution."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor, where
from . import constraints
from .gamma import Gamma
from .more_transforms import PowerTransform
from .transformed_distribution import TransformedDistribution

__all__ = ["InverseGamma"]


class InverseGamma(TransformedDistribution):
    """Density rate^a / Gamma(a) x^(-a-1) exp(-rate / x), a the concentration."""
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        base = Gamma(concentration, rate, validate_args=validate_args)
        minus_one = Tensor(np.array(-1.0, dtype=base.rate.dtype))
        super().__init__(base, PowerTransform(minus_one), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(InverseGamma, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def concentration(self):
        return self.base_dist.concentration

    @property
    def rate(self):
        return self.base_dist.rate

    @property
    def mean(self):
        a = self.concentration
        return where(a.data > 1, self.rate / (a - 1), np.inf)

    @property
    def mode(self):
        return self.rate / (self.concentration + 1)

    @property
    def variance(self):
        a = self.concentration
        return where(a.data > 2, self.rate ** 2 / ((a - 1) ** 2 * (a - 2)), np.inf)

    def entropy(self):
        a = self.concentration
        return a + self.rate.log() + a.lgamma() - (1 + a) * a.digamma()
