"""Kumaraswamy(concentration1, concentration0), as ``torch.distributions.Kumaraswamy``: a
Beta-like law on (0, 1) with a closed-form inverse cdf, written as torch's, a
TransformedDistribution of Uniform(0, 1) through (1 - u^(1/b))^(1/a)."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor, where
from . import constraints
from .more_transforms import PowerTransform
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform
from .uniform import Uniform
from .utils import broadcast_all, euler_constant

__all__ = ["Kumaraswamy"]


def _moment(a, b, n):
    """E[X^n] = b B(1 + n/a, b)."""
    arg = 1 + n / a
    return b * (arg.lgamma() + b.lgamma() - (arg + b).lgamma()).exp()


class Kumaraswamy(TransformedDistribution):
    """Density a b x^(a-1) (1 - x^a)^(b-1) on (0, 1), a = concentration1, b = concentration0."""
    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        b = self.concentration0
        base = Uniform(Tensor.zeros_like(b), Tensor.ones_like(b), validate_args=validate_args)
        with np.errstate(divide="ignore"):  # a zero concentration: validation says so below
            chain = [PowerTransform(exponent=b.reciprocal()),
                     AffineTransform(loc=1.0, scale=-1.0),
                     PowerTransform(exponent=self.concentration1.reciprocal())]
        super().__init__(base, chain, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Kumaraswamy, _instance)
        batch_shape = tuple(batch_shape)
        new.concentration1 = self.concentration1.expand(batch_shape)
        new.concentration0 = self.concentration0.expand(batch_shape)
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self):
        return _moment(self.concentration1, self.concentration0, 1)

    @property
    def mode(self):
        a, b = self.concentration1, self.concentration0
        with np.errstate(invalid="ignore"):  # a, b < 1 have no mode: NaN, as torch's
            log_mode = b.reciprocal() * (-b).log1p() - (-b * a).log1p()
        return where((b.data < 1) | (a.data < 1), np.nan, log_mode).exp()

    @property
    def variance(self):
        return _moment(self.concentration1, self.concentration0, 2) - self.mean ** 2

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        h0 = (b + 1).digamma() + euler_constant
        return (1 - b.reciprocal()) + (1 - a.reciprocal()) * h0 - a.log() - b.log()
