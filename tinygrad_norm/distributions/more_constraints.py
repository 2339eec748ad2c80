"""The constraints torch has beyond the elementwise and matrix sets already in this package:
``multinomial``, ``positive_integer``, ``lower_triangular``, ``corr_cholesky``, ``square``,
``symmetric``, ``positive_semidefinite``, ``cat`` and ``stack`` -- the supports of Multinomial,
Wishart and LKJCholesky and the domains of the structured transforms. Their reprs are torch's."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .constraints import Constraint, _data, _IntegerGreaterThan

__all__ = ["cat", "corr_cholesky", "lower_triangular", "multinomial", "positive_integer",
           "positive_semidefinite", "square", "stack", "symmetric"]


class _Multinomial(Constraint):
    """Non-negative counts (the last axis) summing to at most ``upper_bound``."""
    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        v = _data(value)
        return Tensor(np.asarray((v >= 0).all(-1) & (v.sum(-1) <= _data(self.upper_bound))))


class _LowerTriangular(Constraint):
    event_dim = 2

    def check(self, value):
        v = _data(value)
        return Tensor(np.asarray((np.tril(v) == v).all((-2, -1))))


class _CorrCholesky(Constraint):
    """Lower triangular, positive diagonal, rows of unit norm (torch's tolerance: 10 eps of the
    dtype times the row length)."""
    event_dim = 2

    def check(self, value):
        v = _data(value)
        tol = np.finfo(v.dtype).eps * v.shape[-1] * 10
        norm_ok = (np.abs(np.linalg.norm(v, axis=-1) - 1) <= tol).all(-1)
        lower = (np.tril(v) == v).all((-2, -1))
        with np.errstate(invalid="ignore"):
            diag = (np.diagonal(v, axis1=-2, axis2=-1) > 0).all(-1)
        return Tensor(np.asarray(lower & diag & norm_ok))


class _Square(Constraint):
    event_dim = 2

    def check(self, value):
        v = _data(value)
        return Tensor(np.full(v.shape[:-2], v.shape[-1] == v.shape[-2], dtype=bool))


class _Symmetric(_Square):
    def check(self, value):
        v = _data(value)
        if v.shape[-1] != v.shape[-2]:
            return Tensor(np.zeros(v.shape[:-2], dtype=bool))
        with np.errstate(invalid="ignore"):
            return Tensor(np.asarray(np.isclose(v, np.swapaxes(v, -1, -2), atol=1e-6)
                                     .all((-2, -1))))


class _PositiveSemidefinite(_Symmetric):
    def check(self, value):
        sym = super().check(value).data
        if not sym.all():
            return Tensor(sym)
        return Tensor(np.asarray((np.linalg.eigvalsh(_data(value)) >= 0).all(-1)))


class _Cat(Constraint):
    """``cseq[i]`` on the ``lengths[i]`` slice of axis ``dim``."""

    def __init__(self, cseq, dim=0, lengths=None):
        self.cseq = list(cseq)
        self.lengths = [1] * len(self.cseq) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.cseq):
            raise ValueError("cat: lengths must have one entry per constraint")
        self.dim = dim

    @property
    def is_discrete(self):
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        return max(c.event_dim for c in self.cseq)

    def check(self, value):
        v = _data(value)
        parts, start = [], 0
        for c, n in zip(self.cseq, self.lengths):
            parts.append(_data(c.check(np.take(v, range(start, start + n), axis=self.dim))))
            start += n
        return Tensor(np.concatenate(parts, self.dim))


class _Stack(Constraint):
    """``cseq[i]`` on index ``i`` of axis ``dim``."""

    def __init__(self, cseq, dim=0):
        self.cseq, self.dim = list(cseq), dim

    @property
    def is_discrete(self):
        return any(c.is_discrete for c in self.cseq)

    @property
    def event_dim(self):
        dim = max(c.event_dim for c in self.cseq)
        return dim + 1 if self.dim + dim < 0 else dim

    def check(self, value):
        v = _data(value)
        return Tensor(np.stack([_data(c.check(np.take(v, i, axis=self.dim)))
                                for i, c in enumerate(self.cseq)], self.dim))


multinomial = _Multinomial
positive_integer = _IntegerGreaterThan(1)
lower_triangular = _LowerTriangular()
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
cat, stack = _Cat, _Stack
