"""``tinygrad_norm.special``: torch.special's functions, same names and arguments.

The functions whose derivative needs a new function (lgamma, digamma, polygamma, erfc, erfcx,
erfinv, ndtri, the Bessel functions i0/i0e/i1/i1e, zeta) are primitives of ops.py over the
float64 kernels of special_kernels.py: a float32 input is computed in float64 and rounded once.
Everything else is a composite, so its gradient comes from the tape: ``ndtr`` from erfc,
``log_ndtr`` from erfcx (no underflow far left), ``entr``, ``xlog1py``, ``multigammaln``; and
the rest are the package's existing functions under torch.special's names.
Integer and bool inputs are computed in float32, as torch."""
from __future__ import annotations

import math

import numpy as np

from . import _argname
from . import ops, special_kernels as _sk, special_kernels_bessel as _skb, \
    special_kernels_poly as _skp
from .pointwise import _both, _both_broadcast, _float, _tensor, logit, sinc, xlogy
from .tensor import Tensor, _int_arg, apply, where

__all__ = ["gammaln", "digamma", "psi", "polygamma", "multigammaln", "erf", "erfc", "erfcx",
           "erfinv", "ndtr", "ndtri", "log_ndtr", "expit", "logit", "xlogy", "xlog1py", "entr",
           "sinc", "i0", "i0e", "i1", "i1e", "log1p", "expm1", "exp2", "round", "softmax",
           "log_softmax", "logsumexp", "zeta", "bessel_j0", "bessel_j1", "modified_bessel_i0",
           "modified_bessel_i1", "spherical_bessel_j0", "gammainc", "gammaincc", "bessel_y0",
           "bessel_y1", "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
           "scaled_modified_bessel_k1", "airy_ai", "chebyshev_polynomial_t",
           "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
           "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
           "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w",
           "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
           "legendre_polynomial_p"]

_SQRT1_2 = math.sqrt(0.5)


def _unary(op, input, fn):
    return apply(op, _float(_tensor(input, fn)))


def gammaln(input):
    """log(abs(Gamma(x))), inf at the poles (0 and the negative integers), as ``torch.lgamma``."""
    return _unary(ops.Lgamma, input, "gammaln")


def digamma(input):
    """The logarithmic derivative of Gamma: -inf at +0, inf at -0, NaN at negative integers."""
    return _unary(ops.Digamma, input, "digamma")


psi = digamma


