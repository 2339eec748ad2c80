"""Anomaly detection, as ``torch.autograd.detect_anomaly``: while it is on, every recorded node
keeps the stack of the forward call that made it, and backward

* raises ``RuntimeError("Function 'LogBackward0' returned nan values in its 0th output.")`` when
  a VJP returns NaN (``check_nan``), and
* warns, before any error leaves a VJP (that one, or an exception of its own), with the forward
  stack of the node that failed ("Error detected in LogBackward0. Traceback of forward call that
  caused the error: ...") and the composite it belongs to ("in batch_norm").

The mode is global, as torch's (not per thread). Off, it costs nothing per node: the traced
``Node.__init__`` is swapped in only while the mode is on, and backward reads the mode once.
"""
from __future__ import annotations

import os
import traceback
import warnings

import numpy as np

from . import autograd
from .grad_fn_api import _torch_name

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "set_anomaly_enabled"]

_check_nan = True  # torch's default: remembered while the mode is off too


class _Anomaly:
    """What run_backward reads (``autograd._anomaly``) while the mode is on."""
    __slots__ = ("check_nan",)

    def __init__(self, check_nan):
        self.check_nan = check_nan

    def check(self, node, in_grads):
        """Raise torch's error for the first VJP output holding a NaN."""
        for i, gi in enumerate(in_grads):
            a = getattr(gi, "_data", gi)  # a Tensor under create_graph
            if type(a) is np.ndarray and a.dtype.kind in "fc" and np.isnan(a).any():
                raise RuntimeError(f"Function '{_torch_name(node.op)}' returned nan values in its "
                                   f"{i}th output.")

    def report(self, node):
        """Warn with the forward stack of the node whose backward failed."""
        trace = getattr(node, "trace", None)
        where = f" (in {_scope_path(node.scope)})" if node.scope is not None else ""
        text = "".join(trace) if trace else "  (recorded before anomaly detection was enabled)\n"
        warnings.warn(f"Error detected in {_torch_name(node.op)}{where}. Traceback of forward "
                      f"call that caused the error:\n{text}", UserWarning, stacklevel=4)



def _scope_path(scope):
    names = []
    while scope is not None:
        names.append(scope.name)
        scope = scope.parent
    return " < ".join(names)


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _is_plumbing(frame):
    """A frame of the package's top-level modules (Tensor methods, ``apply``, the tape)."""
    return os.path.dirname(os.path.abspath(frame.filename)) == _PACKAGE_DIR


def _trace(node):
    # the frames above the op's recording call: this step, the composed Node.__init__ that ran
    # it (autograd.set_record_step) and the line that built the Node
    frames = traceback.extract_stack()[:-3]
    # The trace ends where the caller's code called into the Tensor machinery, as torch's ends at
    # the Python line that entered its C++ op: how deep Tensor.sqrt or apply nests says nothing
    # to the reader. Frames in subpackages (functional, nn) stay: they name the composite's line.
    end = len(frames)
    while end > 1 and _is_plumbing(frames[end - 1]):
        end -= 1
    node.trace = traceback.format_list(frames[:end])


def _flag(value, fn, name, position):
    if type(value) is not bool:
        raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be bool, not "
                        f"{type(value).__name__}")
    return value


def set_anomaly_enabled(enabled, check_nan=True):
    """Turn anomaly detection on or off (torch's ``torch.set_anomaly_enabled``)."""
    global _check_nan
    _flag(enabled, "set_anomaly_enabled", "enabled", 1)
    _flag(check_nan, "set_anomaly_enabled", "check_nan", 2)
    _check_nan = check_nan
    autograd._anomaly = _Anomaly(check_nan) if enabled else None
    autograd.set_record_step("anomaly", _trace if enabled else None)


def is_anomaly_enabled():
    return autograd._anomaly is not None


def is_anomaly_check_nan_enabled():
    return _check_nan


class detect_anomaly:
    """Context manager that turns anomaly detection on (see the module notes) and restores the
    previous mode on exit; it warns, as torch's, that the mode slows every op down."""

    def __init__(self, check_nan=True):
        self.prev, self.prev_check_nan = is_anomaly_enabled(), _check_nan
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self):
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)
        return False


class set_detect_anomaly:
    """Set anomaly detection on or off now, as a call or as a context manager that restores the
    previous mode on exit (torch's ``set_detect_anomaly``)."""

    def __init__(self, mode, check_nan=True):
        self.prev, self.prev_check_nan = is_anomaly_enabled(), _check_nan
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)
        return False
