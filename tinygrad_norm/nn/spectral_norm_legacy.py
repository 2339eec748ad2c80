"""``torch.nn.utils.spectral_norm`` and ``remove_spectral_norm``: PyTorch's older, hook-based
spectral normalization. The parameter ``name`` becomes the parameter ``name_orig`` and two
buffers, ``name_u`` and ``name_v``, the estimated singular vectors; a forward pre-hook sets
``name = name_orig / sigma``, ``sigma = u . (W v)`` with ``W`` the weight as a matrix (``dim``
first), after one or more power-iteration steps in training mode (none in evaluation).

The pieces are the parametrization's (``nn.utils.parametrizations.spectral_norm``); what differs
is PyTorch's: the vectors start random, without the parametrization's 15 warm-up steps, and a
step updates ``v`` before ``u``."""
from __future__ import annotations

import numbers

from ..autograd import mark_written, no_grad
from ..tensor import Tensor
from .module import Parameter
from .parametrizations import (_default_dim, _dim, _divided_by_sigma, _matrix, _n_power_iterations,
                               _normalize_, _random_unit_vectors)
from .weight_norm_legacy import _parameter, _remove

__all__ = ["spectral_norm", "remove_spectral_norm"]


class SpectralNorm:
    """The forward pre-hook: ``module.<name>`` from ``<name>_orig``, ``<name>_u``, ``<name>_v``."""

    def __init__(self, name, n_power_iterations, dim, eps):
        self.name = name
        self.n_power_iterations = n_power_iterations
        self.dim = dim
        self.eps = eps

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        mat = _matrix(weight, self.dim)
        if do_power_iteration:
            self._power_method(mat.data, u, v)
        return _divided_by_sigma(weight, mat, u, v)

    def _power_method(self, mat, u, v):
        """Steps written into the buffers in place (off the tape: the estimate is a constant of
        the graph), ``v`` first, as PyTorch's hook (its parametrization starts with ``u``)."""
        for _ in range(self.n_power_iterations):
            _normalize_(v.data, mat.T @ u.data, self.eps)
            _normalize_(u.data, mat @ v.data, self.eps)
        mark_written((u, v))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, module.training))

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.data))


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its spectral norm before every call, estimated by power
    iteration (``n_power_iterations`` steps per call in training mode), as
    ``torch.nn.utils.spectral_norm``. ``dim=None`` is 1 for the transposed convolutions, else 0.
    Returns ``module``."""
    fn = "spectral_norm"
    weight = _parameter(module, name, fn, SpectralNorm)
    n_power_iterations = _n_power_iterations(n_power_iterations)
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"{fn}(): eps must be a number, got {type(eps).__name__}")
    dim = _default_dim(module) if dim is None else _dim(dim, weight.ndim, fn) % max(weight.ndim, 1)
    hook = SpectralNorm(name, n_power_iterations, dim, float(eps))
    u, v = _random_unit_vectors(_matrix(weight.data, dim), hook.eps)
    delattr(module, name)
    module.register_parameter(name + "_orig", weight)
    # the weight stays readable before the first call, as a plain tensor (PyTorch's weight.data)
    setattr(module, name, Tensor(weight.data))
    module.register_buffer(name + "_u", Tensor(u))
    module.register_buffer(name + "_v", Tensor(v))
    module.register_forward_pre_hook(hook)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo ``spectral_norm``: ``module.<name>`` is a Parameter again, holding the normalized
    weight (from the vectors as they are, no new step); ``<name>_orig``, ``<name>_u``,
    ``<name>_v`` and the hook are gone. Returns ``module``."""
    return _remove(module, name, SpectralNorm, "spectral_norm")
