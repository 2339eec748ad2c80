"""Weibull(scale, concentration), as ``torch.distributions.Weibull``: an Exponential(1) raised
to 1/concentration and scaled, written as torch's, a TransformedDistribution."""
from __future__ import annotations

from ..tensor import Tensor
from . import constraints
from .exponential import Exponential
from .more_transforms import PowerTransform
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform
from .utils import broadcast_all, euler_constant

__all__ = ["Weibull"]


class Weibull(TransformedDistribution):
    """Density (k / s) (x / s)^(k-1) exp(-(x / s)^k), scale s, concentration k."""
    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = broadcast_all(scale, concentration)
        self._build(Exponential(Tensor.ones_like(self.scale), validate_args=validate_args),
                    validate_args)

    def _build(self, base, validate_args):
        self.concentration_reciprocal = self.concentration.reciprocal()
        chain = [PowerTransform(exponent=self.concentration_reciprocal),
                 AffineTransform(loc=0, scale=self.scale)]
        TransformedDistribution.__init__(self, base, chain, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Weibull, _instance)
        batch_shape = tuple(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new._build(self.base_dist.expand(batch_shape), False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.scale * (1 + self.concentration_reciprocal).lgamma().exp()

    @property
    def mode(self):
        k = self.concentration
        return self.scale * ((k - 1) / k) ** k.reciprocal()

    @property
    def variance(self):
        r = self.concentration_reciprocal
        return self.scale ** 2 * ((1 + 2 * r).lgamma().exp() - (2 * (1 + r).lgamma()).exp())

    def entropy(self):
        r = self.concentration_reciprocal
        return euler_constant * (1 - r) + (self.scale * r).log() + 1
