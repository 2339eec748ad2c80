"""CrossMapLRN2d, as ``torch.nn.CrossMapLRN2d``: Lua Torch's cross-channel local response
normalization of (N, C, H, W) input, ``x * (k + alpha / size * S) ** -beta`` where ``S`` sums
the squares over a window of channels.

The window is torch's, quirks included: torch builds ``S`` channel by channel with a running
sum that adds the channel entering the window but starts dropping the leaving one a step late
and never drops channel 0. So for ``size=5`` channel 3 sums channels 0..5 and channel 6 sums
channels 0 and 4..7 -- not the symmetric window of ``LocalResponseNorm``. Here the same windows
are a constant 0/1 matrix over the channels, so the values are torch's; the gradient comes
from the tape and is the true derivative of those values. torch's hand-written backward assumes
symmetric windows, so it differs from its own forward's derivative (its gradcheck fails) once
C exceeds about half the window; it also fails outright for ``size=1``.
"""
from __future__ import annotations

import functools

import numpy as np

from ..autograd import scope
from ..tensor import Tensor
from .module import Module
from .normalization import _count, _real

__all__ = ["CrossMapLRN2d"]


@functools.lru_cache(maxsize=64)
def _windows(channels, size):
    """(C, C) 0/1 matrix: row c marks the channels whose squares torch sums for channel c, as
    its running sum leaves them (replayed on one-hot rows)."""
    first = int((size - 1) / 2 + 1)  # torch's pre_pad: channels 0..first-1 make channel 0's sum
    w = np.zeros((channels, channels))
    w[0, :min(first, channels)] = 1
    for c in range(1, channels):
        w[c] = w[c - 1]
        if c < channels - first + 1:
            w[c, c + first - 1] += 1
        if c > first:
            w[c, c - first] -= 1
    w.setflags(write=False)  # cached and shared: nobody may change it
    return w


class CrossMapLRN2d(Module):
    """Cross-channel local response normalization of a 4-D (N, C, H, W) input with torch's
    channel windows (see the module docstring); no parameters, the same in train and eval."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__()
        cls = type(self).__name__
        self.size = _count(size, "size", cls)  # torch divides by it: 0 fails there, here first
        self.alpha, self.beta = _real(alpha, "alpha", cls), _real(beta, "beta", cls)
        self.k = _real(k, "k", cls)

    def forward(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"CrossMapLRN2d: input must be a Tensor, got {type(input).__name__}")
        if input.dtype.kind != "f":
            raise TypeError(f"CrossMapLRN2d: input must be floating point, got dtype "
                            f"{input.dtype}")
        if input.ndim != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D "
                             f"instead.")
        with scope("cross_map_lrn2d", size=self.size, alpha=self.alpha, beta=self.beta,
                   k=self.k):
            windows = Tensor(_windows(input.shape[1], self.size).T.astype(input.dtype))
            # channels last, so one matmul sums every window at every pixel
            sums = ((input * input).permute(0, 2, 3, 1) @ windows).permute(0, 3, 1, 2)
            scale = sums * (self.alpha / self.size) + self.k
            return input * scale ** -self.beta

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
