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
* ``erfinv``, ``ndtri``: an economised power series in the middle; in the tails a start within
  0.5%, then two Halley steps on ``log(erfc)``.
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


def on_array(kernel, a, *more):
    """``kernel(a, *more)`` for an ``a`` of any rank: a 0-d input goes through a 1-element view,
    because the kernels write through boolean masks and NumPy turns 0-d results into scalars."""
    a = np.asarray(a)
    if a.ndim:
        return kernel(a, *more)
    return kernel(a.reshape(1), *more).reshape(())


# ---- Hurwitz zeta -------------------------------------------------------------------------------

def _zeta_positive(s, q):
    """zeta(s, q) for s > 1 and q > 0 (finite), arrays of one shape."""
    total = np.zeros_like(q)
    a = q.copy()
    # terms one by one until a is past both 9 and s: then the tail's terms shrink like
    # ((s + 2j) / (2 pi a))^2 and 15 of them leave less than an ulp
    limit = np.maximum(9.0, s)
    done = np.zeros(q.shape, bool)  # summed to below an ulp: no tail
    while True:
        left = np.flatnonzero((a < limit) & ~done)
        if not left.size:
            break
        t = a[left] ** -s[left]
        total[left] += t
        a[left] += 1.0
        # A large s (1e300 looped 1e300 times) makes the terms fall like ((a - 1) / a)^s: once
        # one is below 2^-70 of the sum, the rest are too, together at most a / (s - 1) + 1/2
        # times it (< 900 times here, a < max(9, s)), and the tail is not needed
        done[left[t <= total[left] * 2.0 ** -70]] = True
    tail = a ** (1.0 - s) / (s - 1.0) + 0.5 * a ** -s
    term = s * a ** (-s - 1.0)  # s (s+1) ... (s+2j-2) a^(1-s-2j) for j = 1
    inv_a2 = 1.0 / (a * a)
    for j, c in enumerate(_EM):
        tail += c * term
        term = term * (s + 2 * j + 1) * (s + 2 * j + 2) * inv_a2
    return np.where(done, total, total + tail)


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


# lgamma(2 + z) = (1 - euler) z + sum_{k >= 2} (-1)^k (zeta(k) - 1) z^k / k, for |z| < 2;
# highest power first, for Horner
_K = np.arange(2, 41)
_LG2_COEF = (np.where(_K % 2 == 0, 1.0, -1.0) * _zeta_minus_one(40) / _K)[::-1].copy()


def _lgamma2_series(z):
    """lgamma(2 + z) for |z| <= 0.5 (to within an ulp: terms shrink like (z / 2)^k)."""
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
        # n! is inf in float64 past 170, as in torch's kernel; math.factorial(10**12) took hours
        # and float() of 171! raised OverflowError
        fact = float(math.factorial(n)) if n <= 170 else math.inf
        out = sign * fact * zeta(np.full(x.shape, n + 1.0), x)
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
    for k in range(1, 28):  # x <= 1: the terms fall below 2^-60 of the sum by here
        term *= x2  # in place, the same roundings as term * x2 / (2k + 1)
        term /= 2 * k + 1
        total += term
    return _TWO_OVER_SQRT_PI * _exp_minus_square(x) * total


# (from x, terms) of Laplace's continued fraction: enough for an ulp from there on (measured
# against mpmath); it converges slowly near 1 and fast far out
_CF_BANDS = ((10.0, 12), (6.0, 20), (3.0, 30), (1.5, 100))


def _erfcx_large(x):
    """exp(x^2) erfc(x) for x >= 1.5, by Laplace's continued fraction
    1 / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))), evaluated from its tail."""
    out = np.empty_like(x)
    done = np.zeros(x.shape, bool)
    for start, depth in _CF_BANDS:
        band = ~done & (x >= start)
        xb = x[band]
        if xb.size:  # (an empty band's 100 steps were most of a small call's time)
            t = xb.copy()
            for k in range(depth, 0, -1):  # in place, the same roundings as xb + (k/2) / t
                np.divide(0.5 * k, t, out=t)
                t += xb
            out[band] = _INV_SQRT_PI / t
        done |= band
    return out


