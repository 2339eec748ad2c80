"""torch's typed legacy constructors, ``torch.LongTensor(ids)`` and its kin: older tutorials
(seq2seq translation: ``TensorDataset(torch.LongTensor(input_ids), ...)``) and much code built
on them still call them. Each makes a tensor of its dtype from data (a list, an ndarray, a
number sequence: converted, floats truncated into integer types, as torch's), from sizes
(``FloatTensor(2, 3)``: zeros here, torch's memory is uninitialised), or from nothing (an empty
tensor); a Tensor of the same dtype is shared, of another dtype refused, as torch's.
``isinstance(t, tg.FloatTensor)`` is whether ``t`` is a float32 Tensor, as in torch."""
from __future__ import annotations

import numpy as np

from .tensor import Tensor

_TYPES = {"FloatTensor": np.float32, "DoubleTensor": np.float64, "HalfTensor": np.float16,
          "ByteTensor": np.uint8, "CharTensor": np.int8, "ShortTensor": np.int16,
          "IntTensor": np.int32, "LongTensor": np.int64, "BoolTensor": np.bool_}

__all__ = list(_TYPES)


class _TypedMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype


def _is_size(args):
    return all(isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))
               for a in args)


class _Typed(metaclass=_TypedMeta):
    dtype = None

    def __new__(cls, *args, device=None):
        if device is not None and str(device) != "cpu":
            raise ValueError(f"{cls.__name__}: only the CPU is available, got device={device!r}")
        if not args or _is_size(args):
            if any(int(a) < 0 for a in args):
                raise ValueError(f"{cls.__name__}: negative dimension in size {list(args)}")
            shape = tuple(int(a) for a in args) if args else (0,)  # no argument: empty, 1-D
            return Tensor._wrap(np.zeros(shape, cls.dtype))
        if len(args) > 1:
            raise TypeError(f"{cls.__name__}(): expected sizes (ints) or one sequence of data, "
                            f"got {len(args)} arguments of types "
                            f"{', '.join(type(a).__name__ for a in args)}")
        data = args[0]
        if isinstance(data, Tensor):
            if data.dtype != cls.dtype:
                raise TypeError(f"{cls.__name__}(): expected a tensor of dtype "
                                f"{np.dtype(cls.dtype)} (got {data.dtype}); use .to() or "
                                f".type() to convert")
            return Tensor._wrap(data.data)  # shares its memory, as torch's
        if isinstance(data, (str, bytes)) or not hasattr(data, "__len__") and \
                not isinstance(data, np.ndarray):
            raise TypeError(f"{cls.__name__}(): new(): data must be a sequence (got "
                            f"{type(data).__name__})")
        try:
            array = np.array(data, dtype=cls.dtype)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{cls.__name__}(): cannot convert the data: {e}") from None
        return Tensor._wrap(array)


for _name, _dt in _TYPES.items():
    globals()[_name] = _TypedMeta(_name, (_Typed,), {"dtype": np.dtype(_dt), "__module__":
                                                     __name__, "__doc__": __doc__})
