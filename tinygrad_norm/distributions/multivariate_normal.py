"""MultivariateNormal(loc, covariance_matrix | precision_matrix | scale_tril), as
``torch.distributions.MultivariateNormal``: everything is computed from the lower Cholesky
factor L of the covariance (kept unbroadcast, so a batch of means can share one matrix).

``L^-1 x`` is ``linalg.solve_triangular`` on L's lower triangle, as torch's: the gradient that
reaches L is lower-triangular (an upper entry is never read)."""
from __future__ import annotations

import math

import numpy as np

from .. import linalg
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .kl import register_kl
from .matrix_constraints import lower_cholesky, positive_definite
from .utils import lazy_property, standard_normal

__all__ = ["MultivariateNormal"]

_LOG_2PI = math.log(2 * math.pi)


def _broadcast_shapes(a, b):
    try:
        return tuple(np.broadcast_shapes(tuple(a), tuple(b)))
    except ValueError:
        raise ValueError(f"MultivariateNormal: the batch shapes of loc {tuple(a)} and of the "
                         f"matrix {tuple(b)} cannot be broadcast together") from None


def _tril_solve(L, B):
    """``L^-1 B`` for lower-triangular L (..., n, n) and B (..., n, k), batch dims broadcast."""
    return linalg.solve_triangular(L, B, upper=False)


def _mahalanobis(L, x):
    """``|L^-1 x|^2`` over the last axis of x (..., n), L's batch broadcast against x's. When x
    only adds leading (sample) axes to L's batch, they become columns of one solve per matrix,
    not copies of L."""
    n = x.shape[-1]
    lb = tuple(L.shape[:-2])
    full = _broadcast_shapes(x.shape[:-1], lb)
    x = x.expand(full + (n,)) if tuple(x.shape[:-1]) != full else x
    k = len(full) - len(lb)
    if full[k:] != lb:  # L broadcast along an axis of its own: solve with L broadcast
        y = _tril_solve(L, x.reshape(x.shape + (1,)))
        return (y * y).sum((-2, -1))
    lead = full[:k]
    m = math.prod(lead)
    cols = x.reshape((m,) + lb + (n,)).permute(*range(1, len(lb) + 2), 0)  # lb + (n, m)
    y = _tril_solve(L, cols)
    out = (y * y).sum(-2)  # lb + (m,)
    return out.permute(len(lb), *range(len(lb))).reshape(full)


def _precision_to_scale_tril(P):
    """The lower factor L of P^-1 (L L^T = P^-1) without inverting P: with J the reversal
    permutation, chol(J P J) = J U J for P = U U^T (U upper), so L = U^-T = (J chol(J P J) J)^-T."""
    lf = linalg.cholesky(P.flip(-2, -1))
    u = lf.flip(-2, -1)  # upper triangular: P = u u^T
    eye = Tensor(np.broadcast_to(np.eye(P.shape[-1], dtype=P.dtype), P.shape))
    return _tril_solve(u.mT, eye)  # (u^T)^-1, lower triangular


class MultivariateNormal(Distribution):
    """The normal distribution over vectors with mean ``loc`` and covariance given by exactly one
    of ``covariance_matrix``, ``precision_matrix`` (its inverse) or ``scale_tril`` (its lower
    Cholesky factor, positive diagonal)."""
    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": positive_definite,
                       "precision_matrix": positive_definite, "scale_tril": lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if not isinstance(loc, Tensor):
            raise TypeError(f"MultivariateNormal: loc must be a Tensor, got {type(loc).__name__}")
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [(k, v) for k, v in (("covariance_matrix", covariance_matrix),
                                     ("precision_matrix", precision_matrix),
                                     ("scale_tril", scale_tril)) if v is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        name, m = given[0]
        if not isinstance(m, Tensor):
            raise TypeError(f"MultivariateNormal: {name} must be a Tensor, got "
                            f"{type(m).__name__}")
        if m.ndim < 2:
            what = "scale_tril matrix" if name == "scale_tril" else name
            raise ValueError(f"{what} must be at least two-dimensional, with optional leading "
                             "batch dimensions")
        n = loc.shape[-1]
        if m.shape[-2:] != (n, n):  # torch accepts this and fails later, in log_prob or rsample
            raise ValueError(f"MultivariateNormal: {name} must be of shape (..., {n}, {n}) to "
                             f"match loc's last dim {n}, got {tuple(m.shape)}")
        batch = _broadcast_shapes(m.shape[:-2], loc.shape[:-1])
        setattr(self, name, m.expand(batch + (n, n)))
        self.loc = loc.expand(batch + (n,))
        super().__init__(batch, (n,), validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = m
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = linalg.cholesky(m)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(m)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = tuple(batch_shape)
        n = self._event_shape[0]
        new.loc = self.loc.expand(batch_shape + (n,))
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "precision_matrix", "scale_tril"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(batch_shape + (n, n)))
        return self._finish_expand(MultivariateNormal, new, batch_shape)

    def _full(self, t):
        n = self._event_shape[0]
        return t.expand(self._batch_shape + (n, n))

    @lazy_property
    def scale_tril(self):
        return self._full(self._unbroadcasted_scale_tril)

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return self._full(L @ L.mT)

    @lazy_property
    def precision_matrix(self):
        L = self._unbroadcasted_scale_tril
        eye = Tensor(np.broadcast_to(np.eye(L.shape[-1], dtype=L.dtype), L.shape))
        # (L L^T)^-1 = L^-T L^-1, with L read whole (no tril): torch's cholesky_inverse gives
        # the upper entries of a scale_tril a gradient too
        inv = linalg.solve(L, eye)
        return self._full(inv.mT @ inv)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return (self._unbroadcasted_scale_tril ** 2).sum(-1).expand(
            self._batch_shape + self._event_shape)

    def rsample(self, sample_shape=()):
        eps = standard_normal(self._extended_shape(sample_shape), self.loc.dtype)
        L = self._unbroadcasted_scale_tril
        return self.loc + (L @ eps.reshape(eps.shape + (1,))).reshape(eps.shape)

    def _half_log_det(self):
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        m = _mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        return -0.5 * (self._event_shape[0] * _LOG_2PI + m) - self._half_log_det()

    def entropy(self):
        h = 0.5 * self._event_shape[0] * (1.0 + _LOG_2PI) + self._half_log_det()
        return h if self._batch_shape == () else h.expand(self._batch_shape)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different event "
                         "shapes cannot be computed")
    n = p.event_shape[0]
    lp, lq = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    batch = _broadcast_shapes(lq.shape[:-2], lp.shape[:-2])
    # tr(Sq^-1 Sp) = |Lq^-1 Lp|_F^2
    x = _tril_solve(lq.expand(batch + (n, n)), lp.expand(batch + (n, n)))
    term2 = (x * x).sum((-2, -1))
    term3 = _mahalanobis(lq, q.loc - p.loc)
    return q._half_log_det() - p._half_log_det() + 0.5 * (term2 + term3 - n)
