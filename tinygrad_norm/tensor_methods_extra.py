"""torch's Tensor methods that this package had only as top-level functions (``x.diag()``,
``x.cross(y)``, ``x.dist(y)``, ``x.multinomial(n)``...), bound as methods, and torch's layout
and cast methods ported code calls: ``is_contiguous``, ``stride``, ``ndimension``, ``byte``,
``char``, ``short``, ``to_dense``. Each method is the function with the tensor as its first
argument."""
from __future__ import annotations

import numbers

import numpy as np

from .creation import bernoulli, cross, diag, diag_embed, multinomial
from .tensor import Tensor, _bool_arg
from .tensor_ops import baddbmm
from .torch_functional_aliases import dist

__all__ = []  # methods only


def is_contiguous(self, memory_format=None):
    """Whether the array is laid out in C order (row-major), as torch's default format;
    ``memory_format`` is accepted for torch's signature (NumPy arrays have one layout)."""
    return bool(self.numpy().flags.c_contiguous)


def stride(self, dim=None):
    """The step in elements between neighbours along each dimension (a tuple), or along
    ``dim``, as torch's: NumPy's byte strides over the item size (row-major ones for an empty
    tensor). A dimension of size 1 is never stepped along, so its stride may differ from
    torch's."""
    arr = self.numpy()
    if arr.size == 0:  # NumPy may give an empty array any strides; torch's are row-major
        steps = tuple(int(np.prod([max(n, 1) for n in arr.shape[i + 1:]]))
                      for i in range(arr.ndim))
    else:
        steps = tuple(s // arr.itemsize for s in arr.strides)
    if dim is None:
        return steps
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"stride(): argument 'dim' must be int, not {type(dim).__name__}")
    if self.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    if not -self.ndim <= dim < self.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-self.ndim}, {self.ndim - 1}], but got {dim})")
    return steps[dim]


def to_dense(self, dtype=None, *, masked_grad=True):
    """Itself, as torch's for a strided tensor (cast to ``dtype`` on the graph when given).
    Every tensor here is dense, sparse embeddings' gradients included, so a torch program
    that reads ``p.grad.to_dense()`` after an ``nn.Embedding(sparse=True)`` runs unchanged;
    ``masked_grad`` only matters for a sparse layout there and is accepted for its signature."""
    _bool_arg(masked_grad, "masked_grad", "to_dense")  # still torch's type check
    if dtype is None:
        return self
    if isinstance(dtype, (bool, numbers.Number)):  # np.dtype(3) would not be refused
        raise TypeError(f"to_dense(): argument 'dtype' must be a dtype, "
                        f"not {type(dtype).__name__}")
    return self.astype(dtype)


def ndimension(self):
    return self.ndim


def byte(self):
    return self.astype(np.uint8)


def char(self):
    return self.astype(np.int8)


def short(self):
    return self.astype(np.int16)


# by explicit name: a function's __name__ may be another method's (absolute is abs)
_METHODS = {"diag": diag, "cross": cross, "multinomial": multinomial, "bernoulli": bernoulli,
            "diag_embed": diag_embed, "dist": dist, "baddbmm": baddbmm,
            "is_contiguous": is_contiguous, "stride": stride, "ndimension": ndimension,
            "to_dense": to_dense,
            "byte": byte, "char": char, "short": short}
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)  # a function as a class attribute: self comes first
Tensor.absolute = Tensor.abs  # torch's alias
del _name, _fn
