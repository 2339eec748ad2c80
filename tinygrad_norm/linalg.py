"""``tinygrad_norm.linalg``: torch.linalg's functions on real float32/float64 tensors, batched
over leading dimensions, with torch's names, arguments, results and error messages.

The hand-written derivatives are primitives of ``ops`` (``Inv``, ``Solve``, ``Det``,
``Slogdet``, ``Cholesky``, ``QR``, ``Eigh``, ``Eigvalsh``, ``SVD``, ``Svdvals``, ``Pinv``);
everything else here (the norms, ``matrix_power``, ``multi_dot``, ``logdet``...) is a
composite whose gradient comes from the tape. A factorization with several results is one
primitive whose output packs them (see ops.py); it is sliced apart here. Primitives rather than
composites where a composite would be worse: ``det`` as ``sign * exp(logabsdet)`` has a NaN
gradient at a singular matrix and loses accuracy; ``inv`` as ``solve(A, I)`` would solve again in
its backward where ``Inv`` needs two products; ``pinv`` through ``svd`` would have NaN gradients
wherever singular values repeat (``pinv`` of the identity), where torch's are finite.

Errors: torch's words. Where torch raises ``RuntimeError`` this raises ``ValueError`` (or
``TypeError`` for a dtype), as the rest of the package; a singular or non-positive-definite
matrix is a ``LinAlgError``, a ``ValueError`` (torch's ``torch.linalg.LinAlgError``).

The solvers (``solve_triangular``, ``matrix_exp``, ``lu_factor``, ``lu_factor_ex``, ``lu``,
``lu_solve``, ``lstsq``) are linalg_solvers.py's, re-exported at the end of this file.

Also here: torch's older top-level spellings (``torch.det``, ``torch.inverse``, ``torch.svd``
with ``(U, S, V)``, ...) as ``_torch_*`` functions, which ``tinygrad_norm`` exports under
torch's names and the Tensor methods call.
"""
from __future__ import annotations

import math
import numbers
from collections import namedtuple

import numpy as np

from . import _argname
from . import ops
from .autograd import _state
from .creation import cross as _cross
from .tensor import Tensor, apply, matmul as _matmul, vecdot as _vecdot, where
from .tensor_index import _norm
from .tensor_ops import diagonal as _diagonal

__all__ = ["LinAlgError", "inv", "det", "slogdet", "solve", "cholesky", "qr", "eigh",
           "eigvalsh", "svd", "svdvals", "pinv", "matrix_rank", "matrix_power", "multi_dot",
           "matrix_norm", "vector_norm", "norm", "cross", "diagonal", "vecdot", "matmul"]


class LinAlgError(ValueError):
    """A matrix the algorithm cannot handle (singular, not positive-definite, no convergence):
    torch's ``torch.linalg.LinAlgError`` with its message, a ``ValueError`` here."""


# torch.return_types' type names and fields
SlogdetResult = namedtuple("linalg_slogdet", "sign logabsdet")
EighResult = namedtuple("linalg_eigh", "eigenvalues eigenvectors")
QRResult = namedtuple("linalg_qr", "Q R")
SVDResult = namedtuple("linalg_svd", "U S Vh")
TorchSlogdetResult = namedtuple("slogdet", "sign logabsdet")  # torch.slogdet's
TorchSVDResult = namedtuple("svd", "U S V")  # torch.svd's: V, not Vh

# torch's names of the dtypes, as its messages print them ("Got Long")
_TORCH_TYPE = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
               "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64", "bool": "Bool",
               "float16": "Half", "float32": "Float", "float64": "Double",
               "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _torch_type(dt):
    return _TORCH_TYPE.get(dt.name, dt.name)


# ---- argument checks ----------------------------------------------------------------------------

