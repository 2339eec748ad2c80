"""Pruning, as ``torch.nn.utils.prune`` (reached as ``nn.utils.prune``): a module's parameter
``name`` becomes the Parameter ``name_orig`` and the buffer ``name_mask``, and ``name`` is
recomputed as ``name_orig * name_mask`` by a forward pre-hook before every call, so the tape
differentiates the product and the pruned entries of ``name_orig`` get a zero gradient.

Masks are computed in NumPy (they carry no gradient). Pruning the same tensor again combines
the methods in a ``PruningContainer``: the new method sees only what the old mask kept (the kept
entries, the kept channels, or everything for a 'global' method), as torch. Every argument is
checked before the module changes. Random methods draw from the package generator."""
from __future__ import annotations

import numbers
from abc import ABC, abstractmethod

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..tensor import Tensor
from .module import Module, Parameter

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured",
           "L1Unstructured", "RandomStructured", "LnStructured", "CustomFromMask", "identity",
           "random_unstructured", "l1_unstructured", "random_structured", "ln_structured",
           "global_unstructured", "custom_from_mask", "remove", "is_pruned"]


def _arr(t):
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def _hooks(module):
    """(key, pruning method) of the module's forward pre-hooks that prune."""
    hooks = module.__dict__.get("_forward_pre_hooks") or {}
    return [(k, h[0]) for k, h in hooks.items() if isinstance(h[0], BasePruningMethod)]


class BasePruningMethod(ABC):
    """Base of the pruning methods: a subclass defines ``compute_mask(t, default_mask)`` (Tensors
    in, a mask Tensor out, ``t``'s shape) and ``PRUNING_TYPE`` ('unstructured', 'structured' with
    a ``dim`` attribute, or 'global'). An instance is the module's forward pre-hook."""

    _tensor_name = None
    PRUNING_TYPE = "unstructured"

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The new mask from the importance scores ``t`` and the mask so far."""

    def apply_mask(self, module):
        """``name_orig * name_mask``, on the tape (``name_orig`` is a Parameter)."""
        if self._tensor_name is None:
            raise ValueError(f"Module {module} has to be pruned")
        mask = getattr(module, self._tensor_name + "_mask")
        orig = getattr(module, self._tensor_name + "_orig")
        return mask.astype(orig.dtype) * orig

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)``, combined with the pruning done
        before; returns the method (a ``PruningContainer`` when combined)."""
        orig = _pruned_tensor(module, name)
        old = _hooks_on(module, name)
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if old is not None:  # a new container: the old one is kept as is if this one fails
            kept = list(old) if isinstance(old, PruningContainer) else [old]
            method = PruningContainer(*kept, method)
        scores = orig if importance_scores is None else importance_scores
        if not isinstance(scores, Tensor):
            raise TypeError(f"importance_scores must be a Tensor, got {type(scores).__name__}")
        if scores.shape != orig.shape:
            raise ValueError(f"importance_scores should have the same shape as parameter {name} "
                             f"of {module}, got {scores.shape} vs {orig.shape}")
        if old is None:
            default = np.ones_like(orig.data)
        else:
            default = getattr(module, name + "_mask").data.copy()
        with no_grad():
            mask = method.compute_mask(scores.detach(), Tensor._wrap(default))
        mask = mask.detach() if isinstance(mask, Tensor) else Tensor._wrap(np.asarray(mask))
        _install(module, name, method, mask, first=old is None)
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """``t * mask``, the mask computed from ``importance_scores`` (``t`` if None) on top of
        ``default_mask`` (ones if None)."""
        scores = t if importance_scores is None else importance_scores
        if scores.shape != t.shape:
            raise ValueError(f"importance_scores should have the same shape as tensor t, got "
                             f"{scores.shape} vs {t.shape}")
        if default_mask is None:
            default_mask = Tensor._wrap(np.ones_like(_arr(t)))
        with no_grad():
            mask = self.compute_mask(scores, default_mask)
        return t * mask

    def remove(self, module):
        """Make the pruning permanent: ``name`` a Parameter again holding ``orig * mask`` (the
        ``name_orig`` object, so optimizers keep it), ``name_orig`` and ``name_mask`` gone."""
        if self._tensor_name is None:
            raise ValueError(f"Module {module} has to be pruned before pruning can be removed")
        name = self._tensor_name
        with no_grad():
            weight = self.apply_mask(module)
        module.__dict__.pop(name, None)
        orig = module._parameters.pop(name + "_orig")
        orig.data = weight.data
        del module._buffers[name + "_mask"]
        module._non_persistent.discard(name + "_mask")
        setattr(module, name, orig)


def _pruned_tensor(module, name):
    if not isinstance(module, Module):
        raise TypeError(f"prune: module must be a Module, got {type(module).__name__}")
    if not isinstance(name, str):
        raise TypeError(f"prune: name must be a str, got {type(name).__name__}")
    if name in module._parameters or name + "_orig" in module._parameters:
        t = getattr(module, name, None)
        if isinstance(t, Tensor):
            return t
    raise ValueError(f"prune: {type(module).__name__} has no parameter {name!r}")


