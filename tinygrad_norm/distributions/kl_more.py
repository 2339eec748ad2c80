"""The KL divergences torch registers for the families added beside the first ones: each with
itself (Geometric, Pareto, ContinuousBernoulli), the Bregman divergence between two members of
one ExponentialFamily, and the pairs with Pareto and ContinuousBernoulli (infinite where the
support of p is not inside that of q). Importing this module registers them."""
from __future__ import annotations

import math

import numpy as np

from ..autograd import enable_grad, grad
from ..pointwise import xlogy
from ..tensor import where
from .beta import Beta
from .continuous_bernoulli import ContinuousBernoulli
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .gumbel import Gumbel
from .kl import _inf_like, _set, register_kl
from .laplace import Laplace
from .normal import Normal
from .pareto import Pareto
from .uniform import Uniform
from .utils import sum_rightmost

__all__ = []


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p, q):
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p, q):
    scale_ratio, alpha_ratio = p.scale / q.scale, q.alpha / p.alpha
    kl = q.alpha * scale_ratio.log() - alpha_ratio.log() + alpha_ratio - 1
    # p reaches below q's lower bound: q has no density there
    return _set(kl, p.scale.data < q.scale.data, math.inf)


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_cb_cb(p, q):
    t1 = p.mean * (p.logits - q.logits)
    t2 = p._cont_bern_log_norm() + (-p.probs).log1p()
    t3 = -q._cont_bern_log_norm() - (-q.probs).log1p()
    return t1 + t2 + t3


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_expfamily_expfamily(p, q):
    """The Bregman divergence of the log normaliser, as torch's: p's natural parameters are
    detached there, so no gradient reaches p's parameters (torch's does not either)."""
    if type(p) is not type(q):
        raise NotImplementedError("The cross KL-divergence between different exponential "
                                  "families cannot be computed using Bregman divergences")
    p_params = [t.detach().requires_grad_() for t in p._natural_params]
    q_params = q._natural_params
    with enable_grad():
        f_p = p._log_normalizer(*p_params)
        grads = grad(f_p.sum(), p_params, create_graph=True)
    result = q._log_normalizer(*q_params) - f_p
    for pp, qp, g in zip(p_params, q_params, grads):
        result = result - sum_rightmost((qp - pp) * g, len(q.event_shape))
    return result


# ---- pairs with ContinuousBernoulli ---------------------------------------------------------

def _cb_cross(p, q):
    """-H(p) - E_p[log q] for q ContinuousBernoulli: E_p[x] logits + the normaliser."""
    return -p.entropy() - p.mean * q.logits - (-q.probs).log1p() - q._cont_bern_log_norm()


register_kl(Beta, ContinuousBernoulli)(_cb_cross)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_cb(p, q):
    outside = (p.high.data >= 1.0) | (p.low.data <= 0.0)  # torch's test, edges included
    return _set(_cb_cross(p, q), outside, math.inf)


@register_kl(ContinuousBernoulli, Exponential)
def _kl_cb_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _kl_cb_normal(p, q):
    t2 = 0.5 * (math.log(2.0 * math.pi) + (q.loc / q.scale) ** 2) + q.scale.log()
    t3 = (p.variance + p.mean ** 2 - 2.0 * q.loc * p.mean) / (2.0 * q.scale ** 2)
    return -p.entropy() + t2 + t3


@register_kl(ContinuousBernoulli, Uniform)
def _kl_cb_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    # torch's test: q.low >= 0 or q.high <= 1 (its own comparison, kept as written)
    inside = (q.low.data >= 0.0) | (q.high.data <= 1.0)
    return where(np.broadcast_to(inside, result.shape), math.inf, result)


# ---- pairs with Pareto ------------------------------------------------------------------------

@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p, q):
    sr = p.scale * q.rate
    kl = (p.alpha / sr).log() - p.alpha.reciprocal() + p.alpha * sr / (p.alpha - 1) - 1
    return _set(kl, p.alpha.data <= 1, math.inf)


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p, q):
    common = p.scale.log() + p.alpha.reciprocal()
    t1 = p.alpha.log() - common
    t2 = q.concentration.lgamma() - q.concentration * q.rate.log()
    t3 = (1 - q.concentration) * common
    t4 = q.rate * p.alpha * p.scale / (p.alpha - 1)
    return _set(t1 + t2 + t3 + t4 - 1, p.alpha.data <= 1, math.inf)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p, q):
    var2 = 2 * q.scale ** 2
    common = p.scale / (p.alpha - 1)
    t1 = (math.sqrt(2 * math.pi) * q.scale * p.alpha / p.scale).log()
    t3 = p.alpha * common ** 2 / (p.alpha - 2)
    t4 = (p.alpha * common - q.loc) ** 2
    kl = t1 - p.alpha.reciprocal() + (t3 + t4) / var2 - 1
    return _set(kl, p.alpha.data <= 2, math.inf)


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p, q):
    width = p.high - p.low
    t1 = (q.alpha * q.scale ** q.alpha * width).log()
    t2 = (xlogy(p.high, p.high) - xlogy(p.low, p.low) - width) / width
    return _set(t2 * (q.alpha + 1) - t1, p.low.data < q.scale.data, math.inf)


# ---- infinite: p puts mass where q has none ---------------------------------------------------

def _infinite(param):
    return lambda p, q: _inf_like(getattr(p, param))


for _p, _q, _param in [
        (Beta, Pareto, "concentration1"), (ContinuousBernoulli, Pareto, "probs"),
        (Exponential, ContinuousBernoulli, "rate"), (Exponential, Pareto, "rate"),
        (Gamma, ContinuousBernoulli, "concentration"), (Gamma, Pareto, "concentration"),
        (Gumbel, ContinuousBernoulli, "loc"), (Gumbel, Pareto, "loc"),
        (Laplace, ContinuousBernoulli, "loc"), (Laplace, Pareto, "loc"),
        (Normal, ContinuousBernoulli, "loc"), (Normal, Pareto, "loc"),
        (Pareto, Beta, "scale"), (Pareto, ContinuousBernoulli, "scale"),
        (Pareto, Uniform, "scale")]:
    register_kl(_p, _q)(_infinite(_param))
