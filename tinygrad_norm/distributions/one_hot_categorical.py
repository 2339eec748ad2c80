"""OneHotCategorical(probs or logits), as ``torch.distributions.OneHotCategorical``: a
Categorical whose draws are one-hot vectors (event shape ``(K,)``)."""
from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor
from . import constraints
from .categorical import Categorical
from .distribution import Distribution

__all__ = ["OneHotCategorical"]


def _one_hot(index, k, dtype):
    return Tensor((index[..., None] == np.arange(k)).astype(dtype))


class OneHotCategorical(Distribution):
    """One-hot vectors of length ``K``, the hot place drawn as Categorical(probs or logits)."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(OneHotCategorical, _instance)
        batch_shape = tuple(batch_shape)
        new._categorical = self._categorical.expand(batch_shape)
        return self._finish_expand(OneHotCategorical, new, batch_shape)

    @property
    def _param(self):
        return self._categorical._param

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def mean(self):
        return self._categorical.probs

    @property
    def mode(self):
        probs = self._categorical.probs
        return _one_hot(probs.data.argmax(-1), probs.shape[-1], probs.dtype)

    @property
    def variance(self):
        return self._categorical.probs * (1 - self._categorical.probs)

    def sample(self, sample_shape=()):
        with no_grad():
            index = self._categorical.sample(sample_shape).data
            return _one_hot(index, self._categorical._num_events, self._categorical.probs.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(Tensor(value.data.argmax(-1)))

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        n = self._event_shape[0]
        values = Tensor(np.eye(n, dtype=self._param.dtype).reshape(
            (n,) + (1,) * len(self._batch_shape) + (n,)))
        return values.expand((n,) + self._batch_shape + (n,)) if expand else values
