"""Containers: Sequential, ModuleList and ModuleDict, with PyTorch's list and dict methods."""
from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from .module import Module, _check_free, _check_name

__all__ = ["Sequential", "ModuleList", "ModuleDict"]


def _require_module(module, owner):
    if not isinstance(module, Module):
        raise TypeError(f"{owner}: {type(module).__name__} is not a Module")
    return module


class _Indexed(Module):
    """What Sequential and ModuleList share: children addressed by position."""

    def _key(self, idx):
        """The registered name at position ``idx`` (negative counts from the end)."""
        try:
            i = operator.index(idx)
        except TypeError:
            raise TypeError(f"{type(self).__name__} indices must be integers or slices, not "
                            f"{type(idx).__name__}") from None
        n = len(self._modules)
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of range for a {type(self).__name__} of {n}")
        return list(self._modules)[i % n]

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
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: element {name} is a {type(m).__name__}, not a Module")
            self.add_module(name, m)

    def forward(self, x):
        for m in self._modules.values():
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
        elif isinstance(modules, Iterable) and not isinstance(modules, (str, Module)):
            pairs = []
            for j, pair in enumerate(modules):
                if isinstance(pair, (str, bytes)) or not isinstance(pair, Iterable):
                    raise TypeError(f"ModuleDict.update: element #{j} should be a (name, module) "
                                    f"pair, got {type(pair).__name__}")
                pair = tuple(pair)
                if len(pair) != 2:
                    raise ValueError(f"ModuleDict.update: element #{j} has length {len(pair)}; "
                                     f"2 is required")
                pairs.append(pair)
        else:
            raise TypeError(f"ModuleDict.update should be called with a mapping or an iterable "
                            f"of (name, module) pairs, but got {type(modules).__name__}")
        for k, m in pairs:
            _check_name(k, "ModuleDict", "module")
            _check_free(self, k, self._modules, "ModuleDict")
            _require_module(m, "ModuleDict")
        for k, m in pairs:
            self[k] = m
