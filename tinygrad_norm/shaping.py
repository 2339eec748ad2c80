"""torch's stacking, splitting and rearranging functions beyond ``cat``/``stack``/``split``:
``hstack``/``vstack``/``dstack``/``column_stack``, ``atleast_*d``, ``broadcast_tensors``,
``block_diag``, ``cartesian_prod``, ``tensor_split`` and ``hsplit``/``vsplit``/``dsplit``,
``ravel``, ``take``, ``rot90``, ``fliplr``/``flipud``, ``tril_indices``/``triu_indices`` and
``Tensor.unfold``'s sliding windows. Compositions of reshapes, slices, indexing and
concatenation: gradients come from those."""
from __future__ import annotations


import numpy as np

from . import _argname
from . import default_dtype as _dd
from . import devices as _devices
from ._memory_guard import check_affordable
from .tensor import Tensor, _int_arg, _one_axis, concatenate, stack

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack", "row_stack", "dstack",
           "column_stack", "broadcast_shapes", "broadcast_tensors", "block_diag",
           "cartesian_prod", "tensor_split", "hsplit", "vsplit", "dsplit", "ravel", "take",
           "rot90", "fliplr", "flipud", "tril_indices", "triu_indices"]


def _input(x, fn):
    if not isinstance(x, Tensor):  # else an AttributeError from the first method called on it
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(x).__name__}")
    return x


def _tensors(tensors, fn):
    try:
        tensors = list(tensors)
    except TypeError:  # "'NoneType' object is not iterable" named nothing
        raise TypeError(f"{fn}(): expected a sequence of Tensors, got "
                        f"{type(tensors).__name__}") from None
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): expected a sequence of Tensors, element {i} is a "
                            f"{type(t).__name__}")
    return tensors


def _atleast(fn, shape_of):
    def f(*tensors):
        one = len(tensors) == 1 and isinstance(tensors[0], Tensor)
        seq = tensors[0] if len(tensors) == 1 and not one else tensors
        out = tuple(t.reshape(shape_of(t.shape)) for t in _tensors(seq, fn))
        return out[0] if one else out
    _argname.rename(f, fn)
    f.__doc__ = (f"Each tensor viewed with at least {fn[-2]} dimensions, as ``torch.{fn}``: one "
                 f"tensor gives a tensor, several (or a sequence) a tuple.")
    return f


atleast_1d = _atleast("atleast_1d", lambda s: s if len(s) >= 1 else (1,))
atleast_2d = _atleast("atleast_2d", lambda s: s if len(s) >= 2 else (1,) * (2 - len(s)) + s)
atleast_3d = _atleast("atleast_3d", lambda s: s if len(s) >= 3 else {
    0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)])


def _each(atleast, ts):
    """``atleast`` of every tensor, as a list: called with one tensor it returns that tensor,
    not a sequence, and concatenate would then join its rows (vstack([x]) was x flattened)."""
    return [atleast(t) for t in ts]


def hstack(tensors):
    """Along dim 1 (dim 0 for 1-D tensors), after ``atleast_1d``, as torch."""
    ts = _each(atleast_1d, _tensors(tensors, "hstack"))
    return concatenate(ts, 0 if ts and ts[0].ndim == 1 else 1)


def vstack(tensors):
    """Along dim 0 after ``atleast_2d``, as torch."""
    return concatenate(_each(atleast_2d, _tensors(tensors, "vstack")), 0)


row_stack = vstack


def dstack(tensors):
    """Along dim 2 after ``atleast_3d``, as torch."""
    return concatenate(_each(atleast_3d, _tensors(tensors, "dstack")), 2)


def column_stack(tensors):
    """0-d and 1-D tensors as columns, the others as they are, joined along dim 1, as torch."""
    ts = [t.reshape(t.size, 1) if t.ndim <= 1 else t for t in _tensors(tensors, "column_stack")]
    return concatenate(ts, 1)


def broadcast_shapes(*shapes):
    """The shape the given shapes broadcast to, a tuple (torch: a ``torch.Size``)."""
    for s in shapes:  # NumPy's own TypeError named no argument
        items = (s,) if isinstance(s, int) else s
        if not isinstance(items, (tuple, list)) or any(
                isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer))
                for d in items):
            raise TypeError(f"broadcast_shapes(): each shape must be an int or a tuple of ints, "
                            f"got {s!r}")
        if any(d < 0 for d in items):  # NumPy took -1 as a length of its own
            raise ValueError("broadcast_shapes(): Attempting to broadcast a dimension with "
                             "negative length!")
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(f"broadcast_shapes(): {_mismatch(shapes)}") from None


def _mismatch(shapes):
    """torch's account of the first shape that does not broadcast against those before it
    (error path only)."""
    out = [1] * max(len(s) for s in shapes)
    for i, shape in enumerate(shapes):
        for k in range(1, len(shape) + 1):
            d = shape[-k]
            if out[-k] == 1:
                out[-k] = d
            elif d != 1 and d != out[-k]:
                return (f"Attempting to broadcast a dimension of length {d} at {-k}! "
                        f"Mismatching argument at index {i} had {shape}; but expected shape "
                        f"should be broadcastable to {out}")
    return f"shapes {', '.join(map(str, shapes))} cannot be broadcast together"


