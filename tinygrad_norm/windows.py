"""torch's window functions for spectral analysis: ``hann_window``, ``hamming_window``,
``blackman_window``, ``bartlett_window`` and ``kaiser_window``, each a new leaf tensor in the
default dtype unless ``dtype`` (floating point only, as torch).

``periodic=True`` (the default, as torch's) gives the first ``window_length`` points of the
symmetric window one longer, the form a DFT of that length wants; ``window_length`` 1 gives
``[1.]``. Computed in float64 and rounded to the dtype, so float32 windows may differ from
torch's, which computes in float32, in the last bit.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import default_dtype as _dd
from . import devices as _devices
from .tensor import Tensor, _dtype_arg

__all__ = ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
           "kaiser_window"]


def _window(fn, window_length, periodic, dtype, requires_grad, symmetric):
    """Checks, then ``symmetric(n)`` (the symmetric window of n >= 2 points, float64) cut to the
    periodic form, as a new leaf."""
    if isinstance(window_length, bool) or not isinstance(window_length, numbers.Integral):
        raise TypeError(f"{fn}(): argument 'window_length' must be int, not "
                        f"{type(window_length).__name__}")
    if window_length < 0:
        raise ValueError(f"{fn} requires non-negative window_length, got "
                         f"window_length={window_length}")
    if not isinstance(periodic, (bool, np.bool_)):
        raise TypeError(f"{fn}(): argument 'periodic' must be bool, not "
                        f"{type(periodic).__name__}")
    dt = _dd.DEFAULT if dtype is None else _dtype_arg(dtype, fn)
    if dt.kind != "f":
        raise TypeError(f"{fn} expects floating point dtypes, got: {dt}")
    n = int(window_length)
    if n <= 1:
        values = np.ones(n)
    else:
        values = symmetric(n + 1)[:-1] if periodic else symmetric(n)
    return Tensor(values.astype(dt), requires_grad=requires_grad)


def _cosine_sum(coefficients):
    """The symmetric window sum_k (-1)^k a_k cos(2 pi k i / (n - 1))."""
    def symmetric(n):
        phase = 2 * np.pi * np.arange(n) / (n - 1)
        return sum((-1) ** k * a * np.cos(k * phase) for k, a in enumerate(coefficients))
    return symmetric


def _real(v, fn, name):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{fn}(): argument '{name}' must be a real number, not "
                        f"{type(v).__name__}")
    return float(v)


def hann_window(window_length, periodic=True, *, dtype=None, device=None,
                requires_grad=False):
    """``0.5 - 0.5 cos(2 pi i / (N - 1))``."""
    _devices.check_device(device, "hann_window()")
    return _window("hann_window", window_length, periodic, dtype, requires_grad,
                   _cosine_sum((0.5, 0.5)))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   device=None, requires_grad=False):
    """``alpha - beta cos(2 pi i / (N - 1))``."""
    _devices.check_device(device, "hamming_window()")
    coefficients = (_real(alpha, "hamming_window", "alpha"),
                    _real(beta, "hamming_window", "beta"))
    return _window("hamming_window", window_length, periodic, dtype, requires_grad,
                   _cosine_sum(coefficients))


def blackman_window(window_length, periodic=True, *, dtype=None, device=None,
                    requires_grad=False):
    """``0.42 - 0.5 cos(2 pi i / (N - 1)) + 0.08 cos(4 pi i / (N - 1))``."""
    _devices.check_device(device, "blackman_window()")
    return _window("blackman_window", window_length, periodic, dtype, requires_grad,
                   _cosine_sum((0.42, 0.5, 0.08)))


def bartlett_window(window_length, periodic=True, *, dtype=None, device=None,
                    requires_grad=False):
    """The triangle ``1 - |2 i / (N - 1) - 1|``."""
    _devices.check_device(device, "bartlett_window()")
    return _window("bartlett_window", window_length, periodic, dtype, requires_grad,
                   lambda n: 1 - np.abs(2 * np.arange(n) / (n - 1) - 1))


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, device=None,
                  requires_grad=False):
    """``I0(beta sqrt(1 - (2 i / (N - 1) - 1)^2)) / I0(beta)`` (I0: the modified Bessel
    function of order 0)."""
    _devices.check_device(device, "kaiser_window()")
    beta = _real(beta, "kaiser_window", "beta")
    return _window("kaiser_window", window_length, periodic, dtype, requires_grad,
                   lambda n: np.i0(beta * np.sqrt(np.clip(
                       1 - (2 * np.arange(n) / (n - 1) - 1) ** 2, 0, None))) / np.i0(beta))
