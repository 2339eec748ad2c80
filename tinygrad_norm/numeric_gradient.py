"""``torch.gradient``: the derivative of sampled values by finite differences, along each
dimension: central differences inside, one-sided (first or second order) at the edges, for
uniform spacing or given coordinates; NumPy's ``gradient`` formulas, which torch's follows.

Each result is a sum of shifted slices of the input times constant coefficients, so it is
differentiable (the gradient comes from the tape)."""
from __future__ import annotations

import numbers

import numpy as np

from . import default_dtype as _dd
from .tensor import Tensor, concatenate

__all__ = ["gradient"]


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """A tuple with the derivative along each of ``dim`` (all dimensions by default).
    ``spacing``: one number for every dimension, one number per dimension, or one 1-D tensor of
    coordinates per dimension."""
    if not isinstance(input, Tensor):
        raise TypeError(f"gradient(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if edge_order not in (1, 2) or isinstance(edge_order, bool):
        raise ValueError("torch.gradient only supports edge_order=1 and edge_order=2.")
    f = input if input.dtype.kind == "f" else input.astype(_dd.DEFAULT)
    dims = _dims(dim, f.ndim)
    steps = _spacings(spacing, dims, f, dim)
    for d in dims:
        if f.shape[d] < edge_order + 1:
            raise ValueError("torch.gradient expected each dimension size to be at least "
                             "edge_order+1")
    return tuple(_along(f, d, s, edge_order) for d, s in zip(dims, steps))


def _dims(dim, ndim):
    if dim is None:
        return list(range(ndim))
    if not isinstance(dim, (numbers.Integral, list, tuple)):  # list(1.5) named nothing
        raise TypeError(f"gradient(): dim must be an int or a sequence of ints, got {dim!r}")
    dims = [dim] if isinstance(dim, numbers.Integral) and not isinstance(dim, bool) \
        else list(dim)
    out = []
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral):
            raise TypeError(f"gradient(): dim must be an int or a sequence of ints, got {dim!r}")
        if not -ndim <= d < ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-ndim}, {ndim - 1}], but got {d})")
        out.append(d % ndim)
    return out


def _spacings(spacing, dims, f, dim):
    """One spacing per dimension: a Python float, or a float64 array of coordinates."""
    if isinstance(spacing, numbers.Real) and not isinstance(spacing, bool):
        return [float(spacing)] * len(dims)
    items = list(spacing) if isinstance(spacing, (list, tuple)) else [spacing]
    if len(items) != len(dims):
        where = "'self.dim() = %d', since dim argument was not given" % f.ndim if dim is None \
            else f"'len(dim) = {len(dims)}'"
        raise ValueError(f"torch.gradient expected spacing to be unspecified, a scalar, or a "
                         f"list of length equal to {where}, but got a list of length "
                         f"{len(items)}")
    if any(isinstance(s, Tensor) for s in items) and not all(isinstance(s, Tensor)
                                                             for s in items):
        raise TypeError("gradient(): spacing must be all numbers or all 1-D Tensors, as torch's")
    out = []
    for d, s in zip(dims, items):
        if isinstance(s, Tensor):
            x = s.numpy().astype(np.float64)
            if x.ndim != 1 or x.size != f.shape[d]:
                raise ValueError(f"torch.gradient expected each tensor to be on the same "
                                 f"device and have size {f.shape[d]} along dimension {d}, "
                                 f"got coordinates of shape {tuple(x.shape)}")
            out.append(x)
        elif isinstance(s, numbers.Real) and not isinstance(s, bool):
            out.append(float(s))
        else:
            raise TypeError(f"gradient(): spacing must be numbers or 1-D Tensors, got "
                            f"{type(s).__name__}")
    return out


def _along(f, d, h, edge_order):
    n = f.shape[d]

    def part(lo, hi):  # f[..., lo:hi, ...] along d
        return f[(slice(None),) * d + (slice(lo, hi),)]

    def coef(values):  # constant coefficients shaped to broadcast along d
        shape = [1] * f.ndim
        shape[d] = -1
        return Tensor(np.asarray(values, dtype=np.float64).reshape(shape).astype(f.dtype))

    if isinstance(h, float):
        inner = (part(2, n) - part(0, n - 2)) / (2.0 * h)
        if edge_order == 1:
            first = (part(1, 2) - part(0, 1)) / h
            last = (part(n - 1, n) - part(n - 2, n - 1)) / h
        else:
            first = (part(0, 1) * -1.5 + part(1, 2) * 2.0 - part(2, 3) * 0.5) / h
            last = (part(n - 3, n - 2) * 0.5 - part(n - 2, n - 1) * 2.0
                    + part(n - 1, n) * 1.5) / h
    else:
        dx = np.diff(h)
        d1, d2 = dx[:-1], dx[1:]
        inner = (part(0, n - 2) * coef(-d2 / (d1 * (d1 + d2)))
                 + part(1, n - 1) * coef((d2 - d1) / (d1 * d2))
                 + part(2, n) * coef(d1 / (d2 * (d1 + d2))))
        if edge_order == 1:
            first = (part(1, 2) - part(0, 1)) / float(dx[0])
            last = (part(n - 1, n) - part(n - 2, n - 1)) / float(dx[-1])
        else:
            a, b = float(dx[0]), float(dx[1])
            first = (part(0, 1) * (-(2 * a + b) / (a * (a + b))) + part(1, 2) * ((a + b) / (a * b))
                     + part(2, 3) * (-a / (b * (a + b))))
            a, b = float(dx[-2]), float(dx[-1])
            last = (part(n - 3, n - 2) * (b / (a * (a + b))) + part(n - 2, n - 1)
                    * (-(a + b) / (a * b)) + part(n - 1, n) * ((2 * b + a) / (b * (a + b))))
    return concatenate([first, inner, last], axis=d)
