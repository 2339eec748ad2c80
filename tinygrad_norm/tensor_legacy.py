"""torch's legacy Tensor methods that older ported code calls: ``new`` (a tensor of this one's
dtype from data or a size), ``resize_``/``resize_as_`` (a new shape in place, the values kept
in row-major order, new places zero: torch leaves them uninitialized), and ``apply_``/``map_``
(a Python callable on every element, in place). None is recorded: torch refuses each on a
tensor that requires grad, and so does this."""
from __future__ import annotations

import numbers

import numpy as np

from .tensor import Tensor

__all__ = []  # methods only


def _sizes(size, fn):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):  # resize_((2, 3))
        size = tuple(size[0])
    for n in size:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"{fn}(): argument 'size' must be a tuple of ints, but found an "
                            f"element of type {type(n).__name__}")
        if n < 0:
            raise ValueError(f"{fn}(): Trying to create tensor with negative dimension {n}: "
                             f"{list(size)}")
    return tuple(int(n) for n in size)


def new(self, *args):
    """torch's legacy constructor: no argument, an empty 1-D tensor; a sequence or tensor, a
    copy of it in this dtype; integers (or one tuple of them), zeros of that size (torch's are
    uninitialized). Always a tensor that does not require grad."""
    dt = self._data.dtype
    first = args[0] if len(args) == 1 else None
    if not args:
        return Tensor._wrap(np.zeros(0, dt))
    if isinstance(first, Tensor):
        return Tensor._wrap(first._data.astype(dt, copy=True))
    if isinstance(first, (list, tuple)):  # data, as torch reads x.new((2, 3)) too
        try:
            return Tensor._wrap(np.array(first, dtype=dt))
        except (TypeError, ValueError):  # NumPy's "could not convert string to float: 'a'"
            raise TypeError(f"new(): data must be a sequence of numbers, got {first!r}") \
                from None
    if len(args) == 1 and not isinstance(first, numbers.Integral):
        raise TypeError(f"new(): data must be a sequence (got {type(first).__name__})")
    return Tensor._wrap(np.zeros(_sizes(args, "new"), dt))


def _refuse_grad(self, fn, words):
    if self._requires_grad:
        raise RuntimeError(words.format(fn=fn))


def resize_(self, *size):
    """This tensor's array becomes one of ``size``: the first elements (row-major) kept, the
    rest zero, as ``torch.Tensor.resize_`` (whose new places are uninitialized). Views taken
    before no longer see it, as in torch when the storage grows."""
    _refuse_grad(self, "resize_", "cannot resize variables that require grad")
    shape = _sizes(size, "resize_")
    n = int(np.prod(shape, dtype=np.int64))
    flat = self._data.reshape(-1)  # row-major order, copied only where not contiguous
    out = np.zeros(n, self._data.dtype)
    out[:min(n, flat.size)] = flat[:n]
    self._data = out.reshape(shape)
    return self


def resize_as_(self, the_template):
    """``resize_(the_template.shape)``, as torch's."""
    if not isinstance(the_template, Tensor):
        raise TypeError(f"resize_as_(): argument 'the_template' must be Tensor, not "
                        f"{type(the_template).__name__}")
    return resize_(self, the_template.shape)


def _python_values(arr):
    return arr.reshape(-1).tolist()  # Python floats, ints or bools, as torch passes them


def _stored(self, values, fn):
    for v in values:
        if not isinstance(v, (numbers.Real, np.bool_)):
            raise TypeError(f"{fn}(): the callable must return a real number, not "
                            f"{type(v).__name__}")
    # through _put, the writer every in-place method uses (a graph that saved the array
    # refuses to go backward afterwards)
    return self._put(fn, np.asarray(values, dtype=self._data.dtype).reshape(self._data.shape))


def apply_(self, callable):  # noqa: A002  (torch's argument name)
    """``callable`` of each element (a Python number), written in place, as torch's (CPU only,
    slow: one Python call per element)."""
    _refuse_grad(self, "apply_", "Can't call {fn}() on Variable that requires grad. Use "
                 "var.detach().{fn}() instead.")
    return _stored(self, [callable(v) for v in _python_values(self._data)], "apply_")


def map_(self, tensor, callable):  # noqa: A002
    """``callable(a, b)`` of each element ``a`` of this tensor and ``b`` of ``tensor``
    (broadcast to this shape), written in place, as torch's."""
    _refuse_grad(self, "map_", "Can't call {fn}() on Variable that requires grad. Use "
                 "var.detach().{fn}() instead.")
    if not isinstance(tensor, Tensor):
        raise TypeError(f"map_(): argument 'tensor' must be Tensor, not {type(tensor).__name__}")
    try:
        other = np.broadcast_to(tensor._data, self._data.shape)
    except ValueError:
        raise ValueError(f"map_(): the shape of tensor {tuple(tensor.shape)} does not "
                         f"broadcast to {tuple(self.shape)}") from None
    pairs = zip(_python_values(self._data), _python_values(other))
    return _stored(self, [callable(a, b) for a, b in pairs], "map_")


for _fn in (new, resize_, resize_as_, apply_, map_):
    setattr(Tensor, _fn.__name__, _fn)
del _fn
