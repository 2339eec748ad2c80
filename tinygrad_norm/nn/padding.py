"""The padding layers of ``torch.nn`` (ZeroPad, ConstantPad, ReflectionPad, ReplicationPad and
CircularPad, each 1d, 2d and 3d): ``F.pad`` with a fixed ``padding`` and mode."""
from __future__ import annotations

import numbers

from .. import functional as F
from .module import Module

__all__ = [f"{kind}Pad{n}d" for kind in ("Zero", "Constant", "Reflection", "Replication",
                                         "Circular") for n in (1, 2, 3)]


def _padding(v, n, cls):
    """An int (the same on every side) or 2n ints (left, right, top, bottom, front, back)."""
    items = tuple(v) if isinstance(v, (tuple, list)) else (v,) * (2 * n)
    if len(items) != 2 * n or any(isinstance(x, bool) or not isinstance(x, numbers.Integral)
                                  for x in items):
        raise TypeError(f"{cls}: padding must be an int or a tuple of {2 * n} ints, got {v!r}")
    return tuple(int(x) for x in items)


class _PadNd(Module):
    _mode = "constant"
    _dims = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _padding(padding, self._dims, type(self).__name__)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{type(self).__name__}: value must be a number, got {value!r}")
        self.value = float(value)

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


def _make(base, name, dims, mode, doc):
    attrs = {"_dims": dims, "__doc__": doc}
    if mode is not None:
        attrs["_mode"] = mode
    return type(name, (base,), attrs)


_SPATIAL = {1: "(N, C, W) or (C, W)", 2: "(N, C, H, W) or (C, H, W)",
            3: "(N, C, D, H, W) or (C, D, H, W)"}
for _n in (1, 2, 3):
    for _kind, _base, _mode, _what in [
            ("Zero", _ZeroPadNd, None, "zeros"),
            ("Constant", _ConstantPadNd, None, "``value``"),
            ("Reflection", _PadNd, "reflect", "the reflection of the input at its edge"),
            ("Replication", _PadNd, "replicate", "copies of the input's edge"),
            ("Circular", _PadNd, "circular", "the input wrapped around")]:
        _name = f"{_kind}Pad{_n}d"
        globals()[_name] = _make(_base, _name, _n, _mode, f"Pads the last {_n} dimension(s) of a "
                                 f"{_SPATIAL[_n]} input with {_what} (``F.pad``).")
        globals()[_name].__module__ = __name__
