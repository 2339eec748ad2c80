"""PyTorch's creation and random functions beyond the Tensor constructors: ``linspace``,
``logspace``, the ``*_like`` constructors, ``randint``, ``randperm``, ``multinomial``,
``normal``, ``bernoulli``, ``empty``, ``as_tensor``, and the differentiable builders
``meshgrid``, ``diag``, ``diag_embed``, ``tensordot``, ``cdist`` and ``cross`` (composites of
indexing, ``Scatter``, reshapes, products and norms). Defaults as torch: the default dtype
(float32 unless ``set_default_dtype`` changed it) for floats, int64 for integers. Every draw comes from the framework's generator (``manual_seed``), or from
``generator=``, a ``numpy.random.Generator``, as torch's ``generator=`` takes its own."""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import default_dtype as _dd
from . import devices as _devices
from . import ops
from . import random as _random
from .tensor import Tensor, _bool_arg, _dtype_arg, _new_shape, _scalar_arg, apply, matmul, stack, \
    where
from .tensor_index import _int, _tensor, movedim, norm

_rng = _random.resolve  # generator=None: the framework generator

__all__ = ["linspace", "logspace", "full_like", "rand_like", "randn_like", "randint",
           "randint_like", "randperm", "multinomial", "normal", "bernoulli", "empty",
           "empty_like", "as_tensor", "is_tensor", "numel", "meshgrid", "diag", "diag_embed",
           "tensordot", "cdist", "cross"]


def _size(size, fn):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return _new_shape(size, fn)


def _number(v, fn, name):
    v = _scalar_arg(v, f"{fn}(): {name}")
    if v is None:
        raise TypeError(f"{fn}(): argument '{name}' must be a number, not NoneType")
    return v


def _like_dtype(input, dtype, fn):
    x = _tensor(input, fn)
    return x, (x.data.dtype if dtype is None else _dtype_arg(dtype, fn))


# ---- ranges ------------------------------------------------------------------------------------

def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive, in the default dtype unless ``dtype``,
    as ``torch.linspace``: its symmetric formula (the first half counted from ``start``, the
    second from ``end``), so both ends are exact."""
    _devices.check_device(device, "linspace()")
    start, end = _number(start, "linspace", "start"), _number(end, "linspace", "end")
    steps = _int(steps, "linspace", "steps")
    if steps < 0:
        raise ValueError("linspace(): number of steps must be non-negative")
    dt = _dd.DEFAULT if dtype is None else _dtype_arg(dtype, "linspace")
    i = np.arange(steps)
    if steps <= 1:
        out = np.full(steps, start, np.float64)
    elif dt.kind == "f":  # in the dtype itself, as torch's kernel: float32 rounds as there
        s, e = dt.type(start), dt.type(end)
        step = (e - s) / dt.type(steps - 1)
        i = i.astype(dt)
        out = np.where(i < steps // 2, s + step * i, e - step * (dt.type(steps - 1) - i))
    else:  # integer dtypes: torch computes in float64 and truncates
        out = np.trunc(start + (end - start) / (steps - 1) * i)
    return Tensor(out.astype(dt), requires_grad=requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None,
             requires_grad=False):
    """``base ** linspace(start, end, steps)``, the default dtype unless ``dtype``, as ``torch.logspace``."""
    _devices.check_device(device, "logspace()")
    base = _number(base, "logspace", "base")
    dt = _dd.DEFAULT if dtype is None else _dtype_arg(dtype, "logspace")
    exps = linspace(start, end, steps, dtype=np.float64).data
    return Tensor(np.power(float(base), exps).astype(dt), requires_grad=requires_grad)


# ---- constructors like a tensor --------------------------------------------------------------

def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    """``input``'s shape filled with ``fill_value``, its dtype unless ``dtype``."""
    _devices.check_device(device, "full_like()")
    x, dt = _like_dtype(input, dtype, "full_like")
    return Tensor.full(x.data.shape, fill_value, dtype=dt, requires_grad=requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """A new tensor of ``size``, as ``torch.empty``: here zeros (NumPy's uninitialized memory
    would make runs differ)."""
    _devices.check_device(device, "empty()")
    return Tensor.zeros(_size(size, "empty"), dtype=dtype, requires_grad=requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False):
    """As ``torch.empty_like``: zeros of ``input``'s shape and dtype (see ``empty``)."""
    _devices.check_device(device, "empty_like()")
    x, dt = _like_dtype(input, dtype, "empty_like")
    return Tensor(np.zeros(x.data.shape, dt), requires_grad=requires_grad)


def _float_like(input, dtype, fn, kernel):
    x, dt = _like_dtype(input, dtype, fn)
    if dt.kind != "f":
        raise TypeError(f"\"{kernel}\" not implemented for '{dt}': {fn}() makes floating "
                        f"point values; give a float dtype")
    return x, dt


def rand_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    """Uniform values in [0, 1) of ``input``'s shape and (float) dtype."""
    _devices.check_device(device, "rand_like()")  # before the generator moves
    _bool_arg(requires_grad, "requires_grad", "rand_like")  # before the generator moves
    x, dt = _float_like(input, dtype, "rand_like", "check_uniform_bounds")
    a = _rng(generator, "rand_like").random(x.data.shape).astype(dt, copy=False)
    return Tensor(a, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False,
               generator=None):
    """Standard normal values of ``input``'s shape and (float) dtype."""
    _devices.check_device(device, "randn_like()")  # before the generator moves
    _bool_arg(requires_grad, "requires_grad", "randn_like")  # before the generator moves
    x, dt = _float_like(input, dtype, "randn_like", "normal_kernel_cpu")
    a = _rng(generator, "randn_like").standard_normal(x.data.shape).astype(dt, copy=False)
    return Tensor(a, requires_grad=requires_grad)


def _integers(low, high, shape, dt, rng, fn):
    low, high = _int(low, fn, "low"), _int(high, fn, "high")
    if low >= high:
        raise ValueError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                         f"to={high}")
    _random.check_integer_range(low, high, dt, f"{fn}()", stacklevel=4)  # the cast must not wrap
    return rng.integers(low, high, shape).astype(dt, copy=False)


