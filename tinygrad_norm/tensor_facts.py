"""torch's Tensor questions about memory and kind that ported code asks (``storage_offset``,
``data_ptr``, ``is_set_to``, ``layout``, ``is_sparse``/``is_meta``/``is_mps``... all False here,
``output_nr``, ``is_inference``), ``retains_grad``, and torch's legacy ``type``.

A tensor here is one NumPy array in main memory, dense and strided: the flags for other kinds
and places are constant, and the memory questions are answered from the array (its address,
its offset in elements from the start of the array that owns the memory)."""
from __future__ import annotations

import numpy as np

from .dtype_info import TYPE_NAMES, tensor_type_name
from .tensor import Tensor, _RetainGrad, _bool_arg, _dtype_arg

__all__ = ["strided"]


class layout:
    """torch's memory-layout marker; every tensor here is ``tg.strided``."""

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"torch.{self._name}"


strided = layout("strided")


def _owner(arr):
    """The array that owns ``arr``'s memory (the end of NumPy's chain of bases)."""
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def data_ptr(self):
    """The address of the first element, as torch's (an int; 0 for an empty tensor)."""
    arr = self._data
    return int(arr.ctypes.data) if arr.size else 0


def storage_offset(self):
    """The first element's offset, in elements, into the memory its tensor views (0 unless a
    view), as torch's."""
    arr = self._data
    return (arr.ctypes.data - _owner(arr).ctypes.data) // arr.itemsize if arr.size else 0


def is_set_to(self, tensor):
    """Whether both view the same memory at the same address, shape and strides, as torch's."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"is_set_to(): argument 'tensor' must be Tensor, not "
                        f"{type(tensor).__name__}")
    a, b = self._data, tensor._data
    return bool(_owner(a) is _owner(b) and a.ctypes.data == b.ctypes.data and
                a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype)


def _retains_grad(self):
    node = self._node
    return node is not None and any(isinstance(h, _RetainGrad) for h in node.hooks or ())


def _type(self, dtype=None, non_blocking=False, **kwargs):
    """No ``dtype``: torch's type name ('torch.FloatTensor' for float32). A dtype, or a type
    name ('torch.DoubleTensor'): the tensor cast to it (itself when it already is), as torch's
    ``Tensor.type``."""
    _bool_arg(non_blocking, "non_blocking", "type")  # no effect here, but torch's type check
    if dtype is None:
        return tensor_type_name(self.dtype)
    if isinstance(dtype, str) and dtype.startswith("torch."):
        dtype = _named_dtype(dtype)
    elif not isinstance(dtype, (str, type, np.dtype)):
        raise TypeError("dtype must be a type, str, or dtype object")
    dt = _dtype_arg(dtype, "type")
    return self if dt == self.dtype else self.astype(dt)


def _named_dtype(name):
    by_name = {"torch." + v: k for k, v in TYPE_NAMES.items()}
    if name in by_name:
        return by_name[name]
    if name.startswith("torch.cuda."):
        raise RuntimeError(f"type(): {name!r} is a CUDA tensor type, and there is no GPU here")
    raise ValueError(f"invalid type: {name!r}")


_FALSE_FLAGS = ("is_meta", "is_sparse", "is_sparse_csr", "is_quantized", "is_nested", "is_mps",
                "is_xpu", "is_ipu", "is_mkldnn", "is_vulkan", "is_mtia", "is_maia", "is_xla")
for _name in _FALSE_FLAGS:
    setattr(Tensor, _name, False)  # torch's properties: a dense CPU tensor is none of these
Tensor.layout = strided
Tensor.output_nr = 0  # each node here makes one output (unbind's pieces are torch's 0, 1, ...)
Tensor.retains_grad = property(_retains_grad)
for _fn in (data_ptr, storage_offset, is_set_to):
    setattr(Tensor, _fn.__name__, _fn)
Tensor.type = _type
Tensor.is_inference = lambda self: False  # no inference tensors here (see inference_mode)
Tensor.is_shared = lambda self: False  # no shared-memory tensors (DataLoader workers copy)
del _name, _fn
