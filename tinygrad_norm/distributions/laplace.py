"""Laplace(loc, scale), as ``torch.distributions.Laplace``."""
from __future__ import annotations

import numpy as np

from .. import random as _random
from ..tensor import Tensor
from .loc_scale import LocScale

__all__ = ["Laplace"]


class Laplace(LocScale):
    """The Laplace (double exponential) distribution: density exp(-|x - loc| / scale) / 2 scale."""

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return 2 * self.scale ** 2

    @property
    def stddev(self):
        return 2 ** 0.5 * self.scale

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        dt = self.loc.dtype
        eps = float(np.finfo(dt).eps)
        # u uniform on (eps - 1, 1), as torch: |u| < 1, so log1p(-|u|) is finite
        u = eps - 1 + _random.generator().random(shape) * (2 - eps)
        u = Tensor(np.clip(u, eps - 1, np.nextafter(dt.type(1), dt.type(0))).astype(dt))
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        d = value - self.loc
        return 0.5 - 0.5 * d.sign() * (-d.abs() / self.scale).expm1()

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self):
        return 1 + (2 * self.scale).log()
