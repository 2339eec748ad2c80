"""Array kernels of torch.special's classical orthogonal polynomials p_n(x): pure NumPy, float64
in and out, vectorised over elements, with torch 2.13's conventions and order of operations (its
values differ only by its fused multiply-adds' rounding): ``n`` is truncated to an integer (toward zero) and a negative ``n`` gives 0; the value at
the ends of the interval (x = +-1, or 0 and 1 for the shifted ones) is the closed form; inside
the interval and past a small degree the Chebyshev ones use their trigonometric forms
(``T_n(cos t) = cos(n t)``, ...); everywhere else the three-term recurrence runs from p_0, p_1
(so |x| > 1 overflows to inf and then NaN at high degree, as torch's).

The recurrence runs over the degrees once for all elements, sorted by degree: step k updates
only the elements whose degree is above k (a prefix), the loop ending early once all of them are
NaN (NaN stays NaN). So the cost is one NumPy step per degree up to the largest one left: fine
to thousands, slow for a degree in the millions where the values stay finite (Legendre,
Laguerre; torch's scalar loop is faster there)."""
from __future__ import annotations

import numpy as np


def _degrees(n):
    """n as int64, truncated toward zero. What torch's cast to int64 makes negative (NaN, +-inf,
    |n| >= 2^63 all become the smallest int64 on x86) is -1 here: the result 0, as torch's."""
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        ok = np.abs(n) < 2.0 ** 63
    return np.where(ok, np.trunc(np.where(ok, n, -1.0)), -1.0).astype(np.int64)


_NAN_CHECK = 64  # steps between the checks whether every element still running is NaN


def _by_degree(n):
    """The order that sorts ``n`` (> 0) by degree, largest first: a stable radix sort where the
    degrees fit in 16 bits (O(n), where a comparison sort of int64 was the slowest step)."""
    top = int(n.max(initial=0))
    if top < 2 ** 15:
        return np.argsort(-n.astype(np.int16), kind="stable")
    return np.argsort(-n, kind="stable")


def _recur(x, n, p1, step):
    """p_n(x) for elements with n >= 2, by p_{k+1} = step(k, x, p_k, p_{k-1}) from p_0 = 1 and
    p_1 (k = 1, 2, ...). The elements sorted once by degree, largest first: at step k the ones
    still short of their degree are a prefix, the ones reaching it the prefix's tail, so each
    step works on slices (no mask, no compaction). A NaN stays NaN up the recurrence: once
    every element still running is NaN, the rest of them are NaN and the loop stops."""
    order = _by_degree(n)
    xs, ns = x[order], n[order]
    top = int(ns[0]) if ns.size else 0
    # running[d]: how many elements have degree >= d (a prefix of the sorted arrays)
    running = np.searchsorted(-ns, -np.arange(top + 2), side="right")
    out = np.empty_like(xs)
    p, q = np.ones_like(xs), p1(xs)
    for k in range(1, top):
        c = running[k + 1]
        r = step(k, xs[:c], q[:c], p[:c])
        finished = running[k + 2]
        out[finished:c] = r[finished:]
        p[:c] = r  # p_{k-1} is no longer needed: its buffer takes p_{k+1}
        p, q = q, p
        if k % _NAN_CHECK == 0 and np.isnan(r[:finished]).all():
            out[:finished] = np.nan
            break
    result = np.empty_like(out)
    result[order] = out
    return result


def _evaluate(x, n, p1, step, closed=None, trig=None):
    """torch's order of cases: n < 0 gives 0; then ``closed`` (mask, values) for the ends; then
    ``trig`` (mask, values) inside the interval; then n = 0, n = 1, the recurrence. ``closed``
    and ``trig`` are functions of the flat (x, n) returning a mask and the values there."""
    x, n = np.broadcast_arrays(np.asarray(x, np.float64), _degrees(n))
    shape = x.shape
    x, n = x.ravel(), n.ravel()
    out = np.empty(x.shape)
    todo = np.ones(x.shape, dtype=bool)
    with np.errstate(all="ignore"):
        neg = n < 0
        out[neg] = 0.0
        todo &= ~neg
        for case in (closed, trig):
            if case is not None:
                mask, values = case(x, n)
                mask &= todo
                out[mask] = values[mask]
                todo &= ~mask
        for deg, value in ((0, np.ones_like(x)), (1, p1(x))):
            m = todo & (n == deg)
            out[m] = value[m]
            todo &= ~m
        out[todo] = _recur(x[todo], n[todo], p1, step)
    return out.reshape(shape)


def _odd(n):
    return n % 2 == 1


# ---- Chebyshev, on [-1, 1] ----------------------------------------------------------------------

def _cheb(x, n, p1, closed, trig_deg, trig):
    """A Chebyshev polynomial: p_{k+1} = 2x p_k - p_{k-1}; ``trig(x, n, theta)`` past degree
    ``trig_deg`` where the argument is inside (-1, 1)."""
    def inside(xx, nn):
        return (nn > trig_deg) & (np.abs(xx) < 1.0), trig(xx, nn, np.arccos(xx))
    return _evaluate(x, n, p1, lambda k, xx, q, p: (xx + xx) * q - p, closed, inside)


def _sign_ends(value_at_minus):
    """The ends of T/U-like polynomials: ``value(n)`` at x = 1, times -1 at x = -1 for odd n."""
    def closed(x, n):
        v = value_at_minus(n)
        return np.abs(x) == 1.0, np.where((x > 0) | ~_odd(n), v, -v)
    return closed


