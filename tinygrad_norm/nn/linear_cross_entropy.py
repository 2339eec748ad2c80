"""LinearCrossEntropyLoss, as torch 2.13's ``torch.nn``: a Linear head (no bias by default) whose
logits go straight into cross entropy, through ``F.linear_cross_entropy``. The head is stored
flat -- ``linear.weight`` (C * prod(out_features), in_features), as torch's -- and reshaped to
(C, *out_features, in_features) on each call."""
from __future__ import annotations

import math
import numbers

from .. import devices as _devices
from ..functional._checks import _flag
from ..functional.linear_cross_entropy import LinearCrossEntropyOptions, linear_cross_entropy
from .linear import Linear
from .loss import _Loss

__all__ = ["LinearCrossEntropyLoss", "LinearCrossEntropyOptions"]

_CLS = "LinearCrossEntropyLoss"


def _out_features(v):
    if not isinstance(v, (tuple, list)) or any(
            isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 0 for d in v):
        raise TypeError(f"{_CLS}: out_features must be a tuple of non-negative ints, got {v!r}")
    return tuple(int(d) for d in v)


class LinearCrossEntropyLoss(_Loss):
    """Cross entropy of ``self.linear(input)`` (reshaped to (N, C, *out_features)) against
    ``target``; ``weight``, ``ignore_index`` (None: -100), ``label_smoothing`` and ``options`` as
    ``F.linear_cross_entropy``."""

    def __init__(self, in_features, num_classes, *, out_features=(), bias=False, device=None,
                 dtype=None, reduction="mean", weight=None, ignore_index=None,
                 label_smoothing=0.0, options=None):
        _devices.check_device(device, _CLS)  # before any parameter is made or drawn
        out_features = _out_features(out_features)
        bias = _flag(bias, "bias", _CLS)
        shape = tuple(getattr(weight, "shape", ()))
        if weight is not None and shape != (num_classes,):
            raise ValueError(f"expected weight shape to be {(num_classes,)}, got {shape}")
        if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real):
            raise TypeError(f"{_CLS}: label_smoothing must be a float, got "
                            f"{type(label_smoothing).__name__}")
        if not 0 <= label_smoothing <= 1.0:
            raise ValueError(f"expected label_smoothing to be in range [0, 1], got "
                             f"{label_smoothing}")
        if options is not None and not isinstance(options, LinearCrossEntropyOptions):
            raise TypeError(f"{_CLS}: options must be a LinearCrossEntropyOptions or None, got "
                            f"{type(options).__name__}")
        super().__init__(reduction)
        self._register_weight("weight", weight)
        self.num_classes, self.out_features = num_classes, out_features
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing
        self.linear = Linear(in_features, math.prod(out_features, start=num_classes), bias=bias,
                             dtype=dtype)
        self.options = options

    def forward(self, input, target):
        lead = (self.num_classes, *self.out_features)
        w = self.linear.weight.reshape(*lead, self.linear.in_features)
        b = None if self.linear.bias is None else self.linear.bias.reshape(*lead)
        return linear_cross_entropy(input, w, target, linear_bias=b, weight=self.weight,
                                    reduction=self.reduction, ignore_index=self.ignore_index,
                                    label_smoothing=self.label_smoothing, options=self.options)

    def extra_repr(self):
        return (f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
                f"reduction={self.reduction}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}, options={self.options}")
