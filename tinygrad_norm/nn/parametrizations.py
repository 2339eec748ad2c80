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

__all__ = ["weight_norm", "spectral_norm", "orthogonal"]


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
    module.register_load_state_dict_pre_hook(_WeightNormCompat(name))
    return module


class _WeightNormCompat:
    """A load pre-hook, as PyTorch's: a checkpoint of the hook-based ``nn.utils.weight_norm``
    (``<name>_g``, ``<name>_v``) loads as ``parametrizations.<name>.original0``/``original1``."""

    def __init__(self, name):
        self.name = name

    def __call__(self, module, state_dict, prefix, *rest):
        g_key, v_key = f"{prefix}{self.name}_g", f"{prefix}{self.name}_v"
        if g_key in state_dict and v_key in state_dict:
            where = f"{prefix}parametrizations.{self.name}."
            state_dict[where + "original0"] = state_dict.pop(g_key)
            state_dict[where + "original1"] = state_dict.pop(v_key)


def _normalize_(out, x, eps):
    """``out[...] = x / max(||x||, eps)`` (PyTorch's ``F.normalize(x, dim=0, eps, out=out)``)."""
    np.divide(x, max(float(np.sqrt(np.dot(x, x))), eps), out=out)


def _matrix(w, dim):
    """The weight as a matrix: ``dim`` first, the other axes flattened (an array or a
    Tensor)."""
    if dim != 0:
        w = w.transpose(dim, *(d for d in range(w.ndim) if d != dim))
    return w.reshape(w.shape[0], -1)


def _random_unit_vectors(mat, eps):
    """Random unit vectors ``u`` (of ``mat``'s height) and ``v`` (of its width) to start the
    power iteration, drawn from the framework's generator in this order, as PyTorch draws
    them."""
    rng = _random.generator()
    h, w = mat.shape
    u, v = rng.standard_normal(h).astype(mat.dtype), rng.standard_normal(w).astype(mat.dtype)
    _normalize_(u, u, eps)
    _normalize_(v, v, eps)
    return u, v


def _divided_by_sigma(weight, mat, u, v):
    """``weight / (u . mat v)``: the spectral norm estimate from the singular vectors ``u``
    and ``v`` (buffers), constants of the graph."""
    # copies: a later training access updates the buffers in place, and this graph's
    # backward must still see the vectors it was built with
    u, v = Tensor(u.data.copy()), Tensor(v.data.copy())
    return weight / u.vecdot(mat @ v, axis=0)


def _n_power_iterations(n):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"spectral_norm(): n_power_iterations must be an int, got "
                        f"{type(n).__name__}")
    if n <= 0:
        raise ValueError(f"Expected n_power_iterations to be positive, but got "
                         f"n_power_iterations={n}")
    return int(n)


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        dim = _dim(dim, ndim, "spectral_norm")
        n_power_iterations = _n_power_iterations(n_power_iterations)
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = float(eps)
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            mat = _matrix(weight.data, self.dim)
            u, v = _random_unit_vectors(mat, self.eps)
            self.register_buffer("_u", Tensor(u))
            self.register_buffer("_v", Tensor(v))
            self._power_method(mat, 15)  # start from reasonable singular vectors

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
        mat = _matrix(weight, self.dim)
        if self.training:
            self._power_method(mat.data, self.n_power_iterations)
        return _divided_by_sigma(weight, mat, self._u, self._v)

    def right_inverse(self, value):
        return value


def _default_dim(module):
    """The output axis of the weight: 1 for the transposed convolutions (1d, 2d and 3d, whose
    weight is (in, out, ...)), 0 otherwise, as PyTorch."""
    from .conv_transpose import _ConvTransposeNd
    return 1 if isinstance(module, _ConvTransposeNd) else 0


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Reparametrize ``module.<name>`` as itself divided by its spectral norm (estimated by
    power iteration, ``n_power_iterations`` steps per access in training mode), as PyTorch's.
    ``dim=None`` is 1 for the transposed convolutions and 0 otherwise."""
    weight = _tensor_of(module, name, "spectral_norm")
    if dim is None:
        dim = _default_dim(module)
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


from .orthogonal_param import orthogonal  # noqa: E402  (its own file; listed here as torch lists it)