def polygamma(n, input):
    """The ``n``-th derivative of ``digamma`` (``n = 0``: digamma itself)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    if n < 0:
        raise ValueError("polygamma(n, x) does not support negative n.")
    x = _float(_tensor(input, "polygamma"))
    return apply(ops.Digamma, x) if n == 0 else apply(ops.Polygamma, x, n=int(n))


def multigammaln(input, p):
    """The log of the multivariate gamma function of dimension ``p``:
    ``p (p - 1) / 4 log(pi) + sum_j lgamma(x - j / 2)``, j < p. Like torch 2.13, no check that
    x > (p - 1) / 2."""
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)):
        raise TypeError(f"multigammaln(): argument 'p' (position 2) must be int, not "
                        f"{type(p).__name__}")
    if p < 1:
        raise ValueError("p has to be greater than or equal to 1")
    x = _float(_tensor(input, "multigammaln"))
    shifts = Tensor(np.arange(p, dtype=x.dtype) * -0.5)
    terms = apply(ops.Lgamma, x.unsqueeze(-1) + shifts)
    return terms.sum(axis=-1) + p * (p - 1) * 0.25 * math.log(math.pi)


def erf(input):
    return _float(_tensor(input, "erf")).erf()


def erfc(input):
    """1 - erf(x), without the cancellation in the right tail."""
    return _unary(ops.Erfc, input, "erfc")


def erfcx(input):
    """exp(x^2) erfc(x), finite (~ 1 / (x sqrt(pi))) for large x."""
    return _unary(ops.Erfcx, input, "erfcx")


def erfinv(input):
    """The inverse of erf: +-inf at +-1, NaN outside [-1, 1]."""
    return _unary(ops.Erfinv, input, "erfinv")


def ndtr(input):
    """The standard normal CDF, ``erfc(-x / sqrt(2)) / 2``."""
    x = _float(_tensor(input, "ndtr"))
    return apply(ops.Erfc, x * -_SQRT1_2) * 0.5


def ndtri(input):
    """The inverse of ``ndtr``: -inf at 0, inf at 1, NaN outside [0, 1]."""
    return _unary(ops.Ndtri, input, "ndtri")


def log_ndtr(input):
    """log(ndtr(x)), stable in both tails: ``log(erfcx(-x/sqrt2) / 2) - x^2 / 2`` for x < 0
    (ndtr itself underflows below -38), ``log1p(-erfc(x/sqrt2) / 2)`` above. The gradient far
    in the left tail is ``-x`` to the ulp (1e300 at -1e300); torch's ratio of an underflowed
    density to an underflowed ndtr gives inf (-1e10) and NaN (-1e300) there."""
    x = _float(_tensor(input, "log_ndtr"))
    neg = x._data < 0
    xn = where(neg, x, 0.0)  # each side fed a harmless value where the other is taken
    xp = where(neg, 0.0, x)
    left = (apply(ops.Erfcx, xn * -_SQRT1_2) * 0.5).log() - xn * xn * 0.5
    right = (apply(ops.Erfc, xp * _SQRT1_2) * -0.5).log1p()
    return where(neg, left, right)


def expit(input):
    """The logistic sigmoid."""
    return _float(_tensor(input, "expit")).sigmoid()


def xlog1py(input, other):
    """``input * log1p(other)``, 0 where ``input`` is 0 (unless ``other`` is NaN), as torch;
    the gradient to ``other`` is ``input / (1 + other)`` (0 where ``other`` is -1)."""
    x, y = _both_broadcast(input, other, "xlog1py")
    at_pole = y._data == -1
    # x = 0 with other < -1 is torch's 0 (value and gradients): log1p kept out of it there, as
    # at the pole, so that no NaN reaches a gradient; for x != 0 it stays NaN, as torch's.
    safe = at_pole | ((y._data < -1) & (x._data == 0))
    with np.errstate(invalid="ignore"):  # log1p(y < -1) is NaN, as torch's (silently)
        log_y = where(safe, 0.0, where(safe, 0.0, y).log1p())
    out = x * log_y
    # 0 * log1p(inf) would be NaN: torch's 0 there. Only there: where log1p(other) is finite,
    # the x-gradient at x = 0 stays log1p(other), as torch's.
    keep_zero = (x._data == 0) & (y._data == np.inf)
    if keep_zero.any():
        out = where(keep_zero, 0.0, out)
    inf = at_pole & (x._data != 0)
    if inf.any():  # x * log(0): the infinities, as constants
        with np.errstate(divide="ignore", invalid="ignore"):
            out = where(inf, Tensor(x._data * np.log1p(y._data)), out)
    return out


def entr(input):
    """``-x log(x)`` for x > 0, 0 at 0, -inf below (NaN stays NaN), as torch. Its gradient is
    ``-(1 + log x)``; at x = 0 and below it is 0 here (torch's is inf at 0 and NaN below)."""
    x = _float(_tensor(input, "entr"))
    pos = x._data > 0
    xs = where(pos, x, 1.0)
    out = where(pos, -xs * xs.log(), 0.0)
    neg = x._data < 0
    if neg.any():
        out = where(neg, -np.inf, out)
    nan = np.isnan(x._data)
    return where(nan, x, out) if nan.any() else out


def _bessel(op, fn):
    def f(input):
        return _unary(op, input, fn)
    _argname.rename(f, fn)
    return f


i0 = _bessel(ops.I0, "i0")
i0.__doc__ = "The modified Bessel function of the first kind of order 0."
i0e = _bessel(ops.I0e, "i0e")
i0e.__doc__ = "``exp(-|x|) i0(x)``, computed without overflow."
i1 = _bessel(ops.I1, "i1")
i1.__doc__ = "The modified Bessel function of the first kind of order 1."


def i1e(input):
    """``exp(-|x|) i1(x)``, computed without overflow. Below ``|x| = 1e-8`` it is the series
    ``x (1 - |x|) / 2`` (exact to the ulp there; its derivative torch's 1/2 at 0): the kernel's
    derivative divides by ``x``, which overflows at the subnormals (NaN and -inf, torch: 1/2).
    *vs PyTorch:* at NaN the gradient is NaN (torch's is a finite number)."""
    x = _float(_tensor(input, "i1e"))
    tiny = (np.abs(x._data) < 1e-8) & (x._data != 0)
    if not tiny.any():  # (the common case: the kernel alone, one pass to look)
        return apply(ops.I1e, x)
    small = where(tiny, x, 0.0)  # the series reads only the tiny entries: no slope elsewhere
    return where(tiny, small * (0.5 - 0.5 * small.abs()), apply(ops.I1e, where(tiny, 1.0, x)))


def log1p(input):
    return _float(_tensor(input, "log1p")).log1p()


def expm1(input):
    return _float(_tensor(input, "expm1")).expm1()


def exp2(input):
    return _tensor(input, "exp2").exp2()


def round(input, *, decimals=0):
    return _tensor(input, "round").round(decimals=decimals)


def softmax(input, dim, *, dtype=None):
    """``functional.softmax`` with ``dim`` required, as torch.special's."""
    from .functional.activation import softmax  # lazily: importing the package loads no F
    return softmax(input, _int_arg(dim, "dim", "softmax"), dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    from .functional.activation import log_softmax
    return log_softmax(input, _int_arg(dim, "dim", "log_softmax"), dtype=dtype)


def logsumexp(input, dim, keepdim=False):
    return _tensor(input, "logsumexp").logsumexp(dim=dim, keepdim=keepdim)


def zeta(input, other):
    """Hurwitz's zeta function ``sum_k (other + k)^-input``. Gradient to ``other`` only: like
    torch, backward through ``input`` raises."""
    x, q = _both(input, other, "zeta")
    try:  # checked here: NumPy's broadcast error came from inside the op
        np.broadcast_shapes(x.shape, q.shape)
    except ValueError:
        raise ValueError(f"zeta(): the shapes of input {list(x.shape)} and other "
                         f"{list(q.shape)} cannot be broadcast together") from None
    return apply(ops.Zeta, x, q)


# ---- torch's newer Bessel functions: values only ------------------------------------------------
# torch.special records no gradient for these (their results do not require grad); neither do
# these: each is a constant computed by its kernel.

def _constant(kernel, fn):
    def f(input):
        x = _float(_tensor(input, fn))
        return Tensor._wrap(_sk.on_array(kernel, x._data).astype(x.dtype, copy=False))
    _argname.rename(f, fn)
    return f


bessel_j0 = _constant(_sk.bessel_j0, "bessel_j0")
bessel_j0.__doc__ = ("The Bessel function of the first kind of order 0 (series, Miller's "
                     "recurrence, Hankel's expansion). No gradient, as torch.")
bessel_j1 = _constant(_sk.bessel_j1, "bessel_j1")
bessel_j1.__doc__ = "The Bessel function of the first kind of order 1. No gradient, as torch."
modified_bessel_i0 = _constant(_sk.i0, "modified_bessel_i0")
modified_bessel_i0.__doc__ = "``i0``'s values, without a gradient (as torch's)."
modified_bessel_i1 = _constant(_sk.i1, "modified_bessel_i1")
modified_bessel_i1.__doc__ = "``i1``'s values, without a gradient (as torch's)."
spherical_bessel_j0 = _constant(_sk.spherical_bessel_j0, "spherical_bessel_j0")
spherical_bessel_j0.__doc__ = "``sin(x) / x`` (1 at 0, 0 at +-inf). No gradient, as torch."


# ---- torch's Bessel functions of the second kind and Airy's Ai: values only, as torch -----------

bessel_y0 = _constant(_skb.bessel_y0, "bessel_y0")
bessel_y0.__doc__ = ("The Bessel function of the second kind of order 0: -inf at 0, NaN below "
                     "0 and at +inf (as torch's). No gradient, as torch.")
bessel_y1 = _constant(_skb.bessel_y1, "bessel_y1")
bessel_y1.__doc__ = "The Bessel function of the second kind of order 1. No gradient, as torch."
modified_bessel_k0 = _constant(_skb.modified_bessel_k0, "modified_bessel_k0")
modified_bessel_k0.__doc__ = ("The modified Bessel function of the second kind of order 0: inf "
                              "at 0, NaN below. No gradient, as torch.")
modified_bessel_k1 = _constant(_skb.modified_bessel_k1, "modified_bessel_k1")
modified_bessel_k1.__doc__ = "The modified Bessel function K1. No gradient, as torch."
scaled_modified_bessel_k0 = _constant(_skb.scaled_modified_bessel_k0, "scaled_modified_bessel_k0")
scaled_modified_bessel_k0.__doc__ = "``exp(x) K0(x)``, without underflow. No gradient, as torch."
scaled_modified_bessel_k1 = _constant(_skb.scaled_modified_bessel_k1, "scaled_modified_bessel_k1")
scaled_modified_bessel_k1.__doc__ = "``exp(x) K1(x)``, without underflow. No gradient, as torch."
airy_ai = _constant(_skb.airy_ai, "airy_ai")
airy_ai.__doc__ = "Airy's function Ai (NaN at +-inf, as torch's). No gradient, as torch."


# ---- the regularized incomplete gamma functions -------------------------------------------------

def _check_broadcast(a, b, fn):
    """A clear error before the kernel, rather than NumPy's from inside it."""
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{fn}(): operands of shapes {a.shape} and {b.shape} cannot be "
                         "broadcast together") from None


def _igamma_operands(input, other, fn):
    """Two Tensors (torch takes no Python numbers here) of their floating result dtype; torch's
    refusal where neither is floating."""
    _tensor(input, fn)
    _tensor(other, fn, "other")
    from .pointwise import _result_dtype
    dt = _result_dtype(input, other)
    if dt.kind != "f":
        from .linalg import _torch_type
        raise TypeError(f'"igamma_cpu" not implemented for \'{_torch_type(dt)}\'')
    _check_broadcast(input, other, fn)
    return input.astype(dt), other.astype(dt)


def gammainc(input, other):
    """The regularized lower incomplete gamma function P(input, other) = gamma(a, x) / Gamma(a),
    broadcast. Gradient to ``other`` (x^(a-1) e^-x / Gamma(a)); through ``input`` backward
    raises NotImplementedError, as torch."""
    a, x = _igamma_operands(input, other, "special_gammainc")
    return apply(ops.Igamma, a, x, upper=False)


def gammaincc(input, other):
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P(input, other)."""
    a, x = _igamma_operands(input, other, "special_gammaincc")
    return apply(ops.Igamma, a, x, upper=True)


def igamma(input, other):
    """torch.igamma: ``gammainc`` under its top-level name (and its argument errors)."""
    a, x = _igamma_operands(input, other, "igamma")
    return apply(ops.Igamma, a, x, upper=False)


def igammac(input, other):
    """torch.igammac: ``gammaincc`` under its top-level name."""
    a, x = _igamma_operands(input, other, "igammac")
    return apply(ops.Igamma, a, x, upper=True)


# ---- orthogonal polynomials: values only, as torch ----------------------------------------------

def _polynomial(kernel, fn):
    def f(input, n):
        x, deg = _both(input, n, fn)
        _check_broadcast(x, deg, fn)
        out = kernel(x._data, deg._data)
        return Tensor._wrap(np.asarray(out).astype(x.dtype, copy=False))
    _argname.rename(f, fn)
    f.__doc__ = (f"torch.special.{fn}(input, n): the polynomial of degree ``n`` (truncated to an "
                 "integer; 0 for a negative degree) at ``input``, broadcast, either one a Tensor "
                 "or a Python number. No gradient, as torch.")
    return f


chebyshev_polynomial_t = _polynomial(_skp.chebyshev_t, "chebyshev_polynomial_t")
chebyshev_polynomial_u = _polynomial(_skp.chebyshev_u, "chebyshev_polynomial_u")
chebyshev_polynomial_v = _polynomial(_skp.chebyshev_v, "chebyshev_polynomial_v")
chebyshev_polynomial_w = _polynomial(_skp.chebyshev_w, "chebyshev_polynomial_w")
shifted_chebyshev_polynomial_t = _polynomial(_skp.shifted_chebyshev_t,
                                             "shifted_chebyshev_polynomial_t")
shifted_chebyshev_polynomial_u = _polynomial(_skp.shifted_chebyshev_u,
                                             "shifted_chebyshev_polynomial_u")
shifted_chebyshev_polynomial_v = _polynomial(_skp.shifted_chebyshev_v,
                                             "shifted_chebyshev_polynomial_v")
shifted_chebyshev_polynomial_w = _polynomial(_skp.shifted_chebyshev_w,
                                             "shifted_chebyshev_polynomial_w")
hermite_polynomial_h = _polynomial(_skp.hermite_h, "hermite_polynomial_h")
hermite_polynomial_he = _polynomial(_skp.hermite_he, "hermite_polynomial_he")
laguerre_polynomial_l = _polynomial(_skp.laguerre_l, "laguerre_polynomial_l")
legendre_polynomial_p = _polynomial(_skp.legendre_p, "legendre_polynomial_p")
