"""Lp normalization of vectors, as ``torch.nn.functional.normalize``: a composite whose gradient
stays finite where a vector is 0."""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd import scope
from ..tensor import Tensor, where

__all__ = ["normalize"]


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim``, as ``torch.nn.functional.normalize``.
    ``p`` is a positive number or inf. Below ``eps`` the norm is the constant ``eps``, so a zero
    vector stays 0 with a finite gradient (as PyTorch's ``clamp_min``; the square root's own
    derivative at 0 is never taken)."""
    fn = "normalize"
    if out is not None:
        raise TypeError(f"{fn}(): out= is not supported (functions here return new tensors)")
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        raise TypeError(f"{fn}(): input must be a floating-point Tensor")
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real) or not p > 0:
        raise ValueError(f"{fn}(): p must be a positive number or inf, got {p!r}")
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, numbers.Real) or not eps >= 0:
        raise ValueError(f"{fn}(): eps must be a non-negative number, got {eps!r}")
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, numbers.Integral) \
            or not -max(input.ndim, 1) <= dim < max(input.ndim, 1):
        raise ValueError(f"{fn}(): dim {dim!r} is out of range for a tensor of {input.ndim} "
                         f"dimension(s)")
    p, eps = float(p), float(eps)
    with scope(fn, p=p, dim=int(dim), eps=eps):
        if p == math.inf:
            norm = input.abs().max(axis=dim, keepdims=True)
            return input / norm.maximum(eps)
        if p == 2.0:
            total = input.vecdot(input, axis=dim, keepdims=True)
        else:
            total = (input.abs() ** p).sum(axis=dim, keepdims=True)
        small = total.data <= eps ** p  # the norm would be clamped: never differentiate the root
        safe = where(small, 1.0, total)
        root = safe.sqrt() if p == 2.0 else safe ** (1.0 / p)
        return input / where(small, eps, root)