def randint(low=0, high=None, size=None, *, generator=None, dtype=np.int64, device=None,
            requires_grad=False):
    """Integers uniform in ``[low, high)`` of ``size``, int64 by default, as ``torch.randint``
    (``randint(high, size)`` or ``randint(low, high, size)``)."""
    _devices.check_device(device, "randint()")  # before the generator moves
    # before the generator moves; an integer tensor cannot require gradients (Tensor() says so)
    if _bool_arg(requires_grad, "requires_grad", "randint") and np.dtype(
            _dtype_arg(dtype, "randint")).kind != "f":
        raise TypeError(f"randint(): only floating-point tensors can require gradients, got "
                        f"dtype {np.dtype(dtype)}")
    if size is None:  # randint(high, size)
        if high is None:
            raise TypeError("randint(): missing the size argument")
        if not isinstance(high, (tuple, list)):  # randint(0, 5, None) read as size 5, as torch
            raise TypeError(f"randint(): argument 'size' must be tuple of ints, not "
                            f"{type(high).__name__}")
        low, high, size = 0, low, high
    shape = _new_shape(tuple(size) if isinstance(size, (tuple, list)) else (size,), "randint")
    dt = _dtype_arg(dtype, "randint")
    a = _integers(low, high, shape, dt, _rng(generator, "randint"), "randint")
    return Tensor(a, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False,
                 generator=None):
    """Integers uniform in ``[low, high)`` of ``input``'s shape and dtype (``randint_like(x,
    high)`` or ``randint_like(x, low, high)``)."""
    _devices.check_device(device, "randint_like()")  # before the generator moves
    x, dt = _like_dtype(input, dtype, "randint_like")
    if _bool_arg(requires_grad, "requires_grad", "randint_like") and dt.kind != "f":
        raise TypeError(f"randint_like(): only floating-point tensors can require gradients, "
                        f"got dtype {dt}")  # before the generator moves
    if high is None:
        low, high = 0, low
    a = _integers(low, high, x.data.shape, dt, _rng(generator, "randint_like"), "randint_like")
    return Tensor(a, requires_grad=requires_grad)


