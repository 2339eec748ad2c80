"""``nn.init``'s old names without the trailing underscore (``nn.init.uniform``), as torch keeps
them: each calls the in-place function and warns, as torch's, that the name is deprecated."""
from __future__ import annotations

import functools
import warnings

from . import init as _init

_OLD = ("uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
        "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse")

__all__ = list(_OLD)


def _deprecated(new):
    @functools.wraps(new)
    def old(*args, **kwargs):
        warnings.warn(f"`nn.init.{new.__name__[:-1]}` is now deprecated in favor of "
                      f"`nn.init.{new.__name__}`.", FutureWarning, stacklevel=2)
        return new(*args, **kwargs)
    old.__name__ = old.__qualname__ = new.__name__[:-1]
    return old


for _name in _OLD:
    globals()[_name] = _deprecated(getattr(_init, _name + "_"))
