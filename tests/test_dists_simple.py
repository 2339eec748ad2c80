"""Geometric, Multinomial, Weibull and Pareto against torch 2.13 (float64): values and the
parameters' gradients under a random upstream gradient, draws' statistics (seeded), shapes,
expand and torch's argument errors."""
import math

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import distributions as D

from dists_compare import compare, pair, quantity

torch = pytest.importorskip("torch")
TD = torch.distributions
RNG = np.random.default_rng(5)
MOMENTS = ["mean", "mode", "variance", "stddev", "entropy"]


@pytest.mark.parametrize("what", ["log_prob"] + MOMENTS)
@pytest.mark.parametrize("by", ["probs", "logits"])
def test_geometric_as_torch(what, by):
    p = RNG.uniform(0.05, 0.95, size=(2, 3)) if by == "probs" else RNG.normal(size=(2, 3))
    value = RNG.integers(0, 6, size=(4, 2, 3)).astype(float)
    ours, theirs = pair([p])
    o, w = D.Geometric(**{by: ours[0]}), TD.Geometric(**{by: theirs[0]})
    compare(quantity(o, what, tg.tensor(value)), quantity(w, what, torch.tensor(value)),
            ours, theirs)


def test_geometric_edges_draws_and_errors():
    # probs 1 at value 0: log_prob 0, not NaN (torch's special case)
    g = D.Geometric(tg.tensor([1.0, 0.5], dtype=tg.float64))
    np.testing.assert_allclose(g.log_prob(tg.tensor([0.0, 2.0], dtype=tg.float64)).numpy(),
                               [0.0, 3 * np.log(0.5)])
    tg.manual_seed(0)
    x = D.Geometric(tg.tensor([0.3])).sample((50000,)).numpy()
    assert x.shape == (50000, 1) and (x >= 0).all() and (x % 1 == 0).all()
    assert abs(x.mean() - (1 / 0.3 - 1)) < 0.05
    assert D.Geometric(0.4).expand((3,)).batch_shape == (3,)
    with pytest.raises(ValueError, match="to be positive but found invalid values"):
        D.Geometric(tg.tensor([0.0, 0.5]))
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.Geometric()
    with pytest.raises(ValueError, match="within the support"):
        g.log_prob(tg.tensor([0.5, 1.0], dtype=tg.float64))


@pytest.mark.parametrize("what", ["log_prob", "mean", "variance", "entropy"])
@pytest.mark.parametrize("by", ["probs", "logits"])
def test_multinomial_as_torch(what, by):
    raw = RNG.uniform(0.1, 1.0, size=(2, 4))
    p = raw / raw.sum(-1, keepdims=True) if by == "probs" else RNG.normal(size=(2, 4))
    counts = RNG.multinomial(7, [0.25] * 4, size=(3, 2)).astype(float)
    ours, theirs = pair([p])
    o, w = D.Multinomial(7, **{by: ours[0]}), TD.Multinomial(7, **{by: theirs[0]})
    assert o.batch_shape == (2,) and o.event_shape == (4,)
    want = quantity(w, what, torch.tensor(counts))
    if what == "entropy":
        want = want + _slip(7)
    compare(quantity(o, what, tg.tensor(counts)), want, ours, theirs)


# torch's Multinomial.entropy takes lgamma(n + 1) of an int64 tensor, in float32: its entropy
# is off by that rounding (4e-7 at n = 7), a constant, so its gradient is exact
def _slip(n):
    return float(torch.lgamma(torch.tensor(n) + 1)) - math.lgamma(n + 1)


def _compositions(n, k):
    if k == 1:
        yield (n,)
        return
    for i in range(n + 1):
        for rest in _compositions(n - i, k - 1):
            yield (i,) + rest