# erfc about 1: erfc(1 + h) = erfc(1) + sum_n h^n / n! (-1)^n 2/sqrt(pi) e^-1 H_{n-1}(1), H the
# Hermite polynomials; for |h| <= 1/2 thirty terms reach the ulp, with no cancellation worth
# the name (1 - erf would lose up to 4 bits there, the continued fraction converge slowly)
_ERFC1_HI, _ERFC1_LO = 0.15729920705028513, -2.954563826510312e-18


def _erfc_about_one_coefficients(n_terms=30):
    h = [1.0, 2.0]  # H_0(1), H_1(1); H_{n+1} = 2 H_n - 2n H_{n-1}
    for n in range(1, n_terms):
        h.append(2.0 * h[n] - 2.0 * n * h[n - 1])
    c = _TWO_OVER_SQRT_PI * math.exp(-1.0)
    return [(-1) ** n * c * h[n - 1] / math.factorial(n) for n in range(1, n_terms + 1)]


_ERFC1_COEF = _erfc_about_one_coefficients()[::-1]


def _erfc_mid(x):
    """erfc(x) for 0.5 <= x < 1.5."""
    h = x - 1.0
    acc = np.zeros_like(h)
    for a in _ERFC1_COEF:  # in place, the same roundings as (acc + a) * h
        acc += a
        acc *= h
    return _ERFC1_HI + (acc + _ERFC1_LO)


def erfcx(x):
    """exp(x^2) erfc(x), without overflow: ~1/(sqrt(pi) x) for large x."""
    x = _f64(x)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        ax = np.abs(x)
        v = np.empty_like(x)
        big = ax >= 1.5
        v[big] = _erfcx_large(np.minimum(ax[big], 1e8))
        huge = big & (ax > 1e8)
        v[huge] = _INV_SQRT_PI / ax[huge]  # the fraction's first term is exact here
        mid = (ax >= 0.5) & (ax < 1.5)
        xm = ax[mid]
        if xm.size:  # (an empty part's series loop was most of a small call's time)
            v[mid] = _erfc_mid(xm) / _exp_minus_square(xm)
        sm = ax < 0.5
        xs = ax[sm]
        if xs.size:  # erfc >= 0.47 here: no cancellation
            v[sm] = (1.0 - _erf_small(xs)) / _exp_minus_square(xs)
        pos = ~np.signbit(x) & ~np.isnan(x)
        out[pos] = v[pos]
        neg = np.signbit(x) & ~np.isnan(x)  # erfcx(-a) = 2 exp(a^2) - erfcx(a)
        an = ax[neg]
        out[neg] = 2.0 * np.exp(an * an) - v[neg]
        out[x == np.inf] = 0.0
    return out


def erfc(x):
    """1 - erf(x), to full relative precision in the right tail."""
    x = _f64(x)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        ax = np.abs(x)
        pos = ~np.signbit(x)
        v = np.full(x.shape, np.nan)
        big = (ax >= 1.5) & np.isfinite(x)
        a = ax[big]
        v[big] = np.where(a < 27.3, _exp_minus_square(np.minimum(a, 27.3)) *
                          _erfcx_large(a), 0.0)
        mid = (ax >= 0.5) & (ax < 1.5)
        v[mid] = _erfc_mid(ax[mid])
        sm = ax < 0.5
        v[sm] = 1.0 - _erf_small(ax[sm])
        out[pos] = v[pos]
        out[~pos] = 2.0 - v[~pos]  # erfc(-a) = 2 - erfc(a)
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


def _erfinv_start(c):
    """A start for erfinv(1 - c), c = 1 - |y| in (0, 1], within ~0.2%: from the approximation
    erf(x)^2 ~ 1 - exp(-x^2 (4/pi + a x^2) / (1 + a x^2)), a = 0.147, solved for x."""
    a = 0.147
    log_1my2 = np.log(c * (2.0 - c))  # log(1 - y^2), with no rounding of 1 - c
    t = 2.0 / (math.pi * a) + 0.5 * log_1my2
    return np.sqrt(np.maximum(np.sqrt(t * t - log_1my2 / a) - t, 0.0))


