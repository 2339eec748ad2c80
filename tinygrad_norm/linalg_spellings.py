"""torch's top-level linear algebra that ``tinygrad_norm.linalg`` covers under other names:
``cholesky_solve``, ``cholesky_inverse`` and the deprecated ``qr``, ``lu`` and ``lu_solve``
(each with torch's deprecation warning), all composites of ``linalg``'s functions, so their
gradients come from the tape.

One difference: torch's ``cholesky_solve`` and ``cholesky_inverse`` read only the factor's
triangle, yet give the other triangle a gradient too (that of ``L L^T`` with the whole matrix);
here the unread triangle gets zero, the derivative of what is computed. The read triangle's
gradients are torch's.
"""
from __future__ import annotations

import warnings

import numpy as np

from . import linalg as _linalg
from .tensor import Tensor, _bool_arg

__all__ = ["cholesky_solve", "cholesky_inverse", "qr", "lu", "lu_solve"]


def _matrices(x, fn, name, square):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    if x.ndim < 2:
        raise ValueError(f"{fn}: {name} must have at least 2 dimensions, got {x.ndim}")
    if square and x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{fn}: A must be batches of square matrices, but they are "
                         f"{x.shape[-2]} by {x.shape[-1]} matrices")
    return x


def cholesky_solve(B, L, upper=False):
    """X with ``A X = B`` for ``A = L L^T`` (``U^T U`` with ``upper``), ``L`` its Cholesky
    factor, as ``torch.cholesky_solve``: two triangular solves."""
    _matrices(B, "cholesky_solve", "B", False)
    _matrices(L, "cholesky_solve", "L", True)
    upper = _bool_arg(upper, "upper", "cholesky_solve")  # upper="False" was read as True
    if B.dtype != L.dtype:
        raise TypeError(f"Expected b and A to have the same dtype, but found b of type {B.dtype} "
                        f"and A of type {L.dtype} instead.")
    first, second = (L.mT, L) if upper else (L, L.mT)  # A = first @ second
    y = _linalg.solve_triangular(first, B, upper=False)
    return _linalg.solve_triangular(second, y, upper=True)


def cholesky_inverse(L, upper=False):
    """``(L L^T)^-1`` (``(U^T U)^-1`` with ``upper``) from the Cholesky factor."""
    _matrices(L, "cholesky_inverse", "L", True)
    upper = _bool_arg(upper, "upper", "cholesky_inverse")
    eye = Tensor(np.broadcast_to(np.eye(L.shape[-1], dtype=L.dtype), L.shape).copy())
    return cholesky_solve(eye, L, upper)


def qr(input, some=True):
    """``linalg.qr(input, "reduced" if some else "complete")``, torch's deprecated form."""
    some = _bool_arg(some, "some", "qr")  # before the warning; some="no" was reduced
    warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr (tg.linalg.qr here): "
                  "Q, R = tg.linalg.qr(A, 'reduced' if some else 'complete')", UserWarning,
                  stacklevel=2)
    return _linalg.qr(input, "reduced" if some else "complete")


def lu(A, pivot=True, get_infos=False):
    """``(LU, pivots)`` (and ``infos``, zeros, with ``get_infos``) as ``linalg.lu_factor``,
    torch's deprecated form; pivots int32, as torch's."""
    warnings.warn("torch.lu is deprecated in favor of torch.linalg.lu_factor "
                  "(tg.linalg.lu_factor here)", UserWarning, stacklevel=2)
    LU, pivots = _linalg.lu_factor(A, pivot=pivot)
    pivots = pivots.astype(np.int32)
    if get_infos:
        return LU, pivots, Tensor._wrap(np.zeros(A.shape[:-2], dtype=np.int32))
    return LU, pivots


def lu_solve(b, LU_data, LU_pivots):
    """``linalg.lu_solve(LU_data, LU_pivots, b)``: torch's deprecated form, arguments reversed."""
    warnings.warn("torch.lu_solve is deprecated in favor of torch.linalg.lu_solve "
                  "(tg.linalg.lu_solve here), whose arguments are reversed", UserWarning,
                  stacklevel=2)
    return _linalg.lu_solve(LU_data, LU_pivots, b)
