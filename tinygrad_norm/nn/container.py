"""Containers: Sequential, ModuleList, ModuleDict, ParameterList and ParameterDict, with PyTorch's
list and dict methods."""
from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from ..tensor import Tensor
from .module import Module, Parameter, _check_free, _check_name

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


def _require_module(module, owner):
    # None holds a place, as in PyTorch's containers (an optional layer at some positions):
    # the traversals skip it, and Sequential refuses to call it
    if module is not None and not isinstance(module, Module):
        raise TypeError(f"{owner}: {type(module).__name__} is not a Module or None")
    return module


def _position(owner, idx, n):
    """``idx`` as a position in ``range(n)`` (a negative one counts from the end)."""
    try:
        i = operator.index(idx)
    except TypeError:
        raise TypeError(f"{type(owner).__name__} indices must be integers or slices, not "
                        f"{type(idx).__name__}") from None
    if not -n <= i < n:
        raise IndexError(f"index {i} is out of range for a {type(owner).__name__} of {n}")
    return i % n


class _Indexed(Module):
    """What Sequential and ModuleList share: children addressed by position."""

    def _key(self, idx):
        """The registered name at position ``idx`` (negative counts from the end)."""
        return list(self._modules)[_position(self, idx, len(self._modules))]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __setitem__(self, idx, module):
        if isinstance(idx, slice):  # _key's message names slices as fine (they are, to read)
            raise TypeError(f"{type(self).__name__}: a slice cannot be assigned; assign one "
                            f"index at a time")
        setattr(self, self._key(idx), _require_module(module, type(self).__name__))

    def __delitem__(self, idx):
        keys = list(self._modules)[idx] if isinstance(idx, slice) else [self._key(idx)]
        for k in keys:
            del self._modules[k]
        self._renumber()

    def _renumber(self, modules=None):
        # as PyTorch after a deletion or an insertion: positions 0..n-1 again, so that the next
        # append's str(len(self)) is free and state_dict keys follow the positions
        modules = list(self._modules.values()) if modules is None else modules
        self._modules.clear()
        self._modules.update((str(i), m) for i, m in enumerate(modules))

    def insert(self, index, module):
        """Put ``module`` before position ``index`` (as ``list.insert``); later ones renumber."""
        _require_module(module, f"{type(self).__name__}.insert")
        i = operator.index(index)
        n = len(self._modules)
        if not -n <= i <= n:
            raise IndexError(f"{type(self).__name__}.insert: index {i} is out of range for "
                             f"{n} modules")
        modules = list(self._modules.values())
        modules.insert(i, module)
        self._renumber(modules)
        return self

    def extend(self, modules):
        if not isinstance(modules, Iterable) or isinstance(modules, Module) and \
                not isinstance(modules, _Indexed):
            raise TypeError(f"{type(self).__name__}.extend should be called with an iterable of "
                            f"modules, but got {type(modules).__name__}")
        modules = [_require_module(m, f"{type(self).__name__}.extend") for m in modules]
        for m in modules:  # all checked first: a bad element leaves the container as it was
            self.append(m)
        return self

    def pop(self, idx=-1):
        module = self[idx]
        del self[idx]
        return module

    def __iadd__(self, modules):
        return self.extend(modules)

    def __dir__(self):
        # the children's digit names are no attributes one types, as PyTorch's dir() hides them
        return [k for k in super().__dir__() if not k.isdigit()]