def _halley_erfc(x, c, log_c):
    """One Halley step (cubic) on log(erfc(x)) = log(c), which stays well scaled however deep
    the tail."""
    cx = erfcx(x)
    f = np.log(cx) - x * x - log_c
    u = -f * cx * (0.5 * math.sqrt(math.pi))  # f / f', f' = -2 / (sqrt(pi) erfcx(x))
    h = -(x - _INV_SQRT_PI / cx)  # f'' / (2 f')
    return x - u / (1.0 - u * h)


def _erfcinv_reference(c):
    """x with erfc(x) = c, c in (0, 0.5]: two Halley steps from ``_erfinv_start`` (within
    0.5%), < 3 ulps against mpmath. The values ``_erfcinv_start_fit`` is fitted to."""
    x = _erfinv_start(c)
    x = np.where(c < 1e-300, np.sqrt(-np.log(c)), x)  # the start's c (2 - c) underflows there
    log_c = np.log(c)
    for _ in range(2):
        x = _halley_erfc(x, c, log_c)
    return x


# erfcinv(c) / t as a polynomial in w (powers, highest first), t = sqrt(-log c) and w = log t
# mapped onto [-1, 1] over c in [5e-324, 1/4]; made on first use (_erfcinv_start_fit)
_ERFCINV_FIT = None
_ERFCINV_FIT_DEGREE = 16  # 1e-9 relative: one Halley step then leaves an error ~1e-27


def _erfcinv_start_fit():
    """erfcinv(c) is smooth in log t (its asymptotic series runs in 1/t^2 and log t): a
    Chebyshev fit of erfcinv(c) / t on 400 nodes there, degree 16, is within 1e-9 relative
    over the whole range (measured against the reference, whose own error is ~1e-16)."""
    global _ERFCINV_FIT
    if _ERFCINV_FIT is None:  # (bound once, whole: a thread racing here makes the same tuple)
        from numpy.polynomial import chebyshev
        lo, hi = math.log(math.sqrt(-math.log(0.25))), math.log(math.sqrt(-math.log(5e-324)))
        nodes = np.cos(np.pi * (np.arange(400) + 0.5) / 400) * (hi - lo) / 2 + (hi + lo) / 2
        c = np.exp(-np.exp(2.0 * nodes))
        t = np.sqrt(-np.log(c))  # of the rounded c: the variable the start will see
        w = (2.0 * np.log(t) - (hi + lo)) / (hi - lo)
        with np.errstate(all="ignore"):
            coef = chebyshev.chebfit(w, _erfcinv_reference(c) / t, _ERFCINV_FIT_DEGREE)
        _ERFCINV_FIT = ((hi + lo) / 2, 2.0 / (hi - lo),
                        tuple(chebyshev.cheb2poly(coef)[::-1].tolist()))
    return _ERFCINV_FIT


def _erfcinv_small(c):
    """x with erfc(x) = c, for c in (0, 0.5]: one Halley step from the fitted start
    (``_erfcinv_start_fit``, 1e-9 relative), as accurate as two from a rougher start and half
    the erfcx evaluations."""
    mid, scale, coef = _erfcinv_start_fit()
    log_c = np.log(c)
    t = np.sqrt(-log_c)
    w = np.log(t)
    w -= mid
    w *= scale
    acc = np.full_like(w, coef[0])
    for a in coef[1:]:
        acc *= w
        acc += a
    acc *= t
    return _halley_erfc(acc, c, log_c)


_ERFINV_MID = None  # powers of y^2 (highest first) of erfinv(y) / y on |y| <= 3/4, made on first use
_ERFINV_MID_TOP = 0.75


