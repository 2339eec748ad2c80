"""Model and training helpers shared by the experiments.

``models.build_model`` and ``training.fit`` serve the ``train`` command: fixed ReLU blocks with
the norm before the activation, epoch-level history. The experiments need more control -- the
activation, the weight initialization, where the norm sits, mini-batches drawn with replacement,
evaluation every few steps, hooks on a layer's input -- so the MLP builder and the step loop
live here, built from the same ``nn`` layers and ``optim`` optimizers.
"""
from __future__ import annotations

import math

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..nn.module import _evaluating
from ..tensor import Tensor

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


class Diverged(FloatingPointError):
    """A training loss that is no longer finite."""


def seed_all(seed):
    """Seed the framework generator (parameters, dropout masks) and return a NumPy generator
    for the experiment's own draws (mini-batches, noise)."""
    from ..random import manual_seed

    manual_seed(seed)
    return np.random.default_rng(seed + 10_000)


# ------------------------------------------------------------------------------------------------
# models
# ------------------------------------------------------------------------------------------------

def init_std(init, fan_in):
    """The std of a named initialization for a layer with ``fan_in`` inputs.

    ``"xavier"`` is "Deep Learning from Scratch"'s Xavier, sqrt(1 / fan_in) (Glorot's with
    fan_out = fan_in); ``"he"`` is sqrt(2 / fan_in); a number is the std itself."""
    if isinstance(init, str):
        if init == "xavier":
            return math.sqrt(1.0 / fan_in)
        if init == "he":
            return math.sqrt(2.0 / fan_in)
        raise ValueError(f"unknown init {init!r}; use 'xavier', 'he' or a number")
    return float(init)


def init_linear(layer, init):
    """Weights ~ N(0, std^2) for the named init (None keeps PyTorch's default) and zero bias."""
    if init is None:
        return layer
    nn.init.normal_(layer.weight, 0.0, init_std(init, layer.in_features))
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


def norm_layer(norm, width, groups=None):
    if norm == "batch":
        return nn.BatchNorm1d(width)
    if norm == "layer":
        return nn.LayerNorm(width)
    if norm == "group":
        return nn.GroupNorm(groups or 8, width)
    if callable(norm):
        return norm(width)
    raise ValueError(f"unknown norm {norm!r}")


def mlp(sizes, activation="relu", norm=None, placement="before", init=None, dropout=0.0,
        inverted=True, bias=True, groups=None, extra=None):
    """An MLP ``sizes[0] -> sizes[1] -> ... -> sizes[-1]`` as an ``nn.Sequential``.

    Each hidden layer is ``Linear -> norm -> activation -> Dropout`` (``placement="before"``,
    Ioffe & Szegedy) or ``Linear -> activation -> norm -> Dropout`` (``"after"``). A Linear that a
    batch norm directly follows gets no bias (the norm removes it; its beta takes over).
    ``extra(width)``, if given, is a module inserted right after each norm (the noise of the
    covariate-shift experiment). ``init``: None (PyTorch's default), ``"he"``, ``"xavier"`` or
    a std, applied to every Linear with zero biases."""
    act = ACTIVATIONS[activation]
    layers = []
    for i, (fan_in, width) in enumerate(zip(sizes[:-2], sizes[1:-1])):
        lin_bias = bias and not (norm == "batch" and placement == "before")
        layers.append(init_linear(nn.Linear(fan_in, width, bias=lin_bias), init))
        block = [act()]
        if norm is not None:
            normed = [norm_layer(norm, width, groups)]
            if extra is not None:
                normed.append(extra(width))
            block = normed + block if placement == "before" else block + normed
        layers += block
        if dropout > 0:
            layers.append(nn.Dropout(dropout, inverted=inverted))
    layers.append(init_linear(nn.Linear(sizes[-2], sizes[-1], bias=bias), init))
    return nn.Sequential(*layers)


