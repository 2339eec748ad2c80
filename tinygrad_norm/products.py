"""torch's products, covariances and integrals that are compositions of existing Tensor ops:
``addmm``, ``addmv``, ``addr``, ``addbmm``, ``mv``, ``inner``, ``kron``, ``chain_matmul``,
``vdot``/``dot``, ``cov``/``corrcoef``, ``vander``, ``trapezoid``/``trapz``,
``cumulative_trapezoid``, ``diagflat`` and ``renorm``. No derivative is written here: each
gradient comes from the matmuls, sums and selects below them on the tape. Errors are
ValueError/TypeError in torch's words."""
from __future__ import annotations

import warnings

import numpy as np

from . import default_dtype as _dd
from . import ops
from .tensor import Tensor, _bool_arg, _one_axis, apply, matmul, where
from .tensor_ops import _int, _number, _tensor, outer

__all__ = ["addmm", "addmv", "addr", "addbmm", "mv", "inner", "kron", "chain_matmul", "vdot",
           "dot", "cov", "corrcoef", "vander", "trapezoid", "trapz", "cumulative_trapezoid",
           "diagflat", "renorm"]


def _scaled_sum(fn, c, p, beta, alpha):
    """``beta * c + alpha * p``, ``c`` broadcast to ``p``'s shape. ``beta=0`` ignores c's values
    (NaN and inf included) and gives it a zero gradient, as torch's."""
    beta, alpha = _number(beta, fn, "beta"), _number(alpha, fn, "alpha")
    shape = p._data.shape
    try:
        fits = np.broadcast_shapes(c._data.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"The expanded size of the tensor ({shape[-1] if shape else 1}) must "
                         f"match the existing size: input of shape {list(c.shape)} cannot be "
                         f"broadcast to the product's shape {list(shape)}")
    if alpha != 1:
        p = p * alpha
    if beta == 0:  # a zero on the graph, so that c still gets its (zero) gradient
        return p + apply(ops.ZerosLike, c) if c._requires_grad else p
    return p + (c if beta == 1 else c * beta)


def _same_dtype(words, *tensors):
    """torch's products refuse mixed dtypes (NumPy's matmul would promote)."""
    dts = [t._data.dtype for t in tensors]
    if len(set(dts)) > 1:
        raise TypeError(words.format(*dts) if "{" in words else words)


def _matrix(x, fn, name):
    x = _tensor(x, fn, name)
    if x._data.ndim != 2:
        raise ValueError(f"{name} must be a matrix, got {x.data.ndim}-D tensor")
    return x


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``, ``input`` broadcast, as ``torch.addmm``."""
    c = _tensor(input, "addmm")
    a, b = _matrix(mat1, "addmm", "mat1"), _matrix(mat2, "addmm", "mat2")
    if a._data.shape[1] != b._data.shape[0]:
        (n, m), (k, p) = a._data.shape, b._data.shape
        raise ValueError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{m} and {k}x{p})")
    _same_dtype("mat1 and mat2 must have the same dtype, but got {} and {}", a, b)
    _same_dtype("self and mat2 must have the same dtype, but got {} and {}", c, b)
    return _scaled_sum("addmm", c, matmul(a, b), beta, alpha)


def _mat_vec(mat, vec, fn, c=None):
    m, v = _tensor(mat, fn, "mat"), _tensor(vec, fn, "vec")
    dims = ([] if c is None else [c._data.ndim]) + [m._data.ndim, v._data.ndim]
    if m._data.ndim != 2 or v._data.ndim != 1:
        raise ValueError(f"{fn}(): vector + matrix @ vector expected, got "
                         f"{', '.join(map(str, dims))}")
    if m._data.shape[1] != v._data.shape[0]:
        got = "" if c is None else f"input ({', '.join(map(str, c._data.shape))}), "
        raise ValueError(f"{fn}(): size mismatch, got {got}mat ({m.shape[0]}x{m.shape[1]}), vec "
                         f"({v.shape[0]})")
    ts = ([] if c is None else [c]) + [m, v]
    if len({t._data.dtype for t in ts}) > 1:
        raise TypeError(f"addmv input tensors must have the same dtype, but got "
                        f"{', '.join(str(t.data.dtype) for t in ts)}")
    return matmul(m, v)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)``, as ``torch.addmv``."""
    c = _tensor(input, "addmv")
    return _scaled_sum("addmv", c, _mat_vec(mat, vec, "addmv", c), beta, alpha)