class Sequential(_Indexed):
    """Modules applied one after the other; ``Sequential(a, b)`` or ``Sequential(OrderedDict)``."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            items = modules[0].items()
        else:
            items = ((str(i), m) for i, m in enumerate(modules))
        for name, m in items:
            if m is not None and not isinstance(m, Module):
                raise TypeError(f"Sequential: element {name} is a {type(m).__name__}, not a "
                                f"Module or None")
            self.add_module(name, m)

    def forward(self, x):
        for name, m in self._modules.items():
            if m is None:  # PyTorch: "'NoneType' object is not callable"
                raise TypeError(f"Sequential: element {name} is None and cannot be called")
            x = m(x)
        return x

    def __getitem__(self, i):
        if isinstance(i, slice):  # keeps the names and the class, as PyTorch: "2.weight" stays
            return type(self)(OrderedDict(list(self._modules.items())[i]))
        return self._modules[self._key(i)]

    def append(self, module):
        # str(len(self)), as PyTorch, unless a slice kept that name ("1", "2" after [1:]): then
        # the next free number, where PyTorch would replace the module of that name
        _require_module(module, "Sequential.append")
        n = len(self)
        while str(n) in self._modules:
            n += 1
        self.add_module(str(n), module)
        return self

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but "
                             f"{type(other).__name__} is given")
        return Sequential(*self, *other)

    def __mul__(self, times):
        """The modules repeated ``times`` times (the same objects, as PyTorch's)."""
        if isinstance(times, bool) or not isinstance(times, int):
            raise TypeError(f"unsupported operand type(s) for *: 'Sequential' and "
                            f"'{type(times).__name__}'")
        if times <= 0:
            raise ValueError(f"Non-positive multiplication factor {times} for Sequential")
        return Sequential(*(list(self) * times))

    __rmul__ = __mul__

    def __imul__(self, times):
        repeated = self * times  # checked before this one changes
        self._renumber(list(repeated))
        return self

    def __iadd__(self, other):
        if not isinstance(other, Sequential):  # as PyTorch (a ModuleList takes any iterable)
            raise ValueError(f"Sequential += supports only another Sequential, but "
                             f"{type(other).__name__} is given")
        return self.extend(other)


class ModuleList(_Indexed):
    """A list of modules, registered so that their parameters are found."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def append(self, module):
        _require_module(module, "ModuleList")
        self.add_module(str(len(self)), module)
        return self

    def __getitem__(self, i):
        if isinstance(i, slice):  # the same class again, numbered from 0 (as PyTorch's)
            return type(self)(list(self._modules.values())[i])
        return self._modules[self._key(i)]

    def __add__(self, other):
        if isinstance(other, Module) and not isinstance(other, _Indexed) or \
                not isinstance(other, Iterable):
            return NotImplemented
        return ModuleList([*self, *other])  # any iterable of modules, as PyTorch

    def __repr__(self):
        """As PyTorch's: a run of children with the same text shows once, as
        ``(first-last): n x <text>``, so a stack of identical blocks stays readable."""
        name = type(self).__name__
        texts = [repr(m) for m in self]
        if not texts:
            return f"{name}()"
        runs = []  # [first index, last index, text]
        for i, text in enumerate(texts):
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = []
        for first, last, text in runs:
            text = text.replace("\n", "\n  ")
            if first != last:
                text = f"{last - first + 1} x {text}"
            lines.append(f"({first}): {text}" if first == last else f"({first}-{last}): {text}")
        return f"{name}(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """An ordered dict of modules by name, registered so that their parameters are found (keys
    in insertion order, as PyTorch's)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, _require_module(module, "ModuleDict"))

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key):
        module = self._modules[key]
        del self._modules[key]
        return module

    def clear(self):
        self._modules.clear()

    def update(self, modules):
        """Add or replace from a mapping (a dict, a ModuleDict) or an iterable of
        ``(name, module)`` pairs; every entry is checked before any is added."""
        if isinstance(modules, (Mapping, ModuleDict)):
            pairs = list(modules.items())
        else:
            pairs = _pairs(modules, "ModuleDict.update", "module")
        for k, m in pairs:
            _check_name(k, "ModuleDict", "module")
            _check_free(self, k, self._modules, "ModuleDict")
            _require_module(m, "ModuleDict")
        for k, m in pairs:
            self[k] = m


def _pairs(items, fn, what):
    """The ``(name, value)`` pairs of an iterable of them (a dict.update argument that is not a
    mapping), each checked."""
    if not isinstance(items, Iterable) or isinstance(items, (str, Module, Tensor)):
        raise TypeError(f"{fn} should be called with a mapping or an iterable of (name, {what}) "
                        f"pairs, but got {type(items).__name__}")
    pairs = []
    for j, pair in enumerate(items):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Iterable):
            raise TypeError(f"{fn}: element #{j} should be a (name, {what}) pair, got "
                            f"{type(pair).__name__}")
        pair = tuple(pair)
        if len(pair) != 2:
            raise ValueError(f"{fn}: element #{j} has length {len(pair)}; 2 is required")
        pairs.append(pair)
    return pairs


