"""VonMises, Wishart and LKJCholesky against torch 2.13 (float64): values and gradients under a
random upstream gradient, Wishart's Bartlett draw under the same noise, sample statistics
(seeded), shapes, expand and errors."""
import math

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import distributions as D

from dists_compare import compare, pair

torch = pytest.importorskip("torch")
TD = torch.distributions
RNG = np.random.default_rng(44)


# ---- VonMises ---------------------------------------------------------------------------------

def _i0(k):
    return np.i0(k)


def test_von_mises_log_prob_is_the_exact_density():
    """torch 2.13 evaluates log I0 by a polynomial fit (relative error ~1e-7): ours is exact, so
    values are checked against NumPy's I0 to 1e-12 and against torch to 1e-6; gradients to
    loc (no I0 in them) against torch tightly, to concentration by gradcheck."""
    loc, kappa = RNG.normal(size=(3, 1)), np.array([0.05, 1.0, 3.7, 3.8, 20.0])
    v = RNG.uniform(-math.pi, math.pi, size=(3, 5))
    d = D.VonMises(tg.tensor(loc), tg.tensor(kappa))
    want = kappa * np.cos(v - loc) - np.log(2 * np.pi * _i0(kappa))
    np.testing.assert_allclose(d.log_prob(tg.tensor(v)).numpy(), want, rtol=1e-12)
    w = TD.VonMises(torch.tensor(loc), torch.tensor(kappa))
    np.testing.assert_allclose(d.log_prob(tg.tensor(v)).numpy(),
                               w.log_prob(torch.tensor(v)).numpy(), rtol=1e-6)
    ours, theirs = pair([loc])
    compare(D.VonMises(ours[0], tg.tensor(kappa)).log_prob(tg.tensor(v)),
            TD.VonMises(theirs[0], torch.tensor(kappa)).log_prob(torch.tensor(v)), ours, theirs,
            value_rtol=1e-6)
    k = tg.tensor(kappa, requires_grad=True)
    assert tg.gradcheck(lambda k: D.VonMises(tg.tensor(loc), k).log_prob(tg.tensor(v)), (k,))
    assert tg.gradgradcheck(lambda k: D.VonMises(tg.tensor(loc), k).log_prob(tg.tensor(v)),
                            (k,))


def test_von_mises_moments_draws_and_shapes():
    kappa = np.array([0.5, 2.0, 8.0])
    d = D.VonMises(tg.tensor(np.array([0.3, -2.5, 3.0])), tg.tensor(kappa))
    var = 1 - _i1(kappa) / _i0(kappa)
    np.testing.assert_allclose(d.variance.numpy(), var, rtol=1e-12)
    w = TD.VonMises(torch.tensor([0.3, -2.5, 3.0]), torch.tensor(kappa))
    np.testing.assert_allclose(d.variance.numpy(), w.variance.numpy(), rtol=1e-5)
    assert d.mean is d.loc and d.mode is d.loc and not d.has_rsample
    tg.manual_seed(0)
    x = d.sample((50000,)).numpy()
    assert x.shape == (50000, 3) and (x >= -math.pi).all() and (x < math.pi).all()
    m = np.exp(1j * x).mean(0)
    np.testing.assert_allclose(np.angle(m), [0.3, -2.5, 3.0], atol=0.03)
    np.testing.assert_allclose(1 - np.abs(m), var, atol=0.01)
    assert d.expand((2, 3)).batch_shape == (2, 3)
    with pytest.raises(ValueError, match="Expected parameter concentration"):
        D.VonMises(0.0, -1.0)


def _i1(k):
    # I1 by its series: enough terms for k <= 10
    s = np.zeros_like(k)
    for m in range(60):
        s = s + (k / 2) ** (2 * m + 1) / (math.factorial(m) * math.factorial(m + 1))
    return s


# ---- Wishart ----------------------------------------------------------------------------------

def _spd(batch, p):
    a = RNG.normal(size=batch + (p, p))
    return a @ np.swapaxes(a, -1, -2) + p * np.eye(p)


@pytest.mark.parametrize("by", ["covariance_matrix", "precision_matrix", "scale_tril"])
@pytest.mark.parametrize("what", ["log_prob", "entropy", "mean", "mode", "variance",
                                  "covariance_matrix", "precision_matrix", "scale_tril"])
def test_wishart_as_torch(by, what):
    m = _spd((2,), 3)
    if by == "scale_tril":
        m = np.linalg.cholesky(m)
    df = np.array([4.5, 7.0])
    ours, theirs = pair([df, m])
    o = D.Wishart(ours[0], **{by: ours[1]})
    w = TD.Wishart(theirs[0], **{by: theirs[1]})
    assert o.batch_shape == (2,) and o.event_shape == (3, 3)
    if what == "log_prob":
        v = _spd((4, 2), 3)
        got, want = o.log_prob(tg.tensor(v)), w.log_prob(torch.tensor(v))
    elif what == "entropy":
        got, want = o.entropy(), w.entropy()
    else:
        got, want = getattr(o, what), getattr(w, what)
    # given scale_tril, only its lower triangle is read; torch's cholesky_solve backward also
    # puts a gradient on the (ignored) upper triangle, ours is 0 there: compare the lower part
    masks = None
    if by == "scale_tril" and what in ("log_prob", "precision_matrix"):
        masks = [None, np.tril(np.ones((2, 3, 3), dtype=bool))]
    compare(got, want, ours, theirs, rtol=1e-9, masks=masks)
    if masks is not None and ours[1].grad is not None:
        assert not ours[1].grad.numpy()[~masks[1]].any()


