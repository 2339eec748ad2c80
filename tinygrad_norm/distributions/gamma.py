"""Gamma(concentration, rate) and Chi2(df), as ``torch.distributions.Gamma``/``Chi2``.

Draws come from the package generator's gamma sampler. ``rsample`` differentiates a draw x by
the implicit function theorem, as torch's: with F(a, x) the gamma cdf, dx/da = -(dF/da) / p(x).
dF/da has no closed form, so F is written as its (positive, always convergent) series
``F(a, x) = sum_n exp((a + n) log x - x - lgamma(a + n + 1))``, a composite of Tensor ops whose
derivative in ``a`` the tape takes (through lgamma's digamma), and the draw is returned as
``x - (F - F.detach()) / p(x).detach()``: the value x, the first derivative the implicit one."""
from __future__ import annotations

import numbers

import numpy as np

from .. import random as _random
from ..autograd import is_grad_enabled, no_grad
from ..pointwise import xlogy
from ..special import digamma, gammainc, gammaln
from ..tensor import Tensor
from . import constraints
from .exp_family import ExponentialFamily
from .utils import _float_dtype, broadcast_all

__all__ = ["Chi2", "Gamma", "standard_gamma"]


def _draw_standard_gamma(alpha):
    """Gamma(alpha, 1) draws of alpha's shape (an array), from the package generator, at least
    the dtype's smallest normal number (as torch's clamp: a log of the draw stays finite)."""
    dt = _float_dtype(alpha.dtype)
    x = _random.generator().standard_gamma(alpha.astype(np.float64))
    return np.maximum(x, np.finfo(dt).tiny).astype(alpha.dtype, copy=False)


def _log_cdf_series_terms(a, x, n_terms):
    """log of the n-th term of F(a, x)'s series, n = 0 .. n_terms-1, on a new last axis."""
    n = Tensor(np.arange(n_terms, dtype=x.dtype))
    ae = a.reshape(a.shape + (1,)) + n
    return ae * x.log().reshape(x.shape + (1,)) - x.reshape(x.shape + (1,)) - gammaln(ae + 1)


def standard_gamma(alpha):
    """A Gamma(alpha, 1) draw with alpha's shape, differentiable in ``alpha`` by the implicit
    reparameterisation (first derivatives). The series holds (draws x terms) numbers at once."""
    x = Tensor(_draw_standard_gamma(alpha.data))
    if not (alpha.requires_grad and is_grad_enabled()):  # sample(): no series to build
        return x
    xd, ad = x.data.astype(np.float64), alpha.data.astype(np.float64)
    # the terms grow while a + n < x, then fall off within a few sqrt(x): past
    # n = (x - a)+ + 10 sqrt(x) + 40 they are below float64's resolution of the sum
    need = np.maximum(xd - ad, 0.0) + 10 * np.sqrt(xd)
    n_terms = int(np.ceil(need.max(initial=0.0))) + 40
    cdf = _log_cdf_series_terms(alpha, x, n_terms).logsumexp(-1).exp()
    with no_grad():
        log_pdf = xlogy(alpha - 1, x) - x - gammaln(alpha)
    return x - (cdf - cdf.detach()) / log_pdf.exp()


class Gamma(ExponentialFamily):
    """The gamma distribution with shape ``concentration`` and inverse scale ``rate``."""
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        scalar = isinstance(concentration, numbers.Number) and isinstance(rate, numbers.Number)
        super().__init__(() if scalar else self.rate.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = tuple(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        return self._finish_expand(Gamma, new, batch_shape)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clip(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate ** 2

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x = standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        return x

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c, r = self.concentration, self.rate
        return xlogy(c, r) + xlogy(c - 1, value) - r * value - gammaln(c)

    def cdf(self, value):
        """P(concentration, rate * value), the regularized lower incomplete gamma function: its
        gradient reaches ``value`` and ``rate``; through ``concentration`` backward raises
        NotImplementedError, as torch's."""
        if self._validate_args:
            self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)

    def entropy(self):
        c = self.concentration
        return c - self.rate.log() + gammaln(c) + (1.0 - c) * digamma(c)

    # the exponential-family form, as torch's (ExponentialFamily: Bregman KL, isinstance)
    _mean_carrier_measure = 0

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return gammaln(x + 1) + (x + 1) * (-1.0 / y).log()


class Chi2(Gamma):
    """The chi-squared distribution with ``df`` degrees of freedom: Gamma(df / 2, 1 / 2)."""
    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        broadcast_all(df)  # torch's ValueError for what is neither a Tensor nor a number
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, self._get_checked_instance(Chi2, _instance))

    @property
    def df(self):
        return self.concentration * 2