def test_multinomial_entropy_is_the_direct_sum():
    p = np.array([0.1, 0.2, 0.3, 0.4])
    d = D.Multinomial(6, probs=tg.tensor(p))
    xs = tg.tensor(np.array(list(_compositions(6, 4)), dtype=float))
    lp = d.log_prob(xs).numpy()
    np.testing.assert_allclose(np.exp(lp).sum(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(d.entropy().numpy(), -(np.exp(lp) * lp).sum(), rtol=1e-12)


def test_multinomial_zero_probability_draws_and_errors():
    p = np.array([0.0, 0.3, 0.7])
    o = D.Multinomial(5, probs=tg.tensor(p))
    w = TD.Multinomial(5, probs=torch.tensor(p))
    v = np.array([0.0, 2.0, 3.0])
    np.testing.assert_allclose(o.log_prob(tg.tensor(v)).numpy(),
                               w.log_prob(torch.tensor(v)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(o.entropy().numpy(), w.entropy().numpy() + _slip(5),
                               rtol=1e-12)
    tg.manual_seed(1)
    x = D.Multinomial(10, probs=tg.tensor([0.2, 0.3, 0.5])).sample((20000,)).numpy()
    assert x.shape == (20000, 3) and (x.sum(-1) == 10).all()
    np.testing.assert_allclose(x.mean(0), [2.0, 3.0, 5.0], atol=0.05)
    assert D.Multinomial(3, probs=tg.tensor([0.5, 0.5])).expand((2,)).sample().shape == (2, 2)
    with pytest.raises(NotImplementedError, match="inhomogeneous total_count"):
        D.Multinomial(tg.tensor(3), probs=tg.tensor([0.5, 0.5]))
    with pytest.raises(ValueError, match="within the support"):
        o.log_prob(tg.tensor([1.0, 3.0, 3.0]))


@pytest.mark.parametrize("what", ["log_prob", "cdf", "icdf"] + MOMENTS)
def test_weibull_as_torch(what):
    scale, k = RNG.uniform(0.5, 2.0, size=(3, 1)), RNG.uniform(1.2, 3.0, size=(4,))
    value = RNG.uniform(0.1, 3.0, size=(3, 4)) if what != "icdf" else RNG.uniform(
        0.05, 0.95, size=(3, 4))
    ours, theirs = pair([scale, k])
    o, w = D.Weibull(*ours), TD.Weibull(*theirs)
    compare(quantity(o, what, tg.tensor(value)), quantity(w, what, torch.tensor(value)),
            ours, theirs)


@pytest.mark.parametrize("what", ["log_prob", "cdf", "icdf"] + MOMENTS)
def test_pareto_as_torch(what):
    scale, alpha = RNG.uniform(0.5, 2.0, size=(3, 1)), RNG.uniform(0.5, 4.0, size=(4,))
    value = 2.0 + RNG.uniform(0.1, 3.0, size=(3, 4)) if what != "icdf" else RNG.uniform(
        0.05, 0.95, size=(3, 4))
    ours, theirs = pair([scale, alpha])
    o, w = D.Pareto(*ours), TD.Pareto(*theirs)
    compare(quantity(o, what, tg.tensor(value)), quantity(w, what, torch.tensor(value)),
            ours, theirs)


@pytest.mark.parametrize("family", ["Weibull", "Pareto"])
def test_rsample_gradient_and_draws(family):
    """rsample is a transform of an Exponential draw: for the same base draw our rsample and
    torch's formula agree, and so do their gradients."""
    a, b = np.array([1.3, 0.8]), np.array([2.5, 3.5])
    ours, theirs = pair([a, b])
    o = getattr(D, family)(*ours)
    e = RNG.exponential(size=(6, 2))
    base = e if family == "Weibull" else e / b  # Exponential(1) or Exponential(alpha)
    x = tg.tensor(base)
    for t in o.transforms:
        x = t(x)
    tb = torch.tensor(base)
    want = theirs[0] * tb ** (1 / theirs[1]) if family == "Weibull" else theirs[0] * tb.exp()
    compare(x, want, ours, theirs)
    tg.manual_seed(3)
    d = getattr(D, family)(tg.tensor(a), tg.tensor(b))
    s = d.rsample((40000,)).numpy()
    assert s.shape == (40000, 2)
    np.testing.assert_allclose(s.mean(0), d.mean.numpy(), rtol=0.03)
    e = d.expand((3, 2))
    assert type(e) is type(d) and e.batch_shape == (3, 2) and e.sample().shape == (3, 2)
    np.testing.assert_allclose(e.log_prob(tg.tensor(np.full((3, 2), 2.0))).numpy()[0],
                               d.log_prob(tg.tensor(np.full(2, 2.0))).numpy())


def test_weibull_pareto_errors_and_support():
    with pytest.raises(ValueError, match="Expected parameter concentration"):
        D.Weibull(1.0, -1.0)
    with pytest.raises(ValueError, match="Expected parameter rate"):  # its base's, as torch's
        D.Pareto(1.0, 0.0)
    p = D.Pareto(tg.tensor([2.0]), tg.tensor([1.0]))
    assert type(p.support).__name__ == "_GreaterThanEq" and p.support.lower_bound is p.scale
    with pytest.raises(ValueError, match="within the support"):
        p.log_prob(tg.tensor([1.0]))
    assert D.Weibull(1.0, 2.0).sample().dtype == np.float32
