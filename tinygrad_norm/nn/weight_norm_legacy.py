"""``torch.nn.utils.weight_norm`` and ``remove_weight_norm``: PyTorch's older, hook-based weight
normalization, kept for code and checkpoints written against it. The parameter ``name`` becomes
two parameters, ``name_g`` (the magnitude) and ``name_v`` (the direction), and a forward
pre-hook recomputes ``name = name_g * name_v / ||name_v||`` before every call, on the tape.

The math is the parametrization's (``nn.utils.parametrizations.weight_norm``); only where the
tensors live differs, and so the state-dict keys (``weight_g``/``weight_v`` there
``parametrizations.weight.original0``/``original1``)."""
from __future__ import annotations

import warnings

from ..autograd import no_grad
from .module import Module, Parameter
from .parametrizations import _dim, _WeightNorm

__all__ = ["weight_norm", "remove_weight_norm"]


class WeightNorm:
    """The forward pre-hook: ``module.<name>`` from ``<name>_g`` and ``<name>_v``."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = dim
        self._math = _WeightNorm(dim)  # the parametrization's formula, a composite

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return self._math.forward(g, v)

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.data))


def _parameter(module, name, fn, cls):
    """``module.<name>``, which must be a parameter (PyTorch's KeyError or AttributeError
    otherwise; a ValueError here) without a hook of class ``cls`` yet, checked before anything
    changes."""
    if not isinstance(module, Module):
        raise TypeError(f"{fn}(): module must be a Module, got {type(module).__name__}")
    if not isinstance(name, str):
        raise TypeError(f"{fn}(): name must be a str, got {type(name).__name__}")
    if _hook_of(module, cls, name) is not None:  # PyTorch's RuntimeError
        raise ValueError(f"Cannot register two {fn} hooks on the same parameter {name}")
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"{fn}(): {type(module).__name__} has no parameter {name!r}")
    return weight


def _hook_of(module, cls, name):
    """(key, hook) of the module's forward pre-hook of class ``cls`` on ``name``, or None."""
    for key, (hook, _) in (module.__dict__.get("_forward_pre_hooks") or {}).items():
        if isinstance(hook, cls) and hook.name == name:
            return key, hook
    return None


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module.<name>`` as ``<name>_g * <name>_v / ||<name>_v||`` (the norm over
    every axis but ``dim``; ``dim=None`` or -1: over the whole tensor), recomputed by a forward
    pre-hook, as ``torch.nn.utils.weight_norm`` (with its FutureWarning). Returns ``module``."""
    fn = "weight_norm"
    weight = _parameter(module, name, fn, WeightNorm)
    if dim is None or dim == -1:
        dim = -1  # PyTorch's "whole tensor"
    else:
        dim = _dim(dim, weight.ndim, fn) % max(weight.ndim, 1)
    warnings.warn("`nn.utils.weight_norm` is deprecated in favor of "
                  "`nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    hook = WeightNorm(name, dim)
    with no_grad():  # g's value only: it becomes a leaf
        g, _ = hook._math.right_inverse(weight)
    del module._parameters[name]
    # v shares the weight's array, as PyTorch's Parameter(weight.data)
    module.register_parameter(name + "_g", Parameter(g.data))
    module.register_parameter(name + "_v", Parameter(weight.data))
    setattr(module, name, hook.compute_weight(module))
    module.register_forward_pre_hook(hook)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo ``weight_norm``: ``module.<name>`` is a Parameter again, holding the normalized
    weight; ``<name>_g``, ``<name>_v`` and the hook are gone. Returns ``module``."""
    return _remove(module, name, WeightNorm, "weight_norm")


def _remove(module, name, cls, what):
    """``remove_weight_norm`` and ``remove_spectral_norm``: the hook of ``cls`` on ``name``
    undone (its ``remove`` puts the Parameter back) and unregistered."""
    if not isinstance(module, Module):
        raise TypeError(f"remove_{what}(): module must be a Module, got "
                        f"{type(module).__name__}")
    found = _hook_of(module, cls, name)
    if found is None:
        raise ValueError(f"{what} of '{name}' not found in {module}")
    key, hook = found
    hook.remove(module)
    del module._forward_pre_hooks[key]
    return module