def mv(input, vec):
    """The matrix-vector product, as ``torch.mv``."""
    return _mat_vec(input, vec, "mv")


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)``, as ``torch.addr``."""
    c = _tensor(input, "addr")
    for v, name in ((vec1, "vec1"), (vec2, "vec2")):
        if _tensor(v, "addr", name)._data.ndim != 1:
            raise ValueError(f"addr: Expected 1-D argument {name}, but got {v.data.ndim}-D")
    return _scaled_sum("addr", c, outer(vec1, vec2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``, as ``torch.addbmm``."""
    c = _tensor(input, "addbmm")
    a, b = _tensor(batch1, "addbmm", "batch1"), _tensor(batch2, "addbmm", "batch2")
    for v, name in ((a, "batch1"), (b, "batch2")):
        if v._data.ndim != 3:
            raise ValueError(f"{name} must be a 3D tensor")
    # torch's words (its bmm's: self, mat2), with the arguments the user named
    _same_dtype("addbmm(): input, batch1 and batch2 must have the same dtype (self and mat2 "
                "must have the same dtype), but got {}, {} and {}", c, a, b)
    if a._data.shape[0] != b._data.shape[0] or a._data.shape[2] != b._data.shape[1]:
        raise ValueError(f"addbmm(): batch1 {list(a.shape)} and batch2 {list(b.shape)}: "
                         f"Incompatible matrix sizes for bmm ({a.shape[1]}x{a.shape[2]} and "
                         f"{b.shape[1]}x{b.shape[2]})")
    return _scaled_sum("addbmm", c, matmul(a, b).sum(axis=0), beta, alpha)


def inner(input, other):
    """Sums of products over the last dim of both, shape ``input.shape[:-1] +
    other.shape[:-1]``; a 0-d operand multiplies, as ``torch.inner``."""
    a, b = _tensor(input, "inner"), _tensor(other, "inner", "other")
    _same_dtype("both inputs should have same dtype", a, b)
    if a._data.ndim == 0 or b._data.ndim == 0:
        return a * b
    if a._data.shape[-1] != b._data.shape[-1]:
        raise ValueError(f"inner() the last dimension must match on both input tensors but got "
                         f"shapes {list(a.shape)} and {list(b.shape)}")
    k = a._data.shape[-1]
    rows_a, rows_b = int(np.prod(a._data.shape[:-1])), int(np.prod(b._data.shape[:-1]))
    flat = matmul(a.reshape(rows_a, k), b.reshape(rows_b, k).transpose(1, 0))
    return flat.reshape(*a._data.shape[:-1], *b._data.shape[:-1])


def kron(input, other):
    """The Kronecker product, as ``torch.kron``: the shorter shape is padded with leading
    ones, and block ``i`` of the result is ``input[i] * other``."""
    a, b = _tensor(input, "kron"), _tensor(other, "kron", "other")
    nd = max(a._data.ndim, b._data.ndim)
    sa = (1,) * (nd - a._data.ndim) + a._data.shape
    sb = (1,) * (nd - b._data.ndim) + b._data.shape
    # interleave the two shapes: a's dims at even places, b's at odd ones, then merge pairs
    ia = [s for d in sa for s in (d, 1)]
    ib = [s for d in sb for s in (1, d)]
    return (a.reshape(*ia) * b.reshape(*ib)).reshape(*[x * y for x, y in zip(sa, sb)])


