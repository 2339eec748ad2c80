"""The older families as torch's ExponentialFamily members (Bernoulli, Beta, Chi2, Dirichlet,
Exponential, Gamma, Normal, Poisson): the same class relation, natural parameters and log
normalizer as torch's, the base's Bregman entropy equal to each closed form, and the KL dispatch
between families unchanged against torch's."""
import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.distributions as D

torch = pytest.importorskip("torch")
TD = torch.distributions

F64 = np.float64
rng = np.random.default_rng(0)
POS = rng.uniform(0.5, 2.0, 3)
POS2 = rng.uniform(0.5, 2.0, 3)
PROB = rng.uniform(0.1, 0.9, 3)
CONC = rng.uniform(0.5, 2.0, (2, 4))

# name -> (args as numpy arrays)
FAMILIES = {
    "Normal": (rng.standard_normal(3), POS),
    "Bernoulli": (PROB,),
    "Beta": (POS, POS2),
    "Dirichlet": (CONC,),
    "Exponential": (POS,),
    "Gamma": (POS, POS2),
    "Chi2": (POS * 3,),
    "Poisson": (POS * 2,),
}


def _make(lib, name, args):
    mod, T = (TD, torch.tensor) if lib is torch else (D, tg.tensor)
    return getattr(mod, name)(*[T(np.asarray(a, F64)) for a in args])


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_member_and_natural_form_as_torch(name):
    ours, theirs = _make(tg, name, FAMILIES[name]), _make(torch, name, FAMILIES[name])
    assert isinstance(ours, D.ExponentialFamily) and isinstance(theirs, TD.ExponentialFamily)
    ps, pt = ours._natural_params, theirs._natural_params
    assert len(ps) == len(pt)
    for a, b in zip(ps, pt):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_np(ours._log_normalizer(*ps)), _np(theirs._log_normalizer(*pt)),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["Normal", "Bernoulli", "Exponential", "Gamma", "Chi2"])
def test_bregman_entropy_equals_the_closed_form(name):
    """The base's entropy from F and its gradient, against the family's own formula: checks the
    natural parameters, the normalizer and the carrier measure together."""
    d = _make(tg, name, FAMILIES[name])
    np.testing.assert_allclose(_np(D.ExponentialFamily.entropy(d)), _np(d.entropy()),
                               rtol=1e-10, atol=1e-12)


# pairs of one batch shape (Dirichlet's (2,) batch pairs only with itself)
PAIRS = [(p, q) for p in sorted(FAMILIES) for q in sorted(FAMILIES)
         if (p == "Dirichlet") == (q == "Dirichlet")]


@pytest.mark.parametrize("p,q", PAIRS)
def test_kl_dispatch_between_families_as_torch(p, q):
    tp, tq = _make(torch, p, FAMILIES[p]), _make(torch, q, FAMILIES[q])
    op, oq = _make(tg, p, FAMILIES[p]), _make(tg, q, FAMILIES[q])
    try:
        theirs = _np(TD.kl_divergence(tp, tq))
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            D.kl_divergence(op, oq)
        return
    np.testing.assert_allclose(_np(D.kl_divergence(op, oq)), theirs, rtol=1e-9, atol=1e-12)
