"""The pools PyTorch has beside the basic ones: ``adaptive_avg_pool1d``, power-average pooling
(``lp_pool1d``, ``lp_pool2d``), max unpooling (``max_unpool1d``, ``max_unpool2d``) and the
``*_with_indices`` spellings. Composites of the existing pools and of one gather: no derivative
is written here."""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd import scope
from ..tensor import Tensor, where
from ..tensor_index import _root
from ._checks import _flag
from .adaptive_pool import adaptive_max_pool1d, adaptive_max_pool2d
from .conv import _check_float, _pair, avg_pool2d, max_pool2d
from .conv1d import _single, avg_pool1d, max_pool1d
from .vision import adaptive_avg_pool2d

__all__ = ["adaptive_avg_pool1d", "lp_pool1d", "lp_pool2d", "max_unpool1d", "max_unpool2d",
           "max_pool1d_with_indices", "max_pool2d_with_indices",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices"]


# ---- adaptive average pooling in 1-D ---------------------------------------------------------

def adaptive_avg_pool1d(input, output_size):
    """Average pooling of a (N, C, L) or (C, L) input to ``output_size`` windows along L (an int
    or a one-element sequence), PyTorch's windows: ``adaptive_avg_pool2d`` on a height of 1.
    ``output_size=0`` gives an empty output, as PyTorch."""
    fn = "adaptive_avg_pool1d"
    _check_float(input, "input", fn)
    if input.ndim not in (2, 3):
        raise ValueError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor "
                         f"for argument #1 'self' (while checking arguments for {fn})")
    size = _one_size(output_size, fn)
    if input.shape[-1] == 0:
        raise ValueError(f"{fn}(): Expected input to have non-zero size for non-batch "
                         f"dimensions, but input has sizes {list(input.shape)} with dimension "
                         f"{input.ndim - 1} being empty")
    with scope(fn, output_size=size):
        if size == 0:  # the empty slice keeps the output on the graph (a zero gradient)
            return input[..., :0]
        return adaptive_avg_pool2d(input.unsqueeze(-2), (1, size)).squeeze(-2)


def _one_size(output_size, fn):
    """An int or a one-element sequence of one, non-negative, in PyTorch's words."""
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,)
    for v in sizes:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{fn}(): argument 'output_size' must be tuple of ints, not "
                            f"{type(v).__name__}")
    if len(sizes) != 1:
        raise ValueError(f"{fn}() argument 'output_size' should contain one int (got "
                         f"{len(sizes)})")
    if sizes[0] < 0:
        raise ValueError(f"{fn}(): elements of output_size must be greater than or equal to 0 "
                         f"but received {sizes[0]}")
    return int(sizes[0])


# ---- power-average pooling -------------------------------------------------------------------

def _norm_type(norm_type, fn):
    if isinstance(norm_type, (bool, np.bool_)) or not isinstance(norm_type, numbers.Real):
        raise TypeError(f"{fn}(): norm_type must be a real number, got "
                        f"{type(norm_type).__name__}")
    if norm_type == 0:  # PyTorch divides 1.0 by it: a ZeroDivisionError
        raise ValueError(f"{fn}(): norm_type must be non-zero (the root is 1 / norm_type)")
    return norm_type


