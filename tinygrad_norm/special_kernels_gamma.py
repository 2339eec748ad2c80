"""Array kernels of the regularized incomplete gamma functions P(a, x) (gammainc) and
Q(a, x) = 1 - P (gammaincc): pure NumPy, float64 in and out, vectorised over elements.

The regions are the classic ones (DiDonato and Morris; also those of Cephes and of torch's port):

* near the transition (a > 20 and x within ~0.3 a, narrower as a grows), Temme's uniform
  expansion ``Q = erfc(eta sqrt(a/2)) / 2 + exp(-a eta^2 / 2) / sqrt(2 pi a) sum_k c_k(eta) a^-k``,
  its coefficient polynomials c_k generated here at import from their defining recurrence;
* x < a (or x <= 1): P by its power series (all terms positive), Q = 1 - P;
* x > a and x > 1.1: Q by Legendre's continued fraction, P = 1 - Q;
* small x and small a, where Q is nearly 1 - P with P ~ 1: Q by its own alternating series.

Each series is scaled by ``x^a e^-x / Gamma(a)``, computed from Stirling's form for a >= 10 so
that ``a log(x / a) - (x - a)`` is formed without cancellation near x = a."""
from __future__ import annotations

import math

import numpy as np

from . import special_kernels as _sk

_EPS = 2.0 ** -53
_MAX_ITER = 2000
_TEMME_K = 25  # orders in 1 / a
_TEMME_N = 25  # powers of eta in each c_k


# ---- Temme's coefficients -----------------------------------------------------------------------

def _series_mul(p, q, n):
    return np.convolve(p, q)[:n]


def _series_inv(p, n):
    """1 / p as a power series (p[0] != 0), first n coefficients."""
    out = np.zeros(n)
    out[0] = 1.0 / p[0]
    for k in range(1, n):
        out[k] = -np.dot(p[1:k + 1], out[k - 1::-1][:k]) / p[0]
    return out


def _mu_of_eta(n):
    """mu = lambda - 1 as a power series in eta, where lambda - 1 - log(lambda) = eta^2 / 2 and
    eta has mu's sign: eta = mu h(mu), h = sqrt(2 sum_j (-1)^j mu^(j-2) / j), reversed by the
    Lagrange-free route of solving mu = eta / h(mu) by fixed-point substitution on series."""
    j = np.arange(2, n + 3)
    h2 = 2.0 * np.where(j % 2 == 0, 1.0, -1.0) / j  # h^2 coefficients in mu
    h = np.zeros(n + 1)  # sqrt of the series, h[0] = 1
    h[0] = 1.0
    for k in range(1, n + 1):
        h[k] = (h2[k] - np.dot(h[1:k], h[k - 1:0:-1])) / 2.0
    inv_h = _series_inv(h, n + 1)
    mu = np.zeros(n + 1)
    mu[1] = 1.0
    for _ in range(n + 1):  # each pass fixes one more coefficient
        comp = np.zeros(n + 1)  # inv_h(mu(eta)) by Horner on series
        for c in inv_h[::-1]:
            comp = _series_mul(comp, mu, n + 1)
            comp[0] += c
        mu = np.concatenate([[0.0], comp[:n]])  # eta * inv_h(mu)
    return mu


def _stirling_g(k_max):
    """g_k of Gamma(a) ~ sqrt(2 pi / a) (a / e)^a sum_k g_k a^-k, from exp(Stirling's series)."""
    n = k_max + 1
    s = np.zeros(n)  # sum_k B_2k / (2k (2k - 1)) a^(1 - 2k), in powers of 1/a
    for k, c in enumerate(_sk._STIRLING, start=1):
        if 2 * k - 1 < n:
            s[2 * k - 1] = c
    out = np.zeros(n)  # exp(s) by exp' = s' exp
    out[0] = 1.0
    for m in range(1, n):
        out[m] = sum(i * s[i] * out[m - i] for i in range(1, m + 1)) / m
    return out


def _temme_coefficients(k_max=_TEMME_K, n_max=_TEMME_N):
    """d[k, n]: c_k(eta) = sum_n d[k, n] eta^n, from c_0 = 1 / mu - 1 / eta and
    c_k = c_{k-1}' / eta + (-1)^k g_k / mu (each step uses two more powers of c_{k-1})."""
    m = n_max + 2 * k_max + 2
    mu = _mu_of_eta(m + 1)
    over_mu = _series_inv(mu[1:], m)  # eta / mu
    g = _stirling_g(k_max)
    c = over_mu[1:].copy()  # c_0 = (eta / mu - 1) / eta
    d = np.zeros((k_max, n_max))
    d[0] = c[:n_max]
    for k in range(1, k_max):
        deriv = c[1:] * np.arange(1, c.size)  # c', constant term first
        # c' / eta: the constant of c' becomes a 1/eta pole that (-1)^k g_k / mu cancels
        nxt = deriv[1:] + (-1) ** k * g[k] * over_mu[1:deriv.size]
        c = nxt
        d[k] = c[:n_max]
    return d


