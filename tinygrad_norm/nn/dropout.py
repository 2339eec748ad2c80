"""Dropout layers: on while the module trains, off (or classic test-time scaling) in eval.

The ``repr`` shows PyTorch's fields (``p``, ``inplace``), then ``inverted`` and the mode,
``mode=train`` or ``mode=eval``.
"""
from __future__ import annotations

from .. import functional as F
from ..functional._checks import _flag
from ..functional.dropout import _check_p
from ..tensor import Tensor
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
           "FeatureAlphaDropout"]


class _DropoutNd(Module):
    _fn = "dropout"

    def __init__(self, p=0.5, inplace=False, *, inverted=True):
        super().__init__()
        checked = _check_p(p, type(self).__name__)  # checked at construction, as in PyTorch
        self.p = p if type(p) in (int, float) else checked  # Dropout(0) says p=0, as PyTorch
        self.inplace = _flag(inplace, "inplace", type(self).__name__)
        self.inverted = _flag(inverted, "inverted", type(self).__name__)

    def _check(self, input):
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: input must be a Tensor, got "
                            f"{type(input).__name__}")

    def extra_repr(self):
        return (f"p={self.p}, inplace={self.inplace}, inverted={self.inverted}, "
                f"mode={'train' if self.training else 'eval'}")


class Dropout(_DropoutNd):
    """Zero each element with probability ``p`` while training.

    ``inverted=True`` (PyTorch): kept units are scaled by ``1/(1-p)`` in training and eval is the
    identity. ``inverted=False`` (classic dropout, as in the original paper and "Deep Learning
    from Scratch"): training does not scale, eval multiplies by ``1-p``."""

    def forward(self, input):
        self._check(input)
        return F.dropout(input, self.p, self.training, self.inplace, inverted=self.inverted)


class Dropout1d(_DropoutNd):
    """Zero whole channels of an (N, C, L) or (C, L) input with probability ``p``."""

    def forward(self, input):
        self._check(input)
        return F.dropout1d(input, self.p, self.training, self.inplace, inverted=self.inverted)


class Dropout2d(_DropoutNd):
    """Zero whole channels of an (N, C, H, W) or (C, H, W) input with probability ``p``."""

    def forward(self, input):
        self._check(input)
        return F.dropout2d(input, self.p, self.training, self.inplace, inverted=self.inverted)


class Dropout3d(_DropoutNd):
    """Zero whole channels of an (N, C, D, H, W) or (C, D, H, W) input with probability ``p``."""

    def forward(self, input):
        self._check(input)
        return F.dropout3d(input, self.p, self.training, self.inplace, inverted=self.inverted)


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks, keeping zero mean and unit variance (PyTorch's formula)."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__(p, inplace, inverted=True)

    def forward(self, input):
        self._check(input)
        return F.alpha_dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}, mode={'train' if self.training else 'eval'}"


class FeatureAlphaDropout(AlphaDropout):
    """Alpha dropout of whole feature maps (one draw per sample and channel), for SELU
    convolutional networks (``F.feature_alpha_dropout``)."""

    def forward(self, input):
        self._check(input)
        return F.feature_alpha_dropout(input, self.p, self.training, self.inplace)
