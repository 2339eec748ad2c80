"""InverseGamma, Kumaraswamy, FisherSnedecor, LogisticNormal, ContinuousBernoulli,
GeneralizedPareto and the ExponentialFamily base against torch 2.13 (float64): values and the
parameters' gradients under a random upstream gradient, reparameterised draws under the same
noise, draws' statistics (seeded), shapes, expand and errors."""
import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import distributions as D

from dists_compare import compare, pair, quantity

torch = pytest.importorskip("torch")
TD = torch.distributions
RNG = np.random.default_rng(33)


def _check(family, arrays, what, value, rtol=1e-10, **kw):
    ours, theirs = pair(arrays)
    o, w = getattr(D, family)(*ours, **kw), getattr(TD, family)(*theirs, **kw)
    assert o.batch_shape == tuple(w.batch_shape) and o.event_shape == tuple(w.event_shape)
    v_o = None if value is None else tg.tensor(value)
    v_w = None if value is None else torch.tensor(value)
    compare(quantity(o, what, v_o), quantity(w, what, v_w), ours, theirs, rtol=rtol)


def _check_fixed_first(family, arrays, value):
    """cdf values and the gradient to every argument but the first (held constant on both)."""
    ours, theirs = pair(arrays)
    ours[0], theirs[0] = ours[0].detach(), theirs[0].detach()
    o, w = getattr(D, family)(*ours), getattr(TD, family)(*theirs)
    compare(o.cdf(tg.tensor(value)), w.cdf(torch.tensor(value)), ours[1:], theirs[1:])


POS = RNG.uniform(0.3, 3.0, size=(3, 4))


@pytest.mark.parametrize("what", ["log_prob", "cdf", "mean", "mode", "variance", "entropy"])
def test_inverse_gamma(what):
    conc = np.array([0.7, 1.5, 2.5, 4.0])
    if what == "cdf":  # torch has no derivative of igamma in its first argument: values only
        _check_fixed_first("InverseGamma", [conc, RNG.uniform(0.5, 2.0, size=(3, 1))], POS)
        return
    _check("InverseGamma", [conc, RNG.uniform(0.5, 2.0, size=(3, 1))], what, POS,
           rtol=1e-9)  # gradients through digamma/lgamma: torch's are good to ~5e-10


@pytest.mark.parametrize("what", ["log_prob", "cdf", "icdf", "mean", "mode", "variance",
                                  "entropy"])
def test_kumaraswamy(what):
    a, b = np.array([[0.6], [1.5], [3.0]]), np.array([0.8, 1.2, 2.0, 5.0])
    v = RNG.uniform(0.05, 0.95, size=(3, 4))
    _check("Kumaraswamy", [a, b], what, v, rtol=1e-9)


@pytest.mark.parametrize("what", ["log_prob", "mean", "mode", "variance"])
def test_fisher_snedecor(what):
    d1, d2 = np.array([[1.0], [2.5], [6.0]]), np.array([1.5, 3.0, 5.0, 12.0])
    _check("FisherSnedecor", [d1, d2], what, POS, rtol=1e-9)


def test_logistic_normal():
    loc, scale = RNG.normal(size=(2, 3)), RNG.uniform(0.5, 1.5, size=(2, 3))
    v = RNG.uniform(0.1, 1.0, size=(5, 2, 4))
    v /= v.sum(-1, keepdims=True)
    _check("LogisticNormal", [loc, scale], "log_prob", v)
    o = D.LogisticNormal(tg.tensor(loc), tg.tensor(scale))
    assert o.batch_shape == (2,) and o.event_shape == (4,) and o.has_rsample
    tg.manual_seed(0)
    x = o.rsample((7,)).numpy()
    assert x.shape == (7, 2, 4)
    np.testing.assert_allclose(x.sum(-1), 1.0, rtol=1e-12)
    assert D.LogisticNormal(0.0, 1.0).event_shape == (2,)
    assert type(o.expand((3, 2))) is D.LogisticNormal and o.expand((3, 2)).batch_shape == (3, 2)


CB_PROBS = np.array([0.02, 0.3, 0.4995, 0.5, 0.5004, 0.7, 0.98])


@pytest.mark.parametrize("what", ["log_prob", "cdf", "icdf", "mean", "variance", "stddev",
                                  "entropy"])