_D = _temme_coefficients()


def _log1pmx(t):
    """log(1 + t) - t for t > -1, without cancellation for small t: with u = t / (2 + t),
    log1p(t) = 2 atanh(u), and log1p(t) - t = -2 u^2 / (1 - u) + 2 sum_k u^(2k+1) / (2k+1)."""
    out = np.log1p(t) - t
    small = np.abs(t) < 0.5
    u = t[small] / (2.0 + t[small])
    u2 = u * u
    acc = np.zeros_like(u)
    for k in range(30, 0, -1):  # |u| < 1/3: u^60 is far below an ulp
        acc = acc * u2 + 1.0 / (2 * k + 1)
    out[small] = -2.0 * u2 / (1.0 - u) + 2.0 * u * u2 * acc
    return out


def _stirling_correction(a):
    """lgamma(a) - ((a - 1/2) log a - a + log(2 pi) / 2), for a >= 10."""
    inv = 1.0 / a
    inv2 = inv * inv
    s = np.zeros_like(a)
    for c in _sk._STIRLING[::-1]:
        s = s * inv2 + c
    return s * inv


def _prefactor(a, x):
    """x^a e^-x / Gamma(a) for a > 0, x > 0 (arrays of one shape)."""
    out = np.empty_like(a)
    with np.errstate(all="ignore"):
        big = a >= 10.0
        ab, xb = a[big], x[big]
        t = (xb - ab) / ab
        near = np.abs(t) < 0.5  # x - a exact there (Sterbenz), so t is within an ulp
        lead = np.empty_like(ab)
        lead[near] = ab[near] * _log1pmx(t[near])
        far = ~near
        lead[far] = ab[far] * np.log(xb[far] / ab[far]) - (xb[far] - ab[far])
        out[big] = np.exp(lead - _stirling_correction(ab)) * np.sqrt(ab / (2.0 * math.pi))
        sm = ~big  # as a x^a e^-x / Gamma(a + 1): lgamma(a) ~ -log(a) would swamp the exponent
        asm = a[sm]
        out[sm] = asm * np.exp(asm * np.log(x[sm]) - x[sm] - _lgamma1p(asm))
    return out


def _lgamma1p(a):
    """lgamma(1 + a), exact near a = 0 (where 1 + a would round)."""
    out = _sk.lgamma(1.0 + a)
    small = np.abs(a) <= 0.5
    out[small] = _sk._lgamma2_series(a[small]) - np.log1p(a[small])
    return out


# ---- the four methods (each on arrays of one shape, a > 0, x > 0 finite) -----------------------

def _p_series(a, x):
    """P(a, x) = x^a e^-x / Gamma(a + 1) sum_n x^n / ((a+1) ... (a+n))."""
    total = np.ones_like(a)
    term = np.ones_like(a)
    r = a.copy()
    live = np.arange(a.size)
    for _ in range(_MAX_ITER):
        r[live] += 1.0
        term[live] *= x[live] / r[live]
        total[live] += term[live]
        live = live[term[live] > _EPS * total[live]]
        if not live.size:
            break
    return total * _prefactor(a, x) / a