def _tensor_arg(x, fn, name="A"):
    """``x`` if it is a Tensor, else torch's binding error ("linalg_inv(): argument 'A'
    (position 1) must be Tensor, not list")."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{_binding_name(x, fn.replace('.', '_'), name)} must be Tensor, not "
                        f"{type(x).__name__}")
    return x


def _binding_name(value, binding, name):
    """``"linalg_inv(): argument 'A'"``, torch's binding's words, unless the bad value came in
    through another public call under another name (``tg.inverse(input)``,
    ``x.pinverse(rcond=)``): that call's and argument's name then (error path only)."""
    fn, arg = _argname.caller(value)
    if arg is not None and arg != name:
        return f"{fn}(): argument '{arg}'"
    return f"{binding}(): argument '{name}'"


def _real_float(dt, fn, kernel=None, ints_too=False):
    """A real float32/float64 dtype, or torch's error for it: integers and bools are "Expected
    a floating point or complex tensor as input", float16 "Low precision dtypes not supported"
    or, where torch fails in its CPU kernel instead, '"kernel" not implemented for 'Half''
    (eigh says that for integers too: ``ints_too``). Complex tensors are a TypeError of ours."""
    if dt.kind == "c":
        raise TypeError(f"{fn}: complex tensors are not supported (real float32 and float64 "
                        f"only), got {dt}")
    if dt.kind == "f" and dt.itemsize in (4, 8):
        return
    if kernel is not None and (dt == np.float16 or ints_too):
        raise TypeError(f'"{kernel}" not implemented for \'{_torch_type(dt)}\'')
    if dt.kind != "f":
        raise TypeError(f"{fn}: Expected a floating point or complex tensor as input. Got "
                        f"{_torch_type(dt)}")
    if dt == np.float16:
        raise TypeError(f"{fn}: Low precision dtypes not supported. Got Half")
    raise TypeError(f"{fn}: {dt} is not supported (real float32 and float64 only)")


def _matrices(A, fn, *, square=True, kernel=None, ints_too=False, name="A"):
    """``A`` checked as torch checks it, in torch's order: a Tensor of at least 2 dims, square
    matrices (where asked), a real float32/float64 dtype."""
    _tensor_arg(A, fn, name)
    a = A._data
    if a.ndim < 2:
        raise ValueError(f"{fn}: The input tensor {name} must have at least 2 dimensions.")
    if square and a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{fn}: A must be batches of square matrices, but they are "
                         f"{a.shape[-2]} by {a.shape[-1]} matrices")
    _real_float(a.dtype, fn, kernel, ints_too)
    return A


def _flag(v, name, binding):
    """A bool argument: functional's one flag check (torch's TypeError for anything else),
    imported only for a value that is not a plain bool, so that ``import tinygrad_norm`` does
    not load ``functional``."""
    if type(v) is bool:
        return v
    from .functional._checks import _flag as check
    return check(v, name, binding)


def _wants_grad(A):
    """Whether an op on ``A`` is recorded (its VJP may be asked for), or ``A`` carries a
    forward-mode tangent (whose rule may run the VJP)."""
    return _state.enabled and A._requires_grad or A._fw is not None


def _split(p, batch, shapes):
    """The results packed in ``p`` (a factorization's one output): on the graph where ``p``
    is (or with its tangent: forward mode), else plain views of its array."""
    if p._requires_grad or p._fw is not None:
        return ops._unpack(p, batch, shapes)
    return [Tensor._wrap(x) for x in ops._unpack(p._data, batch, shapes)]


def _prefix(a, i):
    """torch's "(Batch element i): " for a batch of matrices (none for one matrix)."""
    return f"(Batch element {i}): " if a.ndim > 2 else ""


def _first(codes):
    """The first (batch element, code) with a non-zero code; (0, 1) if NumPy failed where this
    check found nothing (a difference of rounding)."""
    bad = np.flatnonzero(codes)
    return (int(bad[0]), int(codes[bad[0]])) if bad.size else (0, 1)


def _zero_pivots(a):
    """For each matrix of ``a`` (batch flattened), the 1-based column of the first exactly-zero
    pivot of its LU factorization with partial pivoting, LAPACK getrf's ``info`` (0: none).
    Only run to word an error: one vectorized elimination step per column."""
    m = np.array(a.reshape((-1,) + a.shape[-2:]), copy=True)
    b, n = m.shape[0], m.shape[-1]
    first = np.zeros(b, np.int64)
    rows = np.arange(b)
    for j in range(n):
        p = j + np.argmax(np.abs(m[:, j:, j]), axis=1)  # the largest magnitude, as getrf
        piv = m[rows, p, j]
        zero = piv == 0
        first[zero & (first == 0)] = j + 1
        m[rows, j], m[rows, p] = m[rows, p], m[rows, j].copy()
        # a zero pivot's column is 0 below it: nothing to eliminate (getrf goes on, too)
        factor = m[:, j + 1:, j] / np.where(zero, 1, piv)[:, None]
        m[:, j + 1:, j:] -= factor[:, :, None] * m[:, None, j, j:]
    return first


def _not_positive_definite(a):
    """For each matrix (batch flattened), the order of its first leading minor that is not
    positive-definite, from the lower triangle, LAPACK potrf's ``info`` (0: none)."""
    m = a.reshape((-1,) + a.shape[-2:])
    b, n = m.shape[0], m.shape[-1]
    low = np.zeros(m.shape, m.dtype)
    first = np.zeros(b, np.int64)
    for j in range(n):
        d = m[:, j, j] - np.einsum("bk,bk->b", low[:, j, :j], low[:, j, :j])
        ok = d > 0  # False for NaN too, as potrf's test
        first[~ok & (first == 0)] = j + 1
        root = np.sqrt(np.where(ok, d, 1))
        low[:, j, j] = root
        low[:, j + 1:, j] = (m[:, j + 1:, j] - np.einsum("bik,bk->bi", low[:, j + 1:, :j],
                                                         low[:, j, :j])) / root[:, None]
    return first


def _singular_inverse(a, fn):
    i, k = _first(_zero_pivots(a))
    return LinAlgError(f"{fn}: {_prefix(a, i)}The diagonal element {k} is zero, the inversion "
                       f"could not be completed because the input matrix is singular.")


def _svd_failed(a):
    why = ("the input matrix contained non-finite values" if not np.isfinite(a).all() else
           "the input matrix is ill-conditioned or has too many repeated singular values")
    return LinAlgError(f"linalg.svd: The algorithm failed to converge because {why}.")


def _no_driver(driver):
    if driver is not None:
        raise ValueError("torch.linalg.svd: keyword argument `driver=` is only supported on "
                         "CUDA inputs with cuSOLVER backend.")


def _uplo(UPLO, binding):
    if not isinstance(UPLO, str):
        raise TypeError(f"{binding}(): argument 'UPLO' must be str, not {type(UPLO).__name__}")
    if UPLO.upper() not in ("L", "U"):
        raise ValueError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO.upper()


# ---- inverses, determinants and solves ----------------------------------------------------------

def inv(A):
    """The inverse of each square matrix, as ``torch.linalg.inv``. A singular matrix (an
    exactly zero pivot) is torch's ``LinAlgError``, naming the batch element and the pivot."""
    fn = "linalg.inv"
    _matrices(A, fn)
    try:
        return apply(ops.Inv, A)
    except np.linalg.LinAlgError:
        raise _singular_inverse(A._data, fn) from None


def det(A):
    """The determinant of each square matrix, as ``torch.linalg.det``. Its gradient is the
    cofactor matrix: ``det(A) A^-T`` for an invertible A, from the SVD at a singular one, so
    it is the exact gradient at rank n - 1 too (torch's is 0 at an exactly singular matrix)."""
    return apply(ops.Det, _matrices(A, "linalg.det", kernel="lu_cpu"))


def _sign_logabsdet(A):
    p = apply(ops.Slogdet, A)
    return p[..., 0], p[..., 1]  # on the graph both, as torch's; the sign's gradient is 0


def slogdet(A):
    """``(sign, logabsdet)`` of each square matrix, as ``torch.linalg.slogdet`` (a named tuple;
    ``sign`` 0 and ``logabsdet`` -inf for a singular one). ``logabsdet``'s gradient is ``A^-T``
    (+-inf at a singular matrix, as torch's); ``sign`` is on the graph with a zero gradient."""
    _matrices(A, "linalg.slogdet")
    return SlogdetResult(*_sign_logabsdet(A))


def _vector_rhs(a, b):
    """torch's rule: B is a batch of vectors when 1-D, or when it is A's shape without the last
    dim."""
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])


