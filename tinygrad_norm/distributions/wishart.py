"""Wishart(df, covariance_matrix | precision_matrix | scale_tril), as
``torch.distributions.Wishart``: the law of sum_i x_i x_i^T over df normal vectors of covariance
Sigma; reparameterised draws by Bartlett's decomposition (chi and normal noise)."""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import linalg
from ..special import digamma, multigammaln
from ..linalg_spellings import cholesky_solve
from ..tensor import Tensor, cat, where
from . import constraints
from .exp_family import ExponentialFamily
from .gamma import Chi2
from .matrix_constraints import lower_cholesky, positive_definite
from .multivariate_normal import _precision_to_scale_tril
from .utils import lazy_property, standard_normal

__all__ = ["Wishart"]

_LOG_2 = math.log(2)


def _mvdigamma(x, p):
    """The multivariate digamma: sum_i digamma(x - i/2), i < p."""
    if not bool(np.all(x.data > (p - 1) / 2)):
        raise ValueError("Wrong domain for multivariate digamma function.")
    return digamma(x.unsqueeze(-1) - Tensor(np.arange(p, dtype=x.dtype) / 2)).sum(-1)


class Wishart(ExponentialFamily):
    """Positive definite p x p matrices with mean df * Sigma."""
    support = positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self):
        return {"covariance_matrix": positive_definite, "precision_matrix": positive_definite,
                "scale_tril": lower_cholesky,
                "df": constraints.greater_than(self._event_shape[-1] - 1)}

    def __init__(self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        given = [p for p in (covariance_matrix, precision_matrix, scale_tril) if p is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        param = given[0]
        if not isinstance(param, Tensor):
            raise TypeError(f"Wishart: the matrix must be a Tensor, got {type(param).__name__}")
        if param.ndim < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if isinstance(df, numbers.Number):
            batch_shape = tuple(param.shape[:-2])
            self.df = Tensor(np.asarray(df, dtype=param.dtype))
        else:
            batch_shape = tuple(np.broadcast_shapes(tuple(param.shape[:-2]), tuple(df.shape)))
            self.df = df.expand(batch_shape)
        p = param.shape[-1]
        if bool(np.any(self.df.data <= p - 1)):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        full = batch_shape + tuple(param.shape[-2:])
        if scale_tril is not None:
            self.scale_tril = param.expand(full)
        elif covariance_matrix is not None:
            self.covariance_matrix = param.expand(full)
        else:
            self.precision_matrix = param.expand(full)
        if bool(np.any(self.df.data < p)):
            warnings.warn("Low df values detected. Singular samples are highly likely to occur "
                          "for ndim - 1 < df < ndim.", stacklevel=2)
        super().__init__(batch_shape, tuple(param.shape[-2:]), validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._dist_chi2 = self._chi2(batch_shape)

    def _chi2(self, batch_shape):
        """Bartlett's diagonal: chi2 with df - i degrees of freedom, i < p."""
        p = self._event_shape[-1]
        dt = self._unbroadcasted_scale_tril.dtype
        return Chi2(self.df.unsqueeze(-1) - Tensor(np.arange(p, dtype=dt)).expand(
            tuple(batch_shape) + (p,)))

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = tuple(batch_shape)
        cov_shape = batch_shape + self._event_shape
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(cov_shape)
        new.df = self.df.expand(batch_shape)
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(cov_shape))
        self._finish_expand(Wishart, new, batch_shape)
        new._dist_chi2 = new._chi2(batch_shape)
        return new

    def _full(self, t):
        return t.expand(self._batch_shape + self._event_shape)

    @lazy_property
    def scale_tril(self):
        return self._full(self._unbroadcasted_scale_tril)

    @lazy_property
    def covariance_matrix(self):
        low = self._unbroadcasted_scale_tril
        return self._full(low @ low.mT)

    @lazy_property
    def precision_matrix(self):
        eye = Tensor(np.eye(self._event_shape[-1], dtype=self._unbroadcasted_scale_tril.dtype))
        return self._full(cholesky_solve(eye, self._unbroadcasted_scale_tril))

    def _df_matrix(self):
        return self.df.reshape(self._batch_shape + (1, 1))

    @property
    def mean(self):
        return self._df_matrix() * self.covariance_matrix

    @property
    def mode(self):
        factor = self.df - self._event_shape[-1] - 1
        factor = where(factor.data <= 0, np.nan, factor)  # no mode for df <= p + 1
        return factor.reshape(self._batch_shape + (1, 1)) * self.covariance_matrix

    @property
    def variance(self):
        v = self.covariance_matrix
        d = v.diagonal(dim1=-2, dim2=-1)
        return self._df_matrix() * (v ** 2 + d.unsqueeze(-1) * d.unsqueeze(-2))

    def _reparam(self, chi2_draws, normals):
        """The draw for chi2 draws (..., p) and standard normals (..., p(p-1)/2), given so that
        tests can fix them: L A A^T L^T with A lower triangular, sqrt(chi2) on its diagonal."""
        p = self._event_shape[-1]
        eps = float(np.finfo(chi2_draws.dtype).eps)
        diag = chi2_draws.sqrt().clip(eps).diag_embed()
        rows, cols = np.tril_indices(p, -1)
        flat = np.zeros(p * p, dtype=np.int64)
        flat[rows * p + cols] = np.arange(1, len(rows) + 1)
        padded = cat([Tensor(np.zeros(tuple(normals.shape[:-1]) + (1,), dtype=normals.dtype)),
                      normals], -1)
        a = diag + padded[..., flat].reshape(tuple(normals.shape[:-1]) + (p, p))
        chol = self._unbroadcasted_scale_tril @ a
        return chol @ chol.mT

    def rsample(self, sample_shape=(), max_try_correction=None):
        """A draw; singular draws (possible only for df < p) are drawn again, up to
        ``max_try_correction`` (10) times, with torch's warning."""
        sample_shape = tuple(sample_shape)
        p = self._event_shape[-1]
        lead = sample_shape + self._batch_shape
        dt = self._unbroadcasted_scale_tril.dtype

        def draw():
            return self._reparam(self._dist_chi2.rsample(sample_shape),
                                 standard_normal(lead + (p * (p - 1) // 2,), dt))
        sample = draw()
        bad = ~positive_definite.check(sample).data
        if bad.any():
            warnings.warn("Singular sample detected.", stacklevel=2)
            for _ in range(10 if max_try_correction is None else max_try_correction):
                sample = where(bad[..., None, None], draw(), sample)
                bad = ~positive_definite.check(sample).data
                if not bad.any():
                    break
        return sample

    def _half_log_det_term(self):
        p = self._event_shape[-1]
        return p * _LOG_2 / 2 + self._unbroadcasted_scale_tril.diagonal(
            dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        nu, p = self.df, self._event_shape[-1]
        trace = cholesky_solve(value, self._unbroadcasted_scale_tril).diagonal(
            dim1=-2, dim2=-1).sum(-1)
        return (-nu * self._half_log_det_term() - multigammaln(nu / 2, p)
                + (nu - p - 1) / 2 * linalg.slogdet(value).logabsdet - trace / 2)

    def entropy(self):
        nu, p = self.df, self._event_shape[-1]
        return ((p + 1) * self._half_log_det_term() + multigammaln(nu / 2, p)
                - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p) + nu * p / 2)

    @property
    def _natural_params(self):
        p = self._event_shape[-1]
        return -self.precision_matrix / 2, (self.df - p - 1) / 2

    def _log_normalizer(self, x, y):
        p = self._event_shape[-1]
        return (y + (p + 1) / 2) * (-linalg.slogdet(-2 * x).logabsdet + _LOG_2 * p) \
            + multigammaln(y + (p + 1) / 2, p)