def _as_parameter(value, owner):
    """``value`` as a Parameter: a Parameter (or None, a place holder as in torch's
    containers) as it is, another Tensor wrapped (sharing its array, requiring grad, as
    torch's ``Parameter(tensor)``). torch keeps any other object too; here that is an error."""
    if value is None or isinstance(value, Parameter):
        return value
    if not isinstance(value, Tensor):
        raise TypeError(f"{owner}: {type(value).__name__} is not a Tensor, a Parameter or None")
    return Parameter(value)


def _put_parameter(owner, key, value):
    """Register ``value`` (a Parameter or None) under ``key``: assigning None to a new name
    would make a plain attribute, not an entry."""
    if value is None and key not in owner._parameters:
        owner.register_parameter(key, None)
    else:
        setattr(owner, key, value)


def _parameters_repr(items):
    # torch's text, with NumPy's dtype names: "float32" where torch's ParameterList writes
    # "torch.float32" and its ParameterDict "torch.FloatTensor"
    return "\n".join(f"  ({k}): Object of type: NoneType" if p is None else
                     f"  ({k}): Parameter containing: [{p.dtype} of size "
                     f"{'x'.join(str(n) for n in p.shape)}]" for k, p in items)


class ParameterList(Module):
    """A list of parameters, registered as ``"0"``, ``"1"``, ... (torch's state-dict keys); a
    plain Tensor added to it becomes a Parameter, as torch's."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):  # the same Parameters, numbered from 0, as torch's
            return type(self)(list(self._parameters.values())[idx])
        return self._parameters[str(_position(self, idx, len(self)))]

    def __setitem__(self, idx, param):
        key = str(_position(self, idx, len(self)))
        _put_parameter(self, key, _as_parameter(param, "ParameterList"))

    def append(self, value):
        _put_parameter(self, str(len(self)), _as_parameter(value, "ParameterList.append"))
        return self

    def extend(self, values):
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got "
                            f"{type(values).__name__}")
        values = [_as_parameter(v, "ParameterList.extend") for v in values]
        for v in values:  # all checked first: a bad element leaves the list as it was
            self.append(v)
        return self

    def __iadd__(self, values):
        return self.extend(values)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")

    def extra_repr(self):
        return _parameters_repr(enumerate(self))


class ParameterDict(Module):
    """An ordered dict of parameters by name, registered under their keys (torch's state-dict
    keys); a plain Tensor added to it becomes a Parameter, as torch's."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def _check_key(self, key):
        if not isinstance(key, str):
            raise TypeError(f"Index given to ParameterDict cannot be used as a key as it is not a "
                            f"string (type is '{type(key).__name__}')")
        # a key with a dot, or one of a method (keys, update), would not load back
        self._check_assigned_name(key, "parameter")
        _check_free(self, key, self._parameters, "ParameterDict")

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        self._check_key(key)
        _put_parameter(self, key, _as_parameter(value, "ParameterDict"))

    def __delitem__(self, key):
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __reversed__(self):
        return reversed(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()

    def get(self, key, default=None):
        return self._parameters.get(key, default)

    def pop(self, key):
        return self._parameters.pop(key)

    def popitem(self):
        """The last inserted ``(key, parameter)``, removed."""
        return self._parameters.popitem()

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        self._parameters.clear()

    def copy(self):
        """A new ParameterDict holding the same Parameters in the same order."""
        return ParameterDict(OrderedDict(self.items()))

    def update(self, parameters):
        """Add or replace from a mapping or an iterable of ``(key, parameter)`` pairs; as
        torch's, a plain (unordered) mapping is added in sorted key order, an OrderedDict, a
        ParameterDict or pairs in their order. Every entry is checked before any is added."""
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = list(parameters.items())
        elif isinstance(parameters, Mapping):
            for k in parameters:
                self._check_key(k)  # sorted() would compare a str with an int
            pairs = sorted(parameters.items())
        else:
            pairs = _pairs(parameters, "ParameterDict.update", "parameter")
        pairs = [(k, _as_parameter(v, "ParameterDict.update")) for k, v in pairs]
        for k, _ in pairs:
            self._check_key(k)
        for k, v in pairs:
            _put_parameter(self, k, v)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")

    def extra_repr(self):
        return _parameters_repr(self.items())
