"""tinygrad_norm.distributions against torch.distributions 2.13: log_prob, entropy, moments,
mode, cdf/icdf and kl_divergence, values and the gradients of every parameter (and of a
continuous value) under a random upstream gradient in float64 (1e-10) and float32, over batch
and event shapes with broadcasting; torch's validation errors; sample/rsample shapes, dtypes,
reproducibility under manual_seed and their statistics (fixed seeds, generous bounds);
reparameterised gradients; a VAE step and a REINFORCE step."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.distributions as D
import tinygrad_norm.optim as optim
from tinygrad_norm import Tensor

from conftest import gradchecks, torch_parity  # noqa: E402

RTOL = {np.float64: 1e-10, np.float32: 2e-5}


def _rng(seed):
    return np.random.default_rng(seed)


def real(shape, seed):
    return _rng(seed).standard_normal(shape)


def pos(shape, seed):
    return _rng(seed).uniform(0.5, 2.0, shape)


def prob(shape, seed):
    return _rng(seed).uniform(0.1, 0.9, shape)


def low(shape, seed):
    return _rng(seed).uniform(-2.0, -1.0, shape)


def high(shape, seed):
    return _rng(seed).uniform(1.0, 2.0, shape)


def inside(shape, seed):  # a value inside every Uniform(low, high) above
    return _rng(seed).uniform(-0.9, 0.9, shape)


def counts(shape, seed):
    return _rng(seed).integers(0, 6, shape).astype(float)


def bits(shape, seed):
    return _rng(seed).integers(0, 2, shape).astype(float)


# family: (constructor(D, *params), parameter makers, value maker, value differentiable,
#          differentiable methods, value-only methods)
FAMILIES = {
    "Normal": (lambda D, a, b: D.Normal(a, b), (real, pos), real, True,
               ("log_prob", "entropy", "mean", "variance", "stddev", "mode", "cdf", "icdf"), ()),
    "Uniform": (lambda D, a, b: D.Uniform(a, b), (low, high), inside, True,
                ("log_prob", "entropy", "mean", "variance", "stddev", "cdf", "icdf"), ("mode",)),
    "Exponential": (lambda D, r: D.Exponential(r), (pos,), pos, True,
                    ("log_prob", "entropy", "mean", "variance", "stddev", "cdf", "icdf"),
                    ("mode",)),
    "Laplace": (lambda D, a, b: D.Laplace(a, b), (real, pos), real, True,
                ("log_prob", "entropy", "mean", "variance", "stddev", "mode", "cdf", "icdf"), ()),
    "LogNormal": (lambda D, a, b: D.LogNormal(a, b), (real, pos), pos, True,
                  ("log_prob", "entropy", "mean", "variance", "stddev", "mode", "cdf", "icdf"),
                  ()),
    "Bernoulli_probs": (lambda D, p: D.Bernoulli(probs=p), (prob,), bits, False,
                        ("log_prob", "entropy", "mean", "variance", "stddev"), ("mode",)),
    "Bernoulli_logits": (lambda D, l: D.Bernoulli(logits=l), (real,), bits, False,
                         ("log_prob", "entropy", "mean", "variance", "stddev"), ("mode",)),
    "Poisson": (lambda D, r: D.Poisson(r), (pos,), counts, False,
                ("log_prob", "mean", "variance", "stddev"), ("mode",)),
    "Binomial_probs": (lambda D, p: D.Binomial(5, probs=p), (prob,), counts, False,
                       ("log_prob", "entropy", "mean", "variance", "stddev"), ("mode",)),
    "Binomial_logits": (lambda D, l: D.Binomial(5, logits=l), (real,), counts, False,
                        ("log_prob", "entropy", "mean", "variance", "stddev"), ("mode",)),
}
# parameter shapes and the value's: scalars, equal shapes, broadcasting against each other and
# against a value with more axes
SHAPES = {"scalar": ([(), ()], (5,)), "same": ([(4,), (4,)], (4,)),
          "broadcast": ([(3, 1), (4,)], (2, 3, 4)), "value_small": ([(2, 3), (2, 3)], (3,))}


def _method(d, name, value):
    attr = getattr(d, name)
    if not callable(attr):
        return attr
    if name == "icdf":  # a probability in (0, 1): the value maker's numbers squashed
        return attr(1 / (1 + (-value).exp()) if hasattr(value, "exp") else value)
    return attr(value) if name in ("log_prob", "cdf") else attr()


def _case(family, method, shapes, dtype, torch):
    ctor, makers, vmaker, vdiff, _, _ = FAMILIES[family]
    pshapes, vshape = SHAPES[shapes]
    arrays = [m(s, i) for i, (m, s) in enumerate(zip(makers, pshapes))]
    arrays.append(vmaker(vshape, 7))
    diff = [True] * len(makers) + [vdiff and method in ("log_prob", "cdf", "icdf")]

    def ours(*xs):
        return _method(ctor(D, *xs[:-1]), method, xs[-1])

    def theirs(*ts):
        return _method(ctor(torch.distributions, *ts[:-1]), method, ts[-1])
    return arrays, diff, ours, theirs


# the methods without a value read the parameters only: one shape case of equal shapes is enough
GRAD_CASES = [(f, m, s) for f, spec in FAMILIES.items() for m in spec[4] for s in SHAPES
              if s != "value_small" or m in ("log_prob", "cdf", "icdf")]


@pytest.mark.parametrize("family,method,shapes", GRAD_CASES)
def test_values_and_gradients_match_torch(torch, family, method, shapes):
    arrays, diff, ours, theirs = _case(family, method, shapes, np.float64, torch)
    torch_parity(torch, ours, theirs, arrays, np.float64, RTOL[np.float64], diff=diff, seed=3,
                 unused_ok=True)


@pytest.mark.parametrize("family,method", [(f, m) for f, spec in FAMILIES.items()
                                           for m in spec[4]])
def test_float32_matches_torch(torch, family, method):
    arrays, diff, ours, theirs = _case(family, method, "broadcast" if len(FAMILIES[family][1]) == 2
                                       else "same", np.float32, torch)
    torch_parity(torch, ours, theirs, arrays, np.float32, RTOL[np.float32], diff=diff, seed=4,
                 unused_ok=True)


@pytest.mark.parametrize("family,method", [(f, m) for f, spec in FAMILIES.items()
                                           for m in spec[5]])
def test_value_only_methods_match_torch(torch, family, method):
    arrays, _, ours, theirs = _case(family, method, "same", np.float64, torch)
    got = ours(*[Tensor(a) for a in arrays])
    want = theirs(*[torch.tensor(a) for a in arrays])
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got.data, want.numpy())


# ---- Categorical, OneHotCategorical, Independent -------------------------------------------------

def _logits(shape, seed):
    return real(shape, seed)


CATEGORICAL = {  # name: (constructor from the parameter, parameter shape, value)
    "probs": (lambda D, p: D.Categorical(probs=p), (3, 4), np.array([0, 3, 2])),
    "logits": (lambda D, l: D.Categorical(logits=l), (3, 4), np.array([1, 0, 2])),
    "logits_1d": (lambda D, l: D.Categorical(logits=l), (5,), np.array([[4], [0]])),
    "value_broadcast": (lambda D, l: D.Categorical(logits=l), (2, 3, 4), np.array([[3], [1]])),
    "onehot_probs": (lambda D, p: D.OneHotCategorical(probs=p), (3, 4), np.eye(4)[[0, 3, 2]]),
    "onehot_logits": (lambda D, l: D.OneHotCategorical(logits=l), (2, 3, 4),
                      np.eye(4)[[[1, 0, 2], [3, 3, 0]]]),
}


def _cat_param(name, shape):
    a = real(shape, 1)
    return np.exp(a) if "probs" in name else a  # positive, unnormalised: the constructor normalises


# Categorical's mean and variance are NaN (tested below); OneHotCategorical's are the probabilities
CATEGORICAL_CASES = [(n, m) for n in sorted(CATEGORICAL)
                     for m in ("log_prob", "entropy", "probs", "logits")
                     + (("mean", "variance") if n.startswith("onehot") else ())]


@pytest.mark.parametrize("name,method", CATEGORICAL_CASES)
def test_categorical_matches_torch(torch, name, method):
    ctor, shape, value = CATEGORICAL[name]

    def run(D, p, T):
        d = ctor(D, p)
        if method == "log_prob":
            return d.log_prob(T(value))
        return d.entropy() if method == "entropy" else getattr(d, method)
    torch_parity(torch, lambda p: run(D, p, Tensor), lambda p: run(torch.distributions, p,
                                                                   torch.tensor),
                 [_cat_param(name, shape)], np.float64, RTOL[np.float64], seed=5)


def test_categorical_moments_mode_and_support(torch):
    logits = real((3, 4), 2)
    ours, ref = D.Categorical(logits=Tensor(logits)), torch.distributions.Categorical(
        logits=torch.tensor(logits))
    assert np.isnan(ours.mean.data).all() and ours.mean.shape == (3,)
    assert np.isnan(ours.variance.data).all()
    np.testing.assert_array_equal(ours.mode.data, ref.mode.numpy())
    assert ours.mode.dtype == np.int64
    np.testing.assert_array_equal(ours.enumerate_support().data, ref.enumerate_support().numpy())
    np.testing.assert_array_equal(ours.enumerate_support(False).data,
                                  ref.enumerate_support(False).numpy())
    oh, oh_ref = D.OneHotCategorical(logits=Tensor(logits)), \
        torch.distributions.OneHotCategorical(logits=torch.tensor(logits))
    np.testing.assert_array_equal(oh.mode.data, oh_ref.mode.numpy())
    np.testing.assert_array_equal(oh.enumerate_support().data, oh_ref.enumerate_support().numpy())
    assert oh.batch_shape == (3,) and oh.event_shape == (4,)
    assert repr(ours.support) == repr(ref.support)
    assert repr(ours.support) == "IntegerInterval(lower_bound=0, upper_bound=3)"


def test_categorical_entropy_with_zero_probability(torch):
    p = np.array([[0.0, 0.3, 0.7], [0.5, 0.5, 0.0]])
    torch_parity(torch, lambda p: D.Categorical(probs=p).entropy(),
                 lambda p: torch.distributions.Categorical(probs=p).entropy(), [p], np.float64,
                 RTOL[np.float64], seed=6)


@pytest.mark.parametrize("method", ["log_prob", "entropy", "mean", "variance"])
@pytest.mark.parametrize("n", [0, 1, 2])
def test_independent_matches_torch(torch, n, method):
    value = real((5, 2, 3), 9)

    def run(D, loc, scale, T):
        d = D.Independent(D.Normal(loc, scale), n)
        assert tuple(d.batch_shape) == (2, 3)[:2 - n] and tuple(d.event_shape) == (2, 3)[2 - n:]
        if method == "log_prob":
            return d.log_prob(T(value))
        return d.entropy() if method == "entropy" else getattr(d, method)
    torch_parity(torch, lambda a, b: run(D, a, b, Tensor),
                 lambda a, b: run(torch.distributions, a, b, torch.tensor),
                 [real((2, 3), 1), pos((2, 3), 2)], np.float64, RTOL[np.float64], seed=7,
                 unused_ok=True)


def test_independent_errors_and_repr(torch):
    with pytest.raises(ValueError, match=r"Expected reinterpreted_batch_ndims <= "
                                         r"len\(base_distribution.batch_shape\), actual 2 vs 1"):
        D.Independent(D.Normal(Tensor(np.zeros(3)), 1.0), 2)
    d = D.Independent(D.Normal(Tensor(np.zeros(3)), 1.0), 1)
    assert repr(d) == "Independent(Normal(loc: (3,), scale: (3,)), 1)"
    assert repr(d.support) == "IndependentConstraint(Real(), 1)"
    assert d.has_rsample


# ---- Normal.icdf: erfinv as a composite ----------------------------------------------------------

def test_normal_icdf_gradcheck_and_gradgradcheck():
    p = _rng(3).uniform(0.05, 0.95, (2, 3))
    gradchecks(lambda loc, scale, v: D.Normal(loc, scale).icdf(v),
               [real((2, 3), 1), pos((3,), 2), p])


def test_normal_icdf_second_derivative_matches_torch(torch):
    p = np.array([0.02, 0.3, 0.5, 0.9, 0.999])
    x = Tensor(p.copy(), requires_grad=True)
    (g,) = tg.grad(D.Normal(0.0, 1.0).icdf(x.double()).sum(), [x], create_graph=True)
    (gg,) = tg.grad(g.sum(), [x])
    t = torch.tensor(p, requires_grad=True)
    (tgr,) = torch.autograd.grad(torch.distributions.Normal(0.0, 1.0).icdf(t).sum(), [t],
                                 create_graph=True)
    (tgg,) = torch.autograd.grad(tgr.sum(), [t])
    np.testing.assert_allclose(g.data, tgr.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(gg.data, tgg.numpy(), rtol=1e-8)


def test_normal_icdf_at_0_and_1(torch):
    v = np.array([0.0, 1.0, 0.5])
    got = D.Normal(Tensor(np.zeros(3)), 1.0).icdf(Tensor(v)).data
    np.testing.assert_array_equal(got, torch.distributions.Normal(0.0, 1.0).icdf(
        torch.tensor(v)).numpy())


@pytest.mark.parametrize("family", ["Normal", "Laplace", "Exponential", "LogNormal", "Uniform"])
def test_log_prob_gradchecks(family):
    ctor, makers, vmaker, _, _, _ = FAMILIES[family]
    arrays = [m((3,), i) for i, m in enumerate(makers)] + [vmaker((3,), 7)]
    gradchecks(lambda *xs: ctor(D, *xs[:-1]).log_prob(xs[-1]), arrays)


# ---- kl_divergence -------------------------------------------------------------------------------

def _normal(D, a, b):
    return D.Normal(a, b)


KL_PAIRS = {  # name: (p from its parameters, q from its parameters, p's makers, q's makers)
    "Normal_Normal": (_normal, _normal, (real, pos), (real, pos)),
    "Bernoulli_Bernoulli": (lambda D, p: D.Bernoulli(probs=p), lambda D, l: D.Bernoulli(logits=l),
                            (prob,), (real,)),
    "Categorical_Categorical": (lambda D, l: D.Categorical(logits=l),
                                lambda D, p: D.Categorical(probs=p), (real,), (pos,)),
    "OneHot_OneHot": (lambda D, p: D.OneHotCategorical(probs=p),
                      lambda D, l: D.OneHotCategorical(logits=l), (pos,), (real,)),
    "Exponential_Exponential": (lambda D, r: D.Exponential(r), lambda D, r: D.Exponential(r),
                                (pos,), (pos,)),
    "Laplace_Laplace": (lambda D, a, b: D.Laplace(a, b), lambda D, a, b: D.Laplace(a, b),
                        (real, pos), (real, pos)),
    "LogNormal_LogNormal": (lambda D, a, b: D.LogNormal(a, b), lambda D, a, b: D.LogNormal(a, b),
                            (real, pos), (real, pos)),
    "Poisson_Poisson": (lambda D, r: D.Poisson(r), lambda D, r: D.Poisson(r), (pos,), (pos,)),
    "Uniform_Uniform": (lambda D, a, b: D.Uniform(a, b),
                        lambda D, a, b: D.Uniform(a - 1, b + 1), (low, high), (low, high)),
    "Independent_Independent": (lambda D, a, b: D.Independent(D.Normal(a, b), 1),
                                lambda D, a, b: D.Independent(D.Normal(a, b), 1),
                                (real, pos), (real, pos)),
    "Binomial_Binomial": (lambda D, p: D.Binomial(4, probs=p), lambda D, l: D.Binomial(4, logits=l),
                          (prob,), (real,)),
    "Bernoulli_Poisson": (lambda D, p: D.Bernoulli(probs=p), lambda D, r: D.Poisson(r), (prob,),
                          (pos,)),
    "Exponential_Normal": (lambda D, r: D.Exponential(r), _normal, (pos,), (real, pos)),
    "Laplace_Normal": (lambda D, a, b: D.Laplace(a, b), _normal, (real, pos), (real, pos)),
    "Normal_Laplace": (_normal, lambda D, a, b: D.Laplace(a, b), (real, pos), (real, pos)),
    "Uniform_Normal": (lambda D, a, b: D.Uniform(a, b), _normal, (low, high), (real, pos)),
    "Uniform_Exponential": (lambda D, a, b: D.Uniform(a + 2, b + 2), lambda D, r: D.Exponential(r),
                            (low, high), (pos,)),
}


# torch's KL of these pairs writes inf through a mask of one distribution's shape, an IndexError
# when the two batch shapes differ; here they broadcast as every other pair's
TORCH_SAME_SHAPES = ("Bernoulli_Bernoulli", "Uniform_Exponential")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shapes", ["same", "broadcast"])
@pytest.mark.parametrize("pair", sorted(KL_PAIRS))
def test_kl_divergence_matches_torch(torch, pair, shapes, dtype):
    p_ctor, q_ctor, p_makers, q_makers = KL_PAIRS[pair]
    vector = "Categorical" in pair or "OneHot" in pair
    if shapes == "same":
        p_shape = q_shape = (3, 4)
    else:  # p's batch broadcast against q's
        p_shape, q_shape = ((2, 1, 4), (3, 4)) if vector else ((3, 1), (4,))
    arrays = [m(p_shape, i) for i, m in enumerate(p_makers)] + \
        [m(q_shape, 10 + i) for i, m in enumerate(q_makers)]
    k = len(p_makers)

    def run(D, *xs):
        return D.kl_divergence(p_ctor(D, *xs[:k]), q_ctor(D, *xs[k:]))

    def theirs(*ts):
        if pair in TORCH_SAME_SHAPES:  # torch's masked writes refuse two batch shapes: expand
            shape = torch.broadcast_shapes(*[t.shape for t in ts])
            ts = [t.expand(shape) for t in ts]
        return run(torch.distributions, *ts)
    torch_parity(torch, lambda *xs: run(D, *xs), theirs,
                 arrays, dtype, RTOL[dtype], seed=11, unused_ok=True)


INFINITE_PAIRS = [("Normal", "Uniform"), ("Normal", "Exponential"), ("Exponential", "Uniform"),
                  ("Laplace", "Uniform"), ("Laplace", "Exponential"), ("Poisson", "Bernoulli"),
                  ("Poisson", "Binomial")]
SIMPLE = {"Normal": lambda D, T: D.Normal(T(np.zeros(3)), 1.0),
          "Uniform": lambda D, T: D.Uniform(T(np.zeros(3)), 1.0),
          "Exponential": lambda D, T: D.Exponential(T(np.ones(3))),
          "Laplace": lambda D, T: D.Laplace(T(np.zeros(3)), 1.0),
          "Poisson": lambda D, T: D.Poisson(T(np.ones(3))),
          "Bernoulli": lambda D, T: D.Bernoulli(T(np.full(3, 0.5))),
          "Binomial": lambda D, T: D.Binomial(3, T(np.full(3, 0.5)))}


@pytest.mark.parametrize("p,q", INFINITE_PAIRS)
def test_kl_infinite_pairs(torch, p, q):
    got = D.kl_divergence(SIMPLE[p](D, Tensor), SIMPLE[q](D, Tensor))
    want = torch.distributions.kl_divergence(SIMPLE[p](torch.distributions, torch.tensor),
                                             SIMPLE[q](torch.distributions, torch.tensor))
    np.testing.assert_array_equal(got.data, want.numpy())
    assert got.dtype == np.float64


def test_kl_masked_places_match_torch(torch):
    """Probabilities of 0 and 1 and uncovered supports: inf or 0 where torch writes them, and
    the gradients of those places 0, as torch's."""
    cases = [
        (lambda D, a, b: D.Bernoulli(probs=a), lambda D, a, b: D.Bernoulli(probs=b),
         [np.array([0.0, 1.0, 0.3, 0.5]), np.array([0.4, 0.2, 0.0, 1.0])]),
        (lambda D, a, b: D.Categorical(probs=a), lambda D, a, b: D.Categorical(probs=b),
         [np.array([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]]),
          np.array([[0.3, 0.3, 0.4], [0.5, 0.5, 0.0]])]),
        (lambda D, a, b: D.Uniform(a, a + 1), lambda D, a, b: D.Uniform(b, b + 1.5),
         [np.array([0.0, 0.0, 1.0]), np.array([-0.2, 0.3, 0.0])]),
    ]
    for p_ctor, q_ctor, arrays in cases:
        def ours(a, b, p_ctor=p_ctor, q_ctor=q_ctor):
            return D.kl_divergence(p_ctor(D, a, b), q_ctor(D, a, b))

        def theirs(a, b, p_ctor=p_ctor, q_ctor=q_ctor):
            td = torch.distributions
            return td.kl_divergence(p_ctor(td, a, b), q_ctor(td, a, b))
        out = ours(*[Tensor(a) for a in arrays])
        ref = theirs(*[torch.tensor(a) for a in arrays])
        np.testing.assert_array_equal(out.data, ref.numpy())
        xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
        ts = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
        g = _rng(0).standard_normal(out.shape)
        ours(*xs).backward(g)
        want = torch.autograd.grad(theirs(*ts), ts, torch.tensor(g), allow_unused=True)
        for x, w in zip(xs, want):
            np.testing.assert_allclose(x.grad.data, w.numpy(), rtol=1e-10, atol=1e-12)