def solve(A, B, *, left=True):
    """X with ``A X = B`` (``left=False``: ``X A = B``), as ``torch.linalg.solve``: B a matrix
    or, by torch's rule, a vector (1-D, or A's shape without its last dim); batch dims
    broadcast. A singular A is torch's ``LinAlgError``. An A holding inf or NaN gives garbage
    in both libraries, but not the same: which entries of X (and of the gradients) are NaN
    follows each LAPACK call's pivots (NumPy's gesv here, torch's getrf/getrs), which differ
    at NaN."""
    fn = "linalg.solve"
    left = _flag(left, "left", "linalg_solve")
    _tensor_arg(A, fn, "A")
    _tensor_arg(B, fn, "B")
    _matrices(A, fn, kernel="lu_cpu")
    a, b = A._data, B._data
    if b.ndim < 1:
        raise ValueError(f"{fn}: The input tensor B must have at least 2 dimensions.")
    if a.dtype != b.dtype:
        raise TypeError(f"{fn}: Expected A and B to have the same dtype, but found A of type "
                        f"{_torch_type(a.dtype)} and B of type {_torch_type(b.dtype)} instead")
    vector = _vector_rhs(a, b)
    if vector and not left:
        raise ValueError(f"{fn}: Vector broadcasting of the left hand side is not supported for "
                         f"left=False. In this case linalg.solve is equivalent to B / "
                         f"A.squeeze(-1)")
    n = a.shape[-1]
    bm = b.shape + (1,) if vector else b.shape
    rows, cols = bm[-2:]
    if (rows if left else cols) != n:
        raise ValueError(f"{fn}: Incompatible shapes of A and B for the equation "
                         f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {rows}x{cols})")
    try:
        batch = np.broadcast_shapes(a.shape[:-2], bm[:-2])
    except ValueError:
        raise ValueError(f"{fn}: the batch dimensions of A {a.shape[:-2]} and B {bm[:-2]} "
                         f"cannot be broadcast together") from None
    Bm = B.reshape(bm) if vector else B
    try:
        X = apply(ops.Solve, A, Bm) if left else apply(ops.Solve, A.mT, Bm.mT).mT
    except np.linalg.LinAlgError:
        i, _ = _first(_zero_pivots(np.broadcast_to(a, batch + a.shape[-2:])))
        raise LinAlgError(f"torch.{fn}: {'(Batch element %d): ' % i if batch else ''}The solver "
                          f"failed because the input matrix is singular.") from None
    return X.reshape(X.shape[:-1]) if vector else X


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The Moore-Penrose pseudo-inverse of each matrix, as ``torch.linalg.pinv``: from the SVD
    (``hermitian``: the eigendecomposition of the lower triangle), singular values at most
    ``max(atol, rtol * largest)`` taken as 0. ``atol``/``rtol`` are numbers or tensors that
    broadcast over the batch (no gradient); by default ``atol`` is 0 and ``rtol`` is
    ``eps * max(m, n)``, or 0 where ``atol > 0``. Its gradient is torch's formula for the
    pseudo-inverse (finite where singular values repeat)."""
    fn = "linalg.pinv"
    _tensor_arg(A, fn)
    a = A._data
    if a.ndim < 2 or a.dtype not in (np.float32, np.float64):
        what = f"{fn}({_torch_type(a.dtype)}{{{list(a.shape)}}}): expected a tensor with 2 or " \
               f"more dimensions of float, double, cfloat or cdouble types"
        raise (ValueError if a.ndim < 2 else TypeError)(what)
    hermitian = _flag(hermitian, "hermitian", "linalg_pinv")
    at, rt = _tolerances(atol, rtol, a, "linalg_pinv")
    try:
        return apply(ops.Pinv, A, atol=at, rtol=rt, hermitian=hermitian)
    except np.linalg.LinAlgError:
        raise _svd_failed(a) from None


def _tolerance(v, name, binding):
    if v is None:
        return None
    if isinstance(v, Tensor):
        if v._requires_grad and _state.enabled:
            raise ValueError(f"The function '{binding}' is not differentiable with respect to "
                             f"argument '{name}'. This input cannot have requires_grad True.")
        return np.asarray(v._data, np.float64)
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
        raise TypeError(f"{_binding_name(v, binding, name)} must be a float or a Tensor, not "
                        f"{type(v).__name__}")
    return np.asarray(float(v))


def _tolerances(atol, rtol, a, binding):
    """torch's pinv/matrix_rank tolerances as float64 arrays: ``atol`` 0 if not given; ``rtol``
    ``eps * max(m, n)`` if not given, but 0 where a given ``atol`` is positive."""
    at, rt = _tolerance(atol, "atol", binding), _tolerance(rtol, "rtol", binding)
    default = np.finfo(a.dtype).eps * max(a.shape[-2:])
    if at is None:
        return np.zeros(()), (np.asarray(default) if rt is None else rt)
    return at, (np.where(at > 0, 0.0, default) if rt is None else rt)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """The number of singular values (``hermitian``: eigenvalue magnitudes) above
    ``max(atol, rtol * largest)`` of each matrix, int64, as ``torch.linalg.matrix_rank`` (the
    tolerances as ``pinv``'s). No gradient."""
    fn = "torch.linalg.matrix_rank"
    _tensor_arg(A, fn)
    a = A._data
    if a.ndim < 2:
        raise ValueError(f"{fn}: The input tensor input must have at least 2 dimensions.")
    if a.dtype not in (np.float32, np.float64):
        raise TypeError("This function doesn't handle types other than float and double")
    hermitian = _flag(hermitian, "hermitian", "linalg_matrix_rank")
    at, rt = _tolerances(atol, rtol, a, "linalg_matrix_rank")
    if 0 in a.shape[-2:]:
        return Tensor._wrap(np.zeros(np.broadcast_shapes(a.shape[:-2], at.shape, rt.shape),
                                     np.int64))
    try:
        s = np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)
    except np.linalg.LinAlgError:
        raise _svd_failed(a) from None
    tol = np.maximum(at, rt * s.max(-1))
    return Tensor._wrap(np.sum(s > tol[..., None], axis=-1, dtype=np.int64))


