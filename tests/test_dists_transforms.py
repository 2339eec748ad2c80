"""The transforms added beside exp/sigmoid/tanh/affine, and biject_to/transform_to, against
torch 2.13 (float64): forward, inverse and log |det J| values, their gradients under a random
upstream gradient, shapes, domains/codomains and the registries' choices."""
import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import distributions as D
from tinygrad_norm.distributions import constraints as C

from dists_compare import compare

torch = pytest.importorskip("torch")
TT = torch.distributions.transforms
TC = torch.distributions.constraints
RNG = np.random.default_rng(9)


def _spd(n, batch=()):
    a = RNG.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


# name -> (our transform, torch's, an input x in the domain)
def _cases():
    k = np.array([0.5, 1.7, 2.5])
    chol = np.linalg.cholesky(_spd(3, (2,)))
    corr_vec = RNG.normal(size=(2, 6)) * 0.7
    return {
        "abs": (D.AbsTransform(), TT.AbsTransform(), RNG.normal(size=(2, 3))),
        "power": (D.PowerTransform(tg.tensor(k)), TT.PowerTransform(torch.tensor(k)),
                  RNG.uniform(0.2, 3.0, size=(2, 3))),
        "softplus": (D.SoftplusTransform(), TT.SoftplusTransform(),
                     np.array([[-30.0, -1.0, 0.0], [0.5, 19.0, 25.0]])),
        "softmax": (D.SoftmaxTransform(), TT.SoftmaxTransform(), RNG.normal(size=(2, 4))),
        "stick": (D.StickBreakingTransform(), TT.StickBreakingTransform(),
                  RNG.normal(size=(2, 3))),
        "lower_cholesky": (D.LowerCholeskyTransform(), TT.LowerCholeskyTransform(),
                           RNG.normal(size=(2, 3, 3))),
        "positive_definite": (D.PositiveDefiniteTransform(), TT.PositiveDefiniteTransform(),
                              RNG.normal(size=(2, 3, 3))),
        "corr_cholesky": (D.CorrCholeskyTransform(), TT.CorrCholeskyTransform(), corr_vec),
        "reshape": (D.ReshapeTransform((2, 3), (6,)), TT.ReshapeTransform((2, 3), (6,)),
                    RNG.normal(size=(4, 2, 3))),
        "independent": (D.IndependentTransform(D.ExpTransform(), 1),
                        TT.IndependentTransform(TT.ExpTransform(), 1), RNG.normal(size=(2, 3))),
        "cat": (D.CatTransform([D.ExpTransform(), D.AffineTransform(1.0, 2.0)], -1, [2, 1]),
                TT.CatTransform([TT.ExpTransform(), TT.AffineTransform(1.0, 2.0)], -1, [2, 1]),
                RNG.normal(size=(2, 3))),
        # event_dim 1 parts catted along a batch axis: the Jacobian terms are catted
        "cat_event": (D.CatTransform([D.IndependentTransform(D.ExpTransform(), 1),
                                      D.AffineTransform(1.0, 2.0, event_dim=1)], 0, [1, 2]),
                      TT.CatTransform([TT.IndependentTransform(TT.ExpTransform(), 1),
                                       TT.AffineTransform(1.0, 2.0, event_dim=1)], 0, [1, 2]),
                      RNG.normal(size=(3, 4))),
        "stack": (D.StackTransform([D.ExpTransform(), D.SigmoidTransform()], 1),
                  TT.StackTransform([TT.ExpTransform(), TT.SigmoidTransform()], 1),
                  RNG.normal(size=(3, 2))),
        "cdf": (D.CumulativeDistributionTransform(D.Normal(tg.tensor(0.5, dtype=tg.float64),
                                                             tg.tensor(2.0, dtype=tg.float64))),
                TT.CumulativeDistributionTransform(torch.distributions.Normal(
                    torch.tensor(0.5, dtype=torch.float64), torch.tensor(
                        2.0, dtype=torch.float64))), RNG.normal(size=(4,))),
        "identity": (D.identity_transform, TT.identity_transform, RNG.normal(size=(3,))),
        "_chol_input": chol,
    }


