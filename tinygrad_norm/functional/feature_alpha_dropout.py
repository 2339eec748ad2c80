"""Feature alpha dropout, as ``torch.nn.functional.feature_alpha_dropout``: alpha dropout (SELU's
saturation value for a dropped unit, then the affine map that keeps zero mean and unit variance)
with one draw per (dim 0, dim 1) pair -- per sample and channel -- broadcast over the rest, as
``dropout2d`` is to ``dropout``. The same keep-mask, select and formula as ``alpha_dropout``
(dropout.py), so the gradient is the ``where`` primitive's; nothing is written here."""
from __future__ import annotations

import math

from ..autograd import scope
from ..tensor import where
from ._checks import _flag
from .dropout import _ALPHA_PRIME, _apply, _check_input, _check_p, _mask, _no_mask, _written

__all__ = ["feature_alpha_dropout"]


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole feature maps: dims 0 and 1 of the input (N, C, ...) each get one
    draw, kept with probability ``1 - p``; a kept map becomes ``a * x + b``, a dropped one the
    constant ``a * alpha' + b``, with ``a = ((1-p) (1 + p alpha'^2))^(-1/2)``,
    ``b = -a alpha' p`` (PyTorch's numbers). ``training`` defaults to False (the identity), as
    PyTorch's; ``p = 1`` gives zeros, as PyTorch's. Like PyTorch, an input of fewer than 2 dims
    is refused and a 4-D one is (N, C, L, ...) too: dims 0 and 1 are always the draw's."""
    fn = "feature_alpha_dropout"
    p = _check_p(p, fn)
    _check_input(input, fn)
    if inplace is not False and _flag(inplace, "inplace", fn):
        return _written(input, fn, lambda t: feature_alpha_dropout(t, p, training), p, training)
    training = _flag(training, "training", fn)
    if input.ndim < 2:
        raise ValueError(f"Feature dropout requires at least 2 dimensions in the input, got "
                         f"{input.ndim}-D input of shape {input.shape}")
    with scope(fn, p=p, training=training, inverted=True):
        if not training or p == 0.0:
            return input
        shape = input.shape[:2] + (1,) * (input.ndim - 2)
        if p == 1.0:
            return _apply(input, _no_mask(shape), 1.0)
        a = 1.0 / math.sqrt((1.0 - p) * (1.0 + p * _ALPHA_PRIME * _ALPHA_PRIME))
        b = -a * _ALPHA_PRIME * p
        return where(_mask(shape, p), input * a + b, a * _ALPHA_PRIME + b)