def _hooks_on(module, name):
    found = [h for _, h in _hooks(module) if h._tensor_name == name]
    if len(found) > 1:
        raise ValueError(f"Avoid adding multiple pruning hooks to the same tensor {name} of "
                         f"module {module}. Use a PruningContainer.")
    return found[0] if found else None


def _install(module, name, method, mask, first):
    """Change the module, once everything is computed: the reparametrization (first time), the
    mask, ``name``'s value, and ``method`` as the one pruning hook of ``name``."""
    if first:
        module._parameters[name + "_orig"] = module._parameters.pop(name)
    hooks = module.__dict__.get("_forward_pre_hooks") or {}
    for k, h in _hooks(module):
        if h._tensor_name == name:
            del hooks[k]
    module._buffers[name + "_mask"] = mask
    object.__setattr__(module, name, method.apply_mask(module))
    module.register_forward_pre_hook(method)


def _pruning_amount(amount):
    """torch's check of ``amount`` when a method is made."""
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         f"non-negative integer")
    return amount


def _count(amount, size):
    """How many of ``size`` entries (or channels) ``amount`` prunes: an int as is, a fraction
    rounded half to even (Python's round, as torch)."""
    n = int(amount) if isinstance(amount, numbers.Integral) else round(amount * size)
    if isinstance(amount, numbers.Integral) and n > size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to "
                         f"prune={size}")
    return n


def _structured(t, dim):
    shape = t.shape
    if len(shape) <= 1:
        raise ValueError(f"Structured pruning can only be applied to multidimensional tensors. "
                         f"Found tensor of shape {shape} with {len(shape)} dims")
    if dim >= len(shape):
        raise IndexError(f"Invalid index {dim} for tensor of size {shape}")
    return dim % len(shape)


def _smallest(scores, k):
    """Indices of the ``k`` smallest of the 1-D ``scores``; ties go to the lower index (a
    stable sort: torch's topk leaves the choice among ties unspecified)."""
    return np.argsort(scores, kind="stable")[:k]


