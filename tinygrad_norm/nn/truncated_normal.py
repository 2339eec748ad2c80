"""Exact samples of a standard normal restricted to [lo, hi], for ``init.trunc_normal_``.

Redrawing the values outside [lo, hi] is exact and, where the interval holds most of the mass (the
usual [-2, 2]), the cheapest; but it needs ~1/P rounds for an interval of probability P, so an
unlikely interval ([-0.001, 0.001], or [3, 4] in the tail) is sampled by inverting the CDF
instead, on the interval's mirror image in the lower tail, where small probabilities keep their
digits (1 - Phi(8) is 0 in float64, Phi(-8) is not). Beyond ~37 standard deviations even Phi
underflows; there Robert's (1995) proposals take over (exponential, or uniform for an interval
narrower than 1/lo).
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["standard_truncated_normal"]

_REDRAW_FROM = 0.25  # interval probability from which redrawing is quicker than inverting the CDF
_FAR_TAIL = -37.0    # below this, Phi's value is subnormal and its inverse loses all digits


def _cdf(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


_erfc = np.frompyfunc(math.erfc, 1, 1)

# Acklam's rational approximation of the inverse normal CDF (relative error below 1.2e-9),
# refined below by one Halley step to full double precision.
_A = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
      1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
_B = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
      6.680131188771972e+01, -1.328068155288572e+01, 1.0)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
      -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
      3.754408661907416e+00, 1.0)
_P_LOW = 0.02425


def _poly(coeffs, x):
    out = np.full_like(x, coeffs[0])
    for c in coeffs[1:]:
        out = out * x + c
    return out


def ndtri(p):
    """The standard normal quantile of each probability in ``p`` (float64, 0 < p < 1)."""
    p = np.asarray(p, np.float64)
    x = np.empty_like(p)
    tail = np.minimum(p, 1.0 - p) < _P_LOW
    q = p[~tail] - 0.5
    r = q * q
    x[~tail] = _poly(_A, r) * q / _poly(_B, r)
    pt = p[tail]
    s = np.sqrt(-2.0 * np.log(np.minimum(pt, 1.0 - pt)))
    x[tail] = np.where(pt < 0.5, 1.0, -1.0) * _poly(_C, s) / _poly(_D, s)
    # Halley's step on Phi(x) - p: the error is cubed, 1e-9 -> below an ulp
    e = 0.5 * _erfc(-x / math.sqrt(2.0)).astype(np.float64) - p
    u = e * math.sqrt(2.0 * math.pi) * np.exp(x * x / 2.0)
    return x - u / (1.0 + x * u / 2.0)


def _redraw(gen, lo, hi, n, rounds=64):
    """Normal draws with the ones outside [lo, hi] drawn again; what is still outside after
    ``rounds`` (P(that) < 0.75**64, 1e-8, per value) is left NaN for the caller."""
    out = gen.standard_normal(n)
    bad = (out < lo) | (out > hi)
    for _ in range(rounds):
        if not bad.any():
            return out
        out[bad] = gen.standard_normal(int(bad.sum()))
        bad = (out < lo) | (out > hi)
    out[bad] = np.nan
    return out


def _invert(gen, lo, hi, n):
    """Phi^-1 of uniform draws between Phi(lo) and Phi(hi), for an interval mostly left of 0
    (mirrored there by the caller), whose probabilities are small numbers, not 1 - small."""
    plo, phi = _cdf(lo), _cdf(hi)
    u = plo + gen.random(n) * (phi - plo)
    u = np.clip(u, max(plo, np.nextafter(0.0, 1.0)), phi)
    return np.clip(ndtri(u), lo, hi)


def _far_tail(gen, lo, hi, n):
    """[lo, hi] with lo > 0 far out (Robert 1995), each proposal kept with probability >= ~1/e:
    an interval narrower than 1/lo by a uniform proposal, kept with probability
    exp(-(z^2 - lo^2) / 2); a wider one by lo + Exp(rate), kept with probability
    exp(-(z - rate)^2 / 2) and while z <= hi. Written so that lo near 1e308 does not overflow."""
    width = hi - lo
    uniform = width * lo < 1.0
    # rate = (lo + sqrt(lo^2 + 4)) / 2, which is lo + 1/lo to double precision from lo ~ 1e8
    rate = lo + 1.0 / lo if lo > 1e8 else (lo + math.sqrt(lo * lo + 4.0)) / 2.0
    out = np.empty(n)
    todo = np.arange(n)
    while todo.size:
        if uniform:
            e = gen.random(todo.size) * width          # z - lo
            keep = np.exp(-e * (lo + e / 2.0))         # (z^2 - lo^2) / 2 = e (lo + e / 2)
            ok = gen.random(todo.size) <= keep
        else:
            e = gen.exponential(1.0 / rate, todo.size)
            ok = (gen.random(todo.size) <= np.exp(-(e - (rate - lo)) ** 2 / 2.0)) & (e <= width)
        out[todo[ok]] = lo + e[ok]
        todo = todo[~ok]
    return out


def standard_truncated_normal(gen, lo, hi, shape):
    """float64 draws of N(0, 1) restricted to [lo, hi] (lo < hi; either may be infinite)."""
    n = math.prod(shape)
    if _cdf(hi) - _cdf(lo) >= _REDRAW_FROM:
        out = _redraw(gen, lo, hi, n)
        left = np.isnan(out)
        if left.any():
            out[left] = standard_truncated_normal(gen, lo, hi, (int(left.sum()),))
        return out.reshape(shape)
    # mirror an interval right of the centre into the lower tail
    sign, lo, hi = (-1.0, -hi, -lo) if lo + hi > 0 else (1.0, lo, hi)
    if hi < _FAR_TAIL:
        out = -_far_tail(gen, -hi, -lo, n)
    else:
        out = _invert(gen, lo, hi, n)
    return (sign * out).reshape(shape)
