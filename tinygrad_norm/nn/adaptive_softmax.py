"""AdaptiveLogSoftmaxWithLoss, as ``torch.nn``'s (Grave et al., 2016, "Efficient softmax
approximation for GPUs").

The classes are split by ``cutoffs`` into a shortlist ``[0, cutoffs[0])``, scored by the head
alone, and clusters ``[cutoffs[i], cutoffs[i + 1])``: the head scores each cluster as a whole
(one extra head output per cluster) and a small tail network, ``Linear(in_features, hsz) ->
Linear(hsz, cluster size)`` with ``hsz = in_features // div_value ** (i + 1)``, scores the classes
within it. A class's log-probability is its head log-probability, plus, in a cluster, its
log-probability within the cluster. The parameters are laid out as PyTorch's (``head``, then
``tail`` a ModuleList of Sequential(Linear, Linear)) and drawn in the same order, so a PyTorch
state dict loads as it is.

Everything is a composite of Linear, log_softmax, integer indexing and cat: the tape gives the
gradients. The targets only choose rows and columns, in NumPy."""
from __future__ import annotations

import math
import numbers
import warnings
from collections import namedtuple

import numpy as np

from .. import devices as _devices
from .. import functional as F
from ..autograd import no_grad
from ..functional._checks import _flag
from ..functions import cat
from ..tensor import Tensor
from .container import ModuleList, Sequential
from .linear import Linear, _count, _float_dtype
from .module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_CLS = "AdaptiveLogSoftmaxWithLoss"

# PyTorch's name: its repr reads _ASMoutput(output=..., loss=...)
_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


def _cutoffs(cutoffs, n_classes):
    """The cutoffs as a list of ints, checked as PyTorch checks them."""
    try:
        items = list(cutoffs)
    except TypeError:
        raise TypeError(f"{_CLS}: cutoffs must be a sequence of ints, got "
                        f"{type(cutoffs).__name__}") from None
    if not items:
        raise ValueError("cutoffs should be a sequence of length larger than 0")
    if any(isinstance(c, (bool, np.bool_)) or not isinstance(c, numbers.Real) for c in items):
        raise TypeError(f"{_CLS}: cutoffs must be a sequence of ints, got {cutoffs!r}")
    if (items != sorted(items) or min(items) <= 0 or max(items) > n_classes - 1
            or len(set(items)) != len(items) or any(int(c) != c for c in items)):
        raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in "
                         "an increasing order, where each value is between 1 and n_classes-1")
    return [int(c) for c in items]


def _div_value(v):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
        raise TypeError(f"{_CLS}: div_value must be a real number, got {type(v).__name__}")
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{_CLS}: div_value must be a positive finite number, got {v}")
    return v