def chain_matmul(*matrices):
    """The product of two or more matrices, left to right, as the deprecated
    ``torch.chain_matmul`` (torch picks the cheapest order: the same values up to rounding)."""
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise ValueError("chain_matmul(): Expected one or more matrices")
    for i, m in enumerate(matrices):
        if _tensor(m, "chain_matmul", f"matrices[{i}]")._data.ndim != 2:
            raise ValueError(f"Tensor dimension is {m.data.ndim}, expected 2 instead.")
    out = matrices[0]
    if len(matrices) == 1:
        return out.clone()
    for i, m in enumerate(matrices[1:]):
        if out._data.shape[1] != m._data.shape[0]:
            raise ValueError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                             f"{list(matrices[i].shape)} and {list(m.shape)} cannot be multiplied")
        out = matmul(out, m)
    return out


def _vectors(input, other, fn):
    a, b = _tensor(input, fn), _tensor(other, fn, "other")
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise ValueError(f"1D tensors expected, but got {a.data.ndim}D and {b.data.ndim}D tensors")
    if a._data.size != b._data.size:
        raise ValueError(f"inconsistent tensor size, expected tensor [{a.data.size}] and src "
                         f"[{b.data.size}] to have the same number of elements, but got "
                         f"{a.data.size} and {b.data.size} elements respectively")
    if a._data.dtype != b._data.dtype:
        raise TypeError(f"{fn} : expected both vectors to have same dtype, but found "
                        f"{a.data.dtype} and {b.data.dtype}")
    return matmul(a, b)


def dot(input, other):
    """The dot product of two 1-D tensors of one dtype and size, as ``torch.dot``."""
    return _vectors(input, other, "dot")


def vdot(input, other):
    """``dot`` with the first operand conjugated, as ``torch.vdot``: for real tensors, dot."""
    return _vectors(input, other, "dot")


