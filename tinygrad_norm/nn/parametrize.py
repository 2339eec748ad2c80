"""Parametrizations, as ``torch.nn.utils.parametrize`` (reached as ``nn.utils.parametrize``): a
module's parameter is replaced by a function of other tensors, recomputed on every access, so
that a reparametrization (weight norm, spectral norm) is a composite like every other op and the
tape differentiates it.

As in PyTorch, the module's class is swapped for a subclass (``ParametrizedLinear``) with a
property of the parametrized name; the originals live in ``module.parametrizations[name]`` (a
``ParametrizationList``) as ``original`` (``original0``, ``original1``, ... when the first
parametrization's ``right_inverse`` returns several tensors), so ``state_dict`` keys, optimizers
and ``parameters()`` see them there."""
from __future__ import annotations

import contextlib

from ..autograd import no_grad
from ..functional._checks import _flag
from ..tensor import Tensor
from .container import ModuleDict, ModuleList
from .module import Module, Parameter

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized",
           "type_before_parametrizations", "cached", "ParametrizationList"]

_cache = None  # {(id(module), name): tensor} inside ``cached()``, else None


@contextlib.contextmanager
def cached():
    """Compute each parametrized tensor once inside the block (a recurrent net reads its weight
    every step); the values are dropped when it ends."""
    global _cache
    outer = _cache
    if outer is None:
        _cache = {}
    try:
        yield
    finally:
        if outer is None:
            _cache = None


def _check_module(module, fn):
    if not isinstance(module, Module):
        raise TypeError(f"{fn}(): module must be a Module, got {type(module).__name__}")


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the original tensor(s) they
    take: ``original`` or ``original0, original1, ...``."""

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        object.__setattr__(self, "unsafe", unsafe)
        new = original
        with no_grad():  # the originals: the right inverses, last parametrization first
            for m in reversed(list(self)):
                if hasattr(m, "right_inverse"):
                    # PyTorch: a right inverse that raises NotImplementedError counts as the
                    # identity at registration (orthogonal's maps without a base have none)
                    try:
                        new = m.right_inverse(new)
                    except NotImplementedError:
                        pass
        values = _right_inverse_values(new, original)
        if not unsafe:  # checked on the candidates: a refused registration changes nothing
            with no_grad():
                _check_same(original, self._apply(values), "parametrization")
        object.__setattr__(self, "is_tensor", isinstance(new, Tensor))
        object.__setattr__(self, "ntensors", len(values))
        register = self.register_parameter if isinstance(original, Parameter) else \
            self.register_buffer
        if self.is_tensor:
            if new is not original:  # the same object stays: optimizers keep following it
                original.data = new.data.copy()
            register("original", original)
            return
        for i, t in enumerate(values):
            t = t.detach()
            if isinstance(original, Parameter):
                t = Parameter(t.data.copy(), requires_grad=original.requires_grad)
            register(f"original{i}", t)

    def originals(self):
        if self.is_tensor:
            return (self.original,)
        return tuple(getattr(self, f"original{i}") for i in range(self.ntensors))

    def right_inverse(self, value):
        """Set the originals so that the parametrized tensor becomes ``value``: every
        parametrization must have a ``right_inverse`` (PyTorch's rule, ``unsafe`` or not); the
        originals keep their dtype, their objects and their ``.grad``, as PyTorch's ``set_``."""
        with no_grad():
            for m in reversed(list(self)):
                if not hasattr(m, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(m).__name__} does not implement "
                                       f"right_inverse.")
                value = m.right_inverse(value)
            values = (value,) if self.is_tensor else tuple(value)
            if len(values) != self.ntensors:
                raise ValueError(f"'right_inverse' must return a sequence of {self.ntensors} "
                                 f"tensors, got {len(values)}")
            for orig, v in zip(self.originals(), values):
                if not isinstance(v, Tensor):
                    raise TypeError(f"'right_inverse' must return Tensors, got "
                                    f"{type(v).__name__}")
                if orig.dtype != v.dtype:
                    raise ValueError(f"The tensor returned by right_inverse has dtype {v.dtype} "
                                     f"while the original has dtype {orig.dtype}")
            for orig, v in zip(self.originals(), values):
                if orig.shape != v.shape:  # a new shape (unsafe): the old gradient is void
                    orig.grad = None
                orig.data = v.data.copy()

    def _apply(self, originals):
        ms = list(self)
        x = ms[0](*originals)
        for m in ms[1:]:
            x = m(x)
        return x

    def forward(self):
        return self._apply(self.originals())


def _right_inverse_values(new, original):
    """The originals a registration's right inverse gave, as a tuple, checked as PyTorch: one
    tensor keeps the original's dtype; a sequence holds tensors."""
    if isinstance(new, Tensor):
        if new.dtype != original.dtype:
            raise ValueError(f"When `right_inverse` outputs one tensor, it may not change the "
                             f"dtype.\noriginal.dtype: {original.dtype}\n"
                             f"right_inverse(original).dtype: {new.dtype}")
        return (new,)
    if not isinstance(new, (tuple, list)):
        raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of tensors (list, "
                         f"tuple...). Got {type(new).__name__}")
    for i, t in enumerate(new):
        if not isinstance(t, Tensor):
            raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...). Got element {i} of the sequence with type "
                             f"{type(t).__name__}.")
    return tuple(new)