class Identity(BasePruningMethod):
    """Prunes nothing: the mask stays as it was (ones the first time)."""
    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class RandomUnstructured(BasePruningMethod):
    """Prunes ``amount`` entries (a count or a fraction) chosen at random."""
    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        self.amount = _pruning_amount(amount)

    def compute_mask(self, t, default_mask):
        mask = _arr(default_mask).copy()
        k = _count(self.amount, mask.size)
        if k:
            flat = mask.reshape(-1)
            flat[_random.generator().choice(flat.size, k, replace=False)] = 0
        return Tensor._wrap(mask)

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Prunes the ``amount`` entries of smallest magnitude."""
    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        self.amount = _pruning_amount(amount)

    def compute_mask(self, t, default_mask):
        mask = _arr(default_mask).copy()
        k = _count(self.amount, _arr(t).size)
        if k:
            mask.reshape(-1)[_smallest(np.abs(_arr(t)).reshape(-1), k)] = 0
        return Tensor._wrap(mask)

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _channel_mask(t, dim, keep):
    """Ones on the channels ``keep`` (along ``dim``), zeros elsewhere, in ``t``'s dtype."""
    mask = np.zeros_like(_arr(t))
    index = [slice(None)] * mask.ndim
    index[dim] = keep
    mask[tuple(index)] = 1
    return mask


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` channels along ``dim`` chosen at random."""
    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        self.amount = _pruning_amount(amount)
        self.dim = dim

    def compute_mask(self, t, default_mask):
        dim = _structured(t, self.dim)
        size = t.shape[dim]
        k = _count(self.amount, size)
        if not k:
            return default_mask
        keep = np.ones(size, bool)
        keep[_random.generator().choice(size, k, replace=False)] = False
        mask = _channel_mask(t, dim, keep)
        return Tensor._wrap(mask * _arr(default_mask).astype(mask.dtype))

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


def _ln_norm(a, n, dim):
    """The ``n``-norm of each channel of ``a`` along ``dim`` (``torch.norm`` over the others)."""
    axes = tuple(d for d in range(a.ndim) if d != dim)
    x = np.abs(a)
    if n == "fro":
        n = 2
    if not isinstance(n, numbers.Real) or isinstance(n, bool):
        raise ValueError(f"ln_structured: n must be a number, inf, -inf or 'fro', got {n!r}")
    if n == np.inf:
        return x.max(axis=axes)
    if n == -np.inf:
        return x.min(axis=axes)
    if n == 0:
        return (x != 0).sum(axis=axes).astype(a.dtype)
    return (x ** n).sum(axis=axes) ** (1.0 / n)


class LnStructured(BasePruningMethod):
    """Prunes the ``amount`` channels along ``dim`` of smallest ``n``-norm."""
    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        self.amount = _pruning_amount(amount)
        self.n, self.dim = n, dim

    def compute_mask(self, t, default_mask):
        dim = _structured(t, self.dim)
        size = t.shape[dim]
        k = _count(self.amount, size)
        norm = _ln_norm(_arr(t), self.n, dim)
        if not k:
            return default_mask
        keep = np.ones(size, bool)
        keep[_smallest(norm, k)] = False
        mask = _channel_mask(t, dim, keep)
        return Tensor._wrap(mask * _arr(default_mask).astype(mask.dtype))

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where the given ``mask`` is 0 (on top of the mask so far)."""
    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        d, m = _arr(default_mask), _arr(self.mask)
        if d.shape != m.shape:
            raise ValueError(f"default_mask shape {d.shape} must match self.mask shape "
                             f"{m.shape}")
        return Tensor._wrap(d * m.astype(d.dtype))

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


class PruningContainer(BasePruningMethod):
    """The pruning methods applied to one tensor, in order; its mask is the last method's,
    computed on what the mask before it kept."""

    def __init__(self, *args):
        self._pruning_methods = ()
        if args:
            self._tensor_name = args[0]._tensor_name if isinstance(
                args[0], BasePruningMethod) else None
        for method in args:
            self.add_pruning_method(method)

    def add_pruning_method(self, method):
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask):
        method = self._pruning_methods[-1]
        t_arr = _arr(t)
        mask = _arr(default_mask).astype(t_arr.dtype)  # a new array: the old mask stays
        kind = method.PRUNING_TYPE
        if kind == "unstructured":
            where = mask == 1
        elif kind == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError('Pruning methods of PRUNING_TYPE "structured" need to have '
                                     'the attribute `dim` defined.')
            dim = method.dim + t_arr.ndim if method.dim < 0 else method.dim
            if not 0 <= dim < t_arr.ndim:
                raise IndexError(f"Index is out of bounds for tensor with dimensions "
                                 f"{t_arr.ndim}")
            others = tuple(d for d in range(t_arr.ndim) if d != dim)
            where = [slice(None)] * t_arr.ndim
            where[dim] = mask.sum(axis=others) != 0
            where = tuple(where)
        elif kind == "global":
            where = (slice(None),) * t_arr.ndim
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {kind}")
        part = method.compute_mask(Tensor._wrap(t_arr[where]),
                                   default_mask=Tensor._wrap(mask[where]))
        mask[where] = _arr(part).astype(mask.dtype)
        return Tensor._wrap(mask)


def identity(module, name):
    """Prune nothing, but reparametrize ``name`` as ``name_orig * name_mask`` (a mask of ones)."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prune ``amount`` (an int count or a fraction in [0, 1]) random entries of ``name``."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune the ``amount`` entries of ``name`` of smallest ``|importance_scores|`` (the tensor
    itself if None)."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    """Prune ``amount`` random channels of ``name`` along ``dim``."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune the ``amount`` channels of ``name`` along ``dim`` of smallest ``n``-norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    """Prune ``name`` where ``mask`` (a Tensor or array of its shape) is 0."""
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune the ``(module, name)`` pairs of ``parameters`` together: ``pruning_method(**kwargs)``
    (an 'unstructured' method class) on all their entries as one vector, each pair then pruned
    with its share of the mask through ``custom_from_mask``."""
    if isinstance(parameters, (str, bytes)) or not hasattr(parameters, "__iter__"):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    pairs = list(parameters)  # torch reads it twice: a generator would prune nothing
    scores = {} if importance_scores is None else importance_scores
    if not isinstance(scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    method = pruning_method(**kwargs)
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    tensors = [_pruned_tensor(m, n) for m, n in pairs]
    flat = np.concatenate([_arr(scores.get((m, n), t)).reshape(-1)
                           for (m, n), t in zip(pairs, tensors)])
    default = np.concatenate([
        (_arr(getattr(m, n + "_mask")) if n + "_mask" in m._buffers
         else np.ones_like(_arr(t))).reshape(-1).astype(flat.dtype)
        for (m, n), t in zip(pairs, tensors)])
    method._tensor_name = "temp"
    container = PruningContainer(method)
    final = _arr(container.compute_mask(Tensor._wrap(flat), Tensor._wrap(default)))
    start = 0
    for (m, n), t in zip(pairs, tensors):
        size = t.data.size
        custom_from_mask(m, n, mask=Tensor._wrap(final[start:start + size].reshape(t.shape)))
        start += size


def remove(module, name):
    """Make the pruning of ``name`` permanent and drop its reparametrization and hook."""
    hooks = module.__dict__.get("_forward_pre_hooks") or {}
    for k, hook in _hooks(module):
        if hook._tensor_name == name:
            hook.remove(module)
            del hooks[k]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     f"can be removed")


def is_pruned(module):
    """Whether ``module`` or one of its submodules has a pruning hook."""
    return any(_hooks(m) for _, m in module.named_modules())
