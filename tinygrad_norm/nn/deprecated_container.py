"""``nn.Container``, torch's deprecated forerunner of ``Module``: a Module whose keyword
arguments become its children, with torch's FutureWarning."""
from __future__ import annotations

import warnings

from .module import Module

__all__ = ["Container"]


class Container(Module):
    """``Container(**kwargs)``: ``add_module(name, module)`` for each keyword, in order."""

    def __init__(self, **kwargs):
        warnings.warn("`nn.Container` is deprecated. All of its functionality is now implemented "
                      "in `nn.Module`. Subclass that instead.", FutureWarning, stacklevel=2)
        super().__init__()
        for key, value in kwargs.items():
            self.add_module(key, value)
