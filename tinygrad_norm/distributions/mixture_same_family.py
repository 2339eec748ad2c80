"""MixtureSameFamily(mixture, components), as ``torch.distributions.MixtureSameFamily``: a
mixture of ``k`` distributions of one family, the components being the last batch axis of
``component_distribution`` and their weights a ``Categorical`` (a mixture density network's
output, a Gaussian mixture model). ``log_prob`` is the log-sum-exp of the components' log
densities plus the log weights, a composite: gradients reach both the weights and the
components' parameters through the tape. No ``rsample`` (picking a component is discrete)."""
from __future__ import annotations

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor
from .categorical import Categorical
from .distribution import Distribution, _shape

__all__ = ["MixtureSameFamily"]


class MixtureSameFamily(Distribution):
    """Components: ``component_distribution``'s last batch axis; weights:
    ``mixture_distribution`` (a ``Categorical`` over as many categories)."""
    arg_constraints = {}
    has_rsample = False

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        # torch raises ValueError for both type checks; its words
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(" The Mixture distribution needs to be an  instance of "
                             "torch.distributions.Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("The Component distribution needs to be an instance of "
                             "torch.distributions.Distribution")
        if len(component_distribution.batch_shape) < 1:
            raise ValueError("MixtureSameFamily: component_distribution needs a batch axis "
                             "for the components, got batch_shape ()")
        mdbs = tuple(mixture_distribution.batch_shape)
        cdbs = tuple(component_distribution.batch_shape[:-1])
        for a, b in zip(reversed(mdbs), reversed(cdbs)):
            if a != 1 and b != 1 and a != b:
                raise ValueError(f"`mixture_distribution.batch_shape` ({_size(mdbs)}) is not "
                                 f"compatible with `component_distribution.batch_shape`"
                                 f"({_size(cdbs)})")
        km = mixture_distribution.logits.shape[-1]
        kc = component_distribution.batch_shape[-1]
        if km != kc:
            raise ValueError(f"`mixture_distribution component` ({km}) does not equal "
                             f"`component_distribution.batch_shape[-1]` ({kc})")
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        self._num_component = km
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(cdbs, component_distribution.event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MixtureSameFamily, _instance)
        batch_shape = tuple(batch_shape)
        new._component_distribution = self._component_distribution.expand(
            batch_shape + (self._num_component,))
        new._mixture_distribution = self._mixture_distribution.expand(batch_shape)
        new._num_component, new._event_ndims = self._num_component, self._event_ndims
        return self._finish_expand(MixtureSameFamily, new, batch_shape,
                                   new._component_distribution.event_shape)

    @property
    def mixture_distribution(self):
        return self._mixture_distribution

    @property
    def component_distribution(self):
        return self._component_distribution

    @property
    def support(self):
        # a value is in the mixture's support where it is in the components' (one family)
        return self._component_distribution.support

    @property
    def mean(self):
        probs = self._pad_mixture_dimensions(self._mixture_distribution.probs)
        return (probs * self._component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self):
        """The law of total variance: the mean of the components' variances plus the
        variance of their means."""
        probs = self._pad_mixture_dimensions(self._mixture_distribution.probs)
        comp = self._component_distribution
        axis = -1 - self._event_ndims
        mean_of_var = (probs * comp.variance).sum(axis)
        var_of_mean = (probs * (comp.mean - self._pad(self.mean)) ** 2).sum(axis)
        return mean_of_var + var_of_mean

    def cdf(self, x):
        cdf_x = self._component_distribution.cdf(self._pad(x))
        return (cdf_x * self._mixture_distribution.probs).sum(-1)

    def log_prob(self, x):
        if self._validate_args:
            self._validate_sample(x)
        log_prob_x = self._component_distribution.log_prob(self._pad(x))       # [S, B, k]
        log_mix = self._mixture_distribution.logits                              # normalised
        return (log_prob_x + log_mix).logsumexp(-1)                               # [S, B]

    def sample(self, sample_shape=()):
        """A component index per draw from the mixture, then that component's draw (both
        from the package generator; no gradient)."""
        with no_grad():
            sample_shape = _shape(sample_shape, "sample_shape")
            idx = self._mixture_distribution.sample(sample_shape).data
            comp = self._component_distribution.sample(sample_shape).data       # [S, B, k, E]
            axis = len(sample_shape) + len(self._batch_shape)
            # a mixture with fewer batch axes than the components: its draws broadcast
            missing = len(self._batch_shape) - len(self._mixture_distribution.batch_shape)
            idx = idx.reshape(idx.shape[:len(sample_shape)] + (1,) * missing
                              + idx.shape[len(sample_shape):])
            idx = np.broadcast_to(idx, comp.shape[:axis])
            idx = idx.reshape(idx.shape + (1,) * (1 + self._event_ndims))
            idx = np.broadcast_to(idx, comp.shape[:axis] + (1,) + comp.shape[axis + 1:])
            return Tensor(np.take_along_axis(comp, idx, axis=axis).squeeze(axis))

    def _pad(self, x):
        return x.unsqueeze(-1 - self._event_ndims)

    def _pad_mixture_dimensions(self, x):
        """The weights (..., k) reshaped to broadcast against the components' (B, k, E)."""
        dist_batch_ndims = len(self._batch_shape)
        cat_batch_ndims = len(self._mixture_distribution.batch_shape)
        pad_ndims = 0 if cat_batch_ndims == 1 else dist_batch_ndims - cat_batch_ndims
        xs = tuple(x.shape)
        return x.reshape(xs[:-1] + (1,) * pad_ndims + xs[-1:] + (1,) * self._event_ndims)

    def __repr__(self):
        return (f"MixtureSameFamily(\n  {self._mixture_distribution},\n  "
                f"{self._component_distribution})")


def _size(shape):
    return f"torch.Size([{', '.join(str(s) for s in shape)}])"
