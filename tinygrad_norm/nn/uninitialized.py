"""``torch.nn.utils.skip_init``: build a module without initialising it, when its draws are slow
or its values will be set anyway (loaded, or initialised by hand).

PyTorch builds the module on its "meta" device, where initialising does nothing, then
allocates it uninitialised. There is no meta device here: the module is built with every
``nn.init`` function a no-op, so nothing is drawn or written by them, and the framework's
generator is left as it was (put back, should a layer draw from it directly)."""
from __future__ import annotations

import inspect

from .. import random as _random
from .init import _skipped
from .module import Module

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` with its initialisation skipped, as PyTorch's. Each
    parameter and buffer holds what the constructor allocated: arbitrary values (``np.empty``,
    as PyTorch's uninitialised memory) where an ``nn.init`` function would have drawn or
    filled them, the constructor's own values elsewhere (a batch norm's weight, bias and running
    statistics, which it writes itself)."""
    if not (inspect.isclass(module_cls) and issubclass(module_cls, Module)):
        raise TypeError(f"Expected a Module; got {module_cls}")
    gen = _random.generator()
    state = gen.bit_generator.state
    try:
        with _skipped():
            return module_cls(*args, **kwargs)
    finally:
        gen.bit_generator.state = state
