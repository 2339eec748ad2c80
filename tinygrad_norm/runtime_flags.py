"""torch's remaining process-wide switches and their questions: ``is_inference_mode_enabled``,
``is_inference``, ``set_float32_matmul_precision``/``get_float32_matmul_precision`` and
``set_warn_always``/``is_warn_always_enabled``.

Matmul precision is recorded only (NumPy's float32 products are always full float32), and the
warn-always switch is recorded for ported code that reads it back (warnings here follow Python's
own filters). Inference mode is tracked per thread by wrapping ``autograd.inference_mode``'s
enter and exit here, so the tape module stays as it is."""
from __future__ import annotations

import threading
import warnings

import numpy as np

from . import autograd as _ag
from .tensor import Tensor

__all__ = ["is_inference_mode_enabled", "is_inference", "set_float32_matmul_precision",
           "get_float32_matmul_precision", "set_warn_always", "is_warn_always_enabled"]

_state = {"precision": "highest", "warn_always": False}


class _Modes(threading.local):
    def __init__(self):
        self.stack = []  # the modes of the inference_mode blocks this thread is inside


_modes = _Modes()


def _wrap_inference_mode():
    cls = _ag.inference_mode
    enter, exit_ = cls.__enter__, cls.__exit__

    def __enter__(self):
        out = enter(self)
        _modes.stack.append(self._on)
        return out

    def __exit__(self, *exc):
        if _modes.stack:
            _modes.stack.pop()
        return exit_(self, *exc)

    cls.__enter__, cls.__exit__ = __enter__, __exit__


_wrap_inference_mode()


def is_inference_mode_enabled():
    """Whether the innermost ``inference_mode`` block around this call is on, as torch's."""
    return bool(_modes.stack and _modes.stack[-1])


def is_inference(input):
    """False: there are no inference tensors here (see ``inference_mode``)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_inference(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    return False


_PRECISIONS = ("highest", "high", "medium")


def set_float32_matmul_precision(precision):
    """Recorded, as torch's switch ('highest', 'high' or 'medium'; any other string warns and
    changes nothing, as in torch): NumPy always multiplies float32 at full precision."""
    if not isinstance(precision, str):
        raise TypeError(f"set_float32_matmul_precision expects a str, but got "
                        f"{type(precision).__name__}")
    if precision not in _PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      f"set_float32_matmul_precision call has no effect.", UserWarning,
                      stacklevel=2)
        return
    _state["precision"] = precision


def get_float32_matmul_precision():
    return _state["precision"]


def set_warn_always(b):
    """Recorded, as torch's switch for its warn-once warnings."""
    if not isinstance(b, (bool, np.bool_)):
        raise TypeError(f"set_warn_always expects a bool, but got {type(b).__name__}")
    _state["warn_always"] = bool(b)


def is_warn_always_enabled():
    return _state["warn_always"]
