"""ContinuousBernoulli(probs or logits), as ``torch.distributions.ContinuousBernoulli``: the
density on [0, 1] proportional to p^x (1-p)^(1-x) (Loaiza-Ganem and Cunningham, 2019), an
exponential family in the logit. Near p = 1/2 (inside ``lims``) the normaliser and moments are
0/0 forms; there torch's Taylor expansions are used, as here."""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..tensor import Tensor, where
from . import constraints
from .bernoulli import BinaryParam, _one_of
from .exp_family import ExponentialFamily
from .utils import broadcast_all, clamp_probs, logits_to_probs, lazy_property, softplus

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(BinaryParam, ExponentialFamily):
    """A [0, 1]-valued relaxation of Bernoulli(probs) with a closed-form normaliser."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        _one_of(probs, logits)
        given = probs if probs is not None else logits
        (param,) = broadcast_all(given)
        if probs is not None:
            if validate_args is not None and not bool(
                    np.all(constraints.unit_interval.check(param).data)):
                raise ValueError("The parameter probs has invalid values")
            self.probs = param = clamp_probs(param)
        else:
            self.logits = param
        self._param = param
        self._lims = lims
        super().__init__(() if isinstance(given, numbers.Number) else param.shape,
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(ContinuousBernoulli, _instance)
        batch_shape = tuple(batch_shape)
        new._lims = self._lims
        self._expand_param(new, batch_shape)
        return self._finish_expand(ContinuousBernoulli, new, batch_shape)

    @lazy_property
    def probs(self):
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    # ---- the unstable region around 1/2 --------------------------------------------------------
    def _stable(self):
        p = self.probs.data
        return (p <= self._lims[0]) | (p > self._lims[1])

    def _cut_probs(self):
        """probs outside the unstable region, lims[0] inside it (where the exact forms are
        evaluated only to be discarded, at a harmless point)."""
        return where(self._stable(), self.probs, self._lims[0])

    def _cont_bern_log_norm(self):
        cut = self._cut_probs()
        below = where(cut.data <= 0.5, cut, 0.0)
        above = where(cut.data >= 0.5, cut, 1.0)
        log_norm = ((-cut).log1p() - cut.log()).abs().log() - where(
            cut.data <= 0.5, (-2.0 * below).log1p(), (2.0 * above - 1.0).log())
        x = (self.probs - 0.5) ** 2
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return where(self._stable(), log_norm, taylor)

    @property
    def mean(self):
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / ((-cut).log1p() - cut.log())
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x ** 2) * x
        return where(self._stable(), mus, taylor)

    @property
    def variance(self):
        cut = self._cut_probs()
        var = cut * (cut - 1.0) / (1.0 - 2.0 * cut) ** 2 \
            + 1.0 / ((-cut).log1p() - cut.log()) ** 2
        x = (self.probs - 0.5) ** 2
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return where(self._stable(), var, taylor)

    def sample(self, sample_shape=()):
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        dt = self.probs.dtype
        return self.icdf(Tensor(_random.generator().random(shape).astype(dt)))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        # -binary_cross_entropy_with_logits(logits, value)
        return logits * value - softplus(logits) + self._cont_bern_log_norm()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        cut = self._cut_probs()
        cdfs = (cut ** value * (1.0 - cut) ** (1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        inner = where(self._stable(), cdfs, value)
        v = value.data
        return where(v <= 0.0, 0.0, where(v >= 1.0, 1.0, inner))

    def icdf(self, value):
        cut = self._cut_probs()
        exact = ((-cut + value * (2.0 * cut - 1.0)).log1p() - (-cut).log1p()) \
            / (cut.log() - (-cut).log1p())
        return where(self._stable(), exact, value)

    def entropy(self):
        log0, log1 = (-self.probs).log1p(), self.probs.log()
        return self.mean * (log0 - log1) - self._cont_bern_log_norm() - log0

    @property
    def _natural_params(self):
        return (self.logits,)

    def _log_normalizer(self, x):
        lo, hi = self._lims[0] - 0.5, self._lims[1] - 0.5
        stable = (x.data <= lo) | (x.data > hi)
        cut = where(stable, x, lo)
        log_norm = cut.expm1().abs().log() - cut.abs().log()
        taylor = 0.5 * x + x ** 2 / 24.0 - x ** 4 / 2880.0
        return where(stable, log_norm, taylor)
