"""adaptive_avg_pool3d and adaptive_max_pool3d, as composites.

Output cell ``i`` of an axis of length ``n`` pooled to ``out`` covers PyTorch's window
``floor(i n / out)`` to ``ceil((i + 1) n / out)``. Both pools are separable. The average is three
products with small (out, n) matrices of window weights, one per axis. The max is found in NumPy,
off the tape: ``adaptive_max_pool2d``'s search in each plane, then the same search over depth
among those winners (that keeps PyTorch's scan order: its first maximum, its last NaN, and its
index of the window's first element when all is -inf); the output is one gather of the winners,
whose backward pass is one scatter-add.
"""
from __future__ import annotations

import numpy as np

from ..autograd import scope
from ..tensor import Tensor
from ._checks import _flag
from .adaptive_pool import _argmax_2d, _check_input, _out_size
from .conv import _connect
from .vision import _window_weights

__all__ = ["adaptive_avg_pool3d", "adaptive_max_pool3d"]


def _sizes(output_size, shape, fn):
    """The three output sizes: an int for all, or a sequence of three (None keeps that size);
    ``shape`` None (a layer's construction-time check) leaves the Nones."""
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * 3
    if len(sizes) != 3:
        raise ValueError(f"{fn}(): output_size must be an int or hold three values (got "
                         f"{len(sizes)}): {output_size!r}")
    sizes = tuple(_out_size(v, True, fn) for v in sizes)
    if shape is None:
        return sizes
    return tuple(s if v is None else v for v, s in zip(sizes, shape))


def adaptive_avg_pool3d(input, output_size):
    """Average pooling of a (N, C, D, H, W) or (C, D, H, W) input to ``output_size`` (an int, or
    a triple whose None keeps that size); 0 gives an empty output, as PyTorch."""
    fn = "adaptive_avg_pool3d"
    _check_input(input, (4, 5), fn)
    od, oh, ow = _sizes(output_size, input.shape[-3:], fn)
    D, H, W = input.shape[-3:]
    lead = input.shape[:-3]
    with scope(fn, output_size=(od, oh, ow)):
        if 0 in (od, oh, ow):  # an empty slice keeps the output on the graph (a zero gradient)
            return input[..., :od, :oh, :ow]
        if D % od == 0 and H % oh == 0 and W % ow == 0:  # equal windows: one reshape, one mean
            x = input.reshape(lead + (od, D // od, oh, H // oh, ow, W // ow))
            return x.mean(axis=(-5, -3, -1))
        dt = input.dtype
        if dt == np.float16:  # summed in float32, as adaptive_avg_pool2d
            return adaptive_avg_pool3d(input.astype(np.float32), (od, oh, ow)).astype(dt)
        # separable: columns, rows, then planes (each a matmul with an (out, n) weight matrix)
        x = input @ Tensor(_window_weights(W, ow, dt).T)  # (..., D, H, ow)
        x = Tensor(_window_weights(H, oh, dt)) @ x  # (..., D, oh, ow)
        x = Tensor(_window_weights(D, od, dt)) @ x.reshape(lead + (D, oh * ow))
        return x.reshape(lead + (od, oh, ow))


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling of a (N, C, D, H, W) or (C, D, H, W) input to ``output_size`` (an int, or a
    triple whose None keeps that size); ``return_indices`` also gives each winner's flat
    ``d * H * W + h * W + w`` index in its channel (int64)."""
    fn = "adaptive_max_pool3d"
    return_indices = _flag(return_indices, "return_indices", fn)
    _check_input(input, (4, 5), fn)
    od, oh, ow = _sizes(output_size, input.shape[-3:], fn)
    x = input if input.ndim == 5 else input.unsqueeze(0)
    n, c, D, H, W = x.shape
    index = _argmax_3d(x.data, od, oh, ow)
    with scope(fn, output_size=(od, oh, ow)):
        planes = (np.arange(n * c, dtype=np.intp) * (D * H * W))[:, None]
        flat = (index.reshape(n * c, od * oh * ow) + planes).reshape(-1)
        out = _connect(x).reshape(-1)[flat].reshape(n, c, od, oh, ow)
    if input.ndim == 4:
        out, index = out.squeeze(0), index[0]
    return (out, Tensor(index)) if return_indices else out


def _argmax_3d(a, od, oh, ow):
    """Flat in-channel index ``d * H * W + h * W + w`` of each window's winner of a 5-D array:
    the winner of each (oh, ow) window in every plane (``_argmax_2d``), then, among those, the
    winner over each depth window (``_argmax_2d`` again, on a (D, oh*ow) array whose column
    windows are one wide). Row-major order is kept: the first maximum, the last NaN, the
    first element of an all -inf window."""
    n, c, D, H, W = a.shape
    if not (n * c and od and oh and ow):
        return np.zeros((n, c, od, oh, ow), np.intp)
    plane = _argmax_2d(a.reshape(n, c * D, H, W), oh, ow).reshape(n, c, D, oh * ow)
    won = np.take_along_axis(a.reshape(n, c, D, H * W), plane, axis=-1)  # their values
    dep = _argmax_2d(won, od, oh * ow) // (oh * ow)  # (N, C, od, oh*ow): the winning plane
    return (dep * (H * W) + np.take_along_axis(plane, dep, axis=2)).reshape(n, c, od, oh, ow)
