"""torch.linalg's remaining real-valued functions, as composites of the factorizations in
linalg.py: the ``_ex`` variants that report failures in an ``info`` tensor instead of raising
(``cholesky_ex``, ``inv_ex``, ``solve_ex``), the condition number ``cond``, ``tensorinv``,
``tensorsolve``, ``vander`` and ``householder_product``. Their gradients come from the tape.

A matrix an ``_ex`` function cannot handle gets NaN in its result (torch leaves LAPACK's partial
work there, often +-inf: values no caller may use) and no gradient; the others in its batch
are computed and differentiated as usual."""
from __future__ import annotations

import math
import numbers
from collections import namedtuple

import numpy as np

from . import linalg as _la
from ._shape_checks import int_tuple
from .linalg import LinAlgError, _first, _flag, _matrices, _not_positive_definite, _prefix, \
    _tensor_arg, _torch_type, _zero_pivots
from .tensor import Tensor, concatenate, where

__all__ = ["cholesky_ex", "inv_ex", "solve_ex", "cond", "tensorinv", "tensorsolve", "vander",
           "householder_product"]

CholeskyExResult = namedtuple("linalg_cholesky_ex", "L info")
InvExResult = namedtuple("linalg_inv_ex", "inverse info")
SolveExResult = namedtuple("linalg_solve_ex", "result info")


# ---- the _ex variants ---------------------------------------------------------------------------

def _masked(A, bad):
    """A with each failing matrix (``bad``, over the batch) replaced by the identity, so the
    factorization runs on the rest; a select, so those matrices get a zero gradient."""
    if not bad.any():
        return A
    eye = np.eye(A.shape[-1], dtype=A._data.dtype)
    return where(bad[..., None, None], eye, A)


def _nan_where(X, bad, vector=False):
    if not bad.any():
        return X
    return where(bad[..., None] if vector else bad[..., None, None], np.nan, X)


def cholesky_ex(A, *, upper=False, check_errors=False):
    """``(L, info)``, as ``torch.linalg.cholesky_ex``: ``info`` (int32, one per matrix) is the
    order of the first leading minor that is not positive-definite (0: factored). With
    ``check_errors`` such a matrix is ``cholesky``'s ``LinAlgError``; without, its L is NaN."""
    fn = "linalg.cholesky_ex"
    upper = _flag(upper, "upper", "linalg_cholesky_ex")
    check = _flag(check_errors, "check_errors", "linalg_cholesky_ex")
    _matrices(A, fn, kernel="cholesky_cpu")
    a = A._data
    src = np.swapaxes(a, -1, -2) if upper else a
    info = _not_positive_definite(src).reshape(a.shape[:-2]).astype(np.int32)
    if check and info.any():
        i, k = _first(info.reshape(-1))
        raise LinAlgError(f"{fn}: {_prefix(a, i)}The factorization could not be completed "
                          f"because the input is not positive-definite (the leading minor of "
                          f"order {k} is not positive-definite).")
    bad = info != 0
    L = _la.cholesky(_masked(A, bad), upper=upper)
    return CholeskyExResult(_nan_where(L, bad), Tensor._wrap(info))


def _singular(a):
    return _zero_pivots(a).reshape(a.shape[:-2]).astype(np.int32)


def inv_ex(A, *, check_errors=False):
    """``(inverse, info)``, as ``torch.linalg.inv_ex``: ``info`` (int32, one per matrix) is the
    1-based column of the first exactly-zero pivot of its LU factorization (0: inverted). With
    ``check_errors`` a singular matrix is ``inv``'s ``LinAlgError``; without, its inverse is
    NaN."""
    fn = "linalg.inv_ex"
    check = _flag(check_errors, "check_errors", "linalg_inv_ex")
    _matrices(A, fn)
    a = A._data
    info = _singular(a)
    if check and info.any():
        i, k = _first(info.reshape(-1))
        raise LinAlgError(f"{fn}: {_prefix(a, i)}The diagonal element {k} is zero, the "
                          f"inversion could not be completed because the input matrix is "
                          f"singular.")
    bad = info != 0
    return InvExResult(_nan_where(_la.inv(_masked(A, bad)), bad), Tensor._wrap(info))


