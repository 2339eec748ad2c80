"""Dropout as a composite: a boolean keep-mask drawn from the framework's generator, applied as a
select (``where(mask, input * scale, 0)``).

A select, not a multiplication by the mask, so that a dropped unit gets exactly 0 -- in the output
and in the gradient -- even where the input or the upstream gradient is inf or NaN. The gradient
itself is the ``where`` primitive's; nothing is written here.

Two forms, chosen by ``inverted``:

* ``inverted=True`` (PyTorch, the default): training keeps a unit with probability ``1-p`` and
  scales it by ``1/(1-p)``; eval is the identity.
* ``inverted=False`` (classic: Srivastava et al. 2014, "Deep Learning from Scratch"): training
  keeps units unscaled; eval multiplies the output by ``1-p``.

Both have the same expectation at test time. ``inverted`` is keyword-only: PyTorch's fourth
positional parameter is ``inplace``, and ``dropout(x, 0.5, True, False)`` ported from PyTorch must
fail loudly, not silently train classic dropout.

The mask is ``random.keep_mask``'s draw (one random bit per element for ``p = 0.5``, random
bytes thresholded as uint8 elsewhere on a 1/256 grid, else a 32-bit uniform), the same draw as
``reference.dropout_forward``, so one seed gives both the same mask. No number is drawn in eval,
nor for ``p`` 0 or 1.

For the graph exporter: each function runs inside a scope named after it (``"dropout"``,
``"dropout1d"``, ``"dropout2d"``, ``"dropout3d"``, ``"alpha_dropout"``, with ``p``, ``training``
and ``inverted``), and the mask is
a bool Tensor named ``"dropout mask"``, the first argument of the ``where``.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import _argname
from .. import random as _random
from ..autograd import scope
from ..tensor import Tensor, where
from ._checks import _flag  # training="False" trained, inverted=None was classic dropout

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout"]

MASK_NAME = "dropout mask"

# SELU's negative saturation value -lambda*alpha (Klambauer et al. 2017), as in PyTorch.
_ALPHA_PRIME = -1.7580993408473766


def _check_p(p, fn):
    if type(p) is float and 0.0 <= p <= 1.0:  # the usual case, without the ABC checks below
        return p
    if isinstance(p, Tensor):
        if p.size != 1:  # item() would fail without naming p
            raise TypeError(f"{fn}(): p must be a real number, got a Tensor of shape {p.shape}")
        p = p.item()
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{fn}(): p must be a real number, got {type(p).__name__}")
    given, p = p, float(p)
    if not 0.0 <= p <= 1.0:  # also False for NaN
        caller, arg = _argname.caller(given)  # "dropout_p" of scaled_dot_product_attention
        head = f"{caller}(): {arg}: " if arg not in (None, "p") else ""
        raise ValueError(f"{head}dropout probability has to be between 0 and 1, but got {p}")
    return p


def _check_input(input, fn):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{fn}(): input must be floating point, got dtype {input.dtype}; convert "
                        f"it first (x.astype(np.float32))")


def _mask(shape, p):
    """The keep-mask (True where a unit survives, probability 1 - p), as a named bool Tensor.
    Drawn by ``random.keep_mask``, exactly as ``reference.dropout_forward`` draws it."""
    m = Tensor._wrap(_random.keep_mask(shape, p))
    m.name = MASK_NAME
    return m


def _no_mask(shape):
    """p == 1: every unit dropped. Still a mask and a select, so the gradient is exactly 0."""
    m = Tensor._wrap(np.zeros(shape, dtype=bool))
    m.name = MASK_NAME
    return m


def _apply(input, mask, scale):
    kept = input * _in_dtype(input, scale) if scale != 1.0 else input
    return where(mask, kept, 0.0)


def _in_dtype(input, scale):
    """The scale rounded to a float16 input's dtype first, as PyTorch's dropout kernel and the
    reference multiply by it (a float16 tensor times a Python number otherwise computes in
    float32 and rounds once: 1 ulp apart in a quarter of the elements)."""
    return float(np.float16(scale)) if input._data.dtype == np.float16 else scale


def dropout(input, p=0.5, training=True, inplace=False, *, inverted=True):
    """Zero each element with probability ``p`` while training (see the module notes for the
    inverted and classic forms). ``p == 0`` returns ``input`` itself; ``p == 1`` gives zeros.
    ``inplace``: torch's, the result written into ``input`` (``_written``)."""
    p = _check_p(p, "dropout")
    _check_input(input, "dropout")
    if inplace is not False and _flag(inplace, "inplace", "dropout"):
        return _written(input, "dropout", lambda t: dropout(t, p, training, inverted=inverted),
                        p, training, inverted)
    training, inverted = _flag(training, "training", "dropout"), _flag(inverted, "inverted",
                                                                        "dropout")
    with scope("dropout", p=p, training=training, inverted=inverted):
        if not training:
            if inverted or p == 0.0:
                return input
            if p == 1.0:  # classic: output times 0, as a select (0 * inf would be NaN)
                return _apply(input, _no_mask(input.shape), 1.0)
            return input * _in_dtype(input, 1.0 - p)  # classic: the output carries the keep rate
        if p == 0.0:
            return input
        if p == 1.0:
            return _apply(input, _no_mask(input.shape), 1.0)
        return _apply(input, _mask(input.shape, p), 1.0 / (1.0 - p) if inverted else 1.0)


