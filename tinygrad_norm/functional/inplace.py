"""The in-place spellings of the activations, as ``torch.nn.functional``'s ``relu_``,
``elu_``, ... : the out-of-place function computed without recording, its result written into
the input's array, the input returned. They follow ``Tensor.relu_`` and the other in-place
methods (``Tensor._apply_``): where the tape would have to record the write (the input requires
grad and grad mode is on) they raise ``RuntimeError``, as the write could not be differentiated;
bad arguments are refused before anything is written."""
from __future__ import annotations

from ..tensor import Tensor
from . import activation as _act
from .sampling import rrelu

__all__ = ["relu_", "elu_", "leaky_relu_", "hardtanh_", "celu_", "selu_", "threshold_",
           "rrelu_"]


def _in_place(input, name, fn):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): input must be a Tensor, got {type(input).__name__}")
    return input._apply_(name, fn)


def relu_(input):
    """``relu`` written into ``input``."""
    return _in_place(input, "relu_", _act.relu)


def elu_(input, alpha=1.0):
    """``elu`` written into ``input``."""
    return _in_place(input, "elu_", lambda t: _act.elu(t, alpha))


def leaky_relu_(input, negative_slope=0.01):
    """``leaky_relu`` written into ``input``."""
    return _in_place(input, "leaky_relu_", lambda t: _act.leaky_relu(t, negative_slope))


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """``hardtanh`` written into ``input``."""
    return _in_place(input, "hardtanh_", lambda t: _act.hardtanh(t, min_val, max_val))


def celu_(input, alpha=1.0):
    """``celu`` written into ``input``."""
    return _in_place(input, "celu_", lambda t: _act.celu(t, alpha))


def selu_(input):
    """``selu`` written into ``input``."""
    return _in_place(input, "selu_", _act.selu)


def threshold_(input, threshold, value):
    """``threshold`` written into ``input``."""
    return _in_place(input, "threshold_", lambda t: _act.threshold(t, threshold, value))


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """``rrelu`` written into ``input`` (training: with fresh draws from the generator)."""
    return _in_place(input, "rrelu_", lambda t: rrelu(t, lower, upper, training))
