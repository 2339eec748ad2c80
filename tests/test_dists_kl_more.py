"""The KL pairs torch registers for the newer families (Geometric, Pareto, ContinuousBernoulli,
the ExponentialFamily Bregman form) against torch 2.13: values (inf where torch's are) and
gradients under a random upstream gradient, float64."""
import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import distributions as D

from dists_compare import compare, pair

torch = pytest.importorskip("torch")
TD = torch.distributions
RNG = np.random.default_rng(55)
N = 4


def _u(lo, hi):
    return RNG.uniform(lo, hi, size=N)


# family name -> a function of the NumPy parameters, and the parameter arrays
FAMILIES = {
    "Geometric": lambda: [_u(0.1, 0.9)],
    "Pareto": lambda: [_u(0.5, 2.0), np.array([0.8, 1.5, 2.5, 4.0])],
    "ContinuousBernoulli": lambda: [np.array([0.1, 0.4995, 0.7, 0.9])],
    "Beta": lambda: [_u(0.5, 3.0), _u(0.5, 3.0)],
    "Uniform": lambda: [np.array([-0.5, 0.1, 0.8, 1.2]), np.array([0.5, 0.9, 2.0, 3.0])],
    "Exponential": lambda: [_u(0.5, 2.0)],
    "Gamma": lambda: [_u(0.5, 3.0), _u(0.5, 2.0)],
    "Normal": lambda: [RNG.normal(size=N), _u(0.5, 2.0)],
    "Gumbel": lambda: [RNG.normal(size=N), _u(0.5, 2.0)],
    "Laplace": lambda: [RNG.normal(size=N), _u(0.5, 2.0)],
}

PAIRS = [("Geometric", "Geometric"), ("Pareto", "Pareto"),
         ("ContinuousBernoulli", "ContinuousBernoulli"), ("Beta", "ContinuousBernoulli"),
         ("Uniform", "ContinuousBernoulli"), ("ContinuousBernoulli", "Exponential"),
         ("ContinuousBernoulli", "Normal"), ("ContinuousBernoulli", "Uniform"),
         ("Pareto", "Exponential"), ("Pareto", "Gamma"), ("Pareto", "Normal"),
         ("Uniform", "Pareto"), ("Beta", "Pareto"), ("ContinuousBernoulli", "Pareto"),
         ("Exponential", "ContinuousBernoulli"), ("Exponential", "Pareto"),
         ("Gamma", "ContinuousBernoulli"), ("Gamma", "Pareto"), ("Gumbel", "Pareto"),
         ("Laplace", "ContinuousBernoulli"), ("Normal", "Pareto"), ("Pareto", "Beta"),
         ("Pareto", "Uniform")]


@pytest.mark.parametrize("p_name,q_name", PAIRS)
def test_kl_as_torch(p_name, q_name):
    pa, qa = FAMILIES[p_name](), FAMILIES[q_name]()
    if (p_name, q_name) == ("Uniform", "Pareto"):
        qa[0] = np.array([0.05, 0.2, 0.9, 0.5])  # some q supports start below p.low, some not
        pa[0] = np.array([0.1, 0.3, 0.6, 1.0])
    ours, theirs = pair(pa + qa)
    k = len(pa)
    got = D.kl_divergence(getattr(D, p_name)(*ours[:k]), getattr(D, q_name)(*ours[k:]))
    want = TD.kl_divergence(getattr(TD, p_name)(*theirs[:k]), getattr(TD, q_name)(*theirs[k:]))
    finite = np.isfinite(want.detach().numpy())
    # Beta's and Gamma's entropies go through digamma: torch's float64 derivative is ~5e-10
    rtol = 1e-9 if "Beta" in (p_name,) or "Gamma" in (p_name,) else 1e-10
    np.testing.assert_array_equal(np.isfinite(got.numpy()), finite)
    compare(got, want, ours, theirs, rtol=rtol, atol=1e-11)


def test_exponential_family_bregman_kl():
    """Wishart-Wishart goes through the Bregman form (as torch's); ContinuousBernoulli's own
    closed form equals it."""
    a = RNG.normal(size=(2, 3, 3))
    s = a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3)
    ours, theirs = pair([np.array([4.5, 6.0]), s, np.array([5.0, 3.5]), s[::-1].copy()])
    got = D.kl_divergence(D.Wishart(ours[0], covariance_matrix=ours[1]),
                          D.Wishart(ours[2], covariance_matrix=ours[3]))
    want = TD.kl_divergence(TD.Wishart(theirs[0], covariance_matrix=theirs[1]),
                            TD.Wishart(theirs[2], covariance_matrix=theirs[3]))
    compare(got, want, ours, theirs, rtol=1e-9)
    p = D.ContinuousBernoulli(tg.tensor(np.array([0.2, 0.7])))
    q = D.ContinuousBernoulli(tg.tensor(np.array([0.6, 0.3])))
    from tinygrad_norm.distributions.kl_more import _kl_expfamily_expfamily
    np.testing.assert_allclose(_kl_expfamily_expfamily(p, q).numpy(),
                               D.kl_divergence(p, q).numpy(), rtol=1e-10)
    with pytest.raises(NotImplementedError, match="different exponential families"):
        _kl_expfamily_expfamily(p, D.Wishart(4.0, covariance_matrix=tg.tensor(s[0])))
