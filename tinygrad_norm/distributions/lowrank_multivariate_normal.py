"""LowRankMultivariateNormal(loc, cov_factor, cov_diag), as torch's: a normal over vectors whose
covariance is ``W W^T + diag(D)`` (W of shape (n, m), m small). log_prob and entropy go through
the m x m capacitance matrix ``I + W^T D^-1 W`` (Woodbury and the determinant lemma), never an
n x n factorisation."""
from __future__ import annotations

import math

import numpy as np

from .. import linalg
from ..shaping import broadcast_tensors
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .kl import register_kl
from .multivariate_normal import MultivariateNormal, _kl_mvn_mvn, _mahalanobis
from .utils import lazy_property, standard_normal

__all__ = ["LowRankMultivariateNormal"]

_LOG_2PI = math.log(2 * math.pi)


def _eye_like(k, dtype):
    return Tensor(np.eye(k, dtype=dtype))


def _capacitance_tril(W, D):
    """The Cholesky factor of I + W^T D^-1 W."""
    wt_dinv = W.mT / D.unsqueeze(-2)
    return linalg.cholesky(wt_dinv @ W + _eye_like(W.shape[-1], W.dtype))


def _lowrank_logdet(W, D, cap_tril):
    """log |W W^T + D| = log |C| + log |D| (the matrix determinant lemma)."""
    return 2 * cap_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1) + D.log().sum(-1)


def _lowrank_mahalanobis(W, D, x, cap_tril):
    """x^T (W W^T + D)^-1 x = x^T D^-1 x - |C^-1/2 W^T D^-1 x|^2 (Woodbury)."""
    wt_dinv_x = ((W.mT / D.unsqueeze(-2)) @ x.unsqueeze(-1)).squeeze(-1)
    return (x ** 2 / D).sum(-1) - _mahalanobis(cap_tril, wt_dinv_x)


def _tensor(x, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"LowRankMultivariateNormal: {name} must be a Tensor, got "
                        f"{type(x).__name__}")
    return x


class LowRankMultivariateNormal(Distribution):
    """Mean ``loc`` (..., n); covariance ``cov_factor @ cov_factor^T + diag(cov_diag)``."""
    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        loc, cov_factor, cov_diag = (_tensor(loc, "loc"), _tensor(cov_factor, "cov_factor"),
                                     _tensor(cov_diag, "cov_diag"))
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = tuple(loc.shape[-1:])
        if cov_factor.ndim < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if tuple(cov_factor.shape[-2:-1]) != event_shape:
            raise ValueError(f"cov_factor must be a batch of matrices with shape "
                             f"{event_shape[0]} x m")
        if tuple(cov_diag.shape[-1:]) != event_shape:
            raise ValueError(f"cov_diag must be a batch of vectors with shape {event_shape}")
        try:
            loc_, self.cov_factor, diag_ = broadcast_tensors(loc.unsqueeze(-1), cov_factor,
                                                             cov_diag.unsqueeze(-1))
        except ValueError:
            raise ValueError(f"Incompatible batch shapes: loc {tuple(loc.shape)}, cov_factor "
                             f"{tuple(cov_factor.shape)}, cov_diag {tuple(cov_diag.shape)}"
                             ) from None
        self.loc, self.cov_diag = loc_[..., 0], diag_[..., 0]
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        super().__init__(self.loc.shape[:-1], event_shape, validate_args=validate_args)
        # factorised after validation: a bad cov_diag is torch's ValueError, not a failed Cholesky
        self._capacitance_tril = _capacitance_tril(cov_factor, cov_diag)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LowRankMultivariateNormal, _instance)
        batch_shape = tuple(batch_shape)
        loc_shape = batch_shape + self._event_shape
        new.loc = self.loc.expand(loc_shape)
        new.cov_diag = self.cov_diag.expand(loc_shape)
        new.cov_factor = self.cov_factor.expand(loc_shape + tuple(self.cov_factor.shape[-1:]))
        new._unbroadcasted_cov_factor = self._unbroadcasted_cov_factor
        new._unbroadcasted_cov_diag = self._unbroadcasted_cov_diag
        new._capacitance_tril = self._capacitance_tril
        return self._finish_expand(LowRankMultivariateNormal, new, batch_shape)

    def _full(self, t):
        return t.expand(self._batch_shape + self._event_shape + self._event_shape)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        return ((self._unbroadcasted_cov_factor ** 2).sum(-1) + self._unbroadcasted_cov_diag
                ).expand(self._batch_shape + self._event_shape)

    @lazy_property
    def scale_tril(self):
        # D^1/2 chol(I + D^-1/2 W W^T D^-1/2): an n x n factorisation, only when asked for
        sqrt_d = self._unbroadcasted_cov_diag.sqrt().unsqueeze(-1)
        w = self._unbroadcasted_cov_factor / sqrt_d
        k = w @ w.mT + _eye_like(self._event_shape[0], w.dtype)
        return self._full(sqrt_d * linalg.cholesky(k))

    @lazy_property
    def covariance_matrix(self):
        w = self._unbroadcasted_cov_factor
        return self._full(w @ w.mT + self._unbroadcasted_cov_diag.diag_embed())

    @lazy_property
    def precision_matrix(self):
        d = self._unbroadcasted_cov_diag
        a = linalg.solve_triangular(self._capacitance_tril,
                                    self._unbroadcasted_cov_factor.mT / d.unsqueeze(-2),
                                    upper=False)
        return self._full(d.reciprocal().diag_embed() - a.mT @ a)

    def _reparam(self, eps_w, eps_d):
        """The draw for standard normal noises (given, so tests can fix them)."""
        w = self._unbroadcasted_cov_factor
        return self.loc + (w @ eps_w.unsqueeze(-1)).squeeze(-1) \
            + self._unbroadcasted_cov_diag.sqrt() * eps_d

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        dt = self.loc.dtype
        eps_w = standard_normal(shape[:-1] + tuple(self.cov_factor.shape[-1:]), dt)
        return self._reparam(eps_w, standard_normal(shape, dt))

    def _logdet(self):
        return _lowrank_logdet(self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag,
                               self._capacitance_tril)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        m = _lowrank_mahalanobis(self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag,
                                 value - self.loc, self._capacitance_tril)
        return -0.5 * (self._event_shape[0] * _LOG_2PI + self._logdet() + m)

    def entropy(self):
        h = 0.5 * (self._event_shape[0] * (1.0 + _LOG_2PI) + self._logdet())
        return h if self._batch_shape == () else h.expand(self._batch_shape)


def _as_full(d):
    """A MultivariateNormal with d's mean and covariance (the KLs go through its factor)."""
    if isinstance(d, MultivariateNormal):
        return d
    return MultivariateNormal(d.loc, scale_tril=d.scale_tril, validate_args=False)


def _check_events(p, q):
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two (Low Rank) Multivariate Normals with "
                         "different event shapes cannot be computed")


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
@register_kl(LowRankMultivariateNormal, MultivariateNormal)
@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_lowrank(p, q):
    # through the dense n x n factors: the same value as torch's Woodbury forms, simpler
    _check_events(p, q)
    return _kl_mvn_mvn(_as_full(p), _as_full(q))