def _erfinv_mid_coefficients():
    """erfinv(y) / y = sum_k c_k / (2k+1) (sqrt(pi)/2)^(2k+1) y^(2k) with c_0 = 1 and
    c_k = sum_m c_m c_{k-1-m} / ((m+1)(2m+1)) (sums of positive terms: exact to an ulp in floats),
    90 terms (below an ulp at y^2 = 9/16); then economised: re-expanded in Chebyshev polynomials
    on y^2 in [0, 9/16], cut at degree 22 (the rest is below 1e-17) and turned back into powers
    of y^2, so that Horner's rule on positive, falling terms rounds to ~1 ulp (1.6 at most
    against mpmath)."""
    global _ERFINV_MID
    if _ERFINV_MID is None:  # (bound once, whole: a thread racing here makes the same tuple)
        from numpy.polynomial import Chebyshev, Polynomial
        c = [1.0]
        for k in range(1, 90):
            c.append(sum(c[m] * c[k - 1 - m] / ((m + 1) * (2 * m + 1)) for m in range(k)))
        h = math.sqrt(math.pi) / 2
        taylor = Polynomial([ck / (2 * k + 1) * h ** (2 * k + 1) for k, ck in enumerate(c)])
        top = _ERFINV_MID_TOP ** 2
        cheb = taylor.convert(domain=[0.0, top], kind=Chebyshev)
        cheb = Chebyshev(cheb.coef[:23], domain=[0.0, top])
        _ERFINV_MID = tuple(cheb.convert(kind=Polynomial).coef[::-1].tolist())
    return _ERFINV_MID


def _erfinv_mid(y):
    """erfinv(y) for |y| <= 3/4 from its economised series in y^2 (no Newton step: ~20x faster
    than the Halley steps on erf this replaced, and as accurate)."""
    u = y * y
    coef = _erfinv_mid_coefficients()  # highest power first
    acc = np.full_like(y, coef[0])  # (0 * u + c: the same value)
    for c in coef[1:]:  # in place: a fresh array a step cost more than its arithmetic
        acc *= u
        acc += c
    acc *= y
    return acc


def erfinv(y):
    """The inverse of erf on [-1, 1] (+-inf at +-1, NaN outside): an economised power series up
    to |y| = 3/4; above, one Halley step on erfc(x) = 1 - |y| (exact there) from a fitted start
    within 1e-9 (``_erfcinv_small``)."""
    y = _f64(y)
    with np.errstate(all="ignore"):
        a = np.abs(y)
        x = np.full(y.shape, np.nan)
        mid = a <= _ERFINV_MID_TOP
        x[mid] = _erfinv_mid(a[mid])
        near = (a > _ERFINV_MID_TOP) & (a < 1.0)
        x[near] = _erfcinv_small(1.0 - a[near])
        out = np.copysign(x, y)
        out[a == 1.0] = np.copysign(np.inf, y[a == 1.0])
    return out


def ndtri(p):
    """The inverse of the standard normal CDF on [0, 1]: -inf at 0, inf at 1, NaN outside.
    ndtri(p) = -sqrt2 erfcinv(2p): in the middle (1/8 to 7/8) from erfinv(2p - 1)'s series, in
    the tails from erfc(x) = 2q, q the smaller tail (2q exact, so no rounding near 0)."""
    p = _f64(p)
    out = np.full(p.shape, np.nan)
    with np.errstate(all="ignore"):
        # the middle by erfinv's series (2p - 1 is exact above p = 1/4, and rounded by at most
        # half an ulp of its result below, which erfinv's slope there makes < 1 ulp)
        mid = (p >= 0.125) & (p <= 0.875)
        out[mid] = math.sqrt(2.0) * _erfinv_mid(2.0 * p[mid] - 1.0)
        tail = ((p > 0) & (p < 0.125)) | ((p > 0.875) & (p < 1))  # both in one call
        pt = p[tail]
        lower = pt < 0.5
        x = _erfcinv_small(2.0 * np.where(lower, pt, 1.0 - pt))  # 1 - p exact above 1/2
        out[tail] = math.sqrt(2.0) * np.where(lower, -x, x)
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


# ---- Bessel functions of the first kind, J0 and J1 ----------------------------------------------