NAMES = [n for n in _cases() if not n.startswith("_")]
NO_JACOBIAN = {"abs", "softmax", "lower_cholesky", "positive_definite"}  # torch has none


@pytest.mark.parametrize("name", NAMES)
def test_forward_and_log_abs_det_jacobian_as_torch(name):
    ours, theirs, x = _cases()[name]
    a = tg.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    compare(ours(a), theirs(b), [a], [b], seed=1)
    if name in NO_JACOBIAN:
        return
    a = tg.tensor(x, requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    compare(ours.log_abs_det_jacobian(a, ours(a)), theirs.log_abs_det_jacobian(b, theirs(b)),
            [a], [b], seed=2)


@pytest.mark.parametrize("name", NAMES)
def test_inverse_as_torch(name):
    ours, theirs, x = _cases()[name]
    with torch.no_grad():
        y = theirs(torch.tensor(x)).numpy()
    if name == "positive_definite":
        y = _spd(3, (2,))
    a = tg.tensor(y, requires_grad=True)
    b = torch.tensor(y, requires_grad=True)
    compare(ours.inv(a), theirs.inv(b), [a], [b], seed=3, rtol=1e-9)
    if ours.bijective and name != "identity":
        np.testing.assert_allclose(ours.inv(ours(tg.tensor(x))).numpy(), x, rtol=1e-8,
                                   atol=1e-10)


@pytest.mark.parametrize("name", NAMES)
def test_shapes_and_domains_as_torch(name):
    ours, theirs, x = _cases()[name]
    shape = tuple(x.shape)
    assert ours.forward_shape(shape) == tuple(theirs.forward_shape(torch.Size(shape)))
    y = tuple(theirs(torch.tensor(x)).shape)
    assert ours.inverse_shape(y) == tuple(theirs.inverse_shape(torch.Size(y)))
    assert ours.domain.event_dim == theirs.domain.event_dim
    assert ours.codomain.event_dim == theirs.codomain.event_dim
    assert ours.bijective == theirs.bijective
    y_ours = ours(tg.tensor(x))
    assert np.all(ours.codomain.check(y_ours).numpy() == theirs.codomain.check(
        torch.tensor(y_ours.numpy())).numpy())


def test_corr_cholesky_gives_correlation_factors_and_gradchecks():
    t = D.CorrCholeskyTransform()
    x = tg.tensor(RNG.normal(size=(5, 10)))
    low = t(x)
    assert low.shape == (5, 5, 5) and C.corr_cholesky.check(low).numpy().all()
    corr = (low @ low.mT).numpy()
    np.testing.assert_allclose(np.diagonal(corr, axis1=-2, axis2=-1), 1.0, rtol=1e-12)
    x = tg.tensor(RNG.normal(size=(3,)) * 0.5, requires_grad=True)
    assert tg.gradcheck(lambda v: t.log_abs_det_jacobian(v, t(v)), (x,))
    assert tg.gradcheck(lambda v: t(v), (x,))
    assert tg.gradgradcheck(lambda v: t.log_abs_det_jacobian(v, t(v)), (x,))


def test_stick_breaking_log_det_is_the_jacobian():
    """log |det J| of R^(K-1) -> the first K-1 coordinates, by finite differences."""
    t = D.StickBreakingTransform()
    x = RNG.normal(size=(4,))
    jac = np.empty((4, 4))
    h = 1e-6
    for i in range(4):
        e = np.zeros(4)
        e[i] = h
        jac[:, i] = (t(tg.tensor(x + e)).numpy()[:4] - t(tg.tensor(x - e)).numpy()[:4]) / (2 * h)
    got = t.log_abs_det_jacobian(tg.tensor(x), t(tg.tensor(x))).numpy()
    np.testing.assert_allclose(got, np.linalg.slogdet(jac)[1], rtol=1e-7)


def test_errors_and_equality():
    with pytest.raises(ValueError, match="different numbers of elements"):
        D.ReshapeTransform((2, 3), (5,))
    with pytest.raises(ValueError, match="Shape mismatch"):
        D.ReshapeTransform((2, 3), (6,)).forward_shape((3, 2))
    with pytest.raises(ValueError, match="not a flattened lower-diagonal number"):
        D.CorrCholeskyTransform().forward_shape((4,))
    with pytest.raises(ValueError, match="Too few dimensions"):
        D.StickBreakingTransform().forward_shape(())
    with pytest.raises(TypeError, match="Transform instances"):
        D.CatTransform([D.ExpTransform(), 3])
    with pytest.raises(ValueError, match="must equal length"):
        D.CatTransform([D.ExpTransform()], -1, [2])(tg.tensor(np.zeros(3)))
    assert D.PowerTransform(2.0) == D.PowerTransform(2.0) != D.PowerTransform(3.0)
    assert D.SoftplusTransform() == D.SoftplusTransform() != D.AbsTransform()
    assert D.transforms.StickBreakingTransform is D.StickBreakingTransform
    pt = D.PowerTransform(tg.tensor([2.0]), cache_size=1)
    x = tg.tensor([3.0])
    assert pt.inv(pt(x)) is x


def _constraint_cases():
    return [
        (C.real, TC.real), (C.real_vector, TC.real_vector), (C.positive, TC.positive),
        (C.nonnegative, TC.nonnegative), (C.greater_than(1.5), TC.greater_than(1.5)),
        (C.greater_than_eq(-1.0), TC.greater_than_eq(-1.0)), (C.less_than(2.0),
                                                              TC.less_than(2.0)),
        (C.unit_interval, TC.unit_interval), (C.interval(-2.0, 3.0), TC.interval(-2.0, 3.0)),
        (C.half_open_interval(0.0, 4.0), TC.half_open_interval(0.0, 4.0)),
        (C.simplex, TC.simplex), (C.lower_cholesky, TC.lower_cholesky),
        (C.positive_definite, TC.positive_definite), (C.corr_cholesky, TC.corr_cholesky),
        (C.independent(C.positive, 1), TC.independent(TC.positive, 1)),
        (C.cat([C.positive, C.real], -1, [2, 1]), TC.cat([TC.positive, TC.real], -1, [2, 1])),
        (C.stack([C.positive, C.unit_interval], -1), TC.stack([TC.positive, TC.unit_interval],
                                                              -1)),
    ]


def _inputs(t_torch, shape=(2, 3)):
    n = t_torch.domain.event_dim
    if isinstance(t_torch, TT.CorrCholeskyTransform):
        return RNG.normal(size=(2, 3))
    if n == 2:
        return RNG.normal(size=(2, 3, 3))
    return RNG.normal(size=(2, 2) if isinstance(t_torch, TT.StackTransform) else shape)


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("i", range(17))
def test_registries_pick_torch_transforms(registry, i):
    ours_c, theirs_c = _constraint_cases()[i]
    try:
        want = getattr(torch.distributions, registry)(theirs_c)
    except NotImplementedError:
        with pytest.raises(NotImplementedError, match="Cannot transform"):
            getattr(D, registry)(ours_c)
        return
    got = getattr(D, registry)(ours_c)
    x = _inputs(want)
    a, b = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = got(a), want(b)
    compare(y_ours, y_theirs, [a], [b], seed=i)
    assert bool(np.all(ours_c.check(got(tg.tensor(x))).numpy()))
    if registry == "biject_to":
        a, b = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        compare(got.log_abs_det_jacobian(a, got(a)), want.log_abs_det_jacobian(b, want(b)),
                [a], [b], seed=i + 50)


def test_registry_register_and_errors():
    reg = D.constraint_registry.ConstraintRegistry() if hasattr(D, "constraint_registry") \
        else type(D.biject_to)()
    with pytest.raises(TypeError, match="Constraint subclass or instance"):
        reg.register(3, lambda c: None)
    reg.register(C.positive)(lambda c: D.SoftplusTransform())
    assert isinstance(reg(C.positive), D.SoftplusTransform)
    with pytest.raises(NotImplementedError, match="Cannot transform _Boolean constraints"):
        D.biject_to(C.boolean)