def test_kl_registry():
    class MyNormal(D.Normal):
        pass

    p, q = MyNormal(0.0, 1.0), MyNormal(1.0, 2.0)
    base = D.kl_divergence(D.Normal(0.0, 1.0), D.Normal(1.0, 2.0)).item()
    assert D.kl_divergence(p, q).item() == base  # a subclass finds its base's pair

    @D.register_kl(MyNormal, MyNormal)
    def _mine(p, q):
        return Tensor(np.float32(-1.0))
    assert D.kl_divergence(p, q).item() == -1.0  # the more specific pair wins, the memo reset
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p "
                                                  "type Normal and q type Categorical"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Categorical(Tensor(np.ones(3))))
    with pytest.raises(TypeError, match="Expected type_p to be a Distribution subclass"):
        D.register_kl(int, D.Normal)
    with pytest.raises(NotImplementedError, match="q.total_count > p.total_count"):
        D.kl_divergence(D.Binomial(2, Tensor([0.5])), D.Binomial(3, Tensor([0.5])))


# ---- validation: torch's errors, as ValueError with its words ------------------------------------

def _words(msg):
    """An error message without what the two libraries print differently: a shape (torch.Size
    against a tuple), a tensor, and the parameters in a distribution's repr (tested apart)."""
    import re
    msg = msg.split("\n")[0]
    msg = re.sub(r"torch\.Size\(\[([^\]]*)\]\)",
                 lambda m: str(tuple(int(v) for v in m.group(1).split(",") if v.strip())), msg)
    msg = re.sub(r"[tT]ensor\([^()]*\)", "T", msg)
    return re.sub(r"(distribution \w+)\(.*\)( to satisfy|, but found)", r"\1(...)\2", msg)