def randperm(n, *, generator=None, dtype=np.int64, device=None, requires_grad=False):
    """A random permutation of ``0 .. n-1``, int64 by default, as ``torch.randperm``."""
    _devices.check_device(device, "randperm()")  # before the generator moves
    n = _int(n, "randperm", "n")
    if _bool_arg(requires_grad, "requires_grad", "randperm") and np.dtype(
            _dtype_arg(dtype, "randperm")).kind != "f":
        raise TypeError(f"randperm(): only floating-point tensors can require gradients, got "
                        f"dtype {np.dtype(dtype)}")  # before the generator moves
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    dt = _dtype_arg(dtype, "randperm")
    _check_permutation_fits(n, dt)
    a = _rng(generator, "randperm").permutation(n).astype(dt)
    return Tensor(a, requires_grad=requires_grad)


_TORCH_FLOAT_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double"}
_TORCH_PERM_LIMITS = {"float16": "2049", "float32": "2^24+1", "float64": "2^53+1"}


def _check_permutation_fits(n, dt):
    """``n - 1`` must be a value of ``dt``, as PyTorch checks: a cast would wrap (uint8) or round
    (float16) the permutation into repeated values."""
    if dt.kind == "b":  # PyTorch's NotImplementedError, a TypeError as the other dtype refusals
        raise TypeError("\"randperm\" not implemented for 'Bool': randperm() needs an integer "
                        "or floating dtype")
    if dt.kind in "iu":
        if n - 1 > int(np.iinfo(dt).max):
            raise ValueError(f"randperm(): value cannot be converted to type {dt}_t without "
                             f"overflow (n={n}: n - 1 does not fit dtype {dt})")
    elif dt.kind == "f" and n > 2 ** (np.finfo(dt).nmant + 1) + 1:
        raise ValueError(f"randperm(): n cannot be greater than "
                         f"{_TORCH_PERM_LIMITS.get(dt.name, 2 ** (np.finfo(dt).nmant + 1) + 1)} "
                         f"for {_TORCH_FLOAT_NAMES.get(dt.name, dt)} type. (n={n}: dtype {dt} "
                         f"does not hold every integer up to n - 1)")


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """``num_samples`` category indices (int64) drawn from each row of the non-negative weights
    ``input`` (1-D or 2-D; they need not sum to 1), as ``torch.multinomial``: without
    ``replacement`` each category at most once, zero-weight ones after all the others."""
    x = _tensor(input, "multinomial")
    replacement = _bool_arg(replacement, "replacement", "multinomial")
    n = _int(num_samples, "multinomial", "num_samples")
    if x.data.ndim not in (1, 2):
        raise ValueError("prob_dist must be 1 or 2 dim")
    if n <= 0:
        raise ValueError("cannot sample n_sample <= 0 samples")
    # rows counted, not inferred: reshape(-1, 0) of an empty 1-D input is NumPy's error
    w = x.data.astype(np.float64).reshape(math.prod(x.data.shape[:-1]), x.data.shape[-1])
    if x.data.dtype.kind != "f":
        raise TypeError(f"multinomial only supports floating-point dtypes for input, got: "
                        f"{x.data.dtype}")
    if not replacement and n > w.shape[1]:
        raise ValueError("cannot sample n_sample > prob_dist.size(-1) samples without "
                         "replacement")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("probability tensor contains either `inf`, `nan` or element < 0")
    total = w.sum(axis=1)
    if (total <= 0).any():
        raise ValueError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = _rng(generator, "multinomial")
    rows = [_draw(rng, r, n, bool(replacement)) for r in w]
    out = np.stack(rows).astype(np.int64) if rows else np.zeros((0, n), np.int64)  # 0 rows
    return Tensor._wrap(out if x.data.ndim == 2 else out[0])


