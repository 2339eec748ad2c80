"""LowRankMultivariateNormal against torch 2.13 (float64): values and gradients (random
upstream) of log_prob, entropy, the matrices and variance, rsample under the same noise, the KL
pairs torch registers, shapes, expand and torch's errors."""
import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import distributions as D

from dists_compare import compare, pair

torch = pytest.importorskip("torch")
TD = torch.distributions
RNG = np.random.default_rng(21)


def _params(batch=(2,), n=4, m=2):
    return [RNG.normal(size=batch + (n,)), RNG.normal(size=(n, m)),
            RNG.uniform(0.5, 1.5, size=(n,))]


@pytest.mark.parametrize("what", ["log_prob", "entropy", "scale_tril", "covariance_matrix",
                                  "precision_matrix", "variance", "mean", "mode"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_gradients_as_torch(what, dtype):
    arrays = [a.astype(dtype) for a in _params()]
    ours, theirs = pair(arrays)
    o, w = D.LowRankMultivariateNormal(*ours), TD.LowRankMultivariateNormal(*theirs)
    assert o.batch_shape == (2,) and o.event_shape == (4,)
    if what == "log_prob":
        v = RNG.normal(size=(3, 2, 4)).astype(dtype)
        got, want = o.log_prob(tg.tensor(v)), w.log_prob(torch.tensor(v))
    elif what == "entropy":
        got, want = o.entropy(), w.entropy()
    else:
        got, want = getattr(o, what), getattr(w, what)
    tol = 1e-10 if dtype == np.float64 else 2e-5
    assert got.dtype == dtype
    compare(got, want, ours, theirs, rtol=tol, atol=tol)


def test_rsample_under_the_same_noise_and_draw_statistics():
    ours, theirs = pair(_params())
    o = D.LowRankMultivariateNormal(*ours)
    ew, ed = RNG.normal(size=(5, 2, 2)), RNG.normal(size=(5, 2, 4))
    got = o._reparam(tg.tensor(ew), tg.tensor(ed))
    loc, W, d = theirs
    want = loc + (W @ torch.tensor(ew)[..., None])[..., 0] + d.sqrt() * torch.tensor(ed)
    compare(got, want, ours, theirs)
    tg.manual_seed(0)
    o = D.LowRankMultivariateNormal(*[tg.tensor(a) for a in _params(())])
    x = o.rsample((40000,)).numpy()
    assert x.shape == (40000, 4)
    np.testing.assert_allclose(np.cov(x.T), o.covariance_matrix.numpy(), atol=0.06)


@pytest.mark.parametrize("kinds", [("lowrank", "lowrank"), ("lowrank", "full"),
                                   ("full", "lowrank")])
def test_kl_pairs_as_torch(kinds):
    arrays = _params() + _params() + [np.linalg.cholesky(np.eye(4) * 2 + 0.3)]
    ours, theirs = pair(arrays)

    def build(lib, kind, which):
        dist = D if lib is ours else TD
        a = lib[3 * which:3 * which + 3]
        if kind == "lowrank":
            return dist.LowRankMultivariateNormal(*a)
        return dist.MultivariateNormal(a[0], scale_tril=lib[6])
    got = D.kl_divergence(build(ours, kinds[0], 0), build(ours, kinds[1], 1))
    want = TD.kl_divergence(build(theirs, kinds[0], 0), build(theirs, kinds[1], 1))
    compare(got, want, ours, theirs, rtol=1e-9, atol=1e-11)


def test_shapes_expand_and_errors():
    loc, W, d = [tg.tensor(a) for a in _params((3, 1))]
    o = D.LowRankMultivariateNormal(loc, W, d)
    e = o.expand((2, 3, 1))
    assert e.batch_shape == (2, 3, 1) and e.sample((5,)).shape == (5, 2, 3, 1, 4)
    np.testing.assert_allclose(e.log_prob(tg.tensor(np.zeros(4))).numpy()[1],
                               o.log_prob(tg.tensor(np.zeros(4))).numpy())
    with pytest.raises(ValueError, match="loc must be at least one-dimensional"):
        D.LowRankMultivariateNormal(tg.tensor(0.0), W, d)
    with pytest.raises(ValueError, match="cov_factor must be a batch of matrices with shape 4 x m"):
        D.LowRankMultivariateNormal(loc, tg.tensor(np.zeros((3, 2))), d)
    with pytest.raises(ValueError, match="cov_diag must be a batch of vectors"):
        D.LowRankMultivariateNormal(loc, W, tg.tensor(np.ones(3)))
    with pytest.raises(ValueError, match="Incompatible batch shapes"):
        D.LowRankMultivariateNormal(tg.tensor(np.zeros((3, 4))), tg.tensor(np.zeros((2, 4, 2))),
                                    d)
    with pytest.raises(ValueError, match="Expected parameter cov_diag"):
        D.LowRankMultivariateNormal(loc, W, tg.tensor(-np.ones(4)))
    with pytest.raises(TypeError, match="cov_factor must be a Tensor"):
        D.LowRankMultivariateNormal(loc, np.zeros((4, 2)), d)
