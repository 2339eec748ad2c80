"""FisherSnedecor(df1, df2), as ``torch.distributions.FisherSnedecor``: the ratio of two scaled
chi-squared draws (the F distribution), reparameterised through two Gammas."""
from __future__ import annotations

import numbers

import numpy as np

from ..tensor import where
from . import constraints
from .distribution import Distribution
from .gamma import Gamma
from .utils import broadcast_all

__all__ = ["FisherSnedecor"]


class FisherSnedecor(Distribution):
    """(X1 / df1) / (X2 / df2), Xi chi-squared with dfi degrees of freedom."""
    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = broadcast_all(df1, df2)
        # Gamma(df / 2, df) is chi2(df) / (2 df): their ratio is the F ratio
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        scalar = isinstance(df1, numbers.Number) and isinstance(df2, numbers.Number)
        super().__init__(() if scalar else self.df1.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(FisherSnedecor, _instance)
        batch_shape = tuple(batch_shape)
        new.df1, new.df2 = self.df1.expand(batch_shape), self.df2.expand(batch_shape)
        new._gamma1 = self._gamma1.expand(batch_shape)
        new._gamma2 = self._gamma2.expand(batch_shape)
        return self._finish_expand(FisherSnedecor, new, batch_shape)

    @property
    def mean(self):
        df2 = where(self.df2.data <= 2, np.nan, self.df2)  # undefined for df2 <= 2
        return df2 / (df2 - 2)

    @property
    def mode(self):
        d1, d2 = self.df1, self.df2
        return where(d1.data <= 2, np.nan, (d1 - 2) / d1 * d2 / (d2 + 2))

    @property
    def variance(self):
        d1 = self.df1
        d2 = where(self.df2.data <= 4, np.nan, self.df2)
        return 2 * d2 ** 2 * (d1 + d2 - 2) / (d1 * (d2 - 2) ** 2 * (d2 - 4))

    def _reparam(self, x1, x2):
        """The draw for Gamma draws x1, x2 (given, so tests can fix them), kept off 0."""
        tiny = float(np.finfo(x2.dtype).tiny)
        return (x1 / x2.clip(tiny)).clip(tiny)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x1 = self._gamma1.rsample(sample_shape).reshape(shape)
        x2 = self._gamma2.rsample(sample_shape).reshape(shape)
        return self._reparam(x1, x2)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c1, c2, ratio = self.df1 * 0.5, self.df2 * 0.5, self.df1 / self.df2
        t1 = (c1 + c2).lgamma() - c1.lgamma() - c2.lgamma()
        t2 = c1 * ratio.log() + (c1 - 1) * value.log()
        t3 = (c1 + c2) * (ratio * value).log1p()
        return t1 + t2 - t3
