"""Argument checks shared by ``tinygrad_norm.functional`` and ``tinygrad_norm.nn``: one place, so
that every flag of both refuses the same things with the same words."""
from __future__ import annotations

import numbers

import numpy as np


def _flag(v, name, fn, allow_none=False):
    """A bool argument as a Python bool, or a ``TypeError`` in PyTorch's words ("max_pool2d():
    argument 'ceil_mode' must be bool, not str"): read by its truth value, ``ceil_mode="False"``
    turned ceil mode on and ``training=1`` trained, silently. A NumPy bool is taken (PyTorch's
    bindings refuse it); ``allow_none`` also takes None (a flag whose default is None)."""
    if type(v) is bool:  # the common case first: no ABC check
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    if v is None and allow_none:
        return None
    raise TypeError(f"{fn}(): argument '{name}' must be bool{' or None' if allow_none else ''}, "
                    f"not {type(v).__name__}")


def _real(v, name, fn):
    """A real-number argument as a float, or a ``TypeError`` naming it (bools refused: True as
    a margin or a rate is a slip)."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a real number, got {type(v).__name__}")
    return float(v)
