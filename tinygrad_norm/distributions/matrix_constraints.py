"""The matrix constraints of MultivariateNormal, as torch's ``constraints.positive_definite``
and ``constraints.lower_cholesky``: ``check`` gives one bool per matrix (event_dim 2) and the
repr is torch's, because the validation errors quote it. (Kept beside constraints.py, which
holds the elementwise and vector sets.)"""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .constraints import Constraint, _data

__all__ = ["lower_cholesky", "positive_definite"]


def _cholesky_ok(m):
    """One bool per matrix of ``m`` (..., n, n): does a Cholesky factorisation succeed? One
    batched call when all do; one call per matrix only to find which fail."""
    try:
        np.linalg.cholesky(m)
        return np.ones(m.shape[:-2], dtype=bool)
    except np.linalg.LinAlgError:
        pass
    flat = m.reshape((-1,) + m.shape[-2:])
    ok = np.empty(len(flat), dtype=bool)
    for i, a in enumerate(flat):
        try:
            np.linalg.cholesky(a)
            ok[i] = True
        except np.linalg.LinAlgError:
            ok[i] = False
    return ok.reshape(m.shape[:-2])


class _PositiveDefinite(Constraint):
    """Square, symmetric (torch's tolerance: isclose with atol 1e-6) and with a Cholesky factor."""
    event_dim = 2

    def check(self, value):
        v = _data(value)
        batch = v.shape[:-2]
        if v.shape[-1] != v.shape[-2]:
            return Tensor(np.zeros(batch, dtype=bool))
        with np.errstate(invalid="ignore"):
            # NaN is not close to itself: a matrix with NaN fails here
            sym = np.isclose(v, np.swapaxes(v, -1, -2), atol=1e-6).all((-2, -1))
        if not sym.all():  # torch answers the symmetry test alone when it fails anywhere
            return Tensor(np.asarray(sym))
        return Tensor(np.asarray(_cholesky_ok(v)))


class _LowerCholesky(Constraint):
    """Lower triangular with a positive diagonal."""
    event_dim = 2

    def check(self, value):
        v = _data(value)
        lower = (np.tril(v) == v).all((-2, -1))
        with np.errstate(invalid="ignore"):
            diag = (np.diagonal(v, axis1=-2, axis2=-1) > 0).all(-1)
        return Tensor(np.asarray(lower & diag))


positive_definite = _PositiveDefinite()
lower_cholesky = _LowerCholesky()