def matrix_power(A, n):
    """``A`` multiplied by itself ``n`` times (repeated squaring), as
    ``torch.linalg.matrix_power``: ``n = 0`` gives identity matrices (a zero gradient), a
    negative ``n`` the power of ``inv(A)``. Integer tensors work for ``n >= 0``."""
    return _matrix_power(A, n, "linalg.matrix_power", "linalg_matrix_power")


def _matrix_power(A, n, fn, binding):
    _tensor_arg(A, fn)
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{binding}(): argument 'n' (position 2) must be int, not "
                        f"{type(n).__name__}")
    a = A._data
    if a.ndim < 2:
        raise ValueError(f"{fn}: The input tensor A must have at least 2 dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{fn}: A must be batches of square matrices, but they are "
                         f"{a.shape[-2]} by {a.shape[-1]} matrices")
    if a.dtype == np.bool_ or a.dtype.kind == "c":
        raise TypeError(f"\"addmm_impl_cpu_\" not implemented for '{_torch_type(a.dtype)}'")
    n = int(n)
    if n < 0:
        A, n = inv(A), -n
    if n == 0:
        eye = Tensor._wrap(np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape).copy())
        return eye + apply(ops.ZerosLike, A) if _wants_grad(A) else eye  # torch's zero gradient
    result, square = None, A
    while True:  # binary powers: log2(n) squarings
        if n & 1:
            result = square if result is None else result @ square
        n >>= 1
        if not n:
            break
        square = square @ square
    return result.clone() if result is A else result


_LOWER_NAMES = {"float64": "double", "float32": "float", "float16": "c10::Half",
                "int64": "long", "int32": "int", "int16": "short", "int8": "signed char",
                "uint8": "unsigned char", "bool": "bool"}