def forward_collect(model, x, kinds=(nn.ReLU, nn.Sigmoid, nn.Tanh), batch_stats=False):
    """Run ``model`` (a Sequential) on ``x`` and also return the inputs of its activation layers
    (the pre-activations), in order: ``(output, [input of each activation])``.

    ``batch_stats=True`` normalizes every batch norm with the statistics of ``x`` itself,
    without touching the running estimates (the "training-mode" view of a fixed set, as
    Ioffe & Szegedy's Fig. 1 measures); otherwise each layer runs in its current mode."""
    from .. import functional as F

    inputs = []
    h = x if isinstance(x, Tensor) else Tensor(np.asarray(x, dtype=np.float32))
    for layer in model:
        if isinstance(layer, kinds):
            inputs.append(h)
        if batch_stats and isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            h = F.batch_norm(h, None, None, layer.weight, layer.bias, True, eps=layer.eps)
        else:
            h = layer(h)
    return h, inputs


# ------------------------------------------------------------------------------------------------
# training
# ------------------------------------------------------------------------------------------------

def cross_entropy(logits, target):
    from ..functional import cross_entropy as ce

    return ce(logits, target)


def train_step(model, optimizer, xb, yb):
    """One step on the batch ``(xb, yb)`` (arrays or Tensors); returns the loss as a float.

    Raises :class:`Diverged` if the loss is not finite (before the update)."""
    xb = xb if isinstance(xb, Tensor) else Tensor(np.asarray(xb, dtype=np.float32))
    yb = yb if isinstance(yb, Tensor) else Tensor(yb)
    optimizer.zero_grad()
    loss = cross_entropy(model(xb), yb)
    value = float(loss.item())
    if not math.isfinite(value):
        raise Diverged(f"loss is {value}")
    loss.backward()
    optimizer.step()
    return value


def epoch_batches(rng, n, batch_size, drop_last=False):
    """Index arrays of one epoch: a fresh permutation cut into batches. ``drop_last`` drops a
    short last batch; otherwise only a last batch of a single sample is left out (batch norm
    cannot train on one sample)."""
    order = rng.permutation(n)
    stop = n - n % batch_size if drop_last else n
    return [order[i:i + batch_size] for i in range(0, stop, batch_size)
            if len(order[i:i + batch_size]) > (1 if not drop_last else 0)]


def evaluate(model, X, y, batch_size=1000):
    """``(mean cross-entropy, accuracy)`` in eval mode, without a graph. NaN logits count as
    wrong answers (argmax of NaN is 0) and give a NaN loss."""
    total, correct = 0.0, 0
    with _evaluating(model), no_grad(), np.errstate(all="ignore"):
        for i in range(0, len(X), batch_size):
            xb = Tensor(np.asarray(X[i:i + batch_size], dtype=np.float32))
            logits = model(xb)
            total += float(cross_entropy(logits, Tensor(y[i:i + batch_size])).item()) * len(xb)
            correct += int(np.count_nonzero(np.argmax(logits.data, axis=1) == y[i:i + batch_size]))
    return total / len(X), correct / len(X)


def evaluate_batch_stats(model, X, y):
    """``(mean cross-entropy, accuracy)`` with every batch norm normalizing by the statistics
    of ``X`` itself rather than by its running averages ("precise BN", Wu & Johnson 2021);
    every other layer in eval mode, no graph, no running estimate touched.

    The loss of what the weights have learned so far: early in training the running averages
    still hold much of their initial (0, 1) -- 0.9^11 = 31% after the 11 updates of one epoch at
    batch 128 on digits -- and ``evaluate`` then measures that lag, not the network (it put
    batch norm's epoch-1 training loss at 1.82 where its own statistics give 0.50)."""
    with _evaluating(model), no_grad(), np.errstate(all="ignore"):
        logits, _ = forward_collect(model, X, batch_stats=True)
        loss = float(cross_entropy(logits, Tensor(np.asarray(y))).item())
        correct = int(np.count_nonzero(np.argmax(logits.data, axis=1) == np.asarray(y)))
    return loss, correct / len(X)


def sgd(model, lr, momentum=0.0):
    from ..optim import SGD

    return SGD(list(model.parameters()), lr=lr, momentum=momentum)


def adam(model, lr=1e-3):
    from ..optim import Adam

    return Adam(list(model.parameters()), lr=lr)


def mean_std(values):
    a = np.asarray(values, dtype=np.float64)
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0

