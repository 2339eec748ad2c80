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
    if dim is not None and (isinstance(dim, (bool, np.bool_))
                            or not isinstance(dim, numbers.Integral)):
        raise TypeError(f"{fn}(): dim must be an int or None (all axes), got "
                        f"{type(dim).__name__}")
    if dim is not None and not -max(input.ndim, 1) <= dim < max(input.ndim, 1):
        raise ValueError(f"{fn}(): dim {dim!r} is out of range for a tensor of {input.ndim} "
                         f"dimension(s)")
    if input.dtype == np.float16:  # as torch: the norm in float32 (300^2 overflows float16)
        return normalize(input.astype(np.float32), p, dim, eps).astype(np.float16)
    p, eps = float(p), float(eps)
    axis = None if dim is None else int(dim)
    with scope(fn, p=p, dim=axis, eps=eps):
        if p == math.inf:
            norm = input.abs().max(axis=axis, keepdims=True)
            return input / norm.maximum(eps)
        if p == 2.0:
            total = input.vecdot(input, axis=axis, keepdims=True)
        else:
            # |x| ** p with the power's derivative never taken at 0 (inf for p < 1)
            a = input.abs()
            zero = a.data == 0
            total = where(zero, 0.0, where(zero, 1.0, a) ** p).sum(axis=axis, keepdims=True)
        small = total.data <= eps ** p  # the norm would be clamped: never differentiate the root
        safe = where(small, 1.0, total)
        root = safe.sqrt() if p == 2.0 else safe ** (1.0 / p)
        return input / where(small, eps, root)
