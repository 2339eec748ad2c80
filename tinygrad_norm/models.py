"""Ready-made models for the ``train`` command: a small MLP and a small CNN, each with a choice of
normalization (none, batch, layer, rms, group, instance) and dropout (inverted or classic).

``build_model`` returns a plain ``nn.Sequential``, so the layers can be inspected, hooked, drawn
(``tinygrad_norm.viz``) and saved (``state_dict``) like any hand-built model.

Where each normalization goes
-----------------------------
Every hidden ``Linear``/``Conv2d`` is followed by ``norm -> ReLU`` (the order of Ioffe & Szegedy,
2015), and dropout sits after the ReLU of each hidden layer of the MLP, and before the classifier
of the CNN. A layer that a batch or instance norm follows gets no bias: the norm subtracts the
per-feature (per-channel) mean, which removes any constant bias, and its own ``beta`` takes over.

=========  ===========================  ==============================================
norm       MLP, input (N, F)            CNN, input (N, C, H, W)
=========  ===========================  ==============================================
batch      ``BatchNorm1d(F)``           ``BatchNorm2d(C)``
layer      ``LayerNorm(F)``             ``LayerNorm((C, H, W))``: every unit of the layer,
                                        as in Ba et al. (2016)
rms        ``RMSNorm(F)``               ``RMSNorm((C, H, W))``: layer norm's units, no
                                        centring (Zhang & Sennrich, 2019)
group      ``GroupNorm(G, F)``          ``GroupNorm(G, C)``
instance   -- (``ValueError``)          ``InstanceNorm2d(C, affine=True)``
=========  ===========================  ==============================================

``G`` (``groups``) defaults to the largest of 8, 4, 2 that leaves at least two channels per group
(128 features -> 8 groups of 16; 16 channels -> 8 groups of 2).

Instance norm normalizes each channel of each sample over its *spatial* positions. The features of
an MLP have no spatial axis: over a single position the statistics are the value itself and the
output is identically ``beta``; treating all features as the positions of one channel is exactly
layer norm (with a scalar affine). Neither is instance norm, so ``build_model("mlp",
norm="instance")`` raises a ``ValueError`` that says so (use ``model="cnn"``, or ``norm="layer"``).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import nn
from .nn.linear import _float_dtype

__all__ = ["MODELS", "NORMS", "build_model", "default_hidden"]

MODELS = ("mlp", "cnn")
NORMS = ("none", "batch", "layer", "rms", "group", "instance")

_DEFAULT_HIDDEN = {"mlp": (128, 128), "cnn": (16, 32)}


def default_hidden(model):
    """The default ``hidden`` of ``model``: the MLP's layer widths, or the CNN's channel counts."""
    _check_choice(model, MODELS, "model")
    return _DEFAULT_HIDDEN[model]


def _check_choice(value, choices, name):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def _check_positive_int(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _num_groups(channels, groups):
    if groups is not None:
        groups = _check_positive_int(groups, "groups")
        if channels % groups:
            raise ValueError(f"groups={groups} does not divide the {channels} channels of a "
                             f"hidden layer")
        return groups
    for g in (8, 4, 2):
        if channels % g == 0 and channels // g >= 2:
            return g
    return 1


def _norm_layer(norm, kind, channels, spatial, groups):
    """The normalization module for a hidden layer, or None for norm="none"."""
    if norm == "none":
        return None
    if norm == "batch":
        return nn.BatchNorm1d(channels) if kind == "mlp" else nn.BatchNorm2d(channels)
    if norm == "layer":
        return nn.LayerNorm(channels if kind == "mlp" else (channels, *spatial))
    if norm == "rms":
        return nn.RMSNorm(channels if kind == "mlp" else (channels, *spatial))
    if norm == "group":
        return nn.GroupNorm(_num_groups(channels, groups), channels)
    # norm == "instance"; the MLP case was refused by build_model before any layer was made
    return nn.InstanceNorm2d(channels, affine=True)


def _dropout(p, inverted):
    return nn.Dropout(p, inverted=inverted) if p > 0 else None


def build_model(model="mlp", norm="none", dropout=0.0, inverted=True, in_shape=(1, 8, 8),
                num_classes=10, hidden=None, dtype=np.float32, groups=None):
    """Build a classifier as an ``nn.Sequential``.

    * ``model``: ``"mlp"`` (``Flatten``, then per width in ``hidden``: ``Linear -> norm -> ReLU
      -> Dropout``, then ``Linear`` to ``num_classes``) or ``"cnn"`` (per channel count in
      ``hidden``: ``Conv2d 3x3, padding 1 -> norm -> ReLU -> MaxPool2d(2)``, then ``Flatten ->
      Dropout -> Linear`` to ``num_classes``).
    * ``norm``: ``"none"``, ``"batch"``, ``"layer"``, ``"rms"``, ``"group"`` or ``"instance"``
      (CNN only); see the module docstring for the layer each one becomes.
    * ``dropout``: the drop probability in [0, 1); 0 adds no Dropout layer. ``inverted=True``
      scales kept units by 1/(1-p) while training (PyTorch); ``False`` is classic dropout, which
      scales by (1-p) at evaluation instead.
    * ``in_shape``: one sample's shape, ``(C, H, W)`` (the MLP flattens it, so ``(64,)`` works
      too); ``hidden``: widths (MLP) or channel counts (CNN), default ``default_hidden(model)``.
    * ``dtype``: the parameters' floating type; ``groups``: the group norm's group count
      (default: see the module docstring).

    Parameters are drawn from the framework generator: call ``tinygrad_norm.manual_seed`` first
    for a reproducible model. Every argument is checked before any layer is made.
    """
    _check_choice(model, MODELS, "model")
    _check_choice(norm, NORMS, "norm")
    if model == "mlp" and norm == "instance":
        raise ValueError(
            "norm='instance' needs spatial axes: instance norm normalizes each channel over its "
            "positions, and an MLP's features have none (over one position it outputs beta "
            "alone; over all features as one channel it is layer norm). Use model='cnn', or "
            "norm='layer' for an MLP")
    if isinstance(dropout, (bool, np.bool_)) or not isinstance(dropout, numbers.Real) \
            or not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
    dropout = float(dropout)
    if not isinstance(inverted, (bool, np.bool_)):
        raise TypeError(f"inverted must be a bool, got {type(inverted).__name__}")
    if isinstance(in_shape, numbers.Integral):
        in_shape = (in_shape,)
    in_shape = tuple(_check_positive_int(s, "in_shape entries") for s in in_shape)
    num_classes = _check_positive_int(num_classes, "num_classes")
    if hidden is None:
        hidden = default_hidden(model)
    elif isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        hidden = (hidden,)  # one hidden layer, as in_shape takes one int
    elif not hasattr(hidden, "__iter__") or isinstance(hidden, str):
        raise TypeError(f"build_model(): hidden must be an int or a sequence of ints, got "
                        f"{type(hidden).__name__}")
    hidden = tuple(hidden)
    hidden = tuple(_check_positive_int(h, "hidden sizes") for h in hidden)
    dtype = _float_dtype(dtype, "build_model")  # None is float32, as for every layer
    if groups is not None:  # checked whatever the norm (only group norm uses it)
        _check_positive_int(groups, "groups")

    if model == "mlp":
        layers = _mlp_layers(norm, dropout, inverted, in_shape, num_classes, hidden, groups)
    else:
        layers = _cnn_layers(norm, dropout, inverted, in_shape, num_classes, hidden, groups)
    net = nn.Sequential(*[m for m in layers if m is not None])
    return net.to(dtype)


def _mlp_layers(norm, p, inverted, in_shape, num_classes, hidden, groups):
    if norm == "group":  # check every width before making any layer
        for h in hidden:
            _num_groups(h, groups)
    layers = [nn.Flatten()]
    width = math.prod(in_shape)
    for h in hidden:
        layers += [nn.Linear(width, h, bias=norm != "batch"),
                   _norm_layer(norm, "mlp", h, (), groups),
                   nn.ReLU(),
                   _dropout(p, inverted)]
        width = h
    layers.append(nn.Linear(width, num_classes))
    return layers


def _cnn_layers(norm, p, inverted, in_shape, num_classes, hidden, groups):
    if len(in_shape) != 3:
        raise ValueError(f"model='cnn' needs in_shape=(channels, height, width), got {in_shape}")
    channels, height, width = in_shape
    if height >> len(hidden) < 1 or width >> len(hidden) < 1:
        raise ValueError(f"in_shape {in_shape} is too small for {len(hidden)} 2x2 poolings "
                         f"(one per entry of hidden={hidden})")
    if norm == "group":
        for c in hidden:
            _num_groups(c, groups)
    layers = []
    for c in hidden:
        layers += [nn.Conv2d(channels, c, kernel_size=3, padding=1,
                             bias=norm not in ("batch", "instance")),
                   _norm_layer(norm, "cnn", c, (height, width), groups),
                   nn.ReLU(),
                   nn.MaxPool2d(2)]
        channels, height, width = c, height // 2, width // 2
    layers += [nn.Flatten(), _dropout(p, inverted), nn.Linear(channels * height * width,
                                                              num_classes)]
    return layers