def multi_dot(tensors):
    """The product of two or more matrices in the cheapest order (the matrix-chain dynamic
    program, as ``torch.linalg.multi_dot``); the first may be a 1-D row vector and the last a
    1-D column vector, their dims dropped from the result."""
    fn = "multi_dot()"
    if isinstance(tensors, Tensor) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"linalg_multi_dot(): argument 'tensors' (position 1) must be tuple of "
                        f"Tensors, not {type(tensors).__name__}")
    ts = [_tensor_arg(t, "linalg.multi_dot", "tensors") for t in tensors]
    if len(ts) < 2:
        raise ValueError(f"{fn}: expected at least 2 tensors but got {len(ts)}")
    dims = [t._data.ndim for t in ts]
    if dims[0] not in (1, 2):
        raise ValueError(f"{fn}: the first tensor must be 1D or 2D but got {dims[0]}D")
    if dims[-1] not in (1, 2):
        raise ValueError(f"{fn}: the last tensor must be 1D or 2D but got {dims[-1]}D")
    for i in range(1, len(ts) - 1):
        if dims[i] != 2:
            raise ValueError(f"{fn}: tensor {i} must be 2D but got {dims[i]}D")
    dt = ts[0]._data.dtype
    for i, t in enumerate(ts[1:], 1):
        if t._data.dtype != dt:
            raise TypeError(f"{fn}: all tensors must have be the same dtype but tensor 0 is "
                            f"{_LOWER_NAMES.get(dt.name, dt.name)} and tensor {i} "
                            f"{_LOWER_NAMES.get(t._data.dtype.name, t._data.dtype.name)}")
    mats = list(ts)
    if dims[0] == 1:
        mats[0] = ts[0].reshape(1, -1)
    if dims[-1] == 1:
        mats[-1] = ts[-1].reshape(-1, 1)
    for i in range(len(ts) - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise ValueError(f"{fn}: tensors {i} and {i + 1} with shapes {list(ts[i].shape)} "
                             f"and {list(ts[i + 1].shape)} cannot be multiplied")
    out = _chain(mats, _chain_order([m.shape[0] for m in mats] + [mats[-1].shape[1]]),
                 0, len(mats) - 1)
    keep = [out.shape[0]] * (dims[0] == 2) + [out.shape[1]] * (dims[-1] == 2)
    return out.reshape(tuple(keep)) if len(keep) < 2 else out


def _chain_order(p):
    """The split of each sub-chain i..j of matrices (p[i] x p[i+1] each) that multiplies it
    with the fewest scalar products (the classic O(k^3) dynamic program)."""
    k = len(p) - 1
    cost = [[0] * k for _ in range(k)]
    split = [[0] * k for _ in range(k)]
    for length in range(1, k):
        for i in range(k - length):
            j = i + length
            cost[i][j] = math.inf
            for s in range(i, j):
                c = cost[i][s] + cost[s + 1][j] + p[i] * p[s + 1] * p[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, s
    return split


def _chain(mats, split, i, j):
    if i == j:
        return mats[i]
    s = split[i][j]
    return _chain(mats, split, i, s) @ _chain(mats, split, s + 1, j)


# ---- factorizations -----------------------------------------------------------------------------

def cholesky(A, *, upper=False):
    """The lower Cholesky factor L of each symmetric positive-definite matrix (``A = L L^T``),
    read from A's lower triangle, as ``torch.linalg.cholesky``; ``upper=True``: ``U = L^T``
    from the upper triangle. The gradient is torch's symmetric one. A matrix that is not
    positive-definite is torch's ``LinAlgError``, naming the leading minor that fails."""
    return _cholesky(A, upper, "linalg.cholesky", "linalg_cholesky")


def _cholesky(A, upper, fn, binding):
    upper = _flag(upper, "upper", binding)
    _matrices(A, fn, kernel="cholesky_cpu")
    src = A.mT if upper else A  # the upper triangle of A is the lower one of A^T
    try:
        low = apply(ops.Cholesky, src)
    except np.linalg.LinAlgError:
        a = A._data
        i, k = _first(_not_positive_definite(np.swapaxes(a, -1, -2) if upper else a))
        raise LinAlgError(f"{fn}: {_prefix(a, i)}The factorization could not be completed "
                          f"because the input is not positive-definite (the leading minor of "
                          f"order {k} is not positive-definite).") from None
    return low.mT if upper else low


def qr(A, mode="reduced"):
    """``(Q, R)`` of each matrix, as ``torch.linalg.qr``: ``mode`` 'reduced' (Q (m, k), R
    (k, n), k = min(m, n)), 'complete' (Q (m, m), R (m, n)) or 'r' (R alone, Q empty). Signs
    as LAPACK's (R's diagonal may be negative), as torch's. Differentiable for 'reduced', and
    for 'complete' with m <= n; the others raise torch's error at backward, as torch."""
    fn = "linalg.qr"
    _matrices(A, fn, square=False, kernel="geqrf_cpu")
    if not isinstance(mode, str):
        raise TypeError(f"linalg_qr(): argument 'mode' must be str, not {type(mode).__name__}")
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr received unrecognized mode '{mode}' but expected one of "
                         f"'reduced' (default), 'r', or 'complete'")
    a = A._data
    out = apply(ops.QR, A, mode=mode)
    if mode == "r":
        return QRResult(Tensor._wrap(np.zeros((0,), a.dtype)), out)
    (m, n), k = a.shape[-2:], min(a.shape[-2:])
    cols = m if mode == "complete" else k
    return QRResult(*_split(out, a.shape[:-2], [(m, cols), (cols, n)]))


def eigh(A, UPLO="L"):
    """``(eigenvalues, eigenvectors)`` of each symmetric matrix, read from its lower (``UPLO
    ='L'``) or upper triangle, eigenvalues ascending, as ``torch.linalg.eigh``. The gradient is
    torch's (symmetric); where eigenvalues repeat it is infinite or NaN if the eigenvectors are
    used (as torch's), finite if only the eigenvalues are. Eigenvector signs are LAPACK's
    choice: use losses that do not depend on them."""
    uplo = _uplo(UPLO, "linalg_eigh")
    _matrices(A, "linalg.eigh", kernel="linalg_eigh_cpu", ints_too=True)
    n, batch = A._data.shape[-1], A._data.shape[:-2]
    return EighResult(*_split(apply(ops.Eigh, A, UPLO=uplo), batch, [(n,), (n, n)]))


def eigvalsh(A, UPLO="L"):
    """The eigenvalues of each symmetric matrix, ascending, as ``torch.linalg.eigvalsh``; the
    gradient ``V diag(g) V^T`` is finite where eigenvalues repeat."""
    uplo = _uplo(UPLO, "linalg_eigvalsh")
    _matrices(A, "linalg.eigh", kernel="linalg_eigh_cpu", ints_too=True)
    return apply(ops.Eigvalsh, A, UPLO=uplo, vectors=_wants_grad(A))


def svd(A, full_matrices=True, *, driver=None):
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``, S descending, as ``torch.linalg.svd``
    (``full_matrices``: U (m, m) and Vh (n, n); else the thin U (m, k), Vh (k, n)). The
    gradient is torch's: invariant under the sign flips of singular vector pairs (use losses
    that are too), infinite or NaN where singular values repeat if U or Vh is used, and the
    gradients of the columns past min(m, n) of a full U or Vh are ignored."""
    fn = "linalg.svd"
    full = _flag(full_matrices, "full_matrices", "linalg_svd")
    _no_driver(driver)
    _matrices(A, fn, square=False, kernel="linalg_svd_cpu")
    a = A._data
    (m, n), k = a.shape[-2:], min(a.shape[-2:])
    try:
        out = apply(ops.SVD, A, full_matrices=full)
    except np.linalg.LinAlgError:
        raise _svd_failed(a) from None
    mu, nv = (m, n) if full else (k, k)
    return SVDResult(*_split(out, a.shape[:-2], [(m, mu), (k,), (nv, n)]))


def svdvals(A, *, driver=None):
    """The singular values of each matrix, descending, as ``torch.linalg.svdvals``; the
    gradient ``U diag(g) Vh`` is finite where singular values repeat."""
    _no_driver(driver)
    _matrices(A, "linalg.svd", square=False, kernel="linalg_svd_cpu")
    try:
        return apply(ops.Svdvals, A, vectors=_wants_grad(A))
    except np.linalg.LinAlgError:
        raise _svd_failed(A._data) from None


# ---- norms --------------------------------------------------------------------------------------

def _cast(x, dtype, fn):
    """``x`` in ``dtype`` (None: as it is): torch's rule, a floating dtype that does not
    narrow the input's."""
    if dtype is None:
        return x
    try:
        dt = np.dtype(dtype)
    except TypeError:  # NumPy's "data type 'abc' not understood" named no argument
        raise TypeError(f"{fn}: dtype must be a NumPy dtype, got {dtype!r}") from None
    if dt.kind != "f":
        raise TypeError(f"{fn}: dtype should be floating point or complex, but got "
                        f"{_torch_type(dt)}")
    if dt.itemsize < x._data.dtype.itemsize:
        raise TypeError(f"{fn}: the dtype of the input ({_torch_type(x._data.dtype)}) should "
                        f"be convertible without narrowing to the specified dtype "
                        f"({_torch_type(dt)})")
    return x if dt == x._data.dtype else x.astype(dt)


