"""``nn.UninitializedParameter`` and ``nn.UninitializedBuffer``, as torch's: a parameter or
buffer whose shape is not known yet (a lazy module's, before its first call), turned into a plain
one by ``materialize(shape)``.

As ``Parameter`` and ``Buffer`` here, they are plain Tensors with a mark (the engine's hot path
tests ``type(x) is Tensor``): ``isinstance(t, nn.UninitializedParameter)`` reads the mark, which
``materialize`` clears. Unlike torch's, an uninitialized tensor has a shape -- (0,), or the
lazy module's placeholder shape with a 0 where the unknown size goes -- and may be used
(torch raises on any use); materializing gives zeros, as ``tg.empty``."""
from __future__ import annotations

import numbers

import numpy as np

from .. import default_dtype as _dd
from .. import devices as _devices
from ..tensor import Tensor
from .module import Buffer, Parameter

__all__ = ["UninitializedParameter", "UninitializedBuffer"]

_MARK = "_uninitialized"


class _Materialize:
    """``t.materialize(shape, device=None, dtype=None)``: a plain object holding its tensor, so
    that pickling and deepcopy of a marked tensor work (a bound method would not unpickle)."""

    def __init__(self, tensor):
        self.tensor = tensor

    def __call__(self, shape, device=None, dtype=None):
        t = self.tensor
        _devices.check_device(device, "materialize()")
        shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
        if any(isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 0
               for d in shape):
            raise ValueError(f"materialize(): shape must hold non-negative ints, got {shape}")
        dtype = t.dtype if dtype is None else np.dtype(dtype)
        t._data = np.zeros(shape, dtype)
        _unmark(t)


def _mark(t):
    """Make the Parameter or Buffer ``t`` uninitialized (in place); returns it."""
    setattr(t, _MARK, True)
    t.materialize = _Materialize(t)
    return t


def _unmark(t):
    t.__dict__.pop(_MARK, None)
    t.__dict__.pop("materialize", None)


def is_uninitialized(t):
    return type(t) is Tensor and getattr(t, _MARK, False)


class _UninitializedMeta(type):
    # a registered buffer carries no mark of its own (register_buffer takes any Tensor): an
    # uninitialized tensor that is not a parameter is a buffer
    def __instancecheck__(cls, obj):
        return is_uninitialized(obj) and getattr(obj, "_is_param", False) is cls._param


class UninitializedParameter(metaclass=_UninitializedMeta):
    """A Parameter of unknown shape (an empty one here) until ``materialize(shape)``."""

    _param = True
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        _devices.check_device(device, "UninitializedParameter")
        return _mark(Parameter(np.zeros(0, _dd.DEFAULT if dtype is None else dtype),
                               requires_grad))


class UninitializedBuffer(metaclass=_UninitializedMeta):
    """A Buffer of unknown shape (an empty one here) until ``materialize(shape)``."""

    _param = False
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        _devices.check_device(device, "UninitializedBuffer")
        t = Buffer(Tensor(np.zeros(0, _dd.DEFAULT if dtype is None else dtype)),
                   persistent=persistent)
        if requires_grad:
            t.requires_grad_(True)
        return _mark(t)


def mark_module(module):
    """Mark a lazy module's own floating parameters and buffers uninitialized."""
    for reg in (module._parameters, module._buffers):
        for t in reg.values():
            if t is not None and t.dtype.kind == "f":
                _mark(t)


def unmark_module(module):
    for reg in (module._parameters, module._buffers):
        for t in reg.values():
            if t is not None:
                _unmark(t)


def has_uninitialized(module):
    return any(is_uninitialized(t) for reg in (module._parameters, module._buffers)
               for t in reg.values())