def _check_same(original, new, what):
    if not isinstance(new, Tensor):
        raise ValueError(f"A parametrization must return a tensor. Got {type(new).__name__}.")
    if new.shape != original.shape or new.dtype != original.dtype:
        raise ValueError(f"Registering a parametrization may not change the shape or dtype of "
                         f"the tensor, unless `unsafe` flag is enabled.\n{what} gives shape "
                         f"{new.shape} and dtype {new.dtype}; the tensor is {original.shape}, "
                         f"{original.dtype}")


def _getter(name):
    def get(self):
        plist = self.parametrizations[name]
        if _cache is None:
            return plist()
        key = (id(self), name)
        t = _cache.get(key)
        if t is None:
            t = _cache[key] = plist()
        return t
    return get


def _setter(name):
    def set_(self, value):
        self.parametrizations[name].right_inverse(value)
    return set_


def _inject_class(module):
    """Swap the module's class for ``Parametrized<Class>``, a subclass whose properties are the
    parametrized tensors, and which routes assignments to them to ``right_inverse``."""
    cls = type(module)

    def __setattr__(self, name, value):
        if name in type(self)._parametrized:
            getattr(type(self), name).fset(self, value)
        else:
            cls.__setattr__(self, name, value)

    new = type(f"Parametrized{cls.__name__}", (cls,),
               {"__setattr__": __setattr__, "_parametrized": set(),
                "_before_parametrizations": cls, "__module__": cls.__module__})
    object.__setattr__(module, "__class__", new)


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make ``module.<tensor_name>`` the output of ``parametrization`` (a Module) applied to the
    original tensor, as PyTorch's. A second registration on the same name appends to the list:
    the new parametrization is applied to the previous one's output."""
    fn = "register_parametrization"
    unsafe = _flag(unsafe, "unsafe", fn)
    _check_module(module, fn)
    if not isinstance(parametrization, Module):
        raise TypeError(f"{fn}(): parametrization must be a Module, got "
                        f"{type(parametrization).__name__}")
    if not isinstance(tensor_name, str):
        raise TypeError(f"{fn}(): tensor_name must be a str, got {type(tensor_name).__name__}")
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:  # PyTorch's checks of an appended parametrization and its inverse
            with no_grad():
                current = getattr(module, tensor_name)
                value = parametrization(current)
                _check_same(current, value, "parametrization")
                if hasattr(parametrization, "right_inverse"):
                    try:
                        inverse = parametrization.right_inverse(value)
                    except NotImplementedError:  # not checkable, as PyTorch
                        inverse = current
                    _check_same(current, inverse, "right_inverse")
        plist.append(parametrization)
        object.__setattr__(plist, "unsafe", plist.unsafe or unsafe)
        return module
    original = module._parameters.get(tensor_name)
    if original is None:
        original = module._buffers.get(tensor_name)
    if original is None:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    # off the registries before the class changes: the property now answers for the name
    module._parameters.pop(tensor_name, None)
    module._buffers.pop(tensor_name, None)
    if not is_parametrized(module):
        _inject_class(module)
        Module.__setattr__(module, "parametrizations", ModuleDict())
    module.parametrizations[tensor_name] = plist
    cls = type(module)
    setattr(cls, tensor_name, property(_getter(tensor_name), _setter(tensor_name)))
    cls._parametrized.add(tensor_name)
    return module


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has any parametrization, or one on ``tensor_name``."""
    plists = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(plists, ModuleDict) or not hasattr(type(module), "_parametrized"):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def type_before_parametrizations(module):
    """The module's class before any parametrization was registered."""
    return getattr(type(module), "_before_parametrizations", type(module))


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo the parametrization of ``tensor_name``: the tensor becomes a plain parameter again,
    holding its current parametrized value (``leave_parametrized``) or the original (possible
    only with a single original). The class is restored when no parametrization is left."""
    fn = "remove_parametrizations"
    leave_parametrized = _flag(leave_parametrized, "leave_parametrized", fn)
    _check_module(module, fn)
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                value = getattr(module, tensor_name)
            if value.shape != original.shape or value.dtype != original.dtype:
                original.grad = None  # an unsafe parametrization's new shape: as PyTorch's set_
            original.data = value.data.copy()  # the same object: optimizers keep it
    else:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                             "that is parametrized in terms of a sequence of tensors.")
        with no_grad():
            value = getattr(module, tensor_name)
        was_param = isinstance(plist.original0, Parameter)
        original = (Parameter(value.data.copy(), requires_grad=plist.original0.requires_grad)
                    if was_param else value.detach())
    cls = type(module)
    delattr(cls, tensor_name)
    cls._parametrized.discard(tensor_name)
    del module.parametrizations[tensor_name]
    if isinstance(original, Parameter):
        module._parameters[tensor_name] = original
    else:
        module._buffers[tensor_name] = original
    if not cls._parametrized:  # the last one: the module is its old class again
        del module._modules["parametrizations"]
        object.__setattr__(module, "__class__", cls._before_parametrizations)
    return module