def _q_fraction(a, x):
    """Q(a, x) = x^a e^-x / Gamma(a) / (x + 1 - a - 1 (1 - a) / (x + 3 - a - 2 (2 - a) / ...)),
    by the modified Lentz method."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = np.full_like(a, 1.0 / tiny)
    d = 1.0 / b
    h = d.copy()
    live = np.arange(a.size)
    for i in range(1, _MAX_ITER):
        an = -i * (i - a[live])
        b[live] += 2.0
        dl = an * d[live] + b[live]
        dl = np.where(np.abs(dl) < tiny, tiny, dl)
        cl = b[live] + an / c[live]
        cl = np.where(np.abs(cl) < tiny, tiny, cl)
        dl = 1.0 / dl
        step = dl * cl
        d[live], c[live] = dl, cl
        h[live] *= step
        live = live[np.abs(step - 1.0) > _EPS]
        if not live.size:
            break
    return h * _prefactor(a, x)


def _q_series(a, x):
    """Q(a, x) for small a and x <= 1.1: 1 - x^a / Gamma(a + 1) + x^a / Gamma(a) sum_{n >= 1}
    (-x)^n / (n! (a + n)) with the first two terms as one expm1 (no cancellation when P ~ 1)."""
    fac = np.ones_like(a)
    total = np.zeros_like(a)
    live = np.arange(a.size)
    for n in range(1, _MAX_ITER):
        fac[live] *= -x[live] / n
        term = fac[live] / (a[live] + n)
        total[live] += term
        live = live[np.abs(term) > _EPS * np.abs(total[live])]
        if not live.size:
            break
    lead = a * np.log(x) - _lgamma1p(a)  # log(x^a / Gamma(a + 1)), small for small a
    return -np.expm1(lead) - a * np.exp(lead) * total


def _temme(a, x, upper):
    """Q (upper) or P by Temme's uniform expansion, with its terms cut where they start to grow."""
    t = (x - a) / a
    eta = np.sqrt(-2.0 * _log1pmx(t)) * np.sign(t)
    sgn = 1.0 if upper else -1.0
    head = 0.5 * _sk.erfc(sgn * eta * np.sqrt(0.5 * a))
    total = np.zeros_like(a)
    prev = np.full_like(a, np.inf)
    going = np.ones(a.shape, dtype=bool)
    afac = np.ones_like(a)
    for k in range(_TEMME_K):
        ck = np.zeros_like(a)
        for dn in _D[k][::-1]:
            ck = ck * eta + dn
        term = ck * afac
        going &= np.abs(term) <= prev  # an asymptotic series: stop before it diverges
        total += np.where(going, term, 0.0)
        prev = np.abs(term)
        afac = afac / a
    return head + sgn * np.exp(-0.5 * a * eta * eta) * total / np.sqrt(2.0 * math.pi * a)


# ---- entry points -------------------------------------------------------------------------------

def _edges(a, x, upper):
    """The results fixed by the edges (NaN where undefined), and where they apply."""
    p = np.full(a.shape, np.nan)
    fixed = np.isnan(a) | np.isnan(x) | (a < 0) | (x < 0)
    zero_a = (a == 0) & ~fixed
    p[zero_a] = np.where(x[zero_a] > 0, 1.0, np.nan)
    fixed |= zero_a
    zero_x = (x == 0) & ~fixed
    p[zero_x] = 0.0
    fixed |= zero_x
    inf_a = np.isinf(a) & ~fixed
    p[inf_a] = np.where(np.isinf(x[inf_a]), np.nan, 0.0)
    fixed |= inf_a
    inf_x = np.isinf(x) & ~fixed
    p[inf_x] = 1.0
    fixed |= inf_x
    return (1.0 - p if upper else p), fixed


def _incomplete(a, x, upper):
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    shape = a.shape
    a, x = a.ravel(), x.ravel()
    with np.errstate(all="ignore"):
        out, fixed = _edges(a, x, upper)
        ratio = np.abs(x - a) / a
        temme = ~fixed & (((a > 20) & (a < 200) & (ratio < 0.3))
                          | ((a >= 200) & (ratio < 4.5 / np.sqrt(a))))
        out[temme] = _temme(a[temme], x[temme], upper)
        rest = ~fixed & ~temme
        if upper:
            # the cases where Q comes straight from its own series or fraction
            frac = rest & (x > 1.1) & (x >= a)
            small = rest & (x <= 1.1) & np.where(x <= 0.5, -0.4 / np.log(x) >= a, x * 1.1 >= a)
        else:
            frac = rest & (x > 1.0) & (x > a)
            small = np.zeros_like(rest)
        series = rest & ~frac & ~small
        out[frac] = _q_fraction(a[frac], x[frac])
        out[small] = _q_series(a[small], x[small])
        out[series] = _p_series(a[series], x[series])
        flip = frac if not upper else series
        out[flip] = 1.0 - out[flip]
        # a series that sums to ~1 can round an ulp above it: the true value is at most 1
        out = np.minimum(out, 1.0)
    return out.reshape(shape)


def gammainc(a, x):
    """P(a, x), the regularized lower incomplete gamma function (float64)."""
    return _incomplete(a, x, upper=False)


def gammaincc(a, x):
    """Q(a, x) = 1 - P(a, x), the regularized upper incomplete gamma function (float64)."""
    return _incomplete(a, x, upper=True)
