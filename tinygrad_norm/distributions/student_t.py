"""StudentT(df, loc=0., scale=1.), as ``torch.distributions.StudentT``; draws are
``loc + scale * X / sqrt(Z / df)`` with X standard normal and Z ~ Chi2(df), as torch's, so
``rsample`` differentiates ``df`` through the chi-squared draw's implicit gradient."""
from __future__ import annotations

import math
import numbers


from ..special import digamma, gammaln
from ..tensor import Tensor, where
from . import constraints
from .distribution import Distribution
from .gamma import Chi2
from .utils import broadcast_all, standard_normal

__all__ = ["StudentT"]

_HALF_LOG_PI = 0.5 * math.log(math.pi)


class StudentT(Distribution):
    """Student's t with ``df`` degrees of freedom, shifted by ``loc`` and scaled by ``scale``."""
    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        scalar = all(isinstance(v, numbers.Number) for v in (df, loc, scale))
        super().__init__(() if scalar else self.df.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(StudentT, _instance)
        batch_shape = tuple(batch_shape)
        new.df = self.df.expand(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new._chi2 = self._chi2.expand(batch_shape)
        return self._finish_expand(StudentT, new, batch_shape)

    @property
    def mean(self):
        """loc where df > 1, NaN where the mean does not exist (no gradient there)."""
        return where(self.df.data <= 1, math.nan, self.loc)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        """scale^2 df / (df - 2) where df > 2, inf for 1 < df <= 2, NaN for df <= 1."""
        d = self.df.data
        big = d > 2
        safe = where(big, self.df, 3.0)  # keeps df - 2 away from 0 in the unused branch
        v = where(big, self.scale ** 2 * safe / (safe - 2), self.df * 0.0 + math.inf)
        return where(d <= 1, math.nan, v)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x = standard_normal(shape, self.df.dtype)
        z = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * (x * (z / self.df).rsqrt())

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        df = self.df
        y = (value - self.loc) / self.scale
        z = (self.scale.log() + 0.5 * df.log() + _HALF_LOG_PI + gammaln(0.5 * df)
             - gammaln(0.5 * (df + 1.0)))
        return -0.5 * (df + 1.0) * (y ** 2 / df).log1p() - z

    def entropy(self):
        df = self.df
        lbeta = gammaln(0.5 * df) + math.lgamma(0.5) - gammaln(0.5 * (df + 1))
        return (self.scale.log() + 0.5 * (df + 1) * (digamma(0.5 * (df + 1)) - digamma(0.5 * df))
                + 0.5 * df.log() + lbeta)