BAD = {  # name: a call that torch refuses with a ValueError (t: the tensor constructor)
    "negative_scale": lambda M, t: M.Normal(t([0., 1.]), t([1., -1.])),
    "nan_loc": lambda M, t: M.Normal(t([0., float("nan")]), t([1., 1.])),
    "low_above_high": lambda M, t: M.Uniform(1., 0.),
    "probs_above_1": lambda M, t: M.Bernoulli(t([0.5, 1.5])),
    "neither": lambda M, t: M.Bernoulli(),
    "both": lambda M, t: M.Bernoulli(0.3, 0.1),
    "probs_0d": lambda M, t: M.Categorical(t(1.)),
    "logits_0d": lambda M, t: M.Categorical(logits=t(1.)),
    "not_simplex": lambda M, t: M.Categorical(t([0.2, -0.1, 0.9])),
    "zero_rate": lambda M, t: M.Exponential(t([0.])),
    "negative_poisson_rate": lambda M, t: M.Poisson(t([-1.])),
    "lognormal_scale": lambda M, t: M.LogNormal(0., -1.),
    "laplace_scale": lambda M, t: M.Laplace(t([0.]), t([0.])),
    "fractional_total_count": lambda M, t: M.Binomial(t([2.5]), t([.5])),
    "value_not_tensor": lambda M, t: M.Normal(0., 1.).log_prob(1.0),
    "value_not_broadcastable": lambda M, t: M.Normal(t([0., 1.]), 1.).log_prob(t([1., 2., 3.])),
    "value_event_shape": lambda M, t: M.OneHotCategorical(t([.5, .5])).log_prob(t([1., 2., 0.])),
    "value_negative": lambda M, t: M.Exponential(t([1., 1.])).log_prob(t([1., -2.])),
    "value_not_boolean": lambda M, t: M.Bernoulli(t([.5])).log_prob(t([0.5])),
    "value_not_category": lambda M, t: M.Categorical(t([.5, .5])).log_prob(t([2])),
    "value_not_one_hot": lambda M, t: M.OneHotCategorical(t([.5, .5])).log_prob(t([1., 1.])),
    "value_outside_uniform": lambda M, t: M.Uniform(0., 1.).log_prob(t(2.)),
    "cdf_outside_uniform": lambda M, t: M.Uniform(0., 1.).cdf(t(2.)),
    "value_above_total_count": lambda M, t: M.Binomial(t([3.]), t([.5])).log_prob(t([4.])),
    "value_lognormal": lambda M, t: M.LogNormal(0., 1.).log_prob(t([-1.])),
    "value_poisson": lambda M, t: M.Poisson(t([1.])).log_prob(t([1.5])),
    "reinterpreted_too_many": lambda M, t: M.Independent(M.Normal(t([0.]), 1.), 2),
    "not_a_number": lambda M, t: M.Normal("a", 1.),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_validation_errors_have_torch_words(torch, name):
    with pytest.raises(ValueError) as theirs:
        BAD[name](torch.distributions, torch.tensor)
    with pytest.raises(ValueError) as ours:
        BAD[name](D, tg.tensor)
    # the same words, up to how the two libraries print a shape and a tensor
    assert _words(str(ours.value)) == _words(str(theirs.value))


def test_distribution_repr(torch):
    assert repr(D.Normal(Tensor(np.zeros(2)), 1.0)) == "Normal(loc: (2,), scale: (2,))"
    assert repr(D.Uniform(1.0, 2.0)) == repr(torch.distributions.Uniform(1.0, 2.0))
    assert repr(D.Categorical(logits=Tensor(np.zeros(3)))) == "Categorical(logits: (3,))"
    assert repr(D.Exponential(Tensor(np.ones(1)))) == \
        "Exponential(rate: Tensor([1.], dtype=float64))"


def test_validate_args_false_and_default():
    assert D.Distribution._validate_args is True  # torch's default: __debug__
    d = D.Normal(0.0, Tensor(np.array([1.0, -1.0])), validate_args=False)
    with np.errstate(invalid="ignore"):  # log of the negative scale
        assert np.isnan(d.log_prob(Tensor(np.zeros(2))).data[1])
    u = D.Uniform(0.0, 1.0, validate_args=False)
    assert u.log_prob(Tensor(np.array([2.0, -1.0]))).data.tolist() == [-np.inf, -np.inf]
    assert D.Exponential(1.0, validate_args=False).log_prob(Tensor(np.array(-1.0))).item() == 1.0
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(0.0, -1.0)  # no error
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args(2)


def test_constraint_reprs_and_checks(torch):
    from tinygrad_norm.distributions import constraints as C
    tc = torch.distributions.constraints
    for ours, theirs in [(C.real, tc.real), (C.positive, tc.positive),
                         (C.nonnegative, tc.nonnegative), (C.unit_interval, tc.unit_interval),
                         (C.boolean, tc.boolean), (C.simplex, tc.simplex),
                         (C.real_vector, tc.real_vector), (C.one_hot, tc.one_hot),
                         (C.nonnegative_integer, tc.nonnegative_integer),
                         (C.interval(-1.0, 2.0), tc.interval(-1.0, 2.0)),
                         (C.integer_interval(0, 4), tc.integer_interval(0, 4)),
                         (C.greater_than(1.0), tc.greater_than(1.0)),
                         (C.less_than(1.0), tc.less_than(1.0))]:
        assert repr(ours) == repr(theirs)
        assert ours.event_dim == theirs.event_dim and ours.is_discrete == theirs.is_discrete
        v = np.array([[0.0, 1.0, 0.5], [-1.0, 2.0, float("nan")], [0.2, 0.3, 0.5], [0.0, 0.0, 1.0]])
        np.testing.assert_array_equal(ours.check(Tensor(v)).data,
                                      theirs.check(torch.tensor(v)).numpy())
    assert D.Normal.arg_constraints["scale"] is C.positive
    assert repr(D.Uniform(0.0, 2.0).support) == "Interval(lower_bound=0.0, upper_bound=2.0)"


def test_shapes_dtypes_and_expand(torch):
    assert D.Normal(0.0, 1.0).batch_shape == ()
    assert D.Normal(0.0, 1.0).mean.dtype == np.float32  # numbers: torch's default dtype
    d = D.Normal(tg.tensor(0.0), tg.tensor([1.0, 2.0]))
    assert d.batch_shape == (2,) and d.loc.shape == (2,)
    assert D.Normal(Tensor(np.zeros(3)), 1.0).scale.dtype == np.float64  # the tensor's dtype
    assert D.Bernoulli(0.3).batch_shape == ()
    assert D.Bernoulli(Tensor(np.full(2, .3))).batch_shape == (2,)
    e = D.Normal(Tensor(np.array([0.0])), 2.0).expand((3, 1))
    assert e.batch_shape == (3, 1) and type(e) is D.Normal and e.rsample((2,)).shape == (2, 3, 1)
    for d in [D.Uniform(0., 1.), D.Exponential(1.), D.Laplace(0., 1.), D.LogNormal(0., 1.),
              D.Bernoulli(logits=0.), D.Poisson(1.), D.Binomial(3, 0.5),
              D.Categorical(Tensor(np.ones(3))), D.OneHotCategorical(Tensor(np.ones(3)))]:
        ex = d.expand((4, 2))
        assert ex.batch_shape == (4, 2) and ex.event_shape == d.event_shape
        assert ex.sample().shape == (4, 2) + d.event_shape
        assert ex.log_prob(ex.sample()).shape == (4, 2)
    ind = D.Independent(D.Normal(Tensor(np.zeros((2, 3))), 1.0), 1).expand((5, 2))
    assert ind.batch_shape == (5, 2) and ind.event_shape == (3,)


# ---- sample and rsample --------------------------------------------------------------------------

SAMPLERS = {
    "Normal": lambda: D.Normal(Tensor(np.array([0.0, 3.0])), Tensor(np.array([1.0, 0.5]))),
    "Uniform": lambda: D.Uniform(Tensor(np.array([0.0, -2.0])), Tensor(np.array([1.0, 4.0]))),
    "Exponential": lambda: D.Exponential(Tensor(np.array([0.5, 3.0]))),
    "Laplace": lambda: D.Laplace(Tensor(np.array([0.0, 3.0])), Tensor(np.array([1.0, 0.5]))),
    "LogNormal": lambda: D.LogNormal(Tensor(np.array([0.0, 0.5])), Tensor(np.array([0.5, 0.25]))),
    "Bernoulli": lambda: D.Bernoulli(Tensor(np.array([0.2, 0.9]))),
    "Poisson": lambda: D.Poisson(Tensor(np.array([0.5, 7.0]))),
    "Binomial": lambda: D.Binomial(Tensor(np.array([3.0, 10.0])), Tensor(np.array([0.2, 0.7]))),
    "Categorical": lambda: D.Categorical(Tensor(np.array([[0.1, 0.6, 0.3], [0.5, 0.0, 0.5]]))),
    "OneHotCategorical": lambda: D.OneHotCategorical(Tensor(np.array([[0.1, 0.6, 0.3],
                                                                      [0.5, 0.0, 0.5]]))),
}


@pytest.mark.parametrize("sample_shape", [(), (3,), (2, 3)])
@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_sample_shapes_dtypes_and_seed(name, sample_shape):
    d = SAMPLERS[name]()
    tg.manual_seed(5)
    s = d.sample(sample_shape)
    assert s.shape == sample_shape + (2,) + d.event_shape
    assert s.dtype == (np.int64 if name == "Categorical" else np.float64)
    assert not s.requires_grad
    tg.manual_seed(5)
    np.testing.assert_array_equal(d.sample(sample_shape).data, s.data)  # the seed repeats it
    if d.has_rsample:
        r = d.rsample(sample_shape)
        assert r.shape == s.shape and r.dtype == s.dtype
    assert np.all(d.support.check(s).data)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_sample_statistics(name):
    """Means and variances of 20000 draws within 5 standard errors of the distribution's."""
    d = SAMPLERS[name]()
    tg.manual_seed(0)
    n = 20000
    s = d.sample((n,)).data.astype(np.float64)
    if name == "Categorical":  # frequencies against the probabilities
        freq = np.stack([(s == k).mean(0) for k in range(3)], -1)
        np.testing.assert_allclose(freq, d.probs.data, atol=5 * 0.5 / math.sqrt(n))
        return
    mean, var = d.mean.data, d.variance.data
    se = np.sqrt(var / n)
    assert np.all(np.abs(s.mean(0) - mean) < 5 * se + 1e-12), (s.mean(0), mean)
    with np.errstate(invalid="ignore", divide="ignore"):  # a variance of 0: the draws' too
        rel = np.where(var == 0, s.var(0), np.abs(s.var(0) / var - 1))
    assert np.all(rel < 0.1), (s.var(0), var)
    if name == "OneHotCategorical":
        assert np.all(s[:, 1, 1] == 0)  # a category of probability 0 is never drawn


def test_sample_shape_must_be_a_sequence(torch):
    with pytest.raises(TypeError):
        torch.distributions.Normal(0.0, 1.0).sample(3)
    with pytest.raises(TypeError, match="sample_shape must be a tuple of ints"):
        D.Normal(0.0, 1.0).sample(3)


def test_float32_parameters_sample_float32():
    tg.manual_seed(1)
    assert D.Normal(0.0, 1.0).rsample((4,)).dtype == np.float32
    assert D.Uniform(0.0, 1.0).sample((4,)).dtype == np.float32
    assert D.Categorical(Tensor(np.ones(3, np.float32))).sample().dtype == np.int64
    u = D.Uniform(0.0, 1.0).sample((100000,)).data
    assert u.min() >= 0 and u.max() < 1  # drawn in float32: rounding never reaches high


@pytest.mark.parametrize("name", ["Normal", "Uniform", "Exponential", "Laplace", "LogNormal"])
def test_rsample_is_reparameterised(name):
    """The gradient of a draw is the derivative of the transform of fixed noise: checked against
    finite differences of the same draw under the same seed."""
    ctor, makers, _, _, _, _ = FAMILIES[name]
    arrays = [m((3,), i) for i, m in enumerate(makers)]
    xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    tg.manual_seed(2)
    out = ctor(D, *xs).rsample((4,))
    g = _rng(1).standard_normal(out.shape)
    out.backward(g)
    for i, a in enumerate(arrays):
        num = np.zeros_like(a)
        for j in range(a.size):
            vals = []
            for h in (1e-6, -1e-6):
                b = [x.copy() for x in arrays]
                b[i].flat[j] += h
                tg.manual_seed(2)
                vals.append((ctor(D, *[Tensor(x) for x in b]).rsample((4,)).data * g).sum())
            num.flat[j] = (vals[0] - vals[1]) / 2e-6
        np.testing.assert_allclose(xs[i].grad.data, num, rtol=1e-6, atol=1e-8)


def test_normal_rsample_gradient_is_one_and_eps():
    mu = Tensor(np.array(0.5), requires_grad=True)
    s = Tensor(np.array(2.0), requires_grad=True)
    tg.manual_seed(3)
    x = D.Normal(mu, s).rsample()
    x.backward()
    assert mu.grad.item() == 1.0
    assert s.grad.item() == pytest.approx((x.item() - 0.5) / 2.0, rel=1e-12)
    y = D.Normal(mu, s).sample()
    assert not y.requires_grad


# ---- smoke tests: a VAE step and a REINFORCE step ------------------------------------------------

def test_vae_step_lowers_the_loss():
    from tinygrad_norm import nn
    tg.manual_seed(0)
    x = Tensor(_rng(0).uniform(0, 1, (64, 8)).astype(np.float32))
    enc, dec = nn.Linear(8, 4), nn.Linear(2, 8)
    opt = optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-2)

    def loss():
        h = enc(x)
        q = D.Normal(h[:, :2], h[:, 2:].exp())
        z = q.rsample()
        recon = D.Bernoulli(logits=dec(z))
        prior = D.Normal(tg.zeros(2), tg.ones(2))
        elbo = D.Independent(recon, 1).log_prob(x.round()) - D.kl_divergence(q, prior).sum(-1)
        return -elbo.mean()
    first = None
    for _ in range(30):
        opt.zero_grad()
        value = loss()
        value.backward()
        assert all(p.grad is not None and np.isfinite(p.grad.data).all()
                   for p in enc.parameters())
        opt.step()
        first = value.item() if first is None else first
    assert value.item() < first


