"""``parametrizations.orthogonal``: a weight (or a batch of them) kept orthogonal while training,
as ``torch.nn.utils.parametrizations.orthogonal``: orthonormal columns when it is tall or square,
orthonormal rows when it is wide (the wide case works on the transpose).

The free tensor ``X`` becomes an orthogonal ``Q`` through one of three maps, all composites of
primitives, so gradients reach ``X`` through the tape:

* ``"matrix_exp"``: ``exp(A)`` of the skew-symmetric ``A = L - L^T`` (``L`` the lower triangle
  of ``X``, padded square when ``X`` is tall), its first ``k`` columns;
* ``"cayley"``: ``(I - A/2)^-1 (I + A/2)`` of the same ``A``;
* ``"householder"``: the product of the reflections ``I - tau v v^T`` whose vectors are the
  columns below the diagonal of ``X`` (each with a 1 on the diagonal, ``tau = 2 / |v|^2``), its
  columns signed by the diagonal of ``X`` truncated to integers (no gradient: the diagonal only
  picks signs, as PyTorch's integer cast makes it).

With ``use_trivialization`` (the default) a buffer ``base`` holds an orthogonal matrix and the
weight is ``base @ Q``: assigning the weight stores its orthogonalization (QR with a positive
diagonal of R) in ``base`` and sets ``X`` to ``-I``, for which every map gives the identity
(Lezcano-Casado's dynamic trivialization)."""
from __future__ import annotations

import numpy as np

from .. import random as _random
from ..functions import cat
from ..tensor import Tensor
from . import parametrize
from .module import Module

_eye = Tensor.eye
_MAPS = ("matrix_exp", "cayley", "householder")


def _mT(x):
    return x.swapaxes(-1, -2)


def _householder_product(A, tau):
    """``H_0 H_1 ... H_{k-1}`` applied to the first ``k`` columns of the identity, with
    ``H_i = I - tau_i v_i v_i^T`` and ``v_i`` column ``i`` of the strictly lower ``A`` plus
    ``e_i`` (LAPACK's ``orgqr``, written with Tensor ops so the tape differentiates it)."""
    n, k = A.shape[-2], A.shape[-1]
    E = _eye(n, dtype=A.dtype)
    Q = Tensor(np.broadcast_to(E.data[:, :k], A.shape).copy())  # a constant start
    for i in reversed(range(k)):  # innermost reflection first
        v = (A[..., :, i] + E[:, i]).unsqueeze(-1)                      # (..., n, 1)
        Q = Q - (tau[..., i].unsqueeze(-1).unsqueeze(-1) * v) * (_mT(v) @ Q)
    return Q


def _orthonormalized(a):
    """The Q factor of ``a`` (tall or square, an ndarray) with R's diagonal made non-negative:
    columns multiplied by the signs of R's diagonal (a zero sign zeroes its column, as
    PyTorch's ``sgn``)."""
    q, r = np.linalg.qr(a)
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def _is_orthogonal(q):
    """``Q^T Q == I`` within ``10 n eps`` (PyTorch's test before keeping a square weight)."""
    n, k = q.shape[-2], q.shape[-1]
    eps = 10.0 * n * np.finfo(q.dtype).eps
    return np.allclose(_mT(q) @ q, np.eye(k, dtype=q.dtype), atol=eps)


class _Orthogonal(Module):
    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:  # work on the tall transpose
            X = _mT(X)
            n, k = k, n
        if self.orthogonal_map == "householder":
            Q = self._householder(X)
        else:
            Q = self._skew_map(X, n, k)
        if "base" in self._buffers:
            Q = self.base @ Q
        return _mT(Q) if transposed else Q

    def _skew_map(self, X, n, k):
        from ..linalg import matrix_exp, solve
        L = X.tril()
        if n != k:  # embed the tall matrix in a square one: only n k - k (k - 1) / 2 entries are free
            pad = Tensor(np.zeros(L.shape[:-1] + (n - k,), dtype=L.dtype))
            L = cat([L, pad], -1)
        A = L - _mT(L)
        if self.orthogonal_map == "matrix_exp":
            Q = matrix_exp(A)
        else:
            Id = _eye(n, dtype=A.dtype)
            Q = solve(Id - 0.5 * A, Id + 0.5 * A)
        return Q[..., :k] if n != k else Q

    def _householder(self, X):
        A = X.tril(-1)
        tau = 2.0 / (1.0 + (A * A).sum(axis=-2))
        Q = _householder_product(A, tau)
        # the diagonal only picks each column's sign: truncated to integers, no gradient
        signs = np.trunc(np.diagonal(X.data, axis1=-2, axis2=-1))
        return Q * Tensor(signs[..., None, :].astype(X.dtype))

    def right_inverse(self, Q):
        if tuple(Q.shape) != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape "
                             f"{_size(self.shape)}. Got a tensor of shape {_size(Q.shape)}.")
        q = Q.data
        transposed = q.shape[-2] < q.shape[-1]
        if transposed:
            q = _mT(q)
        if "base" not in self._buffers:
            return Tensor(self._reflectors(q, transposed))
        self.base = Tensor(self._base(q))
        neg_id = np.zeros(self.shape, dtype=Q.dtype)  # every map sends -I to the identity
        i = np.arange(min(self.shape[-2:]))
        neg_id[..., i, i] = -1.0
        return Tensor(neg_id)

    def _reflectors(self, q, transposed):
        """Without a base, the Householder vectors of ``q``'s QR (below the diagonal) and the
        signs of R's diagonal on it, so that the forward gives back the Q factor."""
        if self.orthogonal_map != "householder":
            raise NotImplementedError("It is not possible to assign to the matrix exponential "
                                      "or the Cayley parametrizations when "
                                      "use_trivialization=False.")
        h, tau = np.linalg.qr(q, mode="raw")  # LAPACK's geqrf, its result transposed
        a = _mT(h).copy()
        i = np.arange(a.shape[-1])
        signs = np.sign(a[..., i, i])
        signs[tau == 0.0] *= -1  # no reflection there: LAPACK left the sign to the diagonal
        a[..., i, i] = signs
        return _mT(a) if transposed else a

    def _base(self, q):
        """An n x n orthogonal base whose first k columns are ``q``'s orthogonalization (a tall
        ``q`` completed by normal draws from the package's generator)."""
        n, k = q.shape[-2], q.shape[-1]
        if n == k:
            return q.copy() if _is_orthogonal(q) else _orthonormalized(q)
        rest = _random.generator().standard_normal(q.shape[:-2] + (n, n - k)).astype(q.dtype)
        return _orthonormalized(np.concatenate([q, rest], axis=-1))


def _size(shape):
    return f"torch.Size([{', '.join(str(s) for s in shape)}])"


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Reparametrize ``module.<name>`` (at least 2-D) as an orthogonal matrix, or a batch of
    them, as PyTorch's. ``orthogonal_map`` None: ``"matrix_exp"`` for a square weight,
    ``"householder"`` otherwise."""
    from ..functional._checks import _flag
    fn = "orthogonal"
    if not isinstance(module, Module):
        raise TypeError(f"{fn}(): module must be a Module, got {type(module).__name__}")
    use_trivialization = _flag(use_trivialization, "use_trivialization", fn)
    weight = getattr(module, name, None) if isinstance(name, str) else None
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if not np.issubdtype(weight.dtype, np.floating):
        raise TypeError(f"{fn}(): the weight must be floating point, got {weight.dtype}")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if not isinstance(orthogonal_map, str) or orthogonal_map not in _MAPS:
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


__all__ = ["orthogonal"]
