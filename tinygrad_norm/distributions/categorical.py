"""Categorical(probs or logits), as ``torch.distributions.Categorical``: an index in
``0 .. K-1`` drawn with the probabilities of the last axis."""
from __future__ import annotations

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..shaping import broadcast_tensors
from ..tensor import Tensor
from . import constraints
from .bernoulli import _one_of
from .distribution import Distribution
from .utils import lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Categorical"]


def _tensor_arg(x, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"Categorical: {name} must be a Tensor, got {type(x).__name__}")
    if x.ndim < 1:
        raise ValueError(f"`{name}` parameter must be at least one-dimensional.")
    return x


_CHUNK = 1 << 22  # booleans compared at once when drawing


def draw_indices(probs, n):
    """``n`` indices per row of ``probs`` (rows, K), shape (n, rows), by the inverse of each
    row's cumulative sum: a uniform u in (0, 1] picks the first category whose cumulative
    probability reaches u, so a category of probability 0 is never drawn. The comparisons are
    made a few draws at a time, so memory stays near 4M booleans however many are asked for."""
    cdf = np.cumsum(probs, axis=-1, dtype=np.float64)
    cdf /= cdf[:, -1:]  # sums that are not exactly 1 (and float32 rounding) cannot overshoot
    u = 1.0 - _random.generator().random((n, probs.shape[0]))
    out = np.empty(u.shape, dtype=np.int64)
    step = max(1, _CHUNK // max(1, cdf.size))
    for i in range(0, n, step):
        out[i:i + step] = (u[i:i + step, :, None] > cdf).sum(-1)
    return out


class Categorical(Distribution):
    """The categorical distribution over ``probs.shape[-1]`` categories."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            probs = _tensor_arg(probs, "probs")
            self.probs = probs / probs.sum(-1, keepdim=True)
            self._param = self.probs
        else:
            logits = _tensor_arg(logits, "logits")
            self.logits = logits - logits.logsumexp(-1, keepdim=True)  # normalised
            self._param = self.logits
        self._num_events = self._param.shape[-1]
        super().__init__(self._param.shape[:-1], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Categorical, _instance)
        batch_shape = tuple(batch_shape)
        for name in ("probs", "logits"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(batch_shape + (self._num_events,)))
                new._param = new.__dict__[name]
        new._num_events = self._num_events
        return self._finish_expand(Categorical, new, batch_shape)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def mean(self):
        return Tensor(np.full(self._extended_shape(), np.nan, dtype=self.probs.dtype))

    variance = mean

    @property
    def mode(self):
        return self.probs.argmax(-1)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            rows = self.probs.data.reshape(-1, self._num_events)
            n = int(np.prod(shape[:len(shape) - len(self._batch_shape)], dtype=np.int64))
            return Tensor(draw_indices(rows, n).astype(np.int64).reshape(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        index = Tensor(value.data.astype(np.int64)[..., None])
        index, log_pmf = broadcast_tensors(index, self.logits)
        return log_pmf.gather(-1, index[..., :1]).squeeze(-1)

    def entropy(self):
        # a probability of 0 has logit -inf: clamped, its term p * logit is 0, not NaN
        logits = self.logits.clip(float(np.finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = Tensor(np.arange(self._num_events, dtype=np.int64).reshape(
            (-1,) + (1,) * len(self._batch_shape)))
        return values.expand((self._num_events,) + self._batch_shape) if expand else values