def test_reinforce_step_moves_towards_the_rewarded_action():
    tg.manual_seed(0)
    logits = Tensor(np.zeros(3, np.float32), requires_grad=True)
    opt = optim.SGD([logits], lr=0.1)
    reward = np.array([0.0, 1.0, 0.0], np.float32)
    for _ in range(50):
        opt.zero_grad()
        pi = D.Categorical(logits=logits)
        actions = pi.sample((16,))
        advantage = Tensor(reward[actions.data] - reward[actions.data].mean())
        (-(pi.log_prob(actions) * advantage).mean()).backward()
        opt.step()
    assert D.Categorical(logits=logits).probs.data.argmax() == 1
    assert D.Categorical(logits=logits).probs.data[1] > 0.6


# ---- edges: kinks and tails where a naive composite gives another gradient -----------------------

EDGES = {  # name: (function of (D, params...), arrays)
    # logits exactly 0 (probs 1/2, a common start) and far in the tails: softplus's derivative
    # there is sigmoid's, and no linear cut at 20 changes the float64 value
    "bernoulli_logits": (lambda D, l, v: D.Bernoulli(logits=l).log_prob(v),
                         [np.array([0.0, 0.0, 30.0, -30.0, 45.0]),
                          np.array([1.0, 0.0, 0.0, 1.0, 1.0])]),
    "bernoulli_entropy": (lambda D, l: D.Bernoulli(logits=l).entropy(),
                          [np.array([0.0, 30.0, -30.0, 2.0])]),
    "binomial_logits": (lambda D, l, v: D.Binomial(4, logits=l).log_prob(v),
                        [np.array([0.0, 0.0, 25.0, -25.0]), np.array([0.0, 4.0, 2.0, 1.0])]),
    # the value at the location: |x|'s derivative 0 there, as torch's
    "laplace_at_loc": (lambda D, a, b, v: D.Laplace(a, b).log_prob(v),
                       [np.array([0.5, -1.0]), np.array([1.0, 2.0]), np.array([0.5, 3.0])]),
    "laplace_cdf_at_loc": (lambda D, a, b, v: D.Laplace(a, b).cdf(v),
                           [np.array([0.5, -1.0]), np.array([1.0, 2.0]), np.array([0.5, 3.0])]),
    "laplace_icdf_half": (lambda D, a, b, v: D.Laplace(a, b).icdf(v),
                          [np.array([0.5, -1.0]), np.array([1.0, 2.0]), np.array([0.5, 0.1])]),
    "uniform_cdf_outside": (lambda D, a, b, v: D.Uniform(a, b, validate_args=False).cdf(v),
                            [np.array([0.0, 0.0]), np.array([1.0, 1.0]), np.array([-0.5, 1.5])]),
    "poisson_value_0": (lambda D, r, v: D.Poisson(r).log_prob(v),
                        [np.array([0.5, 2.0]), np.array([0.0, 0.0])]),
}