def _target(target):
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{_CLS}: target must hold integer class indices, got dtype {t.dtype}")
    return t


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive log-softmax over ``n_classes`` classes split by ``cutoffs``; ``forward(input,
    target)`` gives ``(output, loss)``: each target's log-probability and the mean negative
    log-likelihood. ``log_prob(input)`` gives all classes', ``predict(input)`` the likeliest."""

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False,
                 device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__()
        self.in_features = _count(in_features, "in_features", _CLS)
        self.n_classes = _count(n_classes, "n_classes", _CLS)
        cuts = _cutoffs(cutoffs, self.n_classes)
        self.div_value = _div_value(div_value)
        self.head_bias = _flag(head_bias, "head_bias", _CLS)
        dtype = _float_dtype(dtype, _CLS)
        self.cutoffs = cuts + [self.n_classes]
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        # built (and drawn) in PyTorch's order: the head, then each cluster's two layers
        self.head = Linear(self.in_features, self.head_size, bias=self.head_bias, dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            try:
                scale = self.div_value ** (i + 1)
            except OverflowError:  # a huge div_value: a cluster of width 0 (torch: the
                scale = math.inf   # OverflowError of the power, naming nothing)
            hsz = int(self.in_features // scale)
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(self.in_features, hsz, bias=False, dtype=dtype),
                                        Linear(hsz, osz, bias=False, dtype=dtype)))

    def reset_parameters(self):
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def _check_features(self, input):
        self._check_input(input)
        if input.ndim and input.shape[-1] != self.in_features:
            raise ValueError(f"{_CLS}: input has {input.shape[-1]} features (its last "
                             f"dimension), expected in_features={self.in_features}")

    def _check_pair(self, input, t):
        """PyTorch's checks of the input and target shapes, in its order and words."""
        if t.ndim == 1:
            if input.ndim == 0 or input.shape[0] != t.shape[0]:
                raise ValueError("Input and target should have the same size in the batch "
                                 "dimension.")
            if input.ndim != 2:
                raise ValueError(f"1D target tensor expects 2D input tensors, but found inputs "
                                 f"with size {list(input.shape)}")
        elif t.ndim == 0:
            if input.ndim != 1:
                raise ValueError(f"0D target tensor expects 1D input tensors, but found inputs "
                                 f"with size {list(input.shape)}")
        else:
            raise ValueError("0D or 1D target tensor expected, multi-target not supported")
        if t.size and (t.min() < 0 or t.max() >= self.n_classes):
            raise ValueError(f"Target values should be in [0, {self.n_classes - 1}], but values "
                             f"in range [{t.min()}, {t.max()}] were found.")

    def forward(self, input, target):
        t = _target(target)
        self._check_features(input)
        self._check_pair(input, t)
        batched = t.ndim == 1
        x = input if batched else input.unsqueeze(0)
        t = t.reshape(-1)
        n = t.shape[0]
        # 0: the shortlist, i: cluster i (the head's output shortlist_size + i - 1)
        cluster = np.searchsorted(self.cutoffs, t, side="right")
        head_col = np.where(cluster == 0, t, self.shortlist_size + cluster - 1)
        head_logprob = F.log_softmax(self.head(x), dim=1)
        output = head_logprob[np.arange(n), head_col]
        within = self._within_cluster(x, t, cluster)
        if within is not None:
            output = output + within
        if n == 0:  # PyTorch's loss of an empty batch is NaN, silently
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                loss = (-output).mean()
        else:
            loss = (-output).mean()
        return _ASMoutput(output if batched else output.reshape(()), loss)

    def _within_cluster(self, x, t, cluster):
        """Each row's log-probability within its cluster (0 for a shortlist row), or None when
        every row is in the shortlist. Each tail runs on its own rows only."""
        pieces, rows = [], []
        for i in range(1, self.n_clusters + 1):
            r = np.flatnonzero(cluster == i)
            if r.size == 0:
                continue
            logprob = F.log_softmax(self.tail[i - 1](x[r]), dim=1)
            pieces.append(logprob[np.arange(r.size), t[r] - self.cutoffs[i - 1]])
            rows.append(r)
        if not pieces:
            return None
        rows = np.concatenate(rows)
        # a shortlist row reads the zero appended after the pieces
        where = np.full(t.shape[0], rows.size, dtype=np.intp)
        where[rows] = np.arange(rows.size)
        zero = Tensor(np.zeros(1, dtype=x.dtype))
        return cat(pieces + [zero])[where]

    def _full_log_prob(self, x, head_logprob):
        sl = self.shortlist_size
        parts = [head_logprob[:, :sl]]
        for i in range(self.n_clusters):
            cluster_logprob = F.log_softmax(self.tail[i](x), dim=1)
            parts.append(cluster_logprob + head_logprob[:, sl + i:sl + i + 1])
        return cat(parts, dim=1)

    def _check_matrix(self, input, fn):
        self._check_features(input)
        if input.ndim != 2:
            raise ValueError(f"{_CLS}.{fn}: input must be 2-D (batch, in_features), got shape "
                             f"{tuple(input.shape)}")

    def log_prob(self, input):
        """The (N, n_classes) log-probabilities of every class, for an (N, in_features) input."""
        self._check_matrix(input, "log_prob")
        return self._full_log_prob(input, F.log_softmax(self.head(input), dim=1))

    def predict(self, input):
        """The likeliest class of each row of an (N, in_features) input (int64), as
        ``log_prob(input).argmax(1)``: a row whose head picks a shortlist class needs no tail."""
        self._check_matrix(input, "predict")
        with no_grad():
            head_output = self.head(input)
            best = np.argmax(head_output.data, axis=1).astype(np.int64)
            rows = np.flatnonzero(best >= self.shortlist_size)
            if rows.size:
                logprob = self._full_log_prob(
                    input[rows], F.log_softmax(head_output[rows], dim=1))
                best[rows] = np.argmax(logprob.data, axis=1)
        return Tensor(best)
