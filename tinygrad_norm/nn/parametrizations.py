"""Weight normalization and spectral normalization as parametrizations, as
``torch.nn.utils.parametrizations`` (reached as ``nn.utils.parametrizations``): the weight a layer
reads is recomputed from other tensors at every access, by composites of primitives, so the
gradients reach those tensors through the tape.

* ``weight_norm`` (Salimans & Kingma, 2016): ``w = g * v / ||v||``, the norm taken over every
  axis but ``dim``; ``g`` (``original0``) holds the magnitude, ``v`` (``original1``) the
  direction.
* ``spectral_norm`` (Miyato et al., 2018): ``w / sigma``, ``sigma`` the largest singular value of
  the weight (as a matrix, ``dim`` first), estimated by power iteration whose vectors ``_u`` and
  ``_v`` are buffers updated in training mode at every access; in evaluation they stay."""
from __future__ import annotations

import numbers

import numpy as np

from .. import functional as F
from .. import random as _random
from ..autograd import mark_written
from ..tensor import Tensor
from . import parametrize
from .module import Module

__all__ = ["weight_norm", "spectral_norm"]


def _norm_except_dim(v, dim):
    """The 2-norm of ``v`` over every axis but ``dim``, kept as size-1 axes (``dim=-1``: over
    the whole tensor, a 0-d result), as PyTorch's ``norm_except_dim``."""
    if dim == -1:
        return v.vecdot(v, axis=tuple(range(v.ndim))).sqrt()
    axes = tuple(i for i in range(v.ndim) if i != dim)
    return v.vecdot(v, axis=axes, keepdims=True).sqrt()


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def _dim(dim, ndim, fn):
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{fn}(): dim must be an int or None, got {type(dim).__name__}")
    if not -ndim <= dim < max(ndim, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, "
                         f"{ndim - 1}] but got {dim})")
    return int(dim)


def _tensor_of(module, name, fn):
    if not isinstance(module, Module):
        raise TypeError(f"{fn}(): module must be a Module, got {type(module).__name__}")
    if not isinstance(name, str):
        raise TypeError(f"{fn}(): name must be a str, got {type(name).__name__}")
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    return weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module.<name>`` as ``g * v / ||v||`` (norm over every axis but ``dim``;
    ``dim=None``: over the whole tensor), as PyTorch's. ``g`` and ``v`` become parameters
    ``parametrizations.<name>.original0`` and ``.original1``, initialised so that the weight is
    unchanged."""
    weight = _tensor_of(module, name, "weight_norm")
    if dim is not None and dim != -1:
        dim = _dim(dim, weight.ndim, "weight_norm") % max(weight.ndim, 1)
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


def _normalize_(out, x, eps):
    """``out[...] = x / max(||x||, eps)`` (PyTorch's ``F.normalize(x, dim=0, eps, out=out)``)."""
    np.divide(x, max(float(np.sqrt(np.dot(x, x))), eps), out=out)


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        dim = _dim(dim, ndim, "spectral_norm")
        if isinstance(n_power_iterations, bool) or not isinstance(n_power_iterations,
                                                                  numbers.Integral):
            raise TypeError(f"spectral_norm(): n_power_iterations must be an int, got "
                            f"{type(n_power_iterations).__name__}")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = float(eps)
        if ndim > 1:
            self.n_power_iterations = int(n_power_iterations)
            mat = self._matrix(weight.data)
            h, w = mat.shape
            rng = _random.generator()
            u, v = rng.standard_normal(h).astype(mat.dtype), rng.standard_normal(w).astype(mat.dtype)
            _normalize_(u, u, self.eps)
            _normalize_(v, v, self.eps)
            self.register_buffer("_u", Tensor(u))
            self.register_buffer("_v", Tensor(v))
            self._power_method(mat, 15)  # start from reasonable singular vectors

    def _matrix(self, w):
        """The weight as a matrix: ``dim`` first, the other axes flattened (an array or a
        Tensor)."""
        if self.dim != 0:
            w = w.transpose(self.dim, *(d for d in range(w.ndim) if d != self.dim))
        return w.reshape(w.shape[0], -1)

    def _power_method(self, mat, n):
        """``n`` power-iteration steps on the array ``mat``, written into the buffers in place
        (off the tape: the estimate is a constant of the graph)."""
        u, v = self._u.data, self._v.data
        for _ in range(n):
            _normalize_(u, mat @ v, self.eps)
            _normalize_(v, mat.T @ u, self.eps)
        mark_written((self._u, self._v))

    def forward(self, weight):
        if weight.ndim == 1:  # a vector's spectral norm is its 2-norm: nothing to estimate
            return F.normalize(weight, dim=0, eps=self.eps)
        mat = self._matrix(weight)
        if self.training:
            self._power_method(mat.data, self.n_power_iterations)
        # copies: a later training access updates the buffers in place, and this graph's
        # backward must still see the vectors it was built with
        u, v = Tensor(self._u.data.copy()), Tensor(self._v.data.copy())
        sigma = u.vecdot(mat @ v, axis=0)
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Reparametrize ``module.<name>`` as itself divided by its spectral norm (estimated by
    power iteration, ``n_power_iterations`` steps per access in training mode), as PyTorch's.
    ``dim=None`` is 1 for the transposed convolutions and 0 otherwise."""
    weight = _tensor_of(module, name, "spectral_norm")
    if dim is None:
        from .conv_transpose import ConvTranspose1d, ConvTranspose2d
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