def _draw(rng, r, n, replacement):
    """``n`` categories of the weights ``r``. Without replacement and with fewer than ``n``
    non-zero weights, as torch 2.x: every non-zero category first (in a weighted random
    order), then zero-weight ones, in a random order, fill the rest."""
    nz = int(np.count_nonzero(r))
    if replacement or n <= nz:
        return rng.choice(r.size, size=n, replace=replacement, p=r / r.sum())
    first = rng.choice(r.size, size=nz, replace=False, p=r / r.sum())
    rest = rng.permutation(np.flatnonzero(r == 0))[:n - nz]
    return np.concatenate([first, rest])


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    """Normal samples of ``mean`` and ``std`` (tensors broadcast together, or numbers with
    ``size``), as ``torch.normal``; a tensor's dtype is kept, the default dtype otherwise. As torch's, no
    gradient reaches ``mean`` or ``std`` (their derivatives are defined as 0)."""
    _devices.check_device(device, "normal()")  # before the generator moves
    _bool_arg(requires_grad, "requires_grad", "normal")  # before the generator moves
    rng = _rng(generator, "normal")
    m = mean.data if isinstance(mean, Tensor) else None
    s = std.data if isinstance(std, Tensor) else None
    if m is None and s is None:
        if size is None:
            raise TypeError("normal(): give size= with a number mean and std")
        shape = _size((size,) if isinstance(size, numbers.Integral) else (tuple(size),),
                      "normal")
        m, s = _number(mean, "normal", "mean"), _number(std, "normal", "std")
        dt = _dd.DEFAULT if dtype is None else _dtype_arg(dtype, "normal", True)
    else:
        if size is not None:  # ignored with tensors, silently; torch has no such overload
            raise TypeError("normal(): size= goes with a number mean and std; with a tensor "
                            "the shape is the tensors' broadcast shape")
        tensors = [a for a in (m, s) if a is not None]
        dt = np.result_type(*tensors) if dtype is None else _dtype_arg(dtype, "normal", True)
        m = m if m is not None else _number(mean, "normal", "mean")
        s = s if s is not None else _number(std, "normal", "std")
        try:
            shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        except ValueError:  # NumPy's words named neither argument
            raise ValueError(f"normal(): the shapes of mean {list(np.shape(m))} and std "
                             f"{list(np.shape(s))} cannot be broadcast together") from None
    if dt.kind != "f":
        raise TypeError(f"normal(): expected a floating point dtype, got {dt}")
    if np.any(np.asarray(s) < 0):
        raise ValueError("normal expects all elements of std >= 0.0")
    a = np.asarray(m, np.float64) + np.asarray(s, np.float64) * rng.standard_normal(shape)
    return Tensor(a.astype(dt), requires_grad=requires_grad)


def bernoulli(input, p=None, *, generator=None):
    """0s and 1s of ``input``'s shape and dtype, 1 with probability ``input`` (or ``p``), as
    ``torch.bernoulli``. No gradient."""
    x = _tensor(input, "bernoulli")
    probs = x.data if p is None else _number(p, "bernoulli", "p")
    if np.any((np.asarray(probs) < 0) | (np.asarray(probs) > 1)) or np.any(np.isnan(probs)):
        raise ValueError("bernoulli_: all elements of p must be in [0, 1]")
    u = _rng(generator, "bernoulli").random(x.data.shape)
    return Tensor._wrap((u < probs).astype(x.data.dtype))


def as_tensor(data, dtype=None, *, device=None):
    """``data`` as a tensor, sharing memory where it can, as ``torch.as_tensor``: a Tensor of
    that dtype is itself, an ndarray is shared (``from_numpy``), other data is copied
    (typed as ``tg.tensor`` types it)."""
    _devices.check_device(device, "as_tensor()")
    from .tensor import tensor
    if isinstance(data, Tensor):
        return data if dtype is None else data.astype(dtype)
    if isinstance(data, np.ndarray):
        return Tensor(data if dtype is None else data.astype(_dtype_arg(dtype, "as_tensor"),
                                                             copy=False))
    return tensor(data, dtype=dtype)


def is_tensor(obj):
    """Whether ``obj`` is a Tensor, as ``torch.is_tensor``."""
    return isinstance(obj, Tensor)


def numel(input):
    """The number of elements, as ``torch.numel``."""
    return _tensor(input, "numel").data.size


# ---- differentiable builders -----------------------------------------------------------------

def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids of 1-D (or 0-d) tensors, as ``torch.meshgrid``: ``indexing='ij'``
    (torch's default) gives shape ``(len(t0), len(t1), ...)``, ``'xy'`` swaps the first two.
    Each grid is a broadcast, so its gradient sums back."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise ValueError("torch.meshgrid: Expected at least one tensor")
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                         f"received: {indexing}")
    ts = [_tensor(t, "meshgrid", "tensors") for t in tensors]
    for t in ts:
        if t.data.ndim > 1:
            raise ValueError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                             f"got: {t.shape}")
    if len({t.data.dtype for t in ts}) > 1:
        raise TypeError("meshgrid expects all tensors to have the same dtype")
    ts = [t.reshape(-1) for t in ts]
    swap = indexing == "xy" and len(ts) >= 2
    order = [1, 0] + list(range(2, len(ts))) if swap else list(range(len(ts)))
    shape = tuple(ts[i].data.shape[0] for i in order)
    out = []
    for k, t in enumerate(ts):
        pos = order.index(k)
        view = [1] * len(ts)
        view[pos] = -1
        out.append(t.reshape(view).broadcast_to(shape))
    return tuple(out)