def test_wishart_bartlett_draw_under_the_same_noise():
    low = np.linalg.cholesky(_spd((2,), 3))
    ours, theirs = pair([low])
    o = D.Wishart(4.0, scale_tril=ours[0])
    chi2 = RNG.chisquare([4.0, 3.0, 2.0], size=(5, 2, 3))
    z = RNG.normal(size=(5, 2, 3))
    got = o._reparam(tg.tensor(chi2), tg.tensor(z))
    noise = torch.diag_embed(torch.tensor(chi2).sqrt())
    i, j = torch.tril_indices(3, 3, offset=-1)
    noise[..., i, j] = torch.tensor(z)
    chol = theirs[0] @ noise
    compare(got, chol @ chol.mT, ours, theirs)


def test_wishart_draws_exponential_family_entropy_expand_and_errors():
    cov = _spd((), 3)
    d = D.Wishart(tg.tensor(6.0, dtype=tg.float64), covariance_matrix=tg.tensor(cov))
    tg.manual_seed(1)
    x = d.rsample((30000,)).numpy()
    assert x.shape == (30000, 3, 3)
    np.testing.assert_allclose(x.mean(0), d.mean.numpy(), rtol=0.05, atol=0.3)
    np.testing.assert_allclose(D.ExponentialFamily.entropy(d).numpy(), d.entropy().numpy(),
                               rtol=1e-10)
    e = d.expand((4,))
    assert e.batch_shape == (4,) and e.sample((2,)).shape == (2, 4, 3, 3)
    np.testing.assert_allclose(e.log_prob(tg.tensor(cov)).numpy()[2],
                               d.log_prob(tg.tensor(cov)).numpy())
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix"):
        D.Wishart(4.0)
    with pytest.raises(ValueError, match=r"expected to be greater than ndim - 1 = 2"):
        D.Wishart(1.5, covariance_matrix=tg.tensor(cov))
    with pytest.raises(ValueError, match="at least two-dimensional"):
        D.Wishart(4.0, covariance_matrix=tg.tensor(np.ones(3)))
    with pytest.warns(UserWarning, match="Low df values detected"):
        D.Wishart(2.5, covariance_matrix=tg.tensor(cov))
    with pytest.raises(ValueError, match="Expected parameter covariance_matrix"):
        D.Wishart(4.0, covariance_matrix=tg.tensor(-np.eye(3)))


# ---- LKJCholesky ------------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [2, 3, 5])
def test_lkj_cholesky_log_prob_as_torch(dim):
    conc = np.array([0.5, 1.0, 3.0])
    tg.manual_seed(dim)
    value = D.LKJCholesky(dim, tg.tensor(conc)).sample((4,)).numpy()
    ours, theirs = pair([conc, value])
    o, w = D.LKJCholesky(dim, ours[0]), TD.LKJCholesky(dim, theirs[0])
    assert o.batch_shape == (3,) and o.event_shape == (dim, dim)
    compare(o.log_prob(ours[1]), w.log_prob(theirs[1]), ours, theirs, rtol=1e-9)


def test_lkj_cholesky_draws_have_the_lkj_marginals():
    """Every off-diagonal correlation of LKJ(d, eta) has variance 1 / (2 eta + d - 1) (torch
    2.13's sampler fails this from row 2 on: see LKJCholesky's docstring)."""
    tg.manual_seed(3)
    dim, eta = 4, 2.0
    low = D.LKJCholesky(dim, tg.tensor(eta, dtype=tg.float64)).sample((30000,)).numpy()
    assert D.constraints.corr_cholesky.check(tg.tensor(low)).numpy().all()
    corr = low @ np.swapaxes(low, -1, -2)
    np.testing.assert_allclose(np.diagonal(corr, axis1=-2, axis2=-1), 1.0, rtol=1e-12)
    off = corr[:, np.tril_indices(dim, -1)[0], np.tril_indices(dim, -1)[1]]
    np.testing.assert_allclose(off.mean(0), 0.0, atol=0.02)
    np.testing.assert_allclose(off.var(0), 1 / (2 * eta + dim - 1), rtol=0.05)


def test_lkj_cholesky_shapes_and_errors():
    d = D.LKJCholesky(3, 1.5)
    assert d.batch_shape == () and d.sample().shape == (3, 3) and d.sample().dtype == np.float32
    e = d.expand((2,))
    assert e.batch_shape == (2,) and e.sample((5,)).shape == (5, 2, 3, 3)
    with pytest.raises(ValueError, match="greater than or equal to 2. Found dim=1"):
        D.LKJCholesky(1)
    with pytest.raises(ValueError, match="Expected parameter concentration"):
        D.LKJCholesky(3, -1.0)
    with pytest.raises(ValueError, match="within the support"):
        d.log_prob(tg.tensor(np.eye(3) * 2, dtype=tg.float32))


def test_wishart_good_draws_do_not_warn():
    import warnings
    d = D.Wishart(5.0, covariance_matrix=tg.tensor(_spd((2,), 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert d.rsample((3,)).shape == (3, 2, 3, 3)
