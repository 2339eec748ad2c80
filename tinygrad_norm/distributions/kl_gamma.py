"""The closed-form KL divergences torch has for the gamma families (Gamma, Chi2 through Gamma,
Beta, Dirichlet) with themselves and with Normal, Exponential and Uniform, registered with
``kl_divergence``. Where torch writes ``inf`` through a mask (a support not covered) those places
get no gradient, as torch's."""
from __future__ import annotations

import math

import numpy as np

from ..special import digamma, gammaln
from ..tensor import Tensor, where
from .beta import Beta
from .dirichlet import Dirichlet
from .exponential import Exponential
from .gamma import Gamma
from .kl import register_kl
from .laplace import Laplace
from .normal import Normal
from .uniform import Uniform
from .utils import euler_constant

__all__ = []


def _set_inf(t, mask):
    return where(np.broadcast_to(mask, t.shape), math.inf, t)


def _x_log_x(t):
    # NaN at 0 and below, as torch's (a place outside q's support is then set to inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        return t * t.log()


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    t1 = q.concentration * (p.rate / q.rate).log()
    t2 = gammaln(q.concentration) - gammaln(p.concentration)
    t3 = (p.concentration - q.concentration) * digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    p1, p0, q1, q0 = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    sp, sq = p1 + p0, q1 + q0
    t1 = gammaln(q1) + gammaln(q0) + gammaln(sp)
    t2 = gammaln(p1) + gammaln(p0) + gammaln(sq)
    t3 = (p1 - q1) * digamma(p1)
    t4 = (p0 - q0) * digamma(p0)
    t5 = (sq - sp) * digamma(sp)
    return t1 - t2 + t3 + t4 + t5


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    pc, qc = p.concentration, q.concentration
    sp, sq = pc.sum(-1), qc.sum(-1)
    t1 = gammaln(sp) - gammaln(sq)
    t2 = (gammaln(pc) - gammaln(qc)).sum(-1)
    t4 = digamma(pc) - digamma(sp).reshape(sp.shape + (1,))
    return t1 - t2 + ((pc - qc) * t4).sum(-1)


# ---- across families ---------------------------------------------------------------------------

def _beta_mean(p):
    return p.concentration1 / (p.concentration1 + p.concentration0)


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * _beta_mean(p)


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p, q):
    c1, c0 = p.concentration1, p.concentration0
    t2 = gammaln(q.concentration) - q.concentration * q.rate.log()
    t3 = (q.concentration - 1) * (digamma(c1) - digamma(c1 + c0))
    return -p.entropy() + t2 - t3 + q.rate * _beta_mean(p)


@register_kl(Beta, Normal)
def _kl_beta_normal(p, q):
    m = _beta_mean(p)
    var = q.scale ** 2
    t2 = 0.5 * (var * (2 * math.pi)).log()
    second = (m * (1 - m) / (p.concentration1 + p.concentration0 + 1) + m ** 2) * 0.5
    return -p.entropy() + t2 + (second - q.loc * m + q.loc ** 2 * 0.5) / var


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p, q):
    kl = -p.entropy() + (q.high - q.low).log()
    return _set_inf(kl, (q.low.data > 0) | (q.high.data < 1))


@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p, q):
    ratio = q.rate / p.rate
    c = q.concentration
    return (-c * ratio.log() + ratio + gammaln(c) + c * euler_constant
            - (1 + euler_constant))


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.concentration / p.rate


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p, q):
    c, r = p.concentration, p.rate
    var = q.scale ** 2
    r2 = r ** 2
    t1 = 0.5 * (r2 * var * (2 * math.pi)).log() - c - gammaln(c)
    t2 = 0.5 * (c ** 2 + c) / r2
    t3 = q.loc * c / r
    return t1 + (c - 1) * digamma(c) + (t2 - t3 + 0.5 * q.loc ** 2) / var


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p, q):
    width = p.high - p.low
    t1 = width.log()
    t2 = (q.concentration1 - 1) * (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    t3 = (q.concentration0 - 1) * (_x_log_x(1 - p.high) - _x_log_x(1 - p.low) + width) / width
    t4 = (gammaln(q.concentration1) + gammaln(q.concentration0)
          - gammaln(q.concentration1 + q.concentration0))
    return _set_inf(t3 + t4 - t1 - t2, (p.high.data > 1) | (p.low.data < 0))


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p, q):
    width = p.high - p.low
    t2 = gammaln(q.concentration) - q.concentration * q.rate.log()
    t3 = (1 - q.concentration) * (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    t4 = q.rate * (p.high + p.low) / 2
    return _set_inf(-width.log() + t2 + t3 + t4, p.low.data < 0)


# a support that q's does not cover: KL is infinite
def _kl_infinity(param):
    return lambda p, q: Tensor(np.full(getattr(p, param).shape, np.inf,
                                       dtype=getattr(p, param).dtype))


for _p, _q, _param in ((Exponential, Beta, "rate"), (Gamma, Beta, "concentration"),
                       (Gamma, Uniform, "concentration"), (Laplace, Beta, "loc"),
                       (Laplace, Gamma, "loc"), (Normal, Beta, "loc"), (Normal, Gamma, "loc")):
    register_kl(_p, _q)(_kl_infinity(_param))