def _norm_dims(dim, nd, fn):
    """``dim`` (None: all; an int, a tuple or a list of ints) as a sorted tuple of axes, with
    torch's errors."""
    if dim is None:
        return tuple(range(nd))
    items = dim if isinstance(dim, (tuple, list)) else (dim,)
    out = []
    for d in items:
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, numbers.Integral):
            raise TypeError(f"{fn}(): argument 'dim' must be tuple of ints, not "
                            f"{type(d).__name__}")
        out.append(_axis(int(d), nd))
    for d in out:
        if out.count(d) > 1:
            raise ValueError(f"dim {d} appears multiple times in the list of dims")
    return tuple(sorted(out)) if out else tuple(range(nd))


def _axis(d, nd):
    """One dim, normalized, or torch's IndexError (a 0-d tensor takes 0 and -1)."""
    top = max(nd, 1)
    if not -top <= d < top:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-top}, "
                         f"{top - 1}], but got {d})")
    return d % top


def _ord_text(o):
    return f"{o:g}" if isinstance(o, float) else str(o)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector ``ord``-norm over ``dim`` (None: all elements), as
    ``torch.linalg.vector_norm``: ``ord`` a number (0 counts non-zeros, ``inf``/``-inf`` the
    largest/smallest magnitude). Gradients as ``Tensor.norm`` (0 where the norm is 0, ties
    share at inf), float16 in float32 rounded once. ``dtype`` casts the input first (a floating
    dtype that does not narrow it)."""
    fn = "linalg.vector_norm"
    _tensor_arg(x, fn, "x")
    if isinstance(ord, Tensor):
        ord = ord.item()
    if isinstance(ord, (bool, np.bool_)):
        ord = int(ord)
    if not isinstance(ord, numbers.Real):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not "
                        f"{type(ord).__name__}")
    keepdim = _flag(keepdim, "keepdim", "linalg_vector_norm")
    dt = x._data.dtype
    if dt.kind == "c":
        _real_float(dt, fn)
    if dt.kind != "f":
        raise TypeError(f"{fn}: Expected a floating point or complex tensor as input. Got "
                        f"{_torch_type(dt)}")
    x = _cast(x, dtype, fn)
    axes = _norm_dims(dim, x._data.ndim, "linalg_vector_norm")
    if x._data.ndim == 0:  # dim 0 or -1 of a 0-d tensor is its one element: as dim=None
        axes = ()
    if ord < 0 or ord == math.inf:  # a max or min of magnitudes: no value over no elements
        if dim is None and x._data.size == 0:
            raise ValueError(f"linalg.vector_norm cannot compute the {_ord_text(ord)} norm on "
                             f"an empty tensor because the operation does not have an identity")
        for d in axes:
            if x._data.shape[d] == 0:
                raise ValueError(f"linalg.vector_norm cannot compute the {_ord_text(ord)} norm "
                                 f"on the dimension {d} because this dimension is empty and the "
                                 f"operation does not have an identity")
    if x._data.dtype == np.float16:  # in float32, rounded once, as torch's
        return _norm(x.astype(np.float32), ord, axes, keepdim).astype(np.float16)
    return _norm(x, ord, axes, keepdim)


_MATRIX_ORDS = ("fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The matrix norm over the two dims ``dim``, as ``torch.linalg.matrix_norm``: ``'fro'``
    (of the elements), ``'nuc'`` (the sum of singular values), ``2``/``-2`` (the largest/
    smallest singular value), ``1``/``-1`` (the largest/smallest column sum of magnitudes),
    ``inf``/``-inf`` (row sums). The singular-value norms come from ``svdvals`` (gradients
    finite where singular values repeat; ties at the largest share the gradient, as torch's
    ``amax``); float16 only for 'fro', 1 and inf (in float32), as torch."""
    fn = "linalg.matrix_norm"
    _tensor_arg(A, fn)
    if isinstance(ord, (bool, np.bool_)):
        ord = int(ord)
    if not (isinstance(ord, str) or isinstance(ord, numbers.Real)) or ord not in _MATRIX_ORDS:
        raise ValueError(f"{fn}: Order {_ord_text(ord)} not supported.")
    keepdim = _flag(keepdim, "keepdim", "linalg_matrix_norm")
    a = A._data
    if a.ndim < 2:
        raise ValueError(f"{fn}: The input tensor A must have at least 2 dimensions.")
    if a.dtype.kind != "f":
        _real_float(a.dtype, fn)
    dims = list(dim) if isinstance(dim, (tuple, list)) else [dim]
    if len(dims) != 2 or not all(isinstance(d, numbers.Integral) and not isinstance(d, bool)
                                 for d in dims):
        raise ValueError(f"{fn}: dim must be a 2-tuple. Got {' '.join(str(d) for d in dims)}")
    d0, d1 = _axis(int(dims[0]), a.ndim), _axis(int(dims[1]), a.ndim)
    if d0 == d1:
        raise ValueError(f"{fn}: dims must be different. Got ({dims[0]}, {dims[1]})")
    A = _cast(A, dtype, fn)
    if ord in ("nuc", 2, -2):
        _real_float(A._data.dtype, fn)
        return _singular_norm(A, ord, d0, d1, keepdim)
    if A._data.dtype == np.float16:
        return matrix_norm(A.astype(np.float32), ord, (d0, d1), keepdim).astype(np.float16)
    if ord == "fro":
        return _norm(A, 2, tuple(sorted((d0, d1))), keepdim)
    # 1 / -1: the column sums (over d0) reduced over d1; inf / -inf: the row sums, over d0
    summed, reduced = (d0, d1) if abs(ord) == 1 else (d1, d0)
    sums = A.abs().sum(axis=(summed,), keepdims=True)
    out = _extreme(sums, reduced, ord > 0, reduced - (reduced > summed))
    return out if keepdim else out.squeeze(axis=(d0, d1))


