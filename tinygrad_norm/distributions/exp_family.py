"""ExponentialFamily, as ``torch.distributions.ExponentialFamily``: the base of the families
with density h(x) exp(<theta, t(x)> - F(theta)). A subclass gives its natural parameters
``_natural_params``, the log normaliser ``_log_normalizer(*theta)`` and the carrier measure's
mean ``_mean_carrier_measure``; the entropy then follows from F and its gradient (taken on the
tape, with a graph, so the entropy stays differentiable), and so does the Bregman KL between two
members of one family."""
from __future__ import annotations

from ..autograd import enable_grad, grad
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


def _log_normalizer_and_grads(dist):
    """F(theta) at detached copies of theta, and dF/dtheta, both with graphs."""
    params = [p.detach().requires_grad_() for p in dist._natural_params]
    with enable_grad():
        f = dist._log_normalizer(*params)
        grads = grad(f.sum(), params, create_graph=True)
    return params, f, grads


class ExponentialFamily(Distribution):
    """A distribution of an exponential family; see the module's docstring."""

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """H = F(theta) - <theta, dF/dtheta> - E[log h(x)], as torch's (the gradient through
        detached natural parameters: torch's own entropy has no gradient to the distribution's
        parameters through this path either)."""
        params, f, grads = _log_normalizer_and_grads(self)
        result = f - self._mean_carrier_measure
        for p, g in zip(params, grads):
            result = result - (p * g).reshape(self._batch_shape + (-1,)).sum(-1)
        return result
