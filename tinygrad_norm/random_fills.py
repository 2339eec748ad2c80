"""torch's remaining random samplers: the in-place fills ``exponential_``, ``cauchy_``,
``log_normal_`` and ``geometric_`` (as ``normal_``: the framework's generator or
``generator=``, refused on a tensor that requires grad in grad mode), and the top-level
``binomial(count, prob)`` and ``poisson(input)``.

*vs PyTorch:* the draws are NumPy's (same distribution, other numbers); ``binomial`` and
``poisson`` refuse invalid parameters (torch returns arbitrary values for a probability outside
[0, 1] or a negative count), and their results carry no gradient (torch's poisson gradient is
zero, its binomial has none)."""
from __future__ import annotations

import numpy as np

from . import random as _random
from .tensor import Tensor, _scalar_arg

__all__ = ["binomial", "poisson"]


def _number(v, fn, name):
    v = _scalar_arg(v, f"{fn}(): {name}")
    if v is None:
        raise TypeError(f"{fn}(): argument '{name}' must be a number, not NoneType")
    return float(v)


def _continuous(self, fn, what):
    """torch's refusal of a continuous distribution in an integer tensor (its words)."""
    if self.dtype.kind != "f":
        raise TypeError(f"{what} distribution is a continuous probability distribution. dtype "
                        f"must be a floating point but you specified {self.dtype}")
    self._in_place(fn)


def exponential_(self, lambd=1, *, generator=None):
    """Exponential draws of rate ``lambd`` (> 0; infinity gives zeros), in place."""
    lambd = _number(lambd, "exponential_", "lambd")
    if not lambd > 0:
        raise ValueError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    _continuous(self, "exponential_", "Exponential")
    draws = _random.resolve(generator).exponential(1.0 / lambd, self._data.shape)
    return self._put("exponential_", draws)


def cauchy_(self, median=0, sigma=1, *, generator=None):
    """Cauchy draws around ``median`` of half-width ``sigma`` (> 0), in place."""
    median, sigma = _number(median, "cauchy_", "median"), _number(sigma, "cauchy_", "sigma")
    if not sigma > 0:
        raise ValueError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    _continuous(self, "cauchy_", "Cauchy")
    draws = _random.resolve(generator).standard_cauchy(self._data.shape)
    return self._put("cauchy_", median + sigma * draws)


def log_normal_(self, mean=1, std=2, *, generator=None):
    """``exp`` of normal draws of ``mean`` and ``std`` (> 0), in place."""
    mean, std = _number(mean, "log_normal_", "mean"), _number(std, "log_normal_", "std")
    if not std > 0:
        raise ValueError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    _continuous(self, "log_normal_", "Log-normal")
    return self._put("log_normal_", _random.resolve(generator).lognormal(mean, std,
                                                                         self._data.shape))


def geometric_(self, p, *, generator=None):
    """The number of Bernoulli(``p``) trials up to the first success (1, 2, ...), in place; any
    dtype, as torch's."""
    p = _number(p, "geometric_", "p")
    if not 0 < p < 1:
        raise ValueError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    self._in_place("geometric_")
    return self._put("geometric_", _random.resolve(generator).geometric(p, self._data.shape))


def _float_tensor(x, fn, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{fn} only supports floating-point dtypes for {name}, got: {x.dtype}")
    return x._data


def binomial(count, prob, generator=None):
    """Binomial draws of ``count`` trials (whole, >= 0) of success probability ``prob`` (in
    [0, 1]), element by element (broadcast), as ``torch.binomial``: a float tensor of
    ``count``'s dtype."""
    n, p = _float_tensor(count, "binomial", "count"), _float_tensor(prob, "binomial", "prob")
    if n.dtype != p.dtype:
        raise TypeError(f"binomial(): count and prob must have the same dtype, got {n.dtype} "
                        f"and {p.dtype}")
    if not np.all(n >= 0) or not np.all(np.isfinite(n)):
        raise ValueError("binomial(): count must be finite and non-negative")
    if not np.all((p >= 0) & (p <= 1)):
        raise ValueError("binomial(): prob must be in [0, 1]")
    try:
        shape = np.broadcast_shapes(n.shape, p.shape)
    except ValueError:
        raise ValueError(f"binomial(): the shapes of count {n.shape} and prob {p.shape} do not "
                         f"broadcast") from None
    draws = _random.resolve(generator, "binomial").binomial(n.astype(np.int64), p, shape)
    return Tensor._wrap(draws.astype(n.dtype))


def poisson(input, generator=None):
    """Poisson draws of rate ``input`` (>= 0), element by element, as ``torch.poisson``."""
    rate = _float_tensor(input, "poisson", "input")
    if not np.all(rate >= 0):
        raise ValueError("invalid Poisson rate, expected rate to be non-negative")
    rng = _random.resolve(generator, "poisson")
    try:
        draws = rng.poisson(rate)
    except ValueError:  # NumPy's "lam value too large": a count past int64
        raise ValueError("poisson(): a rate is too large to draw from (at most about 9e18)") \
            from None
    return Tensor._wrap(np.asarray(draws, dtype=rate.dtype))


for _fn in (exponential_, cauchy_, log_normal_, geometric_):
    setattr(Tensor, _fn.__name__, _fn)
del _fn