def broadcast_tensors(*tensors):
    """The tensors broadcast to one shape, a tuple, as torch."""
    ts = _tensors(tensors, "broadcast_tensors")
    shape = broadcast_shapes(*[t.shape for t in ts])
    return tuple(t if t.shape == shape else t.broadcast_to(shape) for t in ts)


def block_diag(*tensors):
    """The tensors (0-d, 1-D as a row, or 2-D) as blocks on the diagonal of a zero matrix, as
    torch; the result has the tensors' common dtype."""
    blocks = [t.reshape(1, -1) if t.ndim < 2 else t for t in _tensors(tensors, "block_diag")]
    for i, b in enumerate(blocks):
        if b.ndim != 2:
            raise ValueError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. "
                             f"Input {i} has {b.ndim} dimensions")
    if not blocks:
        return Tensor(np.zeros((1, 0), _dd.DEFAULT))
    dt = np.result_type(*[b.dtype for b in blocks])
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        r, c = b.shape
        parts = [Tensor(np.zeros((r, left), dt)), b.astype(dt) if b.dtype != dt else b,
                 Tensor(np.zeros((r, width - left - c), dt))]
        rows.append(concatenate(parts, 1))
        left += c
    return concatenate(rows, 0)


def cartesian_prod(*tensors):
    """Every combination of the 1-D tensors' elements, one per row (a single tensor: itself),
    as torch."""
    ts = _tensors(tensors, "cartesian_prod")
    if any(t.ndim != 1 for t in ts):
        raise ValueError("Expect a 1D vector, but got shape "
                         f"{next(t.shape for t in ts if t.ndim != 1)}")
    if len(ts) == 1:
        return ts[0]
    sizes = [t.shape[0] for t in ts]
    cols = []
    for i, t in enumerate(ts):
        shape = [1] * len(ts)
        shape[i] = sizes[i]
        cols.append(t.reshape(shape).broadcast_to(tuple(sizes)).reshape(-1))
    return stack(cols, 1)


