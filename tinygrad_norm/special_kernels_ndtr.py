"""The standard normal CDF ``Phi(x) = erfc(-x / sqrt 2) / 2`` for float32 and float64 arrays
(the exact GELU's ``x * Phi(x)``), accurate in relative terms in BOTH tails.

``(1 + erf(x / sqrt 2)) / 2``, the textbook form, cancels for negative x: erf is near -1 there
and the sum keeps only the digits erf got wrong (float32 at x = -3: 1e-4 relative; at -5: 17%;
from -6 on: 0). Here the lower tail is ``erfc(|z|) / 2`` itself, never a difference:

- ``|z| < 0.84`` (``z = x / sqrt 2``): ``1/2 + x P(x^2)``, erf's small-argument polynomial
  (``special_kernels_erf``) with the factors 1/2, 1/sqrt 2 folded into its coefficients.
- ``0.84 <= |z| < cut``: ``E = exp(-z^2) Q(u) / 2``, erf's erfcx polynomial; ``E`` below zero,
  ``1 - E`` above.
- ``|z| >= cut``: 1 above zero; below it ``exp(-z^2) / (sqrt(pi) K(z)) / 2`` with ``K`` the
  continued fraction ``z + (1/2) / (z + 1 / (z + (3/2) / (z + ...))))``, 20 levels deep (full
  float64 precision from z = 4 on: checked against mpmath in tests/test_speed6.py).

``exp(-z^2)`` takes z^2 / 2 split exactly in two for float64 results (``_exp_neg_half_sq``): its
rounding inside exp's argument would cost ~50 ulps at x = -7. The middle and far regions are
evaluated in float64 on their elements only (gathered through
index arrays, as erf's kernel); the small region, most of a unit-variance batch, over every
element in the input's own precision (float32's Horner rounding stays within ~2 ulps there,
where Phi lies in [0.18, 0.82]).
"""
import math

import numpy as np

from .special_kernels_erf import _LARGE_F32, _LARGE_F64, _SMALL_F32, _SMALL_F64, _SPLIT, \
    _horner

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_CF_DEPTH = 20


def _fold(coef):
    """erf's small polynomial in s = z^2 as ``x * P'(x^2)`` with ``z = x / sqrt 2`` and the
    half of Phi folded in: ``c_k -> c_k / (2 sqrt 2) / 2^k``."""
    return tuple(c * (0.5 * _SQRT1_2) * 0.5 ** k for k, c in enumerate(coef))


# (small coefficients, large coefficients, cut) by dtype, as erf's table
_TABLES = {
    np.dtype(np.float32): (_fold(_SMALL_F32), _LARGE_F32, 4.0),
    np.dtype(np.float64): (_fold(_SMALL_F64), _LARGE_F64, 6.0),
}


def _small(x, sq, coef):
    """Phi on |x| < 0.84 sqrt 2: 1/2 + x P'(x^2), ``sq`` = x^2, in x's precision."""
    out = _horner(coef, sq)
    out *= x
    out += 0.5
    return out


def _exp_neg_half_sq(x, split):
    """exp(-x^2 / 2) for x >= 0 (float64). With ``split`` (float64 results), x^2 / 2 is not
    rounded inside exp's argument: its rounding (~1e-16 relative, times x^2 / 2 up to ~700)
    would come out ~50 ulps off at x = 7. x = xh + xl with xh of 26 bits (Veltkamp), so
    xh^2 / 2 is exact and ``exp(-xh^2 / 2) exp(-xl (xh + xl / 2))`` has exact arguments up to
    the small second one's rounding."""
    if not split:
        e = np.multiply(x, x)
        e *= -0.5
        return np.exp(e, out=e)
    c = x * 134217729.0  # 2^27 + 1
    xh = c - (c - x)
    xl = x - xh
    lo = np.multiply(xl, 0.5)
    lo += xh
    lo *= xl
    np.negative(lo, out=lo)
    np.exp(lo, out=lo)
    np.multiply(xh, xh, out=xh)
    xh *= -0.5
    np.exp(xh, out=xh)
    xh *= lo
    return xh


def _half_erfc_mid(x, coef, cut, split):
    """erfc(z) / 2, z = x / sqrt 2, for 0.84 <= z < cut (float64): erf's erfcx polynomial
    times exp(-z^2)."""
    lo, hi = 1.0 / cut, 1.0 / _SPLIT
    u = np.divide(2.0 / (hi - lo) / _SQRT1_2, x)
    u -= (hi + lo) / (hi - lo)
    q = _horner(coef, u)
    q *= _exp_neg_half_sq(x, split)
    q *= 0.5
    return q


def _half_erfc_far(x, split):
    """erfc(z) / 2, z = x / sqrt 2, for z >= cut (float64) by the continued fraction; x is
    clipped at 40, where Phi(-x) is 0 in float64 already (inf included)."""
    x = np.minimum(x, 40.0)
    z = x * _SQRT1_2
    f = z.copy()
    for k in range(_CF_DEPTH, 0, -1):
        np.add(z, (0.5 * k) / f, out=f)
    e = _exp_neg_half_sq(x, split)
    e /= f
    e *= 0.5 / math.sqrt(math.pi)
    return e


def _large(x, coef, cut, split):
    """Phi where |x| >= 0.84 sqrt 2 (float64 in, float64 out). The middle form runs over all
    of them (clipped to the cut) and the far form replaces it at the few past the cut:
    boolean masks over the gathered values cost more than the polynomial itself."""
    ax = np.abs(x)
    xcut = cut / _SQRT1_2
    out = _half_erfc_mid(np.minimum(ax, xcut), coef, cut, split)
    far = np.flatnonzero(ax >= xcut)
    if far.size:
        out[far] = _half_erfc_far(ax.take(far), split)
    # E below zero, 1 - E above: 0 + E and 1 + (-E), by sign (a masked subtract's ``where=``
    # costs three times these two passes)
    np.copysign(out, -x, out=out)
    out += x > 0
    return out


def ndtr(a):
    """Phi of a float32 or float64 array, in its dtype (float16: the caller goes through
    float32). NaN stays NaN; Phi(-inf) = 0, Phi(inf) = 1."""
    small_coef, large_coef, cut = _TABLES[a.dtype]
    x = np.asarray(a).ravel()
    sq = np.multiply(x, x)
    with np.errstate(over="ignore", invalid="ignore"):  # overflows where _large replaces it
        at_large = np.flatnonzero(sq >= 2.0 * _SPLIT * _SPLIT)  # |z| >= 0.84 (not NaN)
        out = _small(x, sq, small_coef)
    if at_large.size:
        out[at_large] = _large(x.take(at_large).astype(np.float64), large_coef, cut,
                               a.dtype == np.float64)
    return out.reshape(np.shape(a))