@pytest.mark.parametrize("name", sorted(EDGES))
def test_edges_match_torch(torch, name):
    fn, arrays = EDGES[name]
    diff = [True] * len(arrays)
    if name.startswith(("bernoulli_logits", "binomial", "poisson")):
        diff[-1] = False  # a count: not differentiable
    torch_parity(torch, lambda *xs: fn(D, *xs), lambda *ts: fn(torch.distributions, *ts),
                 arrays, np.float64, RTOL[np.float64], diff=diff, seed=12, unused_ok=True)


class _EdgeGenerator:
    """A generator whose uniforms are the ends of [0, 1): 0, or the largest float below 1."""

    def __init__(self, top):
        self.top = top

    def random(self, shape, dtype=np.float64):
        dtype = np.dtype(dtype)
        v = np.nextafter(dtype.type(1), dtype.type(0)) if self.top else dtype.type(0)
        return np.full(shape, v, dtype)


def test_uniform_draws_stay_below_high(monkeypatch):
    import tinygrad_norm.random as tr
    monkeypatch.setattr(tr, "_generator", _EdgeGenerator(top=True))
    u = D.Uniform(0.0, 1.0).rsample((3,))  # float32: a float64 draw below 1 would round to 1
    assert u.dtype == np.float32 and np.all(u.data < 1)
    assert np.isfinite(D.Uniform(0.0, 1.0).log_prob(u).data).all()