def diag(input, diagonal=0):
    """Of a 1-D tensor, the square matrix with it on diagonal ``diagonal`` (0 elsewhere); of a
    matrix, its diagonal ``diagonal`` as a 1-D tensor; as ``torch.diag``."""
    from .tensor_ops import diagonal as _diagonal
    x = _tensor(input, "diag")
    k = _int(diagonal, "diag", "diagonal")
    if x.data.ndim == 2:
        return _diagonal(x, k)
    if x.data.ndim != 1:
        raise ValueError("diag(): Supports 1D or 2D tensors. Got " + f"{x.data.ndim}D")
    return diag_embed(x, k, 0, 1)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices whose diagonal ``offset`` (in the planes of ``dim1`` and ``dim2`` of the
    result) holds the last dim of ``input``, as ``torch.diag_embed``. A Scatter of the input
    into zeros, so its gradient is the diagonal back."""
    x = _tensor(input, "diag_embed")
    off = _int(offset, "diag_embed", "offset")
    nd = x.data.ndim + 1
    from .tensor import _one_axis
    d1 = _one_axis(_int(dim1, "diag_embed", "dim1"), nd, "dim1")
    d2 = _one_axis(_int(dim2, "diag_embed", "dim2"), nd, "dim2")
    if d1 == d2:
        raise ValueError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    v = x.reshape(1) if x.data.ndim == 0 else x
    n = v.data.shape[-1]
    m = n + abs(off)
    i = np.arange(n)
    rows, cols = (i, i + off) if off >= 0 else (i - off, i)
    batch = v.data.shape[:-1]
    grid = list(np.ogrid[tuple(slice(k) for k in batch)]) if batch else []
    grid = [g[..., None] for g in grid]
    places = tuple(np.broadcast_arrays(*grid, rows, cols))
    out = apply(ops.Scatter, v, index=places, shape=batch + (m, m), basic=False)
    # the two new dims are last; move them where dim1 and dim2 ask (dim1 the rows)
    return movedim(out, (nd - 2, nd - 1), (d1, d2))


def tensordot(a, b, dims=2):
    """The sum of products over ``dims`` (an int: the last ``dims`` of ``a`` with the first of
    ``b``; or two lists of dims), as ``torch.tensordot``: a transpose, reshape and matmul."""
    a, b = _tensor(a, "tensordot", "a"), _tensor(b, "tensordot", "b")
    if isinstance(dims, numbers.Integral) and not isinstance(dims, (bool, np.bool_)):
        if dims < 0:
            raise ValueError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.data.ndim, b.data.ndim):
            raise ValueError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da = list(range(a.data.ndim - dims, a.data.ndim))
        db = list(range(dims))
    elif isinstance(dims, (tuple, list)) and len(dims) == 2:
        da, db = ([dims[0]] if isinstance(dims[0], numbers.Integral) else list(dims[0]),
                  [dims[1]] if isinstance(dims[1], numbers.Integral) else list(dims[1]))
        da = [_int(d, "tensordot", "dims") % max(a.data.ndim, 1) for d in da]
        db = [_int(d, "tensordot", "dims") % max(b.data.ndim, 1) for d in db]
        if len(da) != len(db):
            raise ValueError("both dimension lists should have same length")
    else:
        raise TypeError("tensordot(): dims must be an int or a pair of lists of ints")
    for i, j in zip(da, db):
        if a.data.shape[i] != b.data.shape[j]:
            raise ValueError(f"contracted dimensions need to match, but first has size "
                             f"{a.data.shape[i]} in dim {i} and second has size "
                             f"{b.data.shape[j]} in dim {j}")
    ra = [i for i in range(a.data.ndim) if i not in da]
    rb = [i for i in range(b.data.ndim) if i not in db]
    k = math.prod(a.data.shape[i] for i in da)
    am = a.permute(ra + da).reshape(math.prod(a.data.shape[i] for i in ra), k)
    bm = b.permute(db + rb).reshape(k, math.prod(b.data.shape[i] for i in rb))
    out = matmul(am, bm)
    return out.reshape([a.data.shape[i] for i in ra] + [b.data.shape[i] for i in rb])


def cdist(x1, x2, p=2.0, compute_mode=None):
    """The p-norm distances between each row of ``x1`` (..., P, M) and of ``x2`` (..., R, M),
    (..., P, R), as ``torch.cdist``: the differences' norm (``norm``'s p), whose gradient is 0
    where two rows coincide, as torch's. *vs torch:* always computed from the differences
    (torch takes a matrix-product shortcut for p=2 above 25 rows, less exact); memory P*R*M."""
    fn = "cdist"
    a, b = _tensor(x1, fn, "x1"), _tensor(x2, fn, "x2")
    p = _scalar_arg(p, "cdist(): p")
    if p is None or not p >= 0:  # NaN too
        raise ValueError(f"cdist only supports non-negative p values, got {p}")
    modes = (None, "use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
             "donot_use_mm_for_euclid_dist")
    if not any(compute_mode is m or (isinstance(compute_mode, str) and compute_mode == m)
               for m in modes):  # any value was taken (and ignored), silently
        raise ValueError(f"cdist(): compute_mode must be one of {modes[1:]} or None, got "
                         f"{compute_mode!r}")
    for t, name in ((a, "X1"), (b, "X2")):
        if t.data.ndim < 2:
            raise ValueError(f"cdist only supports at least 2D tensors, {name} got: "
                             f"{t.data.ndim}D")
    if a.data.shape[-1] != b.data.shape[-1]:
        raise ValueError(f"X1 and X2 must have the same number of columns. X1: "
                         f"{a.data.shape[-1]} X2: {b.data.shape[-1]}")
    for t in (a, b):
        if t.data.dtype.kind != "f":
            raise TypeError(f"cdist only supports floating-point dtypes, X1 got: {t.dtype}")
    diff = a.unsqueeze(-2) - b.unsqueeze(-3)  # (..., P, R, M)
    if p == math.inf:
        return _largest_each_tie_whole(diff.abs())
    return norm(diff, p, -1)


def _largest_each_tie_whole(a):
    """The largest of ``a`` along the last dim, whose gradient goes whole to every element that
    ties for it, as torch.cdist's p=inf backward (``norm`` shares it between ties, as torch's
    norm). The value is the maximum itself, plus the exact zero ``a - a`` at the ties."""
    m = np.max(a.data, axis=-1, keepdims=True) if a.data.shape[-1] else None
    if m is None:
        return a.sum(-1)  # no coordinates: distance 0, as torch's
    hit = a.data == m
    still = Tensor._wrap(a.data.copy())
    return Tensor._wrap(m[..., 0]) + where(hit, a - still, 0.0).sum(-1)


def cross(input, other, dim=None):
    """The cross product of 3-vectors along ``dim`` (None: the first dim of size 3, as
    ``torch.cross``; ``torch.linalg.cross`` defaults to -1), broadcast."""
    fn = "cross"
    a, b = _tensor(input, fn), _tensor(other, fn, "other")
    try:
        shape = np.broadcast_shapes(a.data.shape, b.data.shape)
    except ValueError:
        raise ValueError(f"linalg.cross: inputs of shapes {a.shape} and {b.shape} cannot be "
                         f"broadcast together") from None
    if dim is None:
        threes = [i for i, s in enumerate(shape) if s == 3]
        if not threes:
            raise ValueError("no dimension of size 3 in input")
        d = threes[0]
    else:
        from .tensor import _one_axis
        d = _one_axis(_int(dim, fn, "dim"), max(len(shape), 1), "dim")
    if len(shape) == 0 or shape[d] != 3:
        raise ValueError(f"linalg.cross: inputs dimension {d} must have length 3. Got "
                         f"{a.data.shape[d] if a.data.ndim > d else 0} and "
                         f"{b.data.shape[d] if b.data.ndim > d else 0}")
    a = a.broadcast_to(shape) if a.data.shape != shape else a
    b = b.broadcast_to(shape) if b.data.shape != shape else b
    lead = (slice(None),) * d
    ax = [a[lead + (i,)] for i in range(3)]
    bx = [b[lead + (i,)] for i in range(3)]
    parts = [ax[1] * bx[2] - ax[2] * bx[1], ax[2] * bx[0] - ax[0] * bx[2],
             ax[0] * bx[1] - ax[1] * bx[0]]
    return stack(parts, axis=d)
