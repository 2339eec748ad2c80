"""torch's remaining constructors: ``range`` (deprecated, end inclusive), ``empty_strided`` and
``empty_permuted`` (zeros laid out with the given strides or dimension order: torch leaves
them uninitialized), ``frombuffer`` (a tensor over a Python buffer's memory), and the DLPack
exchange ``from_dlpack``/``to_dlpack`` (and ``Tensor.__dlpack__``), through NumPy's own
support: memory is shared both ways with NumPy, torch and any other DLPack library on the
CPU."""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from . import default_dtype as _dd
from . import devices as _devices
from .tensor import Tensor, _bool_arg, _dtype_arg

__all__ = ["range", "empty_strided", "empty_permuted", "frombuffer", "from_dlpack",
           "to_dlpack"]

_builtin_range = range  # (this module's ``range`` is torch's)


def _made(arr, requires_grad, device, fn):
    _devices.check_device(device, f"{fn}()")
    requires_grad = _bool_arg(requires_grad, "requires_grad", fn)  # "no" by truth value: True
    t = Tensor._wrap(arr)
    return t.requires_grad_(True) if requires_grad else t


def _number(v, fn, name):
    if isinstance(v, Tensor):
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{fn}(): argument '{name}' must be a number, not {type(v).__name__}")
    return v


def range(start, end, step=1, *, dtype=None, device=None, requires_grad=False):  # noqa: A001
    """``floor((end - start) / step) + 1`` values from ``start`` by ``step``, ``end`` included
    when reached, as the deprecated ``torch.range`` (with its warning): the default float
    dtype unless ``dtype`` is given, whatever the arguments' types. ``end`` is required, as in
    torch."""
    start, end, step = (_number(v, "range", n) for v, n in ((start, "start"), (end, "end"),
                                                            (step, "step")))
    requires_grad = _bool_arg(requires_grad, "requires_grad", "range")
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "tg.arange, which produces values in [start, end).", UserWarning, stacklevel=2)
    if step == 0 or step != step:  # NaN too (int(floor(nan)) spoke for it), as torch
        raise ValueError(f"range(): step must be nonzero, got {step}")
    if not all(math.isfinite(v) for v in (start, end)):
        raise ValueError(f"unsupported range: {start} -> {end}")
    if (end - start) * step < 0:
        raise ValueError("upper bound and lower bound inconsistent with step sign")
    dt = np.dtype(_dd.DEFAULT) if dtype is None else _dtype_arg(dtype, "range")
    n = int(math.floor((end - start) / step)) + 1
    values = start + np.arange(n, dtype=np.float64) * step  # in float64, then cast: torch's
    return _made(values.astype(dt), requires_grad, device, "range")


def _int_tuple(v, fn, name):
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        v = (v,)
    if not isinstance(v, (tuple, list)) or not all(
            isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in v):
        raise TypeError(f"{fn}(): argument '{name}' must be tuple of ints, not "
                        f"{type(v).__name__}")
    return tuple(int(n) for n in v)