def test_categorical_never_draws_a_zero_probability(monkeypatch):
    import tinygrad_norm.random as tr
    monkeypatch.setattr(tr, "_generator", _EdgeGenerator(top=False))  # a uniform of exactly 0
    s = D.Categorical(Tensor(np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]]))).sample((4,))
    np.testing.assert_array_equal(s.data, [[1, 2]] * 4)
    # a uniform of 1 against float32 probabilities that sum (in float64) to 1 - 6e-8: the last
    # category of nonzero probability, not an index past the end or a category of probability 0
    s = D.Categorical(Tensor(np.array([[0.1, 0.2, 0.0]], np.float32))).sample((2,))
    np.testing.assert_array_equal(s.data, [[1], [1]])


def test_bound_at_the_top_level_and_second_derivatives():
    assert tg.distributions is D
    # the KL of two Normals and the entropies of Bernoulli and Categorical, twice differentiable
    gradchecks(lambda a, b, c, d: D.kl_divergence(D.Normal(a, b), D.Normal(c, d)),
               [real((3,), 1), pos((3,), 2), real((3,), 3), pos((3,), 4)])
    gradchecks(lambda l, v: D.Bernoulli(logits=l).entropy() + D.Categorical(logits=v).entropy(),
               [real((2,), 5), real((2, 4), 6)])


def test_categorical_draws_in_chunks_are_the_same_draws(monkeypatch):
    import tinygrad_norm.distributions.categorical as cat
    d = D.Categorical(logits=Tensor(real((3, 5), 1)))
    tg.manual_seed(4)
    whole = d.sample((7, 2)).data
    monkeypatch.setattr(cat, "_CHUNK", 20)  # one draw of 3 rows x 5 categories a chunk
    tg.manual_seed(4)
    np.testing.assert_array_equal(d.sample((7, 2)).data, whole)