def _weights(w, name, n, integral):
    w = _tensor(w, "cov", name)
    if w._data.ndim > 1:
        raise ValueError(f"cov(): expected {name} to have one or fewer dimensions but got {name} "
                         f"with {w.data.ndim} dimensions")
    if integral and w._data.dtype.kind not in "iu":
        raise TypeError(f"cov(): expected {name} to have integral dtype but got {name} with "
                        f"{w.data.dtype} dtype")
    if not integral and w._data.dtype.kind != "f":
        raise TypeError(f"cov(): expected {name} to have floating point dtype but got {name} "
                        f"with {w.data.dtype} dtype")
    if w._data.size != n:
        raise ValueError(f"cov(): expected {name} to have the same numel as there are "
                         f"observations in the input but got {w.data.size} != {n}")
    if (w._data < 0).any():
        raise ValueError(f"cov(): {name} cannot be negative")
    return w


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of ``input`` (observations in its
    columns; a 1-D input is one variable, giving a 0-d result), with frequency and
    observation weights, as ``torch.cov``. Degrees of freedom <= 0 warn and give inf/NaN."""
    x = _tensor(input, "cov")
    if x._data.ndim > 2:
        raise ValueError(f"cov(): expected input to have two or fewer dimensions but got an "
                         f"input with {x.data.ndim} dimensions")
    correction = _int(correction, "cov", "correction")
    if x._data.dtype.kind != "f":
        x = x.astype(_dd.DEFAULT)
    x = x.reshape(1, -1) if x._data.ndim < 2 else x
    n = x._data.shape[1]
    fw = None if fweights is None else _weights(fweights, "fweights", n, True)
    aw = None if aweights is None else _weights(aweights, "aweights", n, False)
    w = fw if aw is None else aw if fw is None else fw * aw
    if w is None:
        w_sum, avg = float(n), x.mean(axis=1, keepdims=True)
    else:
        w = w.astype(x._data.dtype)
        w_sum = w.sum()
        avg = (x * w).sum(axis=1, keepdims=True) / w_sum
    if w is None or aw is None:
        norm = w_sum - correction
    else:
        norm = w_sum - correction * (w * aw.astype(x._data.dtype)).sum() / w_sum
    if float(norm if isinstance(norm, (int, float)) else norm._data) <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        norm = norm * 0 if isinstance(norm, Tensor) else 0.0
    centered = x - avg
    weighted = centered if w is None else centered * w
    c = matmul(weighted, centered.transpose(1, 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        c = c / norm
    # one variable (a 1-D input, or one row) is a 0-d result: torch squeezes the (1, 1) matrix
    return c.reshape(()) if input._data.ndim < 2 or c._data.shape == (1, 1) else c


def corrcoef(input):
    """Pearson's correlation coefficients of the rows of ``input``, clipped to [-1, 1], as
    ``torch.corrcoef``."""
    c = cov(_tensor(input, "corrcoef"))
    if c._data.ndim == 0:
        return c / c
    std = _diag(c).sqrt()
    c = c / std.reshape(-1, 1) / std.reshape(1, -1)
    return c.clip(-1, 1)


def _diag(c):
    from .tensor_ops import diagonal
    return diagonal(c)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1-D ``x``: columns ``x ** (N-1), ..., x, 1`` (reversed with
    ``increasing``), as ``torch.vander``; integers stay integers (bools become int64)."""
    x = _tensor(x, "vander", "x")
    increasing = _bool_arg(increasing, "increasing", "vander")
    if x._data.ndim != 1:
        raise ValueError("x must be a one-dimensional tensor.")
    n = x._data.shape[0] if N is None else _int(N, "vander", "N")
    if n < 0:
        raise ValueError("N must be non-negative.")
    if x._data.dtype.kind in "bu" or x._data.dtype.kind == "i" and x._data.dtype != np.int64:
        x = x.astype(np.int64)  # torch's: integers and bools in int64
    col = x.reshape(-1, 1)
    ones = Tensor._wrap(np.ones((x._data.shape[0], min(n, 1)), x._data.dtype))
    if n <= 1:
        return ones
    # cumulative products of x, as torch's (so the values round as its do)
    powers = col.expand(x._data.shape[0], n - 1).cumprod(1)
    from .tensor import cat
    out = cat([ones, powers], 1)
    return out if increasing else out.flip(1)