def _written(input, fn, run, p, training, inverted=True):
    """torch's ``inplace=True``: ``run(input)`` written into ``input``'s array and ``input``
    returned; on a tensor that requires grad the write is recorded (inplace_record.py; the
    select and the scale read neither the values before, so nothing is copied). Where the
    result is ``input`` itself (``p == 0``, eval mode, no elements) nothing is written and
    ``input`` comes back untouched, as torch's kernels return early there: a leaf that requires
    grad is no error then (``F.dropout(x, 0.0, True, True)`` on a parameter), and nothing is
    recorded."""
    if p == 0.0 or input._data.size == 0 or (not _flag(training, "training", fn)
                                             and _flag(inverted, "inverted", fn)):
        return input
    return input._apply_(f"{fn}_", run, copy_old=False)


def _channel_dropout(input, p, training, inverted, fn, spatial):
    """Zero whole channels: one draw per (sample, channel), or per channel of an unbatched
    input, broadcast over the ``spatial`` trailing axes."""
    training, inverted = _flag(training, "training", fn), _flag(inverted, "inverted", fn)
    with scope(fn, p=p, training=training, inverted=inverted):
        shape = input.shape[:-spatial] + (1,) * spatial
        if not training:
            if inverted or p == 0.0:
                return input
            if p == 1.0:
                return _apply(input, _no_mask(shape), 1.0)
            return input * _in_dtype(input, 1.0 - p)
        if p == 0.0:
            return input
        if p == 1.0:
            return _apply(input, _no_mask(shape), 1.0)
        return _apply(input, _mask(shape, p), 1.0 / (1.0 - p) if inverted else 1.0)


def _check_rank(input, fn, spatial, names):
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{fn}: expected a {spatial + 1}-D ({names}) or {spatial + 2}-D "
                         f"(N, {names}) input, got {input.ndim}-D input of shape {input.shape}")


def dropout1d(input, p=0.5, training=True, inplace=False, *, inverted=True):
    """Zero whole channels of an (N, C, L) input, or of an unbatched (C, L) one: one draw per
    (sample, channel), broadcast over L. Other ranks are a ValueError (PyTorch: RuntimeError)."""
    p = _check_p(p, "dropout1d")
    _check_input(input, "dropout1d")
    _check_rank(input, "dropout1d", 1, "C, L")
    if inplace is not False and _flag(inplace, "inplace", "dropout1d"):
        return _written(input, "dropout1d", lambda t: dropout1d(t, p, training, inverted=inverted),
                        p, training, inverted)
    return _channel_dropout(input, p, training, inverted, "dropout1d", 1)


def dropout2d(input, p=0.5, training=True, inplace=False, *, inverted=True):
    """Zero whole channels: one draw per (sample, channel) of an (N, C, H, W) input, or per channel
    of an unbatched (C, H, W) one, broadcast over H and W.

    A 3-D input is (C, H, W). PyTorch 2.13 still reads it as (N, C, L) with a warning, and
    announces (C, H, W) for a future release; this takes the announced meaning. Other ranks are a
    ValueError here (PyTorch warns and runs)."""
    p = _check_p(p, "dropout2d")
    _check_input(input, "dropout2d")
    _check_rank(input, "dropout2d", 2, "C, H, W")
    if inplace is not False and _flag(inplace, "inplace", "dropout2d"):
        return _written(input, "dropout2d", lambda t: dropout2d(t, p, training, inverted=inverted),
                        p, training, inverted)
    if input.ndim == 3:  # in eval too, as PyTorch warns
        # Said aloud: code ported from PyTorch 2.13 expects (N, C, L) and would get other masks.
        warnings.warn("dropout2d: a 3-D input is read as unbatched (C, H, W), one draw per channel "
                      "(PyTorch 2.13 reads it as (N, C, L)); pass (N, C, H, W) to drop per sample "
                      "and channel", UserWarning, stacklevel=2)
    return _channel_dropout(input, p, training, inverted, "dropout2d", 2)


def dropout3d(input, p=0.5, training=True, inplace=False, *, inverted=True):
    """Zero whole channels of an (N, C, D, H, W) input, or of an unbatched (C, D, H, W) one (as
    PyTorch reads a 4-D input): one draw per (sample, channel), broadcast over D, H and W. Other
    ranks are a ValueError (PyTorch warns and runs)."""
    p = _check_p(p, "dropout3d")
    _check_input(input, "dropout3d")
    _check_rank(input, "dropout3d", 3, "C, D, H, W")
    if inplace is not False and _flag(inplace, "inplace", "dropout3d"):
        return _written(input, "dropout3d", lambda t: dropout3d(t, p, training, inverted=inverted),
                        p, training, inverted)
    return _channel_dropout(input, p, training, inverted, "dropout3d", 3)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout (for SELU networks), PyTorch's formula: a dropped unit becomes SELU's
    saturation value, then an affine map ``a * v + b`` restores zero mean and unit variance:
    ``a = ((1-p) * (1 + p * alpha'^2))^(-1/2)``, ``b = -a * alpha' * p``.

    Like PyTorch, the default is ``training=False`` (the identity). Unlike PyTorch (a multiply by
    the mask), the mask is a select: a dropped unit is exactly ``a * alpha' + b`` and gets gradient
    0 even where the input or the upstream gradient is NaN or inf."""
    p = _check_p(p, "alpha_dropout")
    _check_input(input, "alpha_dropout")
    if inplace is not False and _flag(inplace, "inplace", "alpha_dropout"):
        return _written(input, "alpha_dropout", lambda t: alpha_dropout(t, p, training),
                        p, training)
    training = _flag(training, "training", "alpha_dropout")
    with scope("alpha_dropout", p=p, training=training, inverted=True):
        if not training or p == 0.0:
            return input
        if p == 1.0:
            return _apply(input, _no_mask(input.shape), 1.0)
        a = 1.0 / math.sqrt((1.0 - p) * (1.0 + p * _ALPHA_PRIME * _ALPHA_PRIME))
        b = -a * _ALPHA_PRIME * p
        mask = _mask(input.shape, p)
        return where(mask, input * a + b, a * _ALPHA_PRIME + b)
