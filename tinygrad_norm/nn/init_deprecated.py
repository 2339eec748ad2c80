"""torch's deprecated ``nn.init`` spellings without the trailing underscore (``init.normal``,
``init.xavier_uniform``, ...): each warns as torch's (FutureWarning) and calls the in-place
function."""
from __future__ import annotations

import functools
import warnings

from . import init as _init

_NAMES = ("uniform", "normal", "constant", "xavier_uniform", "xavier_normal", "kaiming_uniform",
          "kaiming_normal", "orthogonal", "sparse", "eye", "dirac")

__all__ = list(_NAMES)


def _deprecated(name):
    new = getattr(_init, name + "_")

    @functools.wraps(new)
    def old(*args, **kwargs):
        warnings.warn(f"`nn.init.{name}` is now deprecated in favor of `nn.init.{name}_`.",
                      FutureWarning, stacklevel=2)
        return new(*args, **kwargs)
    old.__name__ = old.__qualname__ = name
    old.__doc__ = f"Deprecated: ``nn.init.{name}_`` with torch's FutureWarning."
    return old


for _n in _NAMES:
    globals()[_n] = _deprecated(_n)
