"""torch.linalg's triangular solve, matrix exponential, LU factorization and least squares
(``solve_triangular``, ``matrix_exp``, ``lu_factor``, ``lu_factor_ex``, ``lu``, ``lu_solve``,
``lstsq``) and torch's top-level ``triangular_solve`` and ``lu_unpack``. ``tinygrad_norm.linalg``
re-exports them; linalg.py holds the shared checks and messages used here.

Primitives (ops.py): ``SolveTriangular``, ``MatrixExp`` and ``LUFactor``. The rest are
composites: ``lu`` and ``lu_unpack`` slice LU's triangles (so their gradients are torch's
projections of it), ``lu_solve`` is two triangular solves and a permutation, and ``lstsq``'s
solution is ``pinv(A) @ B``, whose gradient is exactly the one torch gives its solution.
"""
from __future__ import annotations

import numbers
from collections import namedtuple

import numpy as np

from . import ops
from .linalg import LinAlgError, _flag, _matrices, _prefix, _real_float, _split, \
    _tensor_arg, _torch_type, _vector_rhs, pinv
from .tensor import Tensor, apply

__all__ = ["solve_triangular", "matrix_exp", "lu_factor", "lu_factor_ex", "lu", "lu_solve",
           "lstsq"]

# torch.return_types' type names and fields
LUFactorResult = namedtuple("linalg_lu_factor", "LU pivots")
LUFactorExResult = namedtuple("linalg_lu_factor_ex", "LU pivots info")
LUResult = namedtuple("linalg_lu", "P L U")
LUUnpackResult = namedtuple("lu_unpack", "P L U")
LstsqResult = namedtuple("linalg_lstsq", "solution residuals rank singular_values")
TriangularSolveResult = namedtuple("triangular_solve", "solution cloned_coefficient")


def _batch(a_batch, b_batch, first, second):
    """The broadcast of two batch shapes, or torch's error naming the first dim (from the right)
    where they differ; ``first``/``second`` say which of them torch calls tensor a and b."""
    try:
        return np.broadcast_shapes(a_batch, b_batch)
    except ValueError:
        shapes = {"A": a_batch, "B": b_batch}
        sa, sb = shapes[first], shapes[second]
        nd = max(len(sa), len(sb))
        for i in range(nd - 1, -1, -1):
            x = sa[i - nd + len(sa)] if i - nd + len(sa) >= 0 else 1
            y = sb[i - nd + len(sb)] if i - nd + len(sb) >= 0 else 1
            if x != y and 1 not in (x, y):
                raise ValueError(f"The size of tensor a ({x}) must match the size of tensor b "
                                 f"({y}) at non-singleton dimension {i}") from None
        raise


def _at_least_2d(t, fn, name):
    if t._data.ndim < 2:
        raise ValueError(f"{fn}: The input tensor {name} must have at least 2 dimensions.")


# ---- triangular solves --------------------------------------------------------------------------