def _integral_steps(y, x, dx, dim, fn):
    y = _tensor(y, fn, "y")
    if y._data.dtype.kind != "f":
        y = y.astype(_dd.DEFAULT)
    if y._data.ndim == 0:
        raise IndexError(f"{fn}(): Dimension specified as {dim} but tensor has no dimensions")
    d = _one_axis(_int(dim, fn, "dim"), y._data.ndim, "dim")
    n = y._data.shape[d]
    pairs = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) if n > 1 else None
    if x is not None and dx is not None:
        raise TypeError(f"{fn}() received an invalid combination of arguments: x and dx are "
                        f"exclusive")
    if x is None:
        step = 1 if dx is None else _number(dx, fn, "dx")
        return pairs, step, d, n, y
    x = _tensor(x, fn, "x")
    if x._data.dtype.kind != "f":
        x = x.astype(y._data.dtype)
    if x._data.ndim == 1:
        if x._data.shape[0] != n:
            raise ValueError(f"{fn}: There must be one `x` value for each sample point")
        shape = [1] * y._data.ndim
        shape[d] = n - 1 if n else 0
        step = (x[1:] - x[:-1]).reshape(*shape) if n > 1 else None
    else:
        xd = _one_axis(d - y._data.ndim, x._data.ndim, "dim")
        m = x._data.shape[xd]
        step = x.narrow(xd, 1, m - 1) - x.narrow(xd, 0, m - 1) if m > 1 else None
    return pairs, step, d, n, y


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoidal rule along ``dim``: samples ``y`` at points ``x`` (1-D, or broadcast
    with ``y``) or spaced ``dx`` (default 1), as ``torch.trapezoid``."""
    pairs, step, d, n, y = _integral_steps(y, x, dx, dim, "trapezoid")
    if pairs is None:  # fewer than two samples: zeros of the reduced shape, on the graph
        return y.sum(axis=d) * 0
    return (pairs * step).sum(axis=d) / 2 if isinstance(step, Tensor) else \
        pairs.sum(axis=d) * (step / 2)


def trapz(y, x=None, *, dx=None, dim=-1):
    """``trapezoid`` under its older name, as ``torch.trapz``."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal integral along ``dim`` (one element fewer), as
    ``torch.cumulative_trapezoid``."""
    pairs, step, d, n, y = _integral_steps(y, x, dx, dim, "cumulative_trapezoid")
    if pairs is None:
        return y.narrow(d, 0, 0)
    area = pairs * step / 2 if isinstance(step, Tensor) else pairs * (step / 2)
    return area.cumsum(axis=d)


def diagflat(input, offset=0):
    """The flattened input on diagonal ``offset`` of a square matrix, as ``torch.diagflat``."""
    from .creation import diag
    return diag(_tensor(input, "diagflat").reshape(-1), _int(offset, "diagflat", "offset"))


def renorm(input, p, dim, maxnorm):
    """Each slice ``input.select(dim, i)`` whose ``p``-norm exceeds ``maxnorm`` scaled down to
    norm ``maxnorm`` (times ``maxnorm / (norm + 1e-7)``), the rest unchanged, as
    ``torch.renorm``; the gradient flows through the norm too, as torch's. A slice of one
    element has norm ``|x|`` for every ``p``, as torch's (no power: no overflow at 1e300).
    *vs PyTorch at inf and huge values:* in a slice holding inf, torch's gradient is NaN at a
    zero entry (0 * inf in its formula), ours 0; at a one-element slice of 1e300 torch's
    gradient overflows to NaN, ours is the quotient's (about 0)."""
    x = _tensor(input, "renorm")
    p, maxnorm = _number(p, "renorm", "p"), _number(maxnorm, "renorm", "maxnorm")
    if not p > 0:  # NaN too
        raise ValueError("renorm: non-positive-norm not supported")
    if not maxnorm >= 0:
        raise ValueError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if x._data.ndim <= 1:
        raise ValueError(f"renorm: input needs at least 2 dimensions, got {x.data.ndim} "
                         f"dimensions")
    d = _one_axis(_int(dim, "renorm", "dim"), x._data.ndim, "dim")
    if x._data.dtype.kind != "f":
        raise TypeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                        f"input. Got {x.data.dtype}")
    rest = tuple(a for a in range(x._data.ndim) if a != d)
    a = x.abs()
    # a slice of one element: its norm is |x| for every p, as torch's (whose reduction of one
    # element takes no power: (|x| ** p) ** (1 / p) overflowed at 1e300 for p = 3)
    by_max = p == float("inf") or 0 < x._data.size == x._data.shape[d]
    with np.errstate(all="ignore"):  # which slices are over, from the data alone
        ad = a._data
        nd = ad.max(axis=rest, keepdims=True) if by_max else \
            (ad ** p).sum(axis=rest, keepdims=True) ** (1.0 / p)
    over = nd > maxnorm
    # The slices within maxnorm pass unchanged: their elements reach the norm only through a
    # select, so its derivative (inf at a zero slice, NaN at a NaN) meets no 0 * inf, as torch's
    a = where(np.broadcast_to(over, ad.shape), a, 0.0)
    if by_max:
        norm = a.amax(rest, keepdim=True)
    else:
        from .tensor_index import _abs_pow  # |x| ** p with torch's zero gradient at x = 0
        norm = where(over, _abs_pow(a, p).sum(axis=rest, keepdims=True), 1.0) ** (1.0 / p)
    factor = where(over, maxnorm / (where(over, norm, 1.0) + 1e-7), 1.0)
    return x * factor.astype(x._data.dtype)
