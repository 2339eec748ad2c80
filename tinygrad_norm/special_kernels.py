"""Array kernels of the special functions, for the primitives of ops.py: pure NumPy, no Tensor.

Every kernel computes in float64, elementwise and vectorised (no Python loop over elements; the
loops here run over series terms, a fixed or small number of times) and returns float64: the
primitives round the result once to the input's dtype (float32 inputs are computed in float64
and rounded). The methods are textbook ones, chosen so that no step cancels:

* ``zeta(s, q)`` (Hurwitz): direct terms until ``q + k`` is large, then the Euler-Maclaurin tail.
* ``lgamma``: the Taylor series of lgamma(2 + z) in ``zeta(k) - 1`` near 1 and 2 (its zeros), the
  recurrence above, Stirling's series from 8, reflection below 0.5.
* ``digamma``, ``polygamma``: recurrence + asymptotic series; ``polygamma(n)`` for n >= 1 as
  ``(-1)^(n+1) n! zeta(n + 1, x)``, reflection or the integer-``s`` shift for negative x.
* ``erf``/``erfc``/``erfcx``: ``exp(-x^2)`` times a positive series below 2, Laplace's continued
  fraction above, with ``exp(-x^2)`` split so that x^2 is exact.
* ``erfinv``, ``ndtri``: a rough start, then Newton steps on ``erf``/``erfc``.
* ``i0``, ``i1`` (and their ``e`` forms): the power series below 20, the asymptotic series above.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

_EULER = 0.57721566490153286061
_HALF_LOG_2PI = 0.91893853320467274178
_TWO_OVER_SQRT_PI = 1.1283791670955126
_INV_SQRT_PI = 0.56418958354775628695


def _bernoulli(m):
    """B_0 .. B_m as exact fractions (B_1 = -1/2), from the defining recurrence."""
    b = [Fraction(1)]
    for n in range(1, m + 1):
        b.append(-sum(math.comb(n + 1, k) * b[k] for k in range(n)) / (n + 1))
    return b


_B = _bernoulli(40)
# Euler-Maclaurin tail of zeta(s, a): sum_j B_2j / (2j)! * s (s+1) ... (s+2j-2) a^(1-s-2j)
_EM = [float(_B[2 * j] / math.factorial(2 * j)) for j in range(1, 16)]
# Stirling's series of lgamma: sum_k B_2k / (2k (2k-1) x^(2k-1))
_STIRLING = [float(_B[2 * k] / (2 * k * (2 * k - 1))) for k in range(1, 12)]
# digamma's asymptotic series: log x - 1/(2x) - sum_k B_2k / (2k x^2k)
_PSI_ASYM = [float(_B[2 * k] / (2 * k)) for k in range(1, 12)]


def _f64(a):
    return np.asarray(a, dtype=np.float64)


# ---- Hurwitz zeta -------------------------------------------------------------------------------

def _zeta_positive(s, q):
    """zeta(s, q) for s > 1 and q > 0 (finite), arrays of one shape."""
    total = np.zeros_like(q)
    a = q.copy()
    # terms one by one until a is past both 9 and s: then the tail's terms shrink like
    # ((s + 2j) / (2 pi a))^2 and 15 of them leave less than an ulp
    limit = np.maximum(9.0, s)
    while True:
        left = a < limit
        if not left.any():
            break
        total[left] += a[left] ** -s[left]
        a[left] += 1.0
    tail = a ** (1.0 - s) / (s - 1.0) + 0.5 * a ** -s
    term = s * a ** (-s - 1.0)  # s (s+1) ... (s+2j-2) a^(1-s-2j) for j = 1
    inv_a2 = 1.0 / (a * a)
    for j, c in enumerate(_EM):
        tail += c * term
        term = term * (s + 2 * j + 1) * (s + 2 * j + 2) * inv_a2
    return total + tail


def zeta(s, q):
    """Hurwitz's zeta, sum over k >= 0 of (q + k)^-s, with torch's values at the edges: inf at
    s = 1 and at q a non-positive integer, NaN for s < 1, for q < 0 unless s is an integer, and
    for q = inf; 1 at s = inf (q = 1)."""
    s, q = np.broadcast_arrays(_f64(s), _f64(q))
    out = np.full(s.shape, np.nan)
    with np.errstate(all="ignore"):
        ok = (s > 1) & np.isfinite(q)
        pos = ok & (q > 0) & np.isfinite(s)
        out[pos] = _zeta_positive(s[pos], q[pos])
        # q < 0, s an integer: the terms are defined; the negative ones, reflected, are the
        # difference of two zetas of positive argument
        neg = ok & (q < 0) & (s == np.floor(s)) & (q != np.floor(q)) & np.isfinite(s)
        if neg.any():
            sn, qn = s[neg], q[neg]
            m = -np.floor(qn)
            r = qn + m  # in (0, 1)
            sign = np.where(np.fmod(sn, 2.0) == 0, 1.0, -1.0)
            both = _zeta_positive(np.concatenate([sn, sn, sn]),
                                  np.concatenate([r, 1.0 - r, 1.0 - r + m]))
            k = len(sn)
            out[neg] = both[:k] + sign * (both[k:2 * k] - both[2 * k:])
        out[ok & (q <= 0) & (q == np.floor(q))] = np.inf
        out[s == 1] = np.inf
        inf_s = (s == np.inf) & (q > 0) & np.isfinite(q)
        out[inf_s] = np.where(q[inf_s] < 1, np.inf, np.where(q[inf_s] == 1, 1.0, 0.0))
    return out


# ---- gamma family -------------------------------------------------------------------------------

def _zeta_minus_one(k_max):
    ks = np.arange(2, k_max + 1, dtype=np.float64)
    return zeta(ks, np.full_like(ks, 2.0))  # zeta(k) - 1 = zeta(k, 2), without cancellation


# lgamma(2 + z) = (1 - euler) z + sum_{k >= 2} (-1)^k (zeta(k) - 1) z^k / k, for |z| < 2
_LG2_COEF = None


def _lgamma2_series(z):
    """lgamma(2 + z) for |z| <= 0.5 (to within an ulp: terms shrink like (z / 2)^k)."""
    global _LG2_COEF
    if _LG2_COEF is None:
        k = np.arange(2, 41)
        _LG2_COEF = (np.where(k % 2 == 0, 1.0, -1.0) * _zeta_minus_one(40) / k)[::-1].copy()
    acc = np.zeros_like(z)
    for c in _LG2_COEF:  # Horner, from the highest power down to z^2
        acc = acc * z + c
    return z * ((1.0 - _EULER) + acc * z)


def _lgamma_positive(x):
    """lgamma for finite x >= 0.5."""
    out = np.empty_like(x)
    big = x >= 8.0
    xb = x[big]
    inv = 1.0 / xb
    inv2 = inv * inv
    series = np.zeros_like(xb)
    for c in _STIRLING[::-1]:
        series = series * inv2 + c
    out[big] = (xb - 0.5) * np.log(xb) - xb + _HALF_LOG_2PI + series * inv
    near1 = x < 1.5
    z = x[near1] - 1.0  # lgamma(1 + z) = lgamma(2 + z) - log1p(z)
    out[near1] = _lgamma2_series(z) - np.log1p(z)
    mid = ~big & ~near1
    xm = x[mid]
    n = np.floor(xm - 1.5)  # steps down to [1.5, 2.5)
    base = xm - n
    prod = np.ones_like(xm)
    for i in range(1, 7):  # lgamma(x) = lgamma(x - n) + log((x-1)(x-2)...(x-n))
        step = i <= n
        prod = np.where(step, prod * (xm - i), prod)
    out[mid] = _lgamma2_series(base - 2.0) + np.log(prod)
    return out


def _sinpi_abs(x):
    """|sin(pi x)|, exact argument reduction (x mod 2 is exact in floating point)."""
    r = np.fmod(np.abs(x), 2.0)
    r = np.where(r > 1.0, r - 1.0, r)  # |sin| has period 1
    r = np.where(r > 0.5, 1.0 - r, r)
    return np.sin(math.pi * r)


def lgamma(x):
    """log|Gamma(x)|: inf at the poles (0 and the negative integers) and at +-inf."""
    x = _f64(x)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        hi = x >= 0.5
        hi_f = hi & np.isfinite(x)
        out[hi_f] = _lgamma_positive(x[hi_f])
        small = (x > 0) & (x < 0.5)  # lgamma(x) = lgamma(1 + x) - log(x)
        xs = x[small]
        # lgamma(x) = lgamma(2 + x) - log(1 + x) - log(x)
        out[small] = _lgamma2_series(xs) - np.log1p(xs) - np.log(xs)
        low = (x <= 0) & np.isfinite(x)
        xl = x[low]
        # reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x)
        lg1 = _lgamma_positive(1.0 - xl) if xl.size else xl
        out[low] = np.log(math.pi / _sinpi_abs(xl)) - lg1
        out[np.isinf(x)] = np.inf
        out[low & (x == np.floor(x))] = np.inf
    return out


def digamma(x):
    """psi(x) = d lgamma / dx, as torch: -inf at +0, +inf at -0, NaN at the negative integers
    and at -inf."""
    x = _f64(x)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        fin = np.isfinite(x) & ~((x < 0) & (x == np.floor(x)))
        xf = x[fin]
        res = np.zeros_like(xf)
        neg = xf < 0.5
        if neg.any():  # psi(x) = psi(1 - x) - pi / tan(pi x), with pi x reduced exactly
            xn = xf[neg]
            r = xn - np.round(xn)
            res[neg] = -math.pi / np.tan(math.pi * r)
            xf = np.where(neg, 1.0 - xf, xf)
        while True:  # psi(x) = psi(x + 1) - 1/x, up to 10
            up = xf < 10.0
            if not up.any():
                break
            res[up] -= 1.0 / xf[up]
            xf = np.where(up, xf + 1.0, xf)
        inv2 = 1.0 / (xf * xf)
        series = np.zeros_like(xf)
        for c in _PSI_ASYM[::-1]:
            series = series * inv2 + c
        out[fin] = res + np.log(xf) - 0.5 / xf - series * inv2
        out[x == 0] = np.where(np.signbit(x[x == 0]), np.inf, -np.inf)
        out[x == np.inf] = np.inf
    return out


def polygamma(n, x):
    """The n-th derivative of digamma (n >= 0 an int)."""
    if n == 0:
        return digamma(x)
    x = _f64(x)
    sign = 1.0 if n % 2 else -1.0
    with np.errstate(all="ignore"):
        out = sign * float(math.factorial(n)) * zeta(np.full(x.shape, n + 1.0), x)
        if n == 1:  # torch's trigamma is 0 at +inf (its zeta route gives NaN there)
            out[x == np.inf] = 0.0
    return out


# ---- error functions ----------------------------------------------------------------------------

def _exp_minus_square(x):
    """exp(-x^2) for x >= 0, with x^2 carried exactly: x = hi + lo, hi of 26 bits (hi^2 exact)."""
    hi = np.floor(x * 2.0 ** 21) * 2.0 ** -21  # x < 2^5 here, so hi keeps <= 26 bits
    lo = x - hi
    return np.exp(-hi * hi) * np.exp(-lo * (x + hi))


def _erf_small(x):
    """erf(x) for 0 <= x <= 1: 2/sqrt(pi) exp(-x^2) sum 2^k x^(2k+1) / (1*3*...*(2k+1)),
    every term positive."""
    x2 = 2.0 * x * x
    term = x.copy()
    total = x.copy()
    for k in range(1, 60):
        term = term * x2 / (2 * k + 1)
        total += term
    return _TWO_OVER_SQRT_PI * _exp_minus_square(x) * total


def _erfcx_large(x):
    """exp(x^2) erfc(x) for x >= 1, by Laplace's continued fraction
    1 / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))), evaluated from its tail."""
    depth = 200  # converged to the ulp from x = 1 (90 from x = 1.5)
    t = np.array(x, copy=True)
    for k in range(depth, 0, -1):
        t = x + (0.5 * k) / t
    return _INV_SQRT_PI / t


def erfcx(x):
    """exp(x^2) erfc(x), without overflow: ~1/(sqrt(pi) x) for large x."""
    x = _f64(x)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        ax = np.abs(x)
        big = ax >= 1.0
        v = np.empty_like(x)
        v[big] = _erfcx_large(np.minimum(ax[big], 1e8))
        huge = big & (ax > 1e8)
        v[huge] = _INV_SQRT_PI / ax[huge]  # the fraction's first term is exact here
        sm = ~big & ~np.isnan(x)
        xs = ax[sm]
        v[sm] = np.exp(xs * xs) - _TWO_OVER_SQRT_PI * xs * _series_sum(xs)
        pos = ~np.signbit(x) & ~np.isnan(x)
        out[pos] = v[pos]
        neg = np.signbit(x) & ~np.isnan(x)  # erfcx(-a) = 2 exp(a^2) - erfcx(a)
        an = ax[neg]
        out[neg] = 2.0 * np.exp(an * an) - v[neg]
        out[x == np.inf] = 0.0
    return out


def _series_sum(x):
    """sum 2^k x^(2k+1)/(1*3*...*(2k+1)) / x, so that erf(x) = 2/sqrt(pi) exp(-x^2) x * this."""
    x2 = 2.0 * x * x
    term = np.ones_like(x)
    total = np.ones_like(x)
    for k in range(1, 60):
        term = term * x2 / (2 * k + 1)
        total += term
    return total


def erfc(x):
    """1 - erf(x), to full relative precision in the right tail."""
    x = _f64(x)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        ax = np.abs(x)
        big = (ax >= 1.0) & np.isfinite(x)
        tail = np.empty_like(x)
        a = ax[big]
        tail[big] = np.where(a < 27.3, _exp_minus_square(np.minimum(a, 27.3)) *
                             _erfcx_large(a), 0.0)
        sm = ax < 1.0
        e = _erf_small(ax[sm])
        pos = ~np.signbit(x)
        out[big & pos] = tail[big & pos]
        out[big & ~pos] = 2.0 - tail[big & ~pos]
        out[sm] = np.where(pos[sm], 1.0 - e, 1.0 + e)
        out[x == np.inf] = 0.0
        out[x == -np.inf] = 2.0
    return out


def erf(x):
    x = _f64(x)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        ax = np.abs(x)
        sm = ax < 1.0
        out[sm] = _erf_small(ax[sm])
        big = ax >= 1.0
        out[big] = 1.0 - erfc(ax[big])
        out = np.copysign(out, x)
    return out


def erfinv(y):
    """The inverse of erf on [-1, 1] (+-inf at +-1, NaN outside): Newton steps on erf from a
    start good to a few percent; near +-1 the steps run on erfc(x) = 1 - |y| (exact there)."""
    y = _f64(y)
    out = np.full(y.shape, np.nan)
    with np.errstate(all="ignore"):
        a = np.abs(y)
        ok = a < 1.0
        av = a[ok]
        w = -np.log((1.0 - av) * (1.0 + av))
        # a start from the approximation erf(x)^2 ~ 1 - exp(-x^2 (4/pi + c x^2)/(1 + c x^2))
        c = 0.147
        t = 2.0 / (math.pi * c) + 0.5 * (np.log((1.0 - av) * (1.0 + av)))
        x = np.sqrt(np.sqrt(t * t + w / c) - t)
        x = np.where(av == 0, 0.0, x)
        near = av > 0.5
        mid = ~near
        # Newton, quadratic, from a start within a few percent: on erf(x) = y below 0.5, on
        # log(erfc(x)) = log(1 - y) above (1 - y exact there; the log keeps the tail's steps
        # well scaled)
        xm, ym = x[mid], av[mid]
        for _ in range(6):
            xm = xm - (erf(xm) - ym) / (_TWO_OVER_SQRT_PI * np.exp(-xm * xm))
        xn, log_target = x[near], np.log(1.0 - av[near])
        for _ in range(8):
            cx = erfcx(xn)  # d log(erfc(x)) / dx = -2 / sqrt(pi) / erfcx(x)
            xn = xn + (np.log(cx) - xn * xn - log_target) * cx / _TWO_OVER_SQRT_PI
        x[mid], x[near] = xm, xn
        out[ok] = np.copysign(x, y[ok])
        out[a == 1.0] = np.copysign(np.inf, y[a == 1.0])
    return out


def ndtri(p):
    """The inverse of the standard normal CDF on [0, 1]: -inf at 0, inf at 1, NaN outside."""
    p = _f64(p)
    out = np.full(p.shape, np.nan)
    with np.errstate(all="ignore"):
        ok = (p > 0) & (p < 1)
        pv = p[ok]
        lower = pv < 0.5
        q = np.where(lower, pv, 1.0 - pv)  # the smaller tail (1 - p exact for p >= 0.5)
        # erfc(-x / sqrt2) / 2 = q for x <= 0: x = -sqrt2 erfinv(1 - 2q), from a rough start,
        # then Newton on log(erfc(t) / 2) = log(q) in t = -x / sqrt2 (well scaled in the tail)
        t = np.abs(erfinv(1.0 - 2.0 * q)) if q.size else q
        # erfinv(1 - 2q) is inf below 2^-54: there the tail's leading term starts Newton
        t = np.where(q < 1e-12, np.sqrt(-np.log(q)), t)
        tail = q < 0.25  # above, 1 - 2q is exact and erfinv alone is as good as it gets
        tt, lq = t[tail], np.log(q[tail])
        for _ in range(8):
            # log(erfc(t)/2) = log(erfcx(t)/2) - t^2; its derivative: -2/sqrt(pi)/erfcx(t)
            cx = erfcx(tt)
            tt = tt + (np.log(0.5 * cx) - tt * tt - lq) * cx / _TWO_OVER_SQRT_PI
        t[tail] = tt
        x = -math.sqrt(2.0) * t
        out[ok] = np.where(lower, x, -x)
        out[p == 0] = -np.inf
        out[p == 1] = np.inf
    return out


# ---- modified Bessel functions of the first kind ------------------------------------------------

_BESSEL_SWITCH = 20.0


def _bessel_series(x, nu):
    """I_nu(x) / (x/2)^nu for nu in (0, 1), |x| < 20: sum (x^2/4)^k / (k! (k + nu)!), every
    term positive."""
    q = 0.25 * x * x
    term = np.full_like(x, 1.0 / math.factorial(nu))
    total = term.copy()
    for k in range(1, 90):
        term = term * q / (k * (k + nu))
        total += term
    return total


def _bessel_asym_scaled(x, nu):
    """exp(-x) I_nu(x) for x >= 20: 1/sqrt(2 pi x) sum_k (-1)^k prod_j (4nu^2 - (2j-1)^2)
    / (k! (8x)^k), stopped well before its terms grow."""
    mu = 4.0 * nu * nu
    term = np.ones_like(x)
    total = np.ones_like(x)
    for k in range(1, 30):
        term = term * -(mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        total += term
    return total / np.sqrt(2.0 * math.pi * x)


def _bessel(x, nu, scaled):
    x = _f64(x)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        ax = np.abs(x)
        sm = ax < _BESSEL_SWITCH
        xs = ax[sm]
        v = _bessel_series(xs, nu) * (0.5 * xs) ** nu
        out[sm] = v * np.exp(-xs) if scaled else v
        big = (ax >= _BESSEL_SWITCH) & np.isfinite(x)
        xb = ax[big]
        e = _bessel_asym_scaled(xb, nu)
        if scaled:
            out[big] = e
        else:  # exp(x) split in two so that e * exp(x) overflows only where I itself does
            h = np.exp(0.5 * xb)
            out[big] = e * h * h
        if scaled:
            out[np.isinf(x)] = 0.0
        if nu == 1:
            out = np.copysign(out, x)
    return out


def i0(x):
    return _bessel(x, 0, False)


def i0e(x):
    return _bessel(x, 0, True)


def i1(x):
    return _bessel(x, 1, False)


def i1e(x):
    return _bessel(x, 1, True)