@pytest.mark.parametrize("by", ["probs", "logits"])
def test_continuous_bernoulli(what, by):
    p = CB_PROBS if by == "probs" else np.log(CB_PROBS / (1 - CB_PROBS))
    v = np.stack([RNG.uniform(0.01, 0.99, size=7), np.linspace(0, 1, 7)])
    ours, theirs = pair([p])
    o, w = D.ContinuousBernoulli(**{by: ours[0]}), TD.ContinuousBernoulli(**{by: theirs[0]})
    compare(quantity(o, what, tg.tensor(v)), quantity(w, what, torch.tensor(v)), ours, theirs,
            rtol=1e-9)


def test_exponential_family_entropy_and_continuous_bernoulli_draws():
    p = np.array([0.2, 0.45, 0.5, 0.8])
    o = D.ContinuousBernoulli(tg.tensor(p))
    w = TD.ContinuousBernoulli(torch.tensor(p))
    assert isinstance(o, D.ExponentialFamily)
    got = D.ExponentialFamily.entropy(o)
    want = TD.ExponentialFamily.entropy(w)
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(got.numpy(), o.entropy().numpy(), rtol=1e-6)
    tg.manual_seed(4)
    x = o.rsample((40000,)).numpy()
    assert x.shape == (40000, 4) and ((x >= 0) & (x <= 1)).all()
    np.testing.assert_allclose(x.mean(0), o.mean.numpy(), atol=0.01)
    with pytest.raises(ValueError, match="The parameter probs has invalid values"):
        D.ContinuousBernoulli(tg.tensor([1.5]), validate_args=True)
    e = o.expand((2, 4))
    assert e.batch_shape == (2, 4) and e._lims == o._lims


GP_TORCH_FLOAT64 = ["icdf", "mean", "variance", "entropy", "mode"]


@pytest.mark.parametrize("what", GP_TORCH_FLOAT64)
def test_generalized_pareto(what):
    loc, scale = np.array([0.5]), np.array([[0.7], [1.3]])
    conc = np.array([-0.3, 0.0, 0.2, 0.6])
    v = RNG.uniform(0.05, 0.95, size=(2, 4))
    if what != "icdf":
        v = 0.5 + v  # inside every support: conc -0.3 ends at loc + scale / 0.3 >= 2.8
    ours, theirs = pair([loc, scale, conc])
    o, w = D.GeneralizedPareto(*ours), TD.GeneralizedPareto(*theirs)
    if what == "log_cdf":
        got, want = o.log_cdf(tg.tensor(v)), w.log_cdf(torch.tensor(v))
    else:
        got, want = quantity(o, what, tg.tensor(v)), quantity(w, what, torch.tensor(v))
    compare(got, want, ours, theirs)


@pytest.mark.parametrize("family,arrays", [
    ("InverseGamma", [np.array([2.5]), np.array([1.5])]),
    ("Kumaraswamy", [np.array([2.0]), np.array([3.0])]),
    ("FisherSnedecor", [np.array([6.0]), np.array([12.0])]),
    ("GeneralizedPareto", [np.array([0.5]), np.array([1.0]), np.array([0.2])]),
])
def test_draws_have_the_mean_and_expand(family, arrays):
    tg.manual_seed(5)
    d = getattr(D, family)(*[tg.tensor(a) for a in arrays])
    x = d.rsample((60000,)).numpy()
    assert x.shape == (60000, 1) and np.isfinite(x).all()
    np.testing.assert_allclose(x.mean(), d.mean.numpy()[0], rtol=0.04)
    e = d.expand((3, 1))
    assert type(e) is type(d) and e.batch_shape == (3, 1) and e.sample((2,)).shape == (2, 3, 1)


def test_rsample_gradients_follow_the_reparameterization():
    """Gradients of rsample's mean by finite differences of the seeded draw."""
    for family, args in [("Kumaraswamy", (2.0, 3.0)), ("GeneralizedPareto", (0.5, 1.0, 0.2)),
                         ("FisherSnedecor", (6.0, 12.0))]:
        def draw(*a):
            tg.manual_seed(7)
            return getattr(D, family)(*a).rsample((50,)).mean()
        leaves = [tg.tensor(np.array(v), requires_grad=True) for v in args]
        draw(*leaves).backward()
        for i, leaf in enumerate(leaves):
            if family == "FisherSnedecor":
                continue  # the gamma draws' reparameterisation is Gamma's, tested there
            h = 1e-6
            up = [tg.tensor(np.array(v + (h if j == i else 0.0))) for j, v in enumerate(args)]
            dn = [tg.tensor(np.array(v - (h if j == i else 0.0))) for j, v in enumerate(args)]
            fd = (draw(*up).item() - draw(*dn).item()) / (2 * h)
            assert leaf.grad.item() == pytest.approx(fd, rel=1e-5, abs=1e-8), (family, i)