def chebyshev_t(x, n):
    return _cheb(x, n, lambda v: v.copy(), _sign_ends(lambda n: np.ones(n.shape)), 6,
                 lambda x, n, t: np.cos(n * t))


def _u_trig(x, n, t):
    s = np.sin(t)
    return np.where(s != 0, np.sin((n + 1) * t) / s, (n + 1) * np.cos((n + 1) * t) / x)


def chebyshev_u(x, n):
    return _cheb(x, n, lambda v: v + v, _sign_ends(lambda n: n + 1.0), 8, _u_trig)


def _v_closed(x, n):
    odd_sign = np.where(_odd(n), -1.0, 1.0)
    return np.abs(x) == 1.0, np.where(x > 0, 1.0, odd_sign * (n + n + 1.0))


def _v_trig(x, n, t):
    inner = np.cos((n + 0.5) * t) / np.cos(t / 2)
    return np.where(np.sin(t / 2) != 1, inner, np.where(_odd(n), -1.0, 1.0) * (n + n + 1.0))


def chebyshev_v(x, n):
    return _cheb(x, n, lambda v: v + v - 1.0, _v_closed, 8, _v_trig)


def _w_closed(x, n):
    return np.abs(x) == 1.0, np.where(x > 0, n + n + 1.0, np.where(_odd(n), -1.0, 1.0))


def _w_trig(x, n, t):
    inner = np.sin((n + 0.5) * t) / np.sin(t / 2)
    return np.where(np.cos(t / 2) != 1, inner, _w_closed(x, n)[1])


def chebyshev_w(x, n):
    return _cheb(x, n, lambda v: v + v + 1.0, _w_closed, 8, _w_trig)


# ---- shifted Chebyshev, on [0, 1]: p*(x) = p(2x - 1), with torch's own ends and thresholds ----

def _shifted(base_p1, closed, trig_deg, trig):
    def f(x, n):
        def inside(xx, nn):
            y = xx + xx - 1.0
            return (nn > trig_deg) & (np.abs(y) < 1.0), trig(y, nn, np.arccos(y))

        def p1(xx):
            return base_p1(xx + xx - 1.0)

        def step(k, xx, q, p):
            y = xx + xx - 1.0
            return (y + y) * q - p
        return _evaluate(x, n, p1, step, closed, inside)
    return f


def _shifted_ends(at_one, at_zero):
    def closed(x, n):
        m1, m0 = x == 1.0, x == 0.0
        return m1 | m0, np.where(m1, at_one(n), at_zero(n))
    return closed


def _alt(v):
    return lambda n: np.where(_odd(n), -1.0, 1.0) * v(n)


shifted_chebyshev_t = _shifted(lambda y: y, _shifted_ends(lambda n: np.ones(n.shape),
                                                        _alt(lambda n: np.ones(n.shape))),
                               6, lambda y, n, t: np.cos(n * t))
shifted_chebyshev_u = _shifted(lambda y: y + y, _shifted_ends(lambda n: n + 1.0,
                                                            _alt(lambda n: n + 1.0)), 6, _u_trig)
shifted_chebyshev_v = _shifted(lambda y: y + y - 1.0,
                               _shifted_ends(lambda n: np.ones(n.shape),
                                             _alt(lambda n: n + n + 1.0)), 6, _v_trig)


def _w_trig_shifted(y, n, t):
    inner = np.sin((n + 0.5) * t) / np.sin(t / 2)
    return np.where(np.cos(t / 2) != 1, inner, np.where(_odd(n), -1.0, 1.0))


shifted_chebyshev_w = _shifted(lambda y: y + y + 1.0,
                               _shifted_ends(lambda n: n + n + 1.0,
                                             _alt(lambda n: np.ones(n.shape))), 4,
                               _w_trig_shifted)


# ---- Hermite, Laguerre, Legendre: the recurrence only --------------------------------------------

def hermite_h(x, n):
    """The physicists' Hermite polynomials: H_{k+1} = 2x H_k - 2k H_{k-1}."""
    return _evaluate(x, n, lambda v: v + v, lambda k, x, q, p: (x + x) * q - (2.0 * k) * p)


def hermite_he(x, n):
    """The probabilists' Hermite polynomials: He_{k+1} = x He_k - k He_{k-1}."""
    return _evaluate(x, n, lambda v: v.copy(), lambda k, x, q, p: x * q - float(k) * p)


def _laguerre_closed(x, n):
    return x == 0.0, np.ones(x.shape)


def laguerre_l(x, n):
    """L_{k+1} = ((2k + 1 - x) L_k - k L_{k-1}) / (k + 1); 1 at x = 0."""
    return _evaluate(x, n, lambda v: 1.0 - v,
                     lambda k, x, q, p: ((2.0 * k + (1.0 - x)) * q - k * p) / (k + 1.0),
                     _laguerre_closed)


def legendre_p(x, n):
    """P_{k+1} = ((2k + 1) x P_k - k P_{k-1}) / (k + 1); +-1 at the ends."""
    return _evaluate(x, n, lambda v: v.copy(),
                     lambda k, x, q, p: ((2.0 * k + 1.0) * x * q - k * p) / (k + 1.0),
                     _sign_ends(lambda n: np.ones(n.shape)))