def _extreme(t, axis, largest, shown):
    """The max (``largest``) or min over one axis, kept. Over an empty axis the max of the
    non-negative sums is 0, as torch's; the min is torch's error (``shown``: its dim)."""
    if t._data.shape[axis] == 0:
        if not largest:
            raise IndexError(f"amin(): Expected reduction dim {shown} to have non-zero size.")
        return t.sum(axis=(axis,), keepdims=True)
    return t.amax(axis, True) if largest else t.amin(axis, True)


def _singular_norm(A, ord, d0, d1, keepdim):
    """'nuc', 2 and -2: from the singular values of the matrices over (d0, d1)."""
    nd = A._data.ndim
    rest = [i for i in range(nd) if i not in (d0, d1)]
    moved = A if rest + [d0, d1] == list(range(nd)) else A.transpose(rest + [d0, d1])
    s = svdvals(moved)
    if ord == "nuc":
        out = s.sum(axis=(-1,))
    else:
        out = _extreme(s.reshape(s.shape[:-1] + (1, s.shape[-1])), -1, ord > 0, -1)
        out = out.reshape(out.shape[:-2])
    if keepdim:
        shape = list(A._data.shape)
        shape[d0] = shape[d1] = 1
        out = out.reshape(tuple(shape))
    return out


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``torch.linalg.norm``'s dispatch: ``dim`` of one dim (an int) is a vector norm (``ord``
    default 2), of two dims a matrix norm (``ord`` default 'fro'); without ``dim``, no ``ord``
    is the 2-norm of all elements, an ``ord`` needs a 1-D (vector norm) or 2-D (matrix norm)
    input; a string ``ord`` is always a matrix norm."""
    fn = "linalg.norm"
    _tensor_arg(A, fn)
    nd = A._data.ndim
    if dim is not None:
        dims = list(dim) if isinstance(dim, (tuple, list)) else [dim]
        if len(dims) not in (1, 2):
            raise ValueError(f"{fn}: If dim is specified, it must be of length 1 or 2. Got "
                             f"{dims}")
    elif ord is not None and nd not in (1, 2):
        raise ValueError(f"{fn}: If dim is not specified but ord is, the input must be 1D or "
                         f"2D. Got {nd}D.")
    if isinstance(ord, str):
        return matrix_norm(A, ord, (0, 1) if dim is None else dim, keepdim, dtype=dtype)
    if ord is not None and (len(dims) == 2 if dim is not None else nd == 2):
        return matrix_norm(A, ord, (0, 1) if dim is None else dim, keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


# ---- torch.linalg's other names -----------------------------------------------------------------

def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along ``dim``, as ``torch.linalg.cross`` (default -1,
    where ``torch.cross`` finds the first dim of size 3): the inputs have one number of dims
    and broadcast."""
    fn = "linalg.cross"
    a, b = _tensor_arg(input, fn, "input"), _tensor_arg(other, fn, "other")
    if a._data.ndim != b._data.ndim:
        raise ValueError(f"{fn}: inputs must have the same number of dimensions.")
    if isinstance(dim, numbers.Integral) and not isinstance(dim, (bool, np.bool_)):
        d = _axis(int(dim), a._data.ndim)
        if a._data.ndim and (a._data.shape[d] != 3 or b._data.shape[d] != 3):
            raise ValueError(f"{fn}: inputs dimension {dim} must have length 3. Got "
                             f"{a._data.shape[d]} and {b._data.shape[d]}")
    return _cross(a, b, dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonals of the matrices over ``dim1``, ``dim2`` (the last two by default), as
    ``torch.linalg.diagonal``: ``tinygrad_norm.diagonal`` with those defaults."""
    return _diagonal(A, offset, dim1, dim2)


def vecdot(x, y, *, dim=-1):
    """``sum(x * y)`` over ``dim``, as ``torch.linalg.vecdot`` (real tensors)."""
    return _vecdot(x, y, dim=dim)


def matmul(input, other):
    """``input @ other``, as ``torch.linalg.matmul``."""
    return _matmul(input, other)


# ---- torch's top-level spellings (tinygrad_norm.det, ...; the Tensor methods) --------------------

def _torch_det(input):
    """``torch.det``: linalg.det under torch's top-level argument name."""
    return det(input)


def _torch_inverse(input):
    """``torch.inverse``: linalg.inv under torch's top-level argument name."""
    return inv(input)


def _torch_logdet(input):
    """``torch.logdet``: log(det), NaN where det < 0 (with a zero gradient there), -inf where
    det = 0."""
    _matrices(input, "logdet")
    sign, logabs = _sign_logabsdet(input)
    return where(sign._data < 0, math.nan, logabs)


def _torch_slogdet(input):
    """``torch.slogdet``: linalg.slogdet's result as torch.return_types.slogdet."""
    return TorchSlogdetResult(*slogdet(input))


def _torch_cholesky(input, upper=False):
    """``torch.cholesky`` (deprecated in torch, still there): ``upper`` positional, errors
    worded "cholesky:"."""
    return _cholesky(input, upper, "cholesky", "cholesky")


def _torch_pinverse(input, rcond=1e-15):
    """``torch.pinverse``: ``linalg.pinv`` with ``rtol=rcond`` (and no ``atol``)."""
    return pinv(input, rtol=rcond)


def _torch_matrix_power(input, n):
    return _matrix_power(input, n, "linalg.matrix_power", "matrix_power")


def _torch_svd(input, some=True, compute_uv=True):
    """``torch.svd``: ``(U, S, V)`` with V (not Vh), thin unless ``some=False``; with
    ``compute_uv=False`` U and V are zeros of shapes (m, m) and (n, n), as torch's, and S still
    has its gradient."""
    some = _flag(some, "some", "svd")
    compute_uv = _flag(compute_uv, "compute_uv", "svd")
    _tensor_arg(input, "svd", "input")
    a = input._data
    if a.ndim < 2:
        raise ValueError(f"linalg.svd: input should have at least 2 dimensions, but has "
                         f"{a.ndim} dimensions instead")
    if compute_uv:
        u, s, vh = svd(input, full_matrices=not some)
        return TorchSVDResult(u, s, vh.mT)
    s = svdvals(input)
    (m, n), batch = a.shape[-2:], a.shape[:-2]
    return TorchSVDResult(Tensor._wrap(np.zeros(batch + (m, m), a.dtype)), s,
                          Tensor._wrap(np.zeros(batch + (n, n), a.dtype)))


# ---- torch.linalg's solvers (linalg_solvers.py), re-exported here -----------------------------
from .linalg_solvers import lstsq, lu, lu_factor, lu_factor_ex, lu_solve, matrix_exp, \
    solve_triangular  # noqa: E402  (linalg_solvers uses the checks above)
from .linalg_solvers import _torch_lu_unpack, _torch_matrix_exp, \
    _torch_triangular_solve  # noqa: E402,F401  (tinygrad_norm's top-level names)

__all__ += ["solve_triangular", "matrix_exp", "lu_factor", "lu_factor_ex", "lu", "lu_solve",
            "lstsq"]

# ---- the _ex variants, cond, tensor inverses, vander, householder_product (linalg_extras.py) ----
from .linalg_extras import cholesky_ex, cond, householder_product, inv_ex, solve_ex, \
    tensorinv, tensorsolve, vander  # noqa: E402  (linalg_extras uses the functions above)

__all__ += ["cholesky_ex", "inv_ex", "solve_ex", "cond", "tensorinv", "tensorsolve", "vander",
            "householder_product"]