def _bessel_j_series(x):
    """(J0, J1) for |x| <= 1 by their power series: the terms fall by x^2 / 4 at least."""
    q = -0.25 * x * x
    t0 = np.ones_like(x)
    t1 = 0.5 * x
    j0, j1 = t0.copy(), t1.copy()
    for k in range(1, 14):
        t0 = t0 * q / (k * k)
        t1 = t1 * q / (k * (k + 1))
        j0 += t0
        j1 += t1
    return j0, j1


# (up to x, first order of Miller's recurrence): enough start for full precision in each band
_MILLER_BANDS = ((5.0, 40), (12.0, 60), (25.0, 90))


def _bessel_j_miller(x, top):
    """(J0, J1) for 1 <= x <= 25 by Miller's algorithm: J_{n-1} = (2n / x) J_n - J_{n+1} run
    down from an arbitrary J_top, scaled so that J0 + 2 (J2 + J4 + ...) = 1. Stable downward;
    rescaled on the way where it grows past 1e250."""
    above = np.zeros_like(x)  # J_{n+1}
    cur = np.full_like(x, 1e-300)  # J_n, n = top
    norm = np.zeros_like(x)
    j1 = np.zeros_like(x)
    for n in range(top, 0, -1):
        below = (2.0 * n / x) * cur - above  # J_{n-1}
        above, cur = cur, below
        m = n - 1
        if m == 1:
            j1 = cur.copy()
        if m >= 2 and m % 2 == 0:
            norm += 2.0 * cur
        big = np.abs(cur) > 1e250
        if big.any():
            scale = np.where(big, 1e-250, 1.0)
            above, cur, norm, j1 = above * scale, cur * scale, norm * scale, j1 * scale
    norm += cur
    return cur / norm, j1 / norm


def _bessel_j_asym(x):
    """(J0, J1) for x > 25 by Hankel's expansion sqrt(2/(pi x)) (P cos(chi) - Q sin(chi)),
    chi = x - (2 nu + 1) pi / 4, its cosines taken from cos(x) and sin(x) (no rounded shift)."""
    out = []
    c, s = np.cos(x), np.sin(x)
    for nu in (0, 1):
        mu = 4.0 * nu * nu
        p = np.ones_like(x)
        q = np.zeros_like(x)
        term = np.ones_like(x)
        for k in range(1, 31):  # a_k(nu) / x^k, alternately into Q and P with signs
            term = term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
            if k % 2:
                q += term if k % 4 == 1 else -term
            else:
                p += -term if k % 4 == 2 else term
        if nu == 0:  # chi = x - pi/4
            cos_chi, sin_chi = (c + s), (s - c)
        else:  # chi = x - 3 pi/4
            cos_chi, sin_chi = (s - c), -(s + c)
        out.append(np.sqrt(1.0 / (math.pi * x)) * (p * cos_chi - q * sin_chi))
    return out


def _bessel_j(x):
    x = _f64(x)
    ax = np.abs(x)
    j0 = np.full(x.shape, np.nan)
    j1 = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        sm = ax <= 1.0
        j0[sm], j1[sm] = _bessel_j_series(ax[sm])
        lo = 1.0
        for hi, top in _MILLER_BANDS:
            band = (ax > lo) & (ax <= hi)
            if band.any():
                j0[band], j1[band] = _bessel_j_miller(ax[band], top)
            lo = hi
        big = (ax > lo) & np.isfinite(x)
        j0[big], j1[big] = _bessel_j_asym(ax[big])
        j1 = np.where(np.signbit(x), -j1, j1)  # J1 is odd (J1(-0) = -0)
    return j0, j1


def bessel_j0(x):
    return _bessel_j(x)[0]


def bessel_j1(x):
    return _bessel_j(x)[1]


def spherical_bessel_j0(x):
    """sin(x) / x, by its series below 0.5 (1 at 0), 0 at +-inf."""
    x = _f64(x)
    with np.errstate(all="ignore"):
        out = np.sin(x) / x
        sm = np.abs(x) < 0.5
        q = -x[sm] * x[sm]
        t = np.ones_like(q)
        total = np.ones_like(q)
        for k in range(1, 10):
            t = t * q / ((2 * k) * (2 * k + 1))
            total += t
        out[sm] = total
        out[np.isinf(x)] = 0.0
    return out
