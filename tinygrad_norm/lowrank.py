"""torch's randomized low-rank factorizations: ``svd_lowrank`` (Halko, Martinsson and Tropp's
range finder: a Gaussian test matrix from the framework's generator, ``niter`` power
iterations re-orthonormalized by QR, then an exact SVD of the small projected matrix) and
``pca_lowrank`` (the same on the centred data). Composites of ``matmul``, ``linalg.qr`` and
``linalg.svd``, so gradients come from the tape; the result is exact (up to signs) when the
rank of A is at most ``q``."""
from __future__ import annotations

import numbers

from . import linalg as _la
from .tensor import Tensor

__all__ = ["svd_lowrank", "pca_lowrank"]


def _matrix(A, fn):
    if not isinstance(A, Tensor):
        raise TypeError(f"{fn}(): argument 'A' must be Tensor, not {type(A).__name__}")
    if A.ndim < 2:
        raise ValueError(f"{fn}(): A must be a matrix or a batch of matrices, got a "
                         f"{A.ndim}-D tensor")
    if A.dtype.kind != "f":
        raise TypeError(f"{fn}(): A must be a floating point tensor, got {A.dtype}")
    return A


def _count(v, fn, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
        raise ValueError(f"{name}(={v}) must be non-negative integer")
    return int(v)


def _orthonormal(X):
    return _la.qr(X).Q


def _range_basis(A, q, niter):
    """An orthonormal basis (m, min(m, q)) approximately spanning A's leading column space."""
    At = A.mT
    R = Tensor.randn(*A.shape[:-2], A.shape[-1], q, dtype=A.dtype)
    Q = _orthonormal(A @ R)
    for _ in range(niter):  # power iterations sharpen the spectrum's decay
        Q = _orthonormal(A @ _orthonormal(At @ Q))
    return Q


def svd_lowrank(A, q=6, niter=2, M=None):
    """``(U, S, V)`` with ``A - M ≈ U diag(S) V^T`` of rank ``k = min(q, m, n)``, as
    ``torch.svd_lowrank`` (``V``, not its transpose); ``M`` (broadcast to A) is subtracted
    first."""
    fn = "svd_lowrank"
    A = _matrix(A, fn)
    q, niter = _count(6 if q is None else q, fn, "q"), _count(2 if niter is None else niter,
                                                             fn, "niter")
    if M is not None:
        A = A - _matrix(M, fn)
    Q = _range_basis(A, q, niter)
    U, S, Vh = _la.svd(Q.mT @ A, full_matrices=False)
    return Q @ U, S, Vh.mT


def pca_lowrank(A, q=None, center=True, niter=2):
    """``svd_lowrank`` of A with each column's mean subtracted (``center``), ``q`` at most
    ``min(m, n)`` (6 or less when None), as ``torch.pca_lowrank``: V's columns are the
    principal directions, ``S**2 / (m - 1)`` their variances."""
    fn = "pca_lowrank"
    A = _matrix(A, fn)
    m, n = A.shape[-2:]
    q = min(6, m, n) if q is None else q
    if isinstance(q, bool) or not isinstance(q, numbers.Integral) or not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, "
                         f"n)={min(m, n)}")
    niter = _count(niter, fn, "niter")
    if center:
        A = A - A.mean(axis=-2, keepdims=True)
    return svd_lowrank(A, q, niter)