def _root_of_sum(mean, count, p):
    """``(count * mean) ** (1 / p)``. PyTorch passes the mean through ``sign(m) * relu(|m|)``
    (the same value) so that where a window's sum is 0 the root's infinite derivative is masked
    and the gradient is 0; ``tensor_index._root`` gives that zero gradient without computing
    the infinity (NumPy warned of a division by zero). A negative ``p`` keeps PyTorch's formula:
    its root of 0 is inf."""
    if p > 0:
        return _root(mean * count, p)
    return ((mean.sign() * mean.abs().relu()) * count) ** (1.0 / p)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling, as ``torch.nn.functional.lp_pool2d``: per window
    ``(sum x ** p) ** (1 / p)`` (``p = norm_type``; ``inf`` is max pooling of ``|x|``,
    ``-inf`` min pooling), an ``avg_pool2d`` of ``x ** p`` times the window size, no padding.
    As PyTorch, a negative ``x`` with a non-integer ``p`` gives NaN."""
    fn = "lp_pool2d"
    _check_float(input, "input", fn)
    p = _norm_type(norm_type, fn)
    ceil_mode = _flag(ceil_mode, "ceil_mode", fn)
    if p in (math.inf, -math.inf):
        return _extreme(max_pool2d, input, p, kernel_size, stride, ceil_mode)
    kh, kw = _pair(kernel_size, "kernel_size", fn)
    with scope(fn, norm_type=p, kernel_size=(kh, kw), stride=stride, ceil_mode=ceil_mode):
        mean = avg_pool2d(input ** p, kernel_size, stride, 0, ceil_mode)
        return _root_of_sum(mean, kh * kw, p)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """``lp_pool2d`` along L of a (N, C, L) or (C, L) input, as
    ``torch.nn.functional.lp_pool1d`` (``kernel_size`` an int; a one-element sequence is taken
    too, where PyTorch fails on it)."""
    fn = "lp_pool1d"
    _check_float(input, "input", fn)
    p = _norm_type(norm_type, fn)
    ceil_mode = _flag(ceil_mode, "ceil_mode", fn)
    if p in (math.inf, -math.inf):
        return _extreme(max_pool1d, input, p, kernel_size, stride, ceil_mode)
    k = _single(kernel_size, "kernel_size", fn)
    with scope(fn, norm_type=p, kernel_size=k, stride=stride, ceil_mode=ceil_mode):
        mean = avg_pool1d(input ** p, kernel_size, stride, 0, ceil_mode)
        return _root_of_sum(mean, k, p)


def _extreme(pool, input, p, kernel_size, stride, ceil_mode):
    """The infinite norms, as PyTorch: the largest ``|x|`` of each window (``-inf``: the
    smallest)."""
    if p > 0:
        return pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    return -pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)


# ---- max unpooling -----------------------------------------------------------------------------

def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool2d``, as ``torch.nn.functional.max_unpool2d``: zeros of
    the unpooled size with each input value put at its ``indices`` entry (the flat ``h * W + w``
    index that ``max_pool2d(..., return_indices=True)`` gives). Default size per axis
    ``(in - 1) * stride - 2 * padding + kernel``; ``output_size`` (2 numbers, or 4 whose last two
    count) may differ from it by less than ``stride``. The output is one gather of the input, so
    each value's gradient is the output gradient at its place. *vs PyTorch:* where ``indices``
    names one place twice (overlapping pooling windows that share a winner), the last one is
    written, as PyTorch's CPU kernel, and only it gets the gradient (PyTorch's backward gives
    it to each)."""
    fn = "max_unpool2d"
    kernel = _pair(kernel_size, "kernel_size", fn)
    stride = kernel if stride is None else _pair(stride, "stride", fn)
    padding = _pair(padding, "padding", fn, minimum=0)
    _unpool_inputs(input, indices, 2, fn)
    size = _unpool_size(input.shape[-2:], kernel, stride, padding, output_size)
    return _unpool(input, indices, size, fn)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """``max_unpool2d`` along L of a (N, C, L) or (C, L) input, as
    ``torch.nn.functional.max_unpool1d`` (indices: positions along L, as ``max_pool1d``
    gives them)."""
    fn = "max_unpool1d"
    k = _single(kernel_size, "kernel_size", fn)
    s = k if stride is None else _single(stride, "stride", fn)
    p = _single(padding, "padding", fn, minimum=0)
    _unpool_inputs(input, indices, 1, fn)
    size = _unpool_size(input.shape[-1:], (k,), (s,), (p,), output_size)
    return _unpool(input, indices, size, fn)