def _sections(n, indices_or_sections, fn):
    """The [start, stop) bounds of each piece, as ``numpy.array_split`` / torch cut them."""
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios.dtype.kind not in "iu" or ios.ndim > 1:
            raise TypeError(f"{fn}(): a tensor indices_or_sections must be a 0-d or 1-D integer "
                            f"tensor, got dtype {ios.dtype} and {ios.ndim} dims")
        ios = int(ios.item()) if ios.ndim == 0 else [int(v) for v in ios._data]
    if isinstance(ios, (list, tuple)):
        cuts = [_int_arg(v, "indices_or_sections", fn) for v in ios]
        starts, stops = [0] + cuts, cuts + [n]
        return [(min(max(a if a >= 0 else a + n, 0), n), min(max(b if b >= 0 else b + n, 0), n))
                for a, b in zip(starts, stops)]
    k = _int_arg(ios, "indices_or_sections", fn)
    if k <= 0:
        raise ValueError(f"{fn}(): number of sections must be larger than 0, got {k}")
    # k pieces are k Python objects (64 bytes at least each): 10**12 would run for hours
    check_affordable(f"{fn}()", f"indices_or_sections={k}", 64 * k)
    q, r = divmod(n, k)
    bounds, start = [], 0
    for i in range(k):
        stop = start + q + (1 if i < r else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def tensor_split(input, indices_or_sections, dim=0):
    """Views of ``input`` cut along ``dim``: into ``n`` pieces as equal as possible (the first
    ``size % n`` one longer), or at the given indices, as torch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"tensor_split(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if input.ndim == 0:
        raise ValueError("tensor_split expected at least a 1-dimensional tensor, but got a "
                         "tensor with 0 dims")
    d = _int_arg(dim, "dim", "tensor_split")
    if not -input.ndim <= d < input.ndim:
        raise ValueError(f"tensor_split(): dim {d} is out of range for a {input.ndim}-D tensor")
    d %= input.ndim
    lead = (slice(None),) * d
    return tuple(input[lead + (slice(a, max(a, b)),)]
                 for a, b in _sections(input.shape[d], indices_or_sections, "tensor_split"))


def _split_along(fn, dim_of, min_dims):
    def f(input, indices_or_sections):
        if not isinstance(input, Tensor):
            raise TypeError(f"{fn}(): argument 'input' must be Tensor, not "
                            f"{type(input).__name__}")
        if input.ndim < min_dims:
            raise ValueError(f"torch.{fn} requires a tensor with at least {min_dims} dimension"
                             f"{'s' if min_dims > 1 else ''}, but got a tensor with {input.ndim} "
                             f"dimensions!")
        d = dim_of(input.ndim)
        if isinstance(indices_or_sections, int) and not isinstance(indices_or_sections, bool):
            k, n = indices_or_sections, input.shape[d]
            if k == 0 or n % k:
                raise ValueError(f"torch.{fn} attempted to split along dimension {d}, but the "
                                 f"size of the dimension {n} is not divisible by the split_size "
                                 f"{k}!")
        return tensor_split(input, indices_or_sections, d)
    _argname.rename(f, fn)
    f.__doc__ = f"``tensor_split`` along dim {dim_of(2)}, as ``torch.{fn}`` (sections must divide)."
    return f


hsplit = _split_along("hsplit", lambda nd: 0 if nd == 1 else 1, 1)
vsplit = _split_along("vsplit", lambda nd: 0, 2)
dsplit = _split_along("dsplit", lambda nd: 2, 3)


def ravel(input):
    """``input`` flattened to 1-D, as torch."""
    return _input(input, "ravel").reshape(-1)


def take(input, index):
    """The elements of ``input`` read as 1-D at ``index`` (an integer tensor of any shape; a
    negative index counts from the end), as torch; repeated indices add up in the gradient."""
    _input(input, "take")
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype != np.int64:  # torch takes int64 only (int32 too is refused there)
        raise TypeError(f"take(): Expected a long tensor for index, but got {idx.dtype}")
    n = input.size
    if idx.size and not n:
        raise IndexError("take(): tried to take from an empty tensor")  # torch's words
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = int(idx[(idx < -n) | (idx >= n)].flat[0])
        raise IndexError(f"take(): out of range: tried to access index {bad} on a tensor of "
                         f"{n} elements.")
    return input.reshape(-1)[np.where(idx < 0, idx + n, idx)]


def rot90(input, k=1, dims=(0, 1)):
    """``input`` rotated by ``k`` quarter turns in the plane of ``dims``, from the first towards
    the second, as torch (and NumPy)."""
    _input(input, "rot90")
    k = _int_arg(k, "k", "rot90")
    try:
        dims = tuple(dims)
    except TypeError:
        raise TypeError(f"rot90(): argument 'dims' must be a tuple of ints, not "
                        f"{type(dims).__name__}") from None
    nd = input.ndim
    if len(dims) != 2:
        raise ValueError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise ValueError(f"expected total dims >= 2, but got total dims = {nd}")
    # out of range: refused
    a, b = (_one_axis(_int_arg(d, "dims", "rot90"), nd, "dim") for d in dims)
    if a == b:
        raise ValueError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and "
                         f"dim1 = {dims[1]}")
    k = k % 4
    if k == 0:
        return input.clone()
    if k == 2:
        return input.flip(a, b)
    return (input.flip(b) if k == 1 else input.flip(a)).swapaxes(a, b)


def fliplr(input):
    if _input(input, "fliplr").ndim < 2:
        raise ValueError("Input must be >= 2-d.")
    return input.flip(1)


def flipud(input):
    if _input(input, "flipud").ndim < 1:
        raise ValueError("Input must be >= 1-d.")
    return input.flip(0)


def _indices(fn, np_fn, row, col, offset):
    row, col, offset = (_int_arg(v, name, fn) for v, name in ((row, "row"), (col, "col"),
                                                             (offset, "offset")))
    if row < 0 or col < 0:
        raise ValueError(f"{fn}: row and col must be non-negative, got {row} and {col}")
    r, c = np_fn(row, offset, col)
    return Tensor._wrap(np.stack([r, c]).astype(np.int64))


def tril_indices(row, col, offset=0, *, dtype=None, device="cpu"):
    """The (2, N) int64 coordinates of the lower triangle of a row x col matrix, row by row."""
    _devices.check_device(device, "tril_indices()")  # torch's default is "cpu", not None
    out = _indices("tril_indices", np.tril_indices, row, col, offset)
    return out if dtype is None else out.astype(dtype)


def triu_indices(row, col, offset=0, *, dtype=None, device="cpu"):
    """The (2, N) int64 coordinates of the upper triangle of a row x col matrix, row by row."""
    _devices.check_device(device, "triu_indices()")  # torch's default is "cpu", not None
    out = _indices("triu_indices", np.triu_indices, row, col, offset)
    return out if dtype is None else out.astype(dtype)


def unfold(input, dimension, size, step):
    """``Tensor.unfold``: every window of ``size`` elements along ``dimension``, ``step`` apart,
    the windows along ``dimension`` and each window's elements in a new last dimension, as
    torch; overlapping windows add up in the gradient."""
    nd = max(input.ndim, 1)
    d = _int_arg(dimension, "dimension", "unfold")
    if not -nd <= d < nd:
        raise ValueError(f"unfold(): dimension {d} is out of range for a {input.ndim}-D tensor")
    d %= nd
    x = input.reshape(1) if input.ndim == 0 else input
    n, size, step = x.shape[d], _int_arg(size, "size", "unfold"), _int_arg(step, "step", "unfold")
    if size > n:
        raise ValueError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise ValueError(f"step is {step} but must be > 0")
    if size < 0:
        raise ValueError(f"size is {size} but must be >= 0")
    starts = np.arange(0, n - size + 1, step)
    windows = x[(slice(None),) * d + (starts[:, None] + np.arange(size),)]
    out = windows.movedim(d + 1, -1)
    return out.reshape(size) if input.ndim == 0 else out
