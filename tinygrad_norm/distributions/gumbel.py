"""Gumbel(loc, scale), as ``torch.distributions.Gumbel``: the law of the maximum of many draws,
and the noise of the Gumbel-max trick. Composites of Tensor ops: gradients from the tape."""
from __future__ import annotations

import math

import numpy as np

from .. import random as _random
from ..tensor import Tensor
from .loc_scale import LocScale

__all__ = ["Gumbel"]

_EULER = 0.57721566490153286061


class Gumbel(LocScale):
    """Density exp(-(z + exp(-z))) / scale with z = (x - loc) / scale."""

    @property
    def mean(self):
        return self.loc + self.scale * _EULER

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale * (math.pi / math.sqrt(6))

    @property
    def variance(self):
        return self.stddev ** 2

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        dt = self.loc.dtype
        tiny = float(np.finfo(dt).tiny)
        # u uniform on (0, 1), kept off both ends as torch's clamp_probs: -log(-log(u)) finite
        u = np.clip(_random.generator().random(shape), tiny, 1 - float(np.finfo(dt).eps))
        return self.loc - self.scale * (-Tensor(u.astype(dt)).log()).log()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = (self.loc - value) / self.scale
        return (z - z.exp()) - self.scale.log()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (-(-(value - self.loc) / self.scale).exp()).exp()

    def icdf(self, value):
        return self.loc - self.scale * (-value.log()).log()

    def entropy(self):
        return self.scale.log() + (1 + _EULER)
