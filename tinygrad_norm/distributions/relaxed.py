"""The relaxed (Concrete / Gumbel-softmax) distributions, as torch's: RelaxedBernoulli (a
sigmoid of LogitRelaxedBernoulli) and RelaxedOneHotCategorical (exp of ExpRelaxedCategorical),
reparameterised continuous stand-ins for Bernoulli and OneHotCategorical at a ``temperature``;
and OneHotCategoricalStraightThrough, a one-hot draw carrying the probabilities' gradient."""
from __future__ import annotations

import numbers

import numpy as np

from .. import random as _random
from ..tensor import Tensor
from . import constraints
from .bernoulli import BinaryParam
from .categorical import Categorical
from .distribution import Distribution
from .one_hot_categorical import OneHotCategorical
from .transformed_distribution import TransformedDistribution
from .transforms import ExpTransform, SigmoidTransform
from .utils import broadcast_all, clamp_probs

__all__ = ["ExpRelaxedCategorical", "LogitRelaxedBernoulli", "OneHotCategoricalStraightThrough",
           "RelaxedBernoulli", "RelaxedOneHotCategorical"]


def _temperature(t):
    """A number becomes a tensor (torch takes only tensors here and fails later on a number's
    missing ``log``)."""
    if isinstance(t, Tensor):
        return t
    if isinstance(t, numbers.Number) and not isinstance(t, bool):
        return broadcast_all(float(t))[0]
    raise TypeError(f"temperature must be a Tensor or a number, got {type(t).__name__}")


def _open_uniform(shape, dtype):
    """Uniforms kept off 0 and 1 (torch's clamp_probs of a rand): their logits are finite."""
    u = _random.generator().random(tuple(shape)).astype(dtype)
    return clamp_probs(Tensor(u))


class LogitRelaxedBernoulli(BinaryParam):
    """The logit of a RelaxedBernoulli draw: (logit(u) + logits) / temperature."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self.temperature = _temperature(temperature)
        self._init_param(probs, logits, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LogitRelaxedBernoulli, _instance)
        batch_shape = tuple(batch_shape)
        new.temperature = self.temperature
        self._expand_param(new, batch_shape)
        return self._finish_expand(LogitRelaxedBernoulli, new, batch_shape)

    def _reparam(self, u):
        """The draw for uniforms ``u`` (the noise, given, so tests can fix it)."""
        probs = clamp_probs(self.probs.expand(tuple(u.shape)))
        return (u.log() - (-u).log1p() + probs.log() - (-probs).log1p()) / self.temperature

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return self._reparam(_open_uniform(shape, self._param.dtype))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value * self.temperature
        return self.temperature.log() + diff - 2 * diff.exp().log1p()


class _Relaxed(TransformedDistribution):
    """A relaxed family: a transform of its base, whose parameters it reads as its own."""

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs


class RelaxedBernoulli(_Relaxed):
    """A value in (0, 1) that tends to a Bernoulli(probs) draw as ``temperature`` goes to 0."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(RelaxedBernoulli, _instance)
        return super().expand(batch_shape, _instance=new)


class ExpRelaxedCategorical(Distribution):
    """The log of a RelaxedOneHotCategorical draw: log_softmax((logits + Gumbel) / temperature)."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector  # in truth a submanifold of it, as torch says
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        self.temperature = _temperature(temperature)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(ExpRelaxedCategorical, _instance)
        batch_shape = tuple(batch_shape)
        new.temperature = self.temperature
        new._categorical = self._categorical.expand(batch_shape)
        return self._finish_expand(ExpRelaxedCategorical, new, batch_shape)

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    def _reparam(self, u):
        gumbels = -(-(u.log())).log()
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(-1, keepdim=True)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return self._reparam(_open_uniform(shape, self.logits.dtype))

    def log_prob(self, value):
        k = self._categorical._num_events
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        t = self.temperature
        # log (K-1)! + (K-1) log t: the density's normaliser
        log_scale = Tensor(np.full(t.shape, float(k), dtype=t.dtype)).lgamma() \
            + (k - 1) * t.log()
        score = logits - value * t
        score = (score - score.logsumexp(-1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(_Relaxed):
    """A point of the simplex that tends to a OneHotCategorical draw as ``temperature`` goes
    to 0 (the Gumbel-softmax)."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(RelaxedOneHotCategorical, _instance)
        return super().expand(batch_shape, _instance=new)


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical whose ``rsample`` is the one-hot draw in value and the probabilities in
    gradient (the straight-through estimator)."""
    has_rsample = True

    def rsample(self, sample_shape=()):
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())