def _unpool_inputs(input, indices, n, fn):
    """PyTorch's checks of the pooled input and its indices (n spatial axes)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): input must be a Tensor, got {type(input).__name__}")
    if not isinstance(indices, Tensor):
        raise TypeError(f"{fn}(): indices must be a Tensor, got {type(indices).__name__}")
    if input.ndim not in (n + 1, n + 2):
        raise ValueError(f"Input to max_unpooling{n}d should be a {n + 1}d or {n + 2}d "
                         f"Tensor, but got a tensor with {input.ndim} dimensions.")
    if indices.dtype != np.int64:
        raise TypeError(f"{fn}(): elements in indices should be type int64 but got: "
                        f"{indices.dtype}")
    if indices.shape != input.shape:
        raise ValueError(f"Expected shape of indices to be same as that of the input tensor "
                         f"({list(input.shape)}) but got indices tensor with shape: "
                         f"{list(indices.shape)}")


def _unpool_size(spatial, kernel, stride, padding, output_size):
    """The unpooled spatial size: PyTorch's default, or ``output_size`` checked against it."""
    n = len(kernel)
    default = [(i - 1) * s + k - 2 * p for i, k, s, p in zip(spatial, kernel, stride, padding)]
    if output_size is None:
        size = default
    else:
        given = list(output_size) if isinstance(output_size, (tuple, list)) else [output_size]
        if len(given) == n + 2:
            given = given[2:]
        if len(given) != n:
            raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} "
                             f"elements, but it has a length of '{len(given)}'")
        for d, (v, dflt, s) in enumerate(zip(given, default, stride)):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
                raise TypeError(f"output_size must hold ints, got {output_size!r}")
            if not dflt - s < v < dflt + s:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be '
                                 f'between {dflt - s} and {dflt + s})')
        size = [int(v) for v in given]
    for d, v in enumerate(size):
        if v < 0:
            raise ValueError(f"max_unpooling: output_size must contain non-negative spatial "
                             f"dimensions, but got output_size[{d}]={v}")
    return tuple(size)


def _unpool(input, indices, size, fn):
    """Zeros of ``input.shape[:-n] + size`` with ``input`` put at ``indices`` in each plane: the
    places are worked out off the tape, then the output is one gather of the input (its
    backward a scatter-add) and a select of the places written."""
    n = len(size)
    lead = input.shape[:-n]
    per_plane = math.prod(size)
    if per_plane * max(math.prod(lead), 1) > np.iinfo(np.intp).max:
        # (a kernel_size of 10**12: NumPy's comparisons below would overflow)
        raise ValueError(f"{fn}: numel: integer multiplication overflow (an output of "
                         f"{'x'.join(map(str, size))} per plane)")
    idx = indices._data.reshape(-1, math.prod(input.shape[-n:]))  # (planes, values per plane)
    bad = (idx < 0) | (idx >= per_plane)
    if bad.any():
        # PyTorch unpools 1-D as 2-D with a width of 1, and says so
        shown = "x".join(str(v) for v in (size + (1,) if n == 1 else size))
        # the last bad index, as PyTorch's kernel (one thread) reports it
        raise ValueError(f"Found an invalid max index: {idx[bad][-1]} (output volumes are of "
                         f"size {shown})")
    planes = idx.shape[0]
    flat = (idx + (np.arange(planes, dtype=np.int64) * per_plane)[:, None]).reshape(-1)
    # each place's source: the last value written there (NumPy's unique on the reversed list
    # finds each place's last occurrence; a plain fancy assignment leaves the order unspecified)
    places, first_rev = np.unique(flat[::-1], return_index=True)
    source = np.zeros(planes * per_plane, np.intp)
    source[places] = flat.size - 1 - first_rev
    hit = np.zeros(planes * per_plane, bool)
    hit[places] = True
    with scope(fn, output_size=size):
        out = input.reshape(-1)[source]
        zero = Tensor._wrap(np.zeros((), input.dtype))
        return where(Tensor._wrap(hit), out, zero).reshape(lead + size)


# ---- the *_with_indices spellings --------------------------------------------------------------

def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool2d(..., return_indices=True)``: (output, indices) whatever ``return_indices``
    says, as PyTorch's."""
    _flag(return_indices, "return_indices", "max_pool2d_with_indices")
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """``max_pool1d(..., return_indices=True)``, as PyTorch's."""
    _flag(return_indices, "return_indices", "max_pool1d_with_indices")
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool2d(..., return_indices=True)``, as PyTorch's."""
    _flag(return_indices, "return_indices", "adaptive_max_pool2d_with_indices")
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool1d(..., return_indices=True)``, as PyTorch's."""
    _flag(return_indices, "return_indices", "adaptive_max_pool1d_with_indices")
    return adaptive_max_pool1d(input, output_size, True)