def solve_ex(A, B, *, left=True, check_errors=False):
    """``(result, info)``, as ``torch.linalg.solve_ex``: ``solve``'s result and, per matrix of
    A, the ``info`` of ``inv_ex``. With ``check_errors`` a singular A is ``solve``'s
    ``LinAlgError``; without, the solutions that need it are NaN."""
    fn = "linalg.solve_ex"
    check = _flag(check_errors, "check_errors", "linalg_solve_ex")
    _tensor_arg(A, fn, "A")
    _tensor_arg(B, fn, "B")
    _matrices(A, fn, kernel="lu_cpu")
    a = A._data
    info = _singular(a)
    if check and info.any():
        i, _ = _first(info.reshape(-1))
        raise LinAlgError(f"torch.{fn}: {_prefix(a, i)}The solver failed because the input "
                          f"matrix is singular.")
    bad = info != 0
    X = _la.solve(_masked(A, bad), B, left=left)
    if bad.any():
        vector = X.ndim == A.ndim - 1  # a batch of vectors: one entry per matrix of A
        shape = X.shape[:-1] if vector else X.shape[:-2]
        X = _nan_where(X, np.broadcast_to(bad, shape), vector)
    return SolveExResult(X, Tensor._wrap(info))


# ---- the condition number -----------------------------------------------------------------------

def _cond_ord(p):
    if p is None or (isinstance(p, str) and p in ("fro", "nuc")):
        return p
    if isinstance(p, numbers.Real) and not isinstance(p, bool) and p in (2, -2, 1, -1, math.inf,
                                                                        -math.inf):
        return float(p)
    raise ValueError(f"linalg.cond got an invalid norm type: {p}")


def cond(A, p=None):
    """The condition number of each matrix in the norm ``p``, as ``torch.linalg.cond``:
    ``None``/2 the largest over the smallest singular value (-2 the inverse; any shape), 'nuc'
    ``sum(S) * sum(1 / S)``, and 'fro', 1, -1, inf, -inf ``norm(A) * norm(inv(A))`` (square
    matrices; inf for a singular one). Empty matrices give 0. Gradients from the tape (torch
    2.13's backward fails for the inverse-based orders)."""
    fn = "linalg.cond"
    _tensor_arg(A, fn, "A")
    if A.ndim < 2:
        raise ValueError(f"{fn}: The input tensor must have at least 2 dimensions.")
    p = _cond_ord(p)
    square = p not in (None, 2.0, -2.0)
    if square and A.shape[-1] != A.shape[-2]:
        raise ValueError(f"{fn}(ord={_ord_name(p)}): A must be batches of square matrices, but "
                         f"they are {A.shape[-2]} by {A.shape[-1]} matrices")
    a = A._data
    if a.shape[-1] == 0 or a.shape[-2] == 0:
        _matrices(A, "linalg.svd", square=False)
        return Tensor._wrap(np.zeros(a.shape[:-2], a.dtype))
    if not square or p == "nuc":
        s = _la.svdvals(A)
        with np.errstate(divide="ignore", invalid="ignore"):  # a singular A: inf or NaN, as torch
            if p == "nuc":
                return s.sum(-1) * (1.0 / s).sum(-1)
            big, small = s[..., 0], s[..., -1]
            return big / small if p != -2.0 else small / big
    inverse, info = inv_ex(A)
    bad = info._data != 0
    value = _la.matrix_norm(A, p) * _la.matrix_norm(where(bad[..., None, None], 0.0, inverse), p)
    return where(bad, math.inf, value) if bad.any() else value


def _ord_name(p):
    if isinstance(p, float) and p.is_integer():
        return int(p)
    return p


# ---- tensor inverses and solves -----------------------------------------------------------------

def _positive_int(v, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"linalg_tensorinv(): argument '{name}' must be int, not "
                        f"{type(v).__name__}")
    if v <= 0:
        raise ValueError(f"Expected a strictly positive integer for '{name}', but got {v}")
    return int(v)


def tensorinv(A, ind=2):
    """The tensor inverse of ``A`` for ``tensordot(A_inv, A, ind)``, as
    ``torch.linalg.tensorinv``: A's first ``ind`` dims and the rest, flattened to a square
    matrix, inverted, reshaped to ``A.shape[ind:] + A.shape[:ind]``."""
    _tensor_arg(A, "linalg.tensorinv", "A")
    ind = _positive_int(ind, "ind")
    rows, cols = A.shape[:ind], A.shape[ind:]
    nr, nc = math.prod(rows), math.prod(cols)
    if nr != nc:
        raise ValueError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                         f"prod(self.shape[:ind]), but got {nc} != {nr}")
    try:
        inverse = _la.inv(A.reshape(nr, nc))
    except LinAlgError as e:
        raise LinAlgError(str(e).replace("linalg.inv:", "inv:")) from None
    return inverse.reshape(cols + rows)


