"""Local response normalization (AlexNet's, across channels), as a composite: the squares are
averaged over a window of neighbouring channels by the average pool, as PyTorch builds it, so
the gradient comes from the tape like every other normalization's."""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd import scope
from ..tensor import Tensor
from ._checks import _real
from .conv import avg_pool2d
from .vision import pad

__all__ = ["local_response_norm"]


def _check(input, size, alpha, beta, k):
    if not isinstance(input, Tensor):
        raise TypeError(f"local_response_norm(): input must be a Tensor, got "
                        f"{type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"local_response_norm(): input must be floating point, got dtype "
                        f"{input.dtype}")
    if input.ndim < 3:  # PyTorch's first check
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} "
                         f"dimensions)")
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Integral):
        raise TypeError(f"local_response_norm(): size must be an int, got {type(size).__name__}")
    if size <= 0:
        raise ValueError(f"local_response_norm(): size must be positive, got {size}")
    fn = "local_response_norm()"
    return int(size), _real(alpha, "alpha", fn), _real(beta, "beta", fn), _real(k, "k", fn)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """``input / (k + alpha * mean(x^2 over size neighbouring channels)) ** beta`` on an
    (N, C, *) input, as ``torch.nn.functional.local_response_norm``: the window of channel c
    runs from ``c - size // 2`` to ``c + (size - 1) // 2``, zero-padded at the ends and always
    divided by ``size``. An empty input is returned as it is."""
    size, alpha, beta, k = _check(input, size, alpha, beta, k)
    if input.size == 0:
        return input
    with scope("local_response_norm", size=size, alpha=alpha, beta=beta, k=k):
        n, c = input.shape[:2]
        # (N, 1, C, rest): the channels become the pooled axis of a one-channel image
        sq = (input * input).reshape(n, 1, c, -1)
        sq = pad(sq, (0, 0, size // 2, (size - 1) // 2))
        mean = avg_pool2d(sq, (size, 1), stride=1).reshape(input.shape)
        return input / (mean * alpha + k) ** beta
