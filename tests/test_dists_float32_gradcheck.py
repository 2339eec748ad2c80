"""Every family added in tests/test_dists_*.py once more: log_prob in float32 against torch's
float32 (dtype kept, values to float32 rounding), and gradcheck/gradgradcheck of log_prob in
float64 with respect to every continuous parameter."""
import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import distributions as D

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(66)


def _spd(p):
    a = RNG.normal(size=(p, p))
    return a @ a.T + p * np.eye(p)


def _simplex(shape):
    v = RNG.uniform(0.1, 1.0, size=shape)
    return v / v.sum(-1, keepdims=True)


# name: (constructor(lib, *params), params, value, kwargs)
CASES = {
    "Geometric": (lambda M, p: M.Geometric(p), [RNG.uniform(0.2, 0.8, 3)],
                  np.array([0.0, 2.0, 5.0])),
    "Multinomial": (lambda M, p: M.Multinomial(4, probs=p), [_simplex((2, 3))],
                    np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 4.0]])),
    "Weibull": (lambda M, s, k: M.Weibull(s, k), [RNG.uniform(0.5, 2, 3), RNG.uniform(1, 3, 3)],
                RNG.uniform(0.2, 2.0, 3)),
    "Pareto": (lambda M, s, a: M.Pareto(s, a), [RNG.uniform(0.5, 1, 3), RNG.uniform(1, 3, 3)],
               RNG.uniform(1.1, 3.0, 3)),
    "InverseGamma": (lambda M, c, r: M.InverseGamma(c, r),
                     [RNG.uniform(1, 3, 3), RNG.uniform(0.5, 2, 3)], RNG.uniform(0.2, 2.0, 3)),
    "Kumaraswamy": (lambda M, a, b: M.Kumaraswamy(a, b),
                    [RNG.uniform(0.5, 3, 3), RNG.uniform(0.5, 3, 3)], RNG.uniform(0.1, 0.9, 3)),
    "FisherSnedecor": (lambda M, a, b: M.FisherSnedecor(a, b),
                       [RNG.uniform(1, 8, 3), RNG.uniform(1, 8, 3)], RNG.uniform(0.2, 3.0, 3)),
    "LogisticNormal": (lambda M, m, s: M.LogisticNormal(m, s),
                       [RNG.normal(size=3), RNG.uniform(0.5, 1.5, 3)], _simplex((2, 4))),
    "ContinuousBernoulli": (lambda M, p: M.ContinuousBernoulli(p),
                            [np.array([0.2, 0.45, 0.8])], RNG.uniform(0.1, 0.9, 3)),
    "GeneralizedPareto": (lambda M, m, s, c: M.GeneralizedPareto(m, s, c),
                          [np.zeros(3), RNG.uniform(0.5, 2, 3), np.array([-0.2, 0.3, 0.6])],
                          RNG.uniform(0.1, 1.5, 3)),
    "VonMises": (lambda M, m, k: M.VonMises(m, k), [RNG.normal(size=3), RNG.uniform(0.5, 5, 3)],
                 RNG.uniform(-3, 3, 3)),
    "RelaxedBernoulli": (lambda M, t, p: M.RelaxedBernoulli(t, probs=p),
                         [np.array(0.6), RNG.uniform(0.2, 0.8, 3)], RNG.uniform(0.1, 0.9, 3)),
    "RelaxedOneHotCategorical": (lambda M, t, p: M.RelaxedOneHotCategorical(t, probs=p),
                                 [np.array(0.8), _simplex((3,))], _simplex((2, 3))),
    "LowRankMultivariateNormal": (lambda M, m, w, d: M.LowRankMultivariateNormal(m, w, d),
                                  [RNG.normal(size=3), RNG.normal(size=(3, 2)),
                                   RNG.uniform(0.5, 1.5, 3)], RNG.normal(size=(2, 3))),
    "Wishart": (lambda M, df, c: M.Wishart(df, covariance_matrix=c),
                [np.array(4.5), _spd(2)], _spd(2)),
    "LKJCholesky": (lambda M, c: M.LKJCholesky(3, c), [np.array(1.7)],
                    np.linalg.cholesky(np.array([[1, .3, .1], [.3, 1, -.2], [.1, -.2, 1]]))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_log_prob_as_torch(name):
    build, params, value = CASES[name]
    o = build(D, *[tg.tensor(p.astype(np.float32)) for p in params])
    w = build(torch.distributions, *[torch.tensor(p.astype(np.float32)) for p in params])
    got = o.log_prob(tg.tensor(value.astype(np.float32)))
    want = w.log_prob(torch.tensor(value.astype(np.float32)))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=3e-5, atol=3e-5)


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_prob_gradcheck_and_gradgradcheck(name):
    build, params, value = CASES[name]
    leaves = [tg.tensor(p, requires_grad=True) for p in params]
    v = tg.tensor(value)

    def f(*ps):
        if name == "Wishart":
            # cholesky reads one triangle, its gradient is symmetric (torch's convention): check
            # through a symmetric parametrisation, which finite differences can follow
            ps = (ps[0], (ps[1] + ps[1].mT) / 2)
        return build(D, *ps).log_prob(v)
    # finite differences step off the simplex (probs are normalised inside): no validation
    before = D.Distribution._validate_args
    D.Distribution.set_default_validate_args(False)
    try:
        assert tg.gradcheck(f, leaves)
        assert tg.gradgradcheck(f, leaves)
    finally:
        D.Distribution.set_default_validate_args(before)


# torch 2.13's Wishart.rsample reads support.check (True for a valid draw) as "singular" and
# warns on every good draw; ours warns only for a singular one
@pytest.mark.filterwarnings("ignore:Singular sample detected")
@pytest.mark.parametrize("name", sorted(CASES))
def test_flags_constraints_and_shapes_as_torch(name):
    """has_rsample, the arg_constraints' names and event dims, the support's event dim and
    discreteness, batch/event shapes and the shape of a draw, as torch's."""
    build, params, value = CASES[name]
    o = build(D, *[tg.tensor(p) for p in params])
    w = build(torch.distributions, *[torch.tensor(p) for p in params])
    assert o.has_rsample == w.has_rsample
    assert o.has_enumerate_support == w.has_enumerate_support
    assert set(o.arg_constraints) == set(w.arg_constraints)
    for k, c in w.arg_constraints.items():
        if not torch.distributions.constraints.is_dependent(c):
            assert o.arg_constraints[k].event_dim == c.event_dim, k
    assert o.support.event_dim == w.support.event_dim
    assert o.support.is_discrete == w.support.is_discrete
    assert o.batch_shape == tuple(w.batch_shape) and o.event_shape == tuple(w.event_shape)
    assert o.sample((2,)).shape == tuple(w.sample((2,)).shape)
    assert o.expand((5,) + o.batch_shape).sample().shape == tuple(
        w.expand((5,) + tuple(w.batch_shape)).sample().shape)
