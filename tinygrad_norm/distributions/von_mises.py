"""VonMises(loc, concentration), as ``torch.distributions.VonMises``: the circular normal on
[-pi, pi). log I0 and I1 / I0 come from ``tinygrad_norm.special``'s i0e and i1e, exact to
float64 rounding, where torch 2.13 uses Abramowitz-Stegun polynomial fits (relative error
~1e-7): our log_prob and variance differ from torch's by that much, and match the exact
formula. Draws by Best and Fisher's rejection sampler, in float64, as torch's."""
from __future__ import annotations

import math

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..special import i0e, i1e
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["VonMises"]


def _log_i0(x):
    return i0e(x).log() + x  # i0e(x) = exp(-|x|) I0(x); x > 0 here


def _rejection_sample(loc, kappa, shape, rng):
    """Best and Fisher (1979): a wrapped-Cauchy envelope, accepted by two cheap tests."""
    kappa = np.broadcast_to(kappa, shape)
    tau = 1 + np.sqrt(1 + 4 * kappa ** 2)
    rho = (tau - np.sqrt(2 * tau)) / (2 * kappa)
    # tiny kappa: rho's formula cancels; r = 1/kappa + kappa is its expansion
    r = np.where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho ** 2) / (2 * rho))
    x = np.zeros(shape)
    done = np.zeros(shape, dtype=bool)
    while not done.all():
        u1, u2, u3 = rng.random((3,) + shape)
        z = np.cos(math.pi * u1)
        f = (1 + r * z) / (r + z)
        c = kappa * (r - f)
        with np.errstate(divide="ignore", invalid="ignore"):
            accept = ~done & (((c * (2 - c) - u2) > 0) | (np.log(c / u2) + 1 - c >= 0))
        x = np.where(accept, np.sign(u3 - 0.5) * np.arccos(np.clip(f, -1, 1)), x)
        done |= accept
    return (x + math.pi + loc) % (2 * math.pi) - math.pi


class VonMises(Distribution):
    """Density exp(kappa cos(x - loc)) / (2 pi I0(kappa)), kappa the concentration."""
    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, (), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(VonMises, _instance)
        batch_shape = tuple(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        return self._finish_expand(VonMises, new, batch_shape)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        k = self.concentration
        return k * (value - self.loc).cos() - math.log(2 * math.pi) - _log_i0(k)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            loc = self.loc.data.astype(np.float64)
            kappa = self.concentration.data.astype(np.float64)
            x = _rejection_sample(loc, kappa, shape, _random.generator())
            return Tensor(x.astype(self.loc.dtype))

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        """The circular variance 1 - I1(kappa) / I0(kappa)."""
        k = self.concentration
        return 1 - i1e(k) / i0e(k)