def tensorsolve(A, B, dims=None):
    """X with ``tensordot(A, X, X.ndim) = B``, as ``torch.linalg.tensorsolve``: ``dims`` (A's
    dims moved to its end first), then A flattened to a square matrix of B's size."""
    _tensor_arg(A, "linalg.tensorsolve", "A")
    _tensor_arg(B, "linalg.tensorsolve", "B")
    if dims is not None:
        dims = int_tuple(dims, "linalg.tensorsolve", "dims")
        nd = A.ndim
        try:
            moved = [d % nd for d in dims if -nd <= d < nd and not isinstance(d, bool)]
        except TypeError:
            moved = []
        if len(moved) != len(dims) or len(set(moved)) != len(moved):
            raise ValueError(f"linalg.tensorsolve: dims {dims} are not distinct dims of a "
                             f"{nd}-D A")
        A = A.permute(tuple(d for d in range(nd) if d not in moved) + tuple(moved))
    k, size = B.ndim, B._data.size
    rows, cols = math.prod(A.shape[:k]), math.prod(A.shape[k:])
    if cols != size:
        raise ValueError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:])"
                         f" == prod(self.shape[:other.ndim]), but got {cols} != {size}")
    if rows != size:
        raise ValueError(f"linalg.tensorsolve: A's first {k} dims {tuple(A.shape[:k])} do not "
                         f"hold B's {size} elements")
    x = _la.solve(A.reshape(rows, cols), B.reshape(rows))
    return x.reshape(A.shape[k:])


# ---- Vandermonde and Householder ----------------------------------------------------------------

def vander(x, *, N=None):
    """The Vandermonde matrices of the last dim of ``x``, as ``torch.linalg.vander``: (*, n, N)
    with columns ``x^0 ... x^(N-1)`` (increasing, unlike ``tinygrad_norm.vander``); ``N``
    defaults to n and must exceed 1. A running product, so gradients are the tape's; integer
    inputs stay integers."""
    _tensor_arg(x, "linalg.vander", "x")
    if N is not None and (isinstance(N, bool) or not isinstance(N, numbers.Integral)):
        raise TypeError(f"linalg_vander(): argument 'N' must be int, not {type(N).__name__}")
    n = (x.shape[-1] if x.ndim else 1) if N is None else int(N)
    if x.ndim == 0 or n <= 1:
        raise ValueError("N must be greater than 1.")
    ones = Tensor._wrap(np.ones(x.shape + (1,), x._data.dtype))
    powers = x.unsqueeze(-1).expand(x.shape + (n - 1,)).cumprod(-1)
    return concatenate([ones, powers], axis=-1)


def householder_product(A, tau):
    """The first n columns of the product ``H_1 ... H_k`` of Householder reflectors
    ``H_i = I - tau_i v_i v_i^T``, ``v_i`` column i of ``A`` below the diagonal with a 1 on it,
    as ``torch.linalg.householder_product`` (LAPACK's orgqr: Q from ``geqrf``'s output).
    A is (*, m, n) with m >= n, tau (*, k) with k <= n; k reflector applications on the tape."""
    fn = "torch.linalg.householder_product"
    _tensor_arg(A, "linalg.householder_product", "input")
    _tensor_arg(tau, "linalg.householder_product", "tau")
    if A.ndim < 2:
        raise ValueError(f"{fn}: input must have at least 2 dimensions.")
    m, n = A.shape[-2:]
    if m < n:
        raise ValueError(f"{fn}: input.shape[-2] must be greater than or equal to "
                         f"input.shape[-1]")
    if tau.ndim < 1 or n < tau.shape[-1]:
        raise ValueError(f"{fn}: input.shape[-1] must be greater than or equal to "
                         f"tau.shape[-1]")
    if tau.ndim != A.ndim - 1:
        raise ValueError(f"{fn}: Expected tau to have one dimension less than input, but got "
                         f"tau.ndim equal to {tau.ndim} and input.ndim is equal to {A.ndim}")
    if tau.shape[:-1] != A.shape[:-2]:
        raise ValueError(f"{fn}: Expected batch dimensions of tau to be equal to "
                         f"input.shape[:-2], but got {list(tau.shape[:-1])}")
    if tau.dtype != A.dtype:
        raise TypeError(f"{fn}: tau dtype {_torch_type(tau.dtype)} does not match input dtype "
                        f"{_torch_type(A.dtype)}")
    _la._real_float(A._data.dtype, "linalg.householder_product")
    rows = np.arange(m)[:, None]
    Q = Tensor._wrap(np.broadcast_to(np.eye(m, n, dtype=A._data.dtype), A.shape).copy())
    for i in reversed(range(tau.shape[-1])):  # H_i applied last to first: Q = H_1 (H_2 (...))
        v = where(rows > i, A[..., :, i:i + 1], (rows == i).astype(A._data.dtype))
        t = tau[..., i:i + 1, None]
        Q = Q - (t * v) @ (v.mT @ Q)
    return Q