def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with ``A X = B`` (``left=False``: ``X A = B``) for triangular A, as
    ``torch.linalg.solve_triangular``: only A's upper (``upper=True``) or lower triangle is
    read, its diagonal taken as 1 with ``unitriangular``; B is a batch of matrices, batch dims
    broadcast; B is cast to A's dtype (the result's, as torch). A zero on the diagonal gives
    inf/NaN, no error, as torch. A's gradient is kept to the triangle read, as torch's."""
    fn = "linalg.solve_triangular"
    _tensor_arg(A, fn, "A")
    _tensor_arg(B, fn, "B")
    upper = _flag(upper, "upper", "linalg_solve_triangular")
    left = _flag(left, "left", "linalg_solve_triangular")
    unitriangular = _flag(unitriangular, "unitriangular", "linalg_solve_triangular")
    _at_least_2d(A, fn, "A")
    _at_least_2d(B, fn, "B")
    _matrices(A, fn, kernel="triangular_solve_cpu", ints_too=True)
    a, b = A._data, B._data
    n, (rows, cols) = a.shape[-1], b.shape[-2:]
    if (rows if left else cols) != n:
        raise ValueError(f"{fn}: Incompatible shapes of A and B for the equation "
                         f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {rows}x{cols})")
    _batch(a.shape[:-2], b.shape[:-2], "B", "A")
    if b.dtype.kind == "c":
        _real_float(b.dtype, fn)
    if b.dtype != a.dtype:
        B = B.astype(a.dtype)
    return apply(ops.SolveTriangular, A, B, upper=upper, left=left, unitriangular=unitriangular)


def _torch_triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """``torch.triangular_solve`` (deprecated in torch, still there): ``(solution,
    cloned_coefficient)`` with ``A X = b`` (``transpose``: ``A^T X = b``) for the triangle of
    A that ``upper`` names; the second result is a copy of A. Without torch's deprecation
    warning."""
    fn = "torch.triangular_solve"
    _tensor_arg(b, "triangular_solve", "input")
    _tensor_arg(A, "triangular_solve", "A")
    upper = _flag(upper, "upper", "triangular_solve")
    transpose = _flag(transpose, "transpose", "triangular_solve")
    unitriangular = _flag(unitriangular, "unitriangular", "triangular_solve")
    for name, t in (("b", b), ("A", A)):
        if t._data.ndim < 2:
            raise ValueError(f"{fn}: Expected {name} to have at least 2 dimensions, but it has "
                             f"{t._data.ndim} dimensions instead")
    bd, ad = b._data, A._data
    if ad.shape[-1] != ad.shape[-2]:
        raise ValueError(f"A must be batches of square matrices, but they are {ad.shape[-2]} by "
                         f"{ad.shape[-1]} matrices")
    if bd.dtype != ad.dtype:
        raise TypeError(f"Expected b and A to have the same dtype, but found b of type "
                        f"{_torch_type(bd.dtype)} and A of type {_torch_type(ad.dtype)} instead.")
    if bd.shape[-2] != ad.shape[-1]:
        raise ValueError(f"Incompatible matrix sizes for triangular_solve: each A matrix is "
                         f"{ad.shape[-2]} by {ad.shape[-1]} but each b matrix is {bd.shape[-2]} "
                         f"by {bd.shape[-1]}")
    _real_float(ad.dtype, fn, kernel="triangular_solve_cpu", ints_too=True)
    batch = _batch(ad.shape[:-2], bd.shape[:-2], "B", "A")
    coefficient = A.mT if transpose else A  # A^T's other triangle is A's
    x = solve_triangular(coefficient, b, upper=upper != transpose, unitriangular=unitriangular)
    return TriangularSolveResult(x, A.expand(batch + ad.shape[-2:]).clone())


# ---- the matrix exponential ---------------------------------------------------------------------

def matrix_exp(A):
    """``exp(A) = sum_k A^k / k!`` of each square matrix, as ``torch.linalg.matrix_exp``:
    scaling and squaring with the [13/13] Pade approximant (Higham 2005) in float64 (float32
    and float16 rounded once). Non-finite input gives NaN, as torch. The gradient is torch's
    (the exponential of a 2n x 2n block matrix), differentiable again."""
    fn = "linalg.matrix_exp"
    _tensor_arg(A, fn)
    a = A._data
    if a.dtype != np.float16:
        return apply(ops.MatrixExp, _matrices(A, fn))
    _at_least_2d(A, fn, "A")
    if a.shape[-1] != a.shape[-2]:
        _matrices(A, fn)
    return apply(ops.MatrixExp, A)


# ---- LU ------------------------------------------------------------------------------------------

def _no_pivot(pivot, binding):
    pivot = _flag(pivot, "pivot", binding)
    if not pivot:
        raise ValueError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")


def _factor(A, fn, binding, pivot):
    """``(LU, pivots, info)`` of each matrix: LU on the graph, the int32 pivots and getrf's
    ``info`` (the 1-based index of U's first zero diagonal entry, 0 for none) plain."""
    _tensor_arg(A, fn.replace("torch.", ""), "A")
    _no_pivot(pivot, binding)
    a = A._data
    if a.ndim < 2:
        raise ValueError(f"{'linalg.lu' if binding == 'linalg_lu' else 'torch.lu_factor'}: "
                         f"Expected tensor with 2 or more dimensions. Got size: {list(a.shape)} "
                         f"instead")
    _real_float(a.dtype, fn, kernel="lu_cpu", ints_too=True)
    (m, n), k = a.shape[-2:], min(a.shape[-2:])
    lu_, piv = _split(apply(ops.LUFactor, A), a.shape[:-2], [(m, n), (k,)])
    piv = Tensor._wrap(piv._data.astype(np.int32))
    diagonal = np.diagonal(lu_._data, axis1=-2, axis2=-1) == 0
    first = np.zeros(diagonal.shape[:-1], np.int32)
    if diagonal.shape[-1]:
        first = np.where(diagonal.any(-1), diagonal.argmax(-1) + 1, 0).astype(np.int32)
    return lu_, piv, first


def _check_singular(info, fn):
    if info.any():
        flat = info.reshape(-1)
        i = int(np.flatnonzero(flat)[0])
        j = int(flat[i])
        raise LinAlgError(f"{fn}: {_prefix(np.empty(info.shape + (0, 0)), i)}U[{j},{j}] is zero "
                          f"and using it on lu_solve would result in a division by zero. If you "
                          f"still want to perform the factorization, consider calling "
                          f"linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def lu_factor(A, *, pivot=True):
    """``(LU, pivots)``: the LU factorization with partial pivoting of each matrix (any shape
    m x n), as ``torch.linalg.lu_factor``: L (unit diagonal, implied) and U packed in LU as
    LAPACK's getrf, ``pivots`` the 1-based int32 row swaps. A zero on U's diagonal is torch's
    LinAlgError (``lu_factor_ex`` or ``lu`` factor such matrices); ``pivot=False`` is torch's
    CPU error. LU's gradient is torch's (a primitive, ``LUFactor``)."""
    fn = "torch.linalg.lu_factor"
    lu_, piv, info = _factor(A, fn, "linalg_lu_factor", pivot)
    _check_singular(info, fn)
    return LUFactorResult(lu_, piv)


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """``(LU, pivots, info)``, as ``torch.linalg.lu_factor_ex``: ``lu_factor`` without its
    error, ``info`` (int32, over the batch) the 1-based index of U's first zero diagonal entry
    (0: none); ``check_errors=True`` raises lu_factor's error instead."""
    fn = "torch.linalg.lu_factor_ex"
    check_errors = _flag(check_errors, "check_errors", "linalg_lu_factor_ex")
    lu_, piv, info = _factor(A, fn, "linalg_lu_factor_ex", pivot)
    if check_errors:
        _check_singular(info, fn)
    return LUFactorExResult(lu_, piv, Tensor._wrap(info))


def _unpacked(lu_, piv_array):
    """P, L, U from packed LU (a Tensor) and its pivots (an int array)."""
    m, n = lu_._data.shape[-2:]
    k = min(m, n)
    p = ops.permutation_of(np.broadcast_to(piv_array, lu_._data.shape[:-2] + piv_array.shape[-1:]),
                        m, lu_._data.dtype)
    low = lu_[..., :, :k] if k < n else lu_
    up = lu_[..., :k, :] if k < m else lu_
    eye = np.eye(m, k, dtype=lu_._data.dtype)
    return Tensor._wrap(p), low.tril(-1) + Tensor._wrap(eye), up.triu()


def lu(A, *, pivot=True):
    """``(P, L, U)`` with ``A = P L U`` for each matrix (m x n; L m x k unit lower, U k x n
    upper, k = min(m, n)), as ``torch.linalg.lu``: singular matrices too. Its gradient is
    torch's, through ``lu_factor``'s."""
    lu_, piv, _ = _factor(A, "torch.linalg.lu", "linalg_lu", pivot)
    return LUResult(*_unpacked(lu_, piv._data))


def _torch_lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """``torch.lu_unpack``: ``(P, L, U)`` from ``lu_factor``'s results; what is not unpacked
    is an empty tensor, as torch's. L and U are slices of LU_data (gradients flow back)."""
    fn = "torch.lu_unpack"
    _tensor_arg(LU_data, "lu_unpack", "LU_data")
    _tensor_arg(LU_pivots, "lu_unpack", "LU_pivots")
    unpack_data = _flag(unpack_data, "unpack_data", "lu_unpack")
    unpack_pivots = _flag(unpack_pivots, "unpack_pivots", "lu_unpack")
    a, piv = LU_data._data, LU_pivots._data
    if a.ndim < 2:
        raise ValueError(f"{fn}: Expected tensor with 2 or more dimensions. Got size: "
                         f"{list(a.shape)} instead")
    if piv.dtype != np.int32:
        raise TypeError(f"{fn}: LU_pivots is expected to be a contiguous tensor of torch.int32 "
                        f"dtype.")
    m = a.shape[-2]
    if piv.ndim < 1 or piv.shape[-1] > m or (piv.size and (piv.min() < 1 or piv.max() > m)):
        raise ValueError("pivots passed to lu_unpack must be between 1 and LU.size(-2) "
                         "inclusive.Did you properly pass the result of lu_factor?")
    p, low, up = _unpacked(LU_data, piv)
    empty = Tensor._wrap(np.zeros((0,), a.dtype))
    return LUUnpackResult(p if unpack_pivots else empty, low if unpack_data else empty,
                          up if unpack_data else empty)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with ``A X = B`` from ``(LU, pivots) = lu_factor(A)``, as ``torch.linalg.lu_solve``
    (``left=False``: ``X A = B``; ``adjoint``: A^T for A): a permutation and two triangular
    solves, batch dims broadcast. Gradients to LU (its two triangles) and B are torch's."""
    fn = "linalg.lu_solve"
    for name, t in (("LU", LU), ("pivots", pivots), ("B", B)):
        _tensor_arg(t, fn, name)
    left = _flag(left, "left", "linalg_lu_solve")
    adjoint = _flag(adjoint, "adjoint", "linalg_lu_solve")
    _at_least_2d(B, fn, "B")
    _matrices(LU, "torch.linalg.lu_solve")
    a, piv, b = LU._data, pivots._data, B._data
    if piv.dtype != np.int32:
        raise TypeError(f"{fn}: pivots should be a Tensor of scalar type torch.int32")
    if a.dtype != b.dtype:
        raise TypeError(f"{fn}: Expected LU and B to have the same dtype, but found LU of type "
                        f"{_torch_type(a.dtype)} and B of type {_torch_type(b.dtype)} instead")
    n, (rows, cols) = a.shape[-1], b.shape[-2:]
    if (rows if left else cols) != n:
        raise ValueError(f"{fn}: Incompatible shapes of A and B for the equation "
                         f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {rows}x{cols})")
    if piv.shape[-1:] != a.shape[-1:]:
        raise ValueError(f"{fn}: Number of pivots per batch should be same as the dimension of "
                         f"the matrix")
    if piv.shape != a.shape[:-1]:
        raise ValueError(f"{fn}: Expected LU.shape[:-1] and pivots.shape to be the same, but got "
                         f"pivots with shape {list(piv.shape)} instead")
    if piv.size and (piv.min() < 1 or piv.max() > n):
        raise ValueError("Pivots given to lu_solve must all be smaller or equal to LU.size(-2). "
                         "Did you properly pass the result of lu_factor?")
    _batch(a.shape[:-2], b.shape[:-2], "B", "A")
    p = Tensor._wrap(ops.permutation_of(piv, n, a.dtype))
    return _lu_solve(LU, p, B, left, adjoint)


def _lu_solve(LU, P, B, left, adjoint):
    """The four equations with ``A = P L U`` (L: LU's strict lower part and a unit diagonal,
    U: its upper part)."""
    st = solve_triangular
    if left and not adjoint:  # X = U^-1 L^-1 P^T B
        y = st(LU, P.mT @ B, upper=False, unitriangular=True)
        return st(LU, y, upper=True)
    if left:  # A^T X = B: X = P L^-T U^-T B
        y = st(LU.mT, B, upper=False)
        return P @ st(LU.mT, y, upper=True, unitriangular=True)
    if not adjoint:  # X A = B: X = B U^-1 L^-1 P^T
        y = st(LU, B, upper=True, left=False)
        return st(LU, y, upper=False, left=False, unitriangular=True) @ P.mT
    y = st(LU.mT, B @ P, upper=True, left=False, unitriangular=True)  # X A^T = B: B P L^-T U^-T
    return st(LU.mT, y, upper=False, left=False)


# ---- least squares -------------------------------------------------------------------------------

_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _lstsq_args(A, B, rcond, driver):
    fn = "torch.linalg.lstsq"
    _tensor_arg(A, "linalg_lstsq", "self")
    _tensor_arg(B, "linalg_lstsq", "b")
    if rcond is not None and (isinstance(rcond, (bool, np.bool_))
                              or not isinstance(rcond, numbers.Real)):
        raise TypeError(f"linalg_lstsq(): argument 'rcond' must be float, not "
                        f"{type(rcond).__name__}")
    if driver is not None and not isinstance(driver, str):
        raise TypeError(f"linalg_lstsq(): argument 'driver' must be str, not "
                        f"{type(driver).__name__}")
    a, b = A._data, B._data
    if a.ndim < 2:
        raise ValueError(f"{fn}: input must have at least 2 dimensions.")
    if b.ndim < 1:
        raise ValueError(f"{fn}: other must have at least 1 dimension.")
    if a.dtype not in (np.float32, np.float64):
        if a.dtype.kind == "c":
            _real_float(a.dtype, fn)
        raise TypeError("This function doesn't handle types other than float and double")
    if a.dtype != b.dtype:
        raise TypeError(f"{fn}: Expected input and other to have the same dtype, but got "
                        f"input's dtype {_torch_type(a.dtype)} and other's dtype "
                        f"{_torch_type(b.dtype)}")
    if driver is not None and driver not in _DRIVERS:
        raise ValueError(f"{fn}: parameter `driver` should be one of (gels, gelsy, gelsd, "
                         f"gelss)")
    if not 0 <= a.ndim - b.ndim <= 1:
        raise ValueError(f"{fn}: input.dim() must be greater or equal to other.dim() and "
                         f"(input.dim() - other.dim()) <= 1")
    vector = _vector_rhs(a, b)
    if (b.shape[-1] if vector else b.shape[-2]) != a.shape[-2]:
        raise ValueError(f"{fn}: input.size(-2) should match other.size("
                         f"{'-1' if vector else '-2'})")
    _batch(a.shape[:-2], (b.shape[:-1] if vector else b.shape[:-2]), "A", "B")
    return vector


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution of ``A X = B`` (the minimum-norm one where A is rank
    deficient), as ``torch.linalg.lstsq`` on the CPU: the named tuple ``(solution, residuals,
    rank, singular_values)`` with torch's fields per ``driver`` ('gelsy' by default): ``rank``
    for gelsy/gelsd/gelss (int64, over the batch), ``singular_values`` for gelsd/gelss,
    ``residuals`` (the squared column norms of ``A X - B``) for gels when m > n and for
    gelsd/gelss when m > n and every matrix has rank n; the others are empty. B is a batch of
    vectors by torch's rule (1-D, or A's shape without its last dim), else of matrices.
    Singular values below ``rcond`` times the largest count as 0 (default ``eps * max(m,
    n)``; negative: ``eps``; gels uses them all).
    The solution is ``pinv(A) @ B``, so its gradient is torch's: pinv's at pinv's default
    tolerance, whatever ``rcond`` (a solution cut at another ``rcond`` is a constant shift of
    it); the other fields carry none."""
    vector = _lstsq_args(A, B, rcond, driver)
    driver = driver or "gelsy"
    a = A._data
    (m, n), eps = a.shape[-2:], float(np.finfo(a.dtype).eps)
    default = eps * max(m, n)
    tol = default if rcond is None else (eps if rcond < 0 else float(rcond))
    Bm = B.reshape(B.shape + (1,)) if vector else B
    x = pinv(A) @ Bm  # torch's gradient: pinv's, at its default tolerance, whatever rcond
    cut = 0.0 if driver == "gels" else tol
    if cut != default:  # the values at rcond's cut: a constant shift where they differ
        at_cut = ops.Pinv.forward(a, np.zeros(()), np.asarray(cut), False) @ Bm._data
        if not np.array_equal(at_cut, x._data):
            x = x + Tensor._wrap(at_cut - x._data)
    s = np.linalg.svd(a, compute_uv=False) if 0 not in (m, n) else \
        np.zeros(a.shape[:-2] + (0,), a.dtype)
    largest = s[..., :1] if s.shape[-1] else np.zeros(a.shape[:-2] + (1,), a.dtype)
    rank = np.sum(s > tol * largest, axis=-1, dtype=np.int64)
    empty = np.zeros((0,), a.dtype)
    residuals = empty
    if m > n and (driver == "gels" or (driver in ("gelsd", "gelss") and (rank == n).all())):
        r = a @ x._data - Bm._data
        residuals = (r * r).sum(-2)
    x = x.reshape(x.shape[:-1]) if vector else x
    return LstsqResult(x, Tensor._wrap(residuals),
                       Tensor._wrap(rank if driver != "gels" else np.zeros((0,), np.int64)),
                       Tensor._wrap(s if driver in ("gelsd", "gelss") else empty))


def _torch_matrix_exp(input):
    """``torch.matrix_exp``: linalg.matrix_exp under torch's top-level argument name."""
    return matrix_exp(input)
