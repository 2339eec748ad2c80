"""torch's numeric-limits objects and its ``typename``: ``finfo`` (a float dtype's bits, eps,
max, min, tiny, smallest_normal, resolution), ``iinfo`` (an integer dtype's bits, max, min),
each with ``dtype`` as the dtype's name, as torch's; ``typename(obj)`` ('torch.FloatTensor'
for a float32 tensor, the qualified class name of anything else)."""
from __future__ import annotations

import numpy as np

from . import default_dtype as _dd
from .tensor import Tensor, _dtype_arg

__all__ = ["finfo", "iinfo", "typename"]


def _kind_dtype(type, fn, kinds, other):
    dt = _dtype_arg(type, fn)
    if dt.kind not in kinds:
        what = "a floating point" if fn == "finfo" else "an integer"
        if dt.kind == "b":  # torch's own wording for bool
            raise TypeError(f"torch.bool is not supported by torch.{fn}")
        raise TypeError(f"torch.{fn}() requires {what} input type. Use torch.{other} to handle "
                        f"'torch.{fn}'")
    return dt


class finfo:
    """The limits of a float dtype (the default dtype when none is given), as ``torch.finfo``:
    Python floats, ``bits`` an int, ``dtype`` the dtype's name."""

    def __init__(self, type=None):  # noqa: A002  (torch's argument name)
        dt = np.dtype(_dd.DEFAULT) if type is None else _kind_dtype(type, "finfo", "f", "iinfo")
        info = np.finfo(dt)
        self.bits, self.dtype = int(info.bits), dt.name
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        # tiny is torch's older name of smallest_normal; resolution is 10**-precision
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)  # (float16's own rounds)

    def __eq__(self, other):
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("finfo", self.dtype))

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """The limits of an integer dtype, as ``torch.iinfo``: Python ints, ``dtype`` its name
    (bool is refused, as torch's)."""

    def __init__(self, type):  # noqa: A002
        dt = _kind_dtype(type, "iinfo", "iu", "finfo")
        info = np.iinfo(dt)
        self.bits, self.dtype = int(info.bits), dt.name
        self.min, self.max = int(info.min), int(info.max)

    def __eq__(self, other):
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("iinfo", self.dtype))

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


# torch's legacy tensor-type names, which ``typename`` and ``Tensor.type()`` answer with
TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
              "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
              "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def tensor_type_name(dt):
    """'torch.FloatTensor' for float32, ...; dtypes torch has no legacy name for (uint16..64)
    get one in the same pattern ('torch.UInt32Tensor')."""
    name = TYPE_NAMES.get(dt.name) or dt.name.capitalize().replace("Uint", "UInt") + "Tensor"
    return "torch." + name


def typename(obj):
    """The tensor type name of a Tensor ('torch.FloatTensor'), else the object's qualified
    class name ('int', 'numpy.ndarray'), as ``torch.typename``."""
    if isinstance(obj, Tensor):
        return tensor_type_name(obj.dtype)
    cls = type(obj)
    module = "" if cls.__module__ in ("builtins", "__builtin__", None) else cls.__module__ + "."
    return module + cls.__qualname__