def _float_dtype(dtype, fn):
    return np.dtype(_dd.DEFAULT) if dtype is None else _dtype_arg(dtype, fn)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """A tensor of ``size`` whose elements lie ``stride`` elements apart along each dim, as
    ``torch.empty_strided``: zeros here (torch's are uninitialized); a stride of 0 makes
    elements share memory, as in torch."""
    fn = "empty_strided"
    size, stride = _int_tuple(size, fn, "size"), _int_tuple(stride, fn, "stride")
    if len(size) != len(stride):
        raise ValueError(f"dimensionality of sizes ({len(size)}) must match dimensionality of "
                         f"strides ({len(stride)})")
    if any(n < 0 for n in size):
        raise ValueError(f"{fn}(): Trying to create tensor with negative dimension: {list(size)}")
    if any(s < 0 for s in stride):
        raise ValueError(f"Storage size calculation overflowed with sizes={list(size)} and "
                         f"strides={list(stride)}")
    dt = _float_dtype(dtype, fn)
    count = 0 if 0 in size else 1 + sum((n - 1) * s for n, s in zip(size, stride))
    arr = np.lib.stride_tricks.as_strided(np.zeros(count, dt), size,
                                          tuple(s * dt.itemsize for s in stride))
    return _made(arr, requires_grad, device, fn)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    """A tensor of ``size`` laid out in memory in the dimension order ``physical_layout``
    (outermost first), as ``torch.empty_permuted``: zeros here."""
    fn = "empty_permuted"
    size, order = _int_tuple(size, fn, "size"), _int_tuple(physical_layout, fn,
                                                           "physical_layout")
    if len(size) != len(order):
        raise ValueError(f"Number of dimensions in size does not match the length of the "
                         f"physical_layout; i.e. len(size) = {len(size)} is not equal to "
                         f"len(physical_layout) = {len(order)}")
    if sorted(order) != list(_builtin_range(len(size))):
        raise ValueError("Duplicate dim not allowed" if len(set(order)) < len(order) else
                         f"{fn}(): physical_layout {list(order)} is not a permutation of the "
                         f"dims")
    if any(n < 0 for n in size):
        raise ValueError(f"{fn}(): Trying to create tensor with negative dimension: {list(size)}")
    physical = np.zeros([size[d] for d in order], _float_dtype(dtype, fn))
    return _made(physical.transpose(np.argsort(order)), requires_grad, device, fn)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor over the memory of a Python buffer (``bytearray``, ``memoryview``, an
    array...), ``count`` elements (-1: all) from byte ``offset``, as ``torch.frombuffer``:
    writes show through both ways. A read-only buffer gives a read-only tensor."""
    dt = _dtype_arg(dtype, "frombuffer")
    try:
        nbytes = memoryview(buffer).nbytes
    except TypeError:
        raise TypeError(f"frombuffer(): argument 'buffer' must support the buffer protocol, not "
                        f"{type(buffer).__name__}") from None
    count, offset = (_int_tuple(v, "frombuffer", n)[0] for v, n in ((count, "count"),
                                                                    (offset, "offset")))
    if nbytes == 0 or count == 0:
        raise ValueError(f"both buffer length ({nbytes}) and count ({count}) must not be 0")
    if not 0 <= offset < nbytes:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({nbytes} bytes) minus 1")
    if count < 0:
        if (nbytes - offset) % dt.itemsize:
            raise ValueError(f"buffer length ({nbytes - offset} bytes) after offset ({offset} "
                             f"bytes) must be a multiple of element size ({dt.itemsize})")
        count = (nbytes - offset) // dt.itemsize
    elif nbytes - offset < count * dt.itemsize:
        raise ValueError(f"requested buffer length ({count} * {dt.itemsize} bytes) after "
                         f"offset ({offset} bytes) must not be greater than actual buffer "
                         f"length ({nbytes} bytes)")
    arr = np.frombuffer(buffer, dtype=dt, count=count, offset=offset)
    return _made(arr, requires_grad, None, "frombuffer")


class _Capsule:
    """A bare DLPack capsule (what ``to_dlpack`` gives) as the object NumPy's import takes."""

    def __init__(self, capsule):
        self._capsule = capsule

    def __dlpack__(self, stream=None):
        return self._capsule

    def __dlpack_device__(self):
        return (1, 0)  # kDLCPU: a capsule from elsewhere that is not on the CPU fails in NumPy


def from_dlpack(ext_tensor):
    """A tensor sharing the memory of ``ext_tensor``: any object with ``__dlpack__`` (a NumPy
    array, a torch CPU tensor, ...) or a DLPack capsule, as ``torch.from_dlpack``."""
    if isinstance(ext_tensor, Tensor):
        return ext_tensor.detach()
    if hasattr(ext_tensor, "__dlpack__"):
        obj = ext_tensor
    elif type(ext_tensor).__name__ == "PyCapsule":
        obj = _Capsule(ext_tensor)
    else:
        raise TypeError(f"from_dlpack(): expected an object with __dlpack__ or a DLPack "
                        f"capsule, got {type(ext_tensor).__name__}")
    try:
        arr = np.from_dlpack(obj)
    except (BufferError, ValueError, RuntimeError) as e:
        raise ValueError(f"from_dlpack(): {e}") from None
    return Tensor._wrap(arr)


def _dlpack(self, stream=None, **kwargs):
    """The DLPack capsule of this tensor's array (torch refuses one that requires grad)."""
    if self._requires_grad:
        raise RuntimeError("Can't export tensors that require gradient, use tensor.detach()")
    return self._data.__dlpack__(stream=stream, **kwargs)


def to_dlpack(tensor):
    """A DLPack capsule over ``tensor``'s memory, as ``torch.utils.dlpack.to_dlpack``."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dlpack(): argument 'tensor' must be Tensor, not "
                        f"{type(tensor).__name__}")
    return _dlpack(tensor)


Tensor.__dlpack__ = _dlpack
Tensor.__dlpack_device__ = lambda self: (1, 0)  # kDLCPU, device 0