def test_argument_errors():
    with pytest.raises(ValueError, match="Expected parameter concentration"):
        D.InverseGamma(-1.0, 1.0)
    # torch's own Gamma for df2 speaks first, as here
    with pytest.raises(ValueError, match="Expected parameter concentration .* Gamma"):
        D.FisherSnedecor(1.0, 0.0)
    with pytest.raises(ValueError, match="Expected parameter scale"):
        D.GeneralizedPareto(0.0, -1.0, 0.1)
    with pytest.raises(ValueError, match="Expected parameter concentration1"):
        D.Kumaraswamy(0.0, 1.0)
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.ContinuousBernoulli()
    g = D.GeneralizedPareto(tg.tensor([0.0]), tg.tensor([1.0]), tg.tensor([-0.5]))
    with pytest.raises(ValueError, match="within the support"):
        g.log_prob(tg.tensor([2.5]))


def _gp_direct(loc, scale, c, x):
    """GeneralizedPareto's log density and log survival written out in NumPy (float64)."""
    z = (x - loc) / scale
    zero = c == 0
    cs = np.where(zero, 1.0, c)
    log_sf = np.where(zero, -z, -np.log1p(cs * z) / cs)
    log_pdf = -np.log(scale) - np.where(zero, z, (1 / cs + 1) * np.log1p(cs * z))
    return log_pdf, log_sf


def test_generalized_pareto_log_prob_and_cdf_direct():
    """torch 2.13's GeneralizedPareto.log_prob/cdf fail on float64 parameters (isclose against a
    float32 zero: "Double did not match Float"): float64 is checked against the formula and by
    gradcheck, float32 against torch."""
    loc, scale = np.array([0.5]), np.array([[0.7], [1.3]])
    conc = np.array([-0.3, 0.0, 0.2, 0.6])
    v = 0.5 + RNG.uniform(0.05, 0.95, size=(2, 4))
    d = D.GeneralizedPareto(*[tg.tensor(a) for a in (loc, scale, conc)])
    log_pdf, log_sf = _gp_direct(loc, scale, conc, v)
    np.testing.assert_allclose(d.log_prob(tg.tensor(v)).numpy(), log_pdf, rtol=1e-13)
    np.testing.assert_allclose(d.log_survival_function(tg.tensor(v)).numpy(), log_sf,
                               rtol=1e-13)
    np.testing.assert_allclose(d.cdf(tg.tensor(v)).numpy(), -np.expm1(log_sf), rtol=1e-13)
    np.testing.assert_allclose(d.log_cdf(tg.tensor(v)).numpy(), np.log(-np.expm1(log_sf)),
                               rtol=1e-13)
    leaves = [tg.tensor(a, requires_grad=True) for a in (loc, scale, np.array([-0.3, 0.2, 0.6]))]
    value = tg.tensor(v[:, [0, 2, 3]])
    for what in ("log_prob", "cdf"):
        f = lambda a, b, c, w=what: getattr(D.GeneralizedPareto(a, b, c), w)(value)  # noqa
        assert tg.gradcheck(f, leaves)
        assert tg.gradgradcheck(f, leaves)
    ours, theirs = pair([a.astype(np.float32) for a in (loc, scale, conc)])
    o, w = D.GeneralizedPareto(*ours), TD.GeneralizedPareto(*theirs)
    v32 = v.astype(np.float32)
    for what in ("log_prob", "cdf"):
        ours, theirs = pair([a.astype(np.float32) for a in (loc, scale, conc)])
        o, w = D.GeneralizedPareto(*ours), TD.GeneralizedPareto(*theirs)
        compare(getattr(o, what)(tg.tensor(v32)), getattr(w, what)(torch.tensor(v32)), ours,
                theirs, rtol=2e-5, atol=2e-6)
