"""Dirichlet(concentration), as ``torch.distributions.Dirichlet``: a probability vector over the
last axis of ``concentration``. Draws normalise independent Gamma(concentration_i, 1) draws; so
``rsample``'s gradient is the gammas' implicit one carried through the normalisation (unbiased,
but not draw for draw torch's, which differentiates each coordinate's Beta marginal)."""
from __future__ import annotations

import numpy as np

from ..special import digamma, gammaln
from ..pointwise import xlogy
from ..tensor import Tensor, where
from . import constraints
from .exp_family import ExponentialFamily
from .gamma import standard_gamma

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    """The Dirichlet distribution with (positive) ``concentration``, events over its last axis."""
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if not isinstance(concentration, Tensor):
            raise TypeError(f"Dirichlet: concentration must be a Tensor, got "
                            f"{type(concentration).__name__}")
        if concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        shape = tuple(concentration.shape)
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = tuple(batch_shape)
        new.concentration = self.concentration.expand(batch_shape + self._event_shape)
        return self._finish_expand(Dirichlet, new, batch_shape)

    def rsample(self, sample_shape=()):
        g = standard_gamma(self.concentration.expand(self._extended_shape(sample_shape)))
        return g / g.sum(-1, keepdims=True)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return xlogy(c - 1.0, value).sum(-1) + gammaln(c.sum(-1)) - gammaln(c).sum(-1)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdims=True)

    @property
    def mode(self):
        """The interior mode; where every concentration is below 1, the corner of the largest
        (as torch: a one-hot vector, no gradient)."""
        c = self.concentration
        cm1 = (c - 1).clip(min=0)
        corner = np.all(c.data < 1, axis=-1, keepdims=True)
        mode = cm1 / where(corner, 1.0, cm1.sum(-1, keepdims=True))  # no 0/0 at a corner
        if not corner.any():
            return mode
        # torch takes the argmax of its 0/0 NaN row: the first category
        hot = np.eye(c.shape[-1], dtype=c.dtype)[np.zeros(corner.shape[:-1], dtype=np.int64)]
        return where(np.broadcast_to(corner, mode.shape), Tensor(hot), mode)

    @property
    def variance(self):
        c = self.concentration
        c0 = c.sum(-1, keepdims=True)
        return c * (c0 - c) / (c0 ** 2 * (c0 + 1))

    def entropy(self):
        c = self.concentration
        k = c.shape[-1]
        a0 = c.sum(-1)
        return (gammaln(c).sum(-1) - gammaln(a0) - (k - a0) * digamma(a0)
                - ((c - 1.0) * digamma(c)).sum(-1))

    # the exponential-family form, as torch's (ExponentialFamily: Bregman KL, isinstance)
    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return gammaln(x).sum(-1) - gammaln(x.sum(-1))
