"""Containers: Sequential and ModuleList."""
from __future__ import annotations

from collections import OrderedDict

from .module import Module

__all__ = ["Sequential", "ModuleList"]


class Sequential(Module):
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
        if isinstance(i, slice):  # keeps the names, as PyTorch: "2.weight" stays "2.weight"
            return Sequential(OrderedDict(list(self._modules.items())[i]))
        return list(self._modules.values())[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        # str(len(self)), as PyTorch, unless a slice kept that name ("1", "2" after [1:]): then
        # the next free number, where PyTorch would replace the module of that name
        n = len(self)
        while str(n) in self._modules:
            n += 1
        self.add_module(str(n), module)
        return self


class ModuleList(Module):
    """A list of modules, registered so that their parameters are found."""

    def __init__(self, modules=None):
        super().__init__()
        for m in modules or ():
            self.append(m)

    def append(self, module):
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: {type(module).__name__} is not a Module")
        self.add_module(str(len(self)), module)
        return self

    def __getitem__(self, i):
        if isinstance(i, slice):  # a ModuleList again, numbered from 0 (as PyTorch's)
            return ModuleList(list(self._modules.values())[i])
        return list(self._modules.values())[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __repr__(self):
        """As PyTorch's: a run of children with the same text shows once, as
        ``(first-last): n x <text>``, so a stack of identical blocks stays readable."""
        texts = [repr(m) for m in self]
        if not texts:
            return "ModuleList()"
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
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"
