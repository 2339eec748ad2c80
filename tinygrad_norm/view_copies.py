"""torch's ``*_copy`` operations: each view operation (``view``, ``permute``, ``select``,
``diagonal``, ``unfold``, ...) with its result copied into memory of its own, so that a later
in-place write into the result cannot reach the input. Composites: the view, then ``clone`` (on
the tape, so the gradient is the view's)."""
from __future__ import annotations

import numbers

import numpy as np

from . import _argname
from .method_bindings import split_with_sizes
from .tensor import Tensor

__all__ = ["view_copy", "permute_copy", "expand_copy", "diagonal_copy", "select_copy",
           "slice_copy", "split_copy", "split_with_sizes_copy", "squeeze_copy",
           "unsqueeze_copy", "t_copy", "transpose_copy", "unbind_copy", "unfold_copy",
           "detach_copy", "alias_copy", "narrow_copy"]


def _input(x, fn):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(x).__name__}")
    return x


def _shape(size, fn):
    if isinstance(size, (list, tuple)):
        return tuple(size)
    raise TypeError(f"{fn}(): argument 'size' must be a tuple of ints, not {type(size).__name__}")


def view_copy(input, size):
    """``input.view(size)`` copied; ``size`` a dtype reinterprets the bits instead (torch's
    ``view_copy(input, dtype)``, no gradient: a result that is not a float of the same
    meaning)."""
    _input(input, "view_copy")
    if isinstance(size, (np.dtype, type, str)):
        try:
            return Tensor._wrap(input._data.view(np.dtype(size)).copy())
        except (TypeError, ValueError) as e:
            raise ValueError(f"view_copy(): cannot view {input.dtype} as {size}: {e}") from None
    return input.view(*_shape(size, "view_copy")).clone()


def permute_copy(input, dims):
    return _input(input, "permute_copy").permute(*dims).clone()


def expand_copy(input, size, *, implicit=False):
    """``input.expand(size)`` copied (``implicit`` is torch's tracing flag: ignored)."""
    return _input(input, "expand_copy").expand(*_shape(size, "expand_copy")).clone()


def diagonal_copy(input, offset=0, dim1=0, dim2=1):
    try:
        return _input(input, "diagonal_copy").diagonal(offset, dim1, dim2).clone()
    except (TypeError, ValueError, IndexError) as e:
        raise _argname.retitle(e)  # diagonal's checks say "diagonal(): ..."


def select_copy(input, dim, index):
    return _input(input, "select_copy").select(dim, index).clone()


def slice_copy(input, dim=0, start=None, end=None, step=1):
    """``input[start:end:step]`` along ``dim``, copied, as torch's (``step`` positive)."""
    _input(input, "slice_copy")
    if isinstance(dim, bool):  # True would be dim 1
        raise TypeError("slice_copy(): argument 'dim' must be int, not bool")
    for pos, name, v in ((3, "start", start), (4, "end", end), (5, "step", step)):
        if (v is not None or name == "step") and (not isinstance(v, numbers.Integral)
                                                  or isinstance(v, bool)):
            raise TypeError(f"slice_copy(): argument '{name}' (position {pos}) must be int, "
                            f"not {type(v).__name__}")  # torch's; the slice said nothing
    if input.ndim == 0:
        raise IndexError("slice_copy(): slice() cannot be applied to a 0-dim tensor.")
    if step <= 0:
        raise ValueError("slice step must be positive")
    d = dim + input.ndim if isinstance(dim, int) and dim < 0 else dim
    if not isinstance(d, int) or not 0 <= d < input.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-input.ndim}, {input.ndim - 1}], but got {dim})")
    return input[(slice(None),) * d + (slice(start, end, step),)].clone()


def split_copy(input, split_size, dim=0):
    return [p.clone() for p in _input(input, "split_copy").split(split_size, dim)]


def split_with_sizes_copy(input, split_sizes, dim=0):
    return [p.clone() for p in split_with_sizes(input, split_sizes, dim)]


def squeeze_copy(input, dim=None):
    """``input.squeeze(dim)`` copied; ``dim`` an int, a tuple of them, or None (every
    dimension of length 1); a dim whose length is not 1 is left alone, as torch's."""
    return _input(input, "squeeze_copy").squeeze(dim=dim).clone()


def unsqueeze_copy(input, dim):
    return _input(input, "unsqueeze_copy").unsqueeze(dim).clone()


def t_copy(input):
    return _input(input, "t_copy").t().clone()


def transpose_copy(input, dim0, dim1):
    return _input(input, "transpose_copy").swapaxes(dim0, dim1).clone()


def unbind_copy(input, dim=0):
    return [p.clone() for p in _input(input, "unbind_copy").unbind(dim)]


def unfold_copy(input, dimension, size, step):
    return _input(input, "unfold_copy").unfold(dimension, size, step).clone()


def detach_copy(input):
    """``input.detach()`` copied: no gradient reaches ``input``."""
    return _input(input, "detach_copy").detach().clone()


def alias_copy(input):
    """A copy of ``input`` (torch's alias is a view of it), gradient passed through."""
    return _input(input, "alias_copy").clone()


def narrow_copy(input, dim, start, length):
    return _input(input, "narrow_copy").narrow(dim, start, length).clone()


Tensor.narrow_copy = narrow_copy  # the one torch also has as a method
