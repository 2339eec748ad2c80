"""tinygrad_norm.distributions' MultivariateNormal (and the families added with it) against
torch.distributions 2.13: values and the gradients of loc and of the matrix parameter under a
random upstream gradient (float64 1e-10, float32), batch shapes that broadcast (loc's against the
matrix's, a value's sample axes against both), the three parameterisations, kl_divergence,
torch's validation errors, draws (shape, seed, statistics, reparameterised gradients) and
finite-difference gradchecks."""
from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.distributions as D
from tinygrad_norm import Tensor

from conftest import gradchecks, torch_parity  # noqa: E402

RTOL = {np.float64: 1e-10, np.float32: 1e-4}


def _rng(seed):
    return np.random.default_rng(seed)


def spd(batch, n, seed):
    a = _rng(seed).standard_normal(tuple(batch) + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def matrix(kind, batch, n, seed):
    c = spd(batch, n, seed)
    return np.linalg.cholesky(c) if kind == "scale_tril" else c


KINDS = ("covariance_matrix", "precision_matrix", "scale_tril")
# name: (loc shape, matrix batch, value shape); n = 3
SHAPES = {
    "single": ((3,), (), (3,)),
    "batch": ((4, 3), (4,), (4, 3)),
    "shared_matrix": ((4, 3), (), (4, 3)),
    "shared_loc": ((3,), (4,), (4, 3)),
    "broadcast": ((2, 1, 3), (4,), (2, 4, 3)),
    "samples": ((4, 3), (4,), (5, 4, 3)),
    "samples_shared": ((4, 3), (), (2, 5, 4, 3)),
    "value_small": ((2, 4, 3), (1, 4), (3,)),
}
METHODS = ("log_prob", "entropy", "mean", "mode", "variance", "covariance_matrix",
           "precision_matrix", "scale_tril")


def _mvn(M, kind, loc, m, **kw):
    return M.MultivariateNormal(loc, **{kind: m}, **kw)


def _call(d, method, value):
    attr = getattr(d, method)
    return attr(value) if method == "log_prob" else attr() if callable(attr) else attr


def _case(kind, method, shape, seed=0):
    lshape, mbatch, vshape = SHAPES[shape]
    arrays = [_rng(seed).standard_normal(lshape), matrix(kind, mbatch, 3, seed + 1),
              _rng(seed + 2).standard_normal(vshape)]
    diff = [True, True, method == "log_prob"]

    def ours(loc, m, v):
        return _call(_mvn(D, kind, loc, m), method, v)

    def theirs(loc, m, v):
        import torch
        return _call(_mvn(torch.distributions, kind, loc, m), method, v)
    return arrays, diff, ours, theirs


CASES = [(k, m, s) for k in KINDS for m in METHODS for s in SHAPES
         if m == "log_prob" or s in ("batch", "shared_matrix", "shared_loc", "broadcast")]


@pytest.mark.parametrize("kind,method,shape", CASES)
def test_mvn_values_and_gradients_match_torch(torch, kind, method, shape):
    arrays, diff, ours, theirs = _case(kind, method, shape)
    torch_parity(torch, ours, theirs, arrays, np.float64, RTOL[np.float64], diff=diff, seed=3,
                 unused_ok=True)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", ["log_prob", "entropy", "precision_matrix"])
def test_mvn_float32_matches_torch(torch, kind, method):
    arrays, diff, ours, theirs = _case(kind, method, "samples")
    torch_parity(torch, ours, theirs, arrays, np.float32, RTOL[np.float32], diff=diff, seed=4,
                 unused_ok=True)


def test_mvn_scale_tril_upper_entries_get_no_log_prob_gradient(torch):
    """log_prob reads only the lower triangle of scale_tril (a triangular solve): the general
    solve used here must not send a gradient to the zeros above the diagonal."""
    arrays, diff, ours, theirs = _case("scale_tril", "log_prob", "samples")
    loc, m, v = (Tensor(a, requires_grad=True) for a in arrays)
    ours(loc, m, v).backward(Tensor(_rng(9).standard_normal((5, 4))))
    assert np.all(np.triu(m.grad.data, 1) == 0) and np.any(np.tril(m.grad.data) != 0)


def _kl_case(kp, kq, shapes):
    (bp, bq) = shapes
    arrays = [_rng(0).standard_normal(bp + (3,)), matrix(kp, bp, 3, 1),
              _rng(2).standard_normal(bq + (3,)), matrix(kq, bq, 3, 3)]

    def make(M, a):
        return M.kl_divergence(_mvn(M, kp, a[0], a[1]), _mvn(M, kq, a[2], a[3]))
    return arrays, (lambda *a: make(D, a)), (lambda *a: make(_torch().distributions, a))


def _torch():
    import torch
    return torch


KL_SHAPES = [((), ()), ((4,), (4,)), ((4,), ()), ((2, 1), (3,))]


@pytest.mark.parametrize("kp,kq", [(a, b) for a in KINDS for b in KINDS])
@pytest.mark.parametrize("shapes", KL_SHAPES)
def test_mvn_kl_matches_torch(torch, kp, kq, shapes):
    arrays, ours, theirs = _kl_case(kp, kq, shapes)
    torch_parity(torch, ours, theirs, arrays, np.float64, RTOL[np.float64], seed=5)


def test_mvn_kl_float32_and_self(torch):
    arrays, ours, theirs = _kl_case("covariance_matrix", "scale_tril", ((4,), (4,)))
    torch_parity(torch, ours, theirs, arrays, np.float32, RTOL[np.float32], seed=6)
    p = D.MultivariateNormal(Tensor(np.ones(3)), Tensor(spd((), 3, 0)))
    assert abs(D.kl_divergence(p, p).item()) < 1e-12


def test_mvn_gradchecks():
    c = spd((2,), 3, 0)
    v = _rng(1).standard_normal((4, 2, 3))
    loc = _rng(2).standard_normal((2, 3))

    def log_prob(loc, c):
        sym = (c + c.mT) * 0.5  # finite differences move one entry: keep the matrix symmetric
        return D.MultivariateNormal(loc, sym).log_prob(Tensor(v))
    gradchecks(log_prob, [loc, c])

    def kl(loc, p):
        q = D.MultivariateNormal(Tensor(np.zeros(3)), Tensor(spd((), 3, 5)))
        return D.kl_divergence(D.MultivariateNormal(loc, precision_matrix=(p + p.mT) * 0.5), q)
    gradchecks(kl, [loc, c])


def _words(msg):
    msg = re.sub(r"torch\.Size\(\[([^\]]*)\]\)",
                 lambda m: str(tuple(int(v) for v in m.group(1).split(",") if v.strip())), msg)
    msg = re.sub(r"(distribution \w+)\(.*\)( to satisfy)", r"\1(...)\2", msg.split("\n")[0])
    return " ".join(msg.split())  # torch's KL message holds a run of spaces from a line break


BAD = {  # torch's ValueErrors (t: tensor, e: eye)
    "loc_0d": lambda M, t, e: M.MultivariateNormal(t(0.), e(2)),
    "none": lambda M, t, e: M.MultivariateNormal(t([0., 0.])),
    "two": lambda M, t, e: M.MultivariateNormal(t([0., 0.]), e(2), scale_tril=e(2)),
    "cov_1d": lambda M, t, e: M.MultivariateNormal(t([0., 0.]), t([1., 1.])),
    "tril_1d": lambda M, t, e: M.MultivariateNormal(t([0., 0.]), scale_tril=t([1., 1.])),
    "prec_1d": lambda M, t, e: M.MultivariateNormal(t([0., 0.]), precision_matrix=t([1., 1.])),
    "not_pd": lambda M, t, e: M.MultivariateNormal(t([0., 0.]), t([[1., 1.], [1., 1.]])),
    "not_symmetric": lambda M, t, e: M.MultivariateNormal(t([0., 0.]), t([[1., 2.], [0., 1.]])),
    "prec_not_pd": lambda M, t, e: M.MultivariateNormal(
        t([0., 0.]), precision_matrix=t([[1., 0.], [0., -1.]])),
    "tril_upper": lambda M, t, e: M.MultivariateNormal(
        t([0., 0.]), scale_tril=t([[1., 2.], [0., 1.]])),
    "tril_negative_diagonal": lambda M, t, e: M.MultivariateNormal(
        t([0., 0.]), scale_tril=t([[1., 0.], [0., -1.]])),
    "nan_loc": lambda M, t, e: M.MultivariateNormal(t([0., float("nan")]), e(2)),
    "value_event": lambda M, t, e: M.MultivariateNormal(t([0., 0.]), e(2)).log_prob(t([0.] * 3)),
    "value_batch": lambda M, t, e: M.MultivariateNormal(t([[0., 0.]] * 2), e(2)).log_prob(
        t([[0., 0.]] * 3)),
    "kl_event": lambda M, t, e: M.kl_divergence(M.MultivariateNormal(t([0., 0.]), e(2)),
                                                M.MultivariateNormal(t([0.] * 3), e(3))),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_mvn_validation_errors_have_torch_words(torch, name):
    with pytest.raises(ValueError) as theirs:
        BAD[name](torch.distributions, torch.tensor, torch.eye)
    with pytest.raises(ValueError) as ours:
        BAD[name](D, tg.tensor, lambda n: Tensor(np.eye(n, dtype=np.float32)))
    assert _words(str(ours.value)) == _words(str(theirs.value))


def test_mvn_errors_torch_defers_or_words_differently(torch):
    e2 = Tensor(np.eye(2))
    with pytest.raises(ValueError, match=r"of shape \(\.\.\., 3, 3\)"):  # torch: later, in use
        D.MultivariateNormal(Tensor(np.zeros(3)), e2)
    with pytest.raises(ValueError, match="cannot be broadcast"):  # torch: RuntimeError
        D.MultivariateNormal(Tensor(np.zeros((3, 2))), Tensor(np.stack([np.eye(2)] * 2)))
    with pytest.raises(TypeError, match="loc must be a Tensor"):
        D.MultivariateNormal([0.0, 0.0], e2)
    with pytest.raises(TypeError, match="covariance_matrix must be a Tensor"):
        D.MultivariateNormal(Tensor(np.zeros(2)), np.eye(2))
    # not validated: a matrix without a Cholesky factor is linalg's error, as torch's
    with pytest.raises(ValueError, match="not positive-definite"):
        D.MultivariateNormal(Tensor(np.zeros(2)), Tensor(np.ones((2, 2))), validate_args=False)


def test_mvn_constraints_and_repr(torch):
    from tinygrad_norm.distributions.constraints import lower_cholesky, positive_definite
    tc = torch.distributions.constraints
    assert repr(positive_definite) == repr(tc.positive_definite)
    assert repr(lower_cholesky) == repr(tc.lower_cholesky)
    assert positive_definite.event_dim == lower_cholesky.event_dim == 2
    mats = np.stack([np.eye(2), [[1., 1.], [1., 1.]], [[2., 0.], [1., 1.]], [[1., 0.], [0., -1.]],
                     [[1., 1e-7], [0., 1.]]])
    for ours, theirs in ((positive_definite, tc.positive_definite),
                         (lower_cholesky, tc.lower_cholesky)):
        np.testing.assert_array_equal(ours.check(Tensor(mats)).data,
                                      theirs.check(torch.tensor(mats)).numpy())
    np.testing.assert_array_equal(positive_definite.check(Tensor(mats[[0, 4]])).data,
                                  tc.positive_definite.check(torch.tensor(mats[[0, 4]])).numpy())
    assert repr(D.MultivariateNormal(Tensor(np.zeros(2)), Tensor(np.eye(2)))) == \
        "MultivariateNormal(loc: (2,), covariance_matrix: (2, 2))"


def test_mvn_shapes_expand_and_properties():
    tril = Tensor(np.eye(3) * np.arange(1.0, 5.0)[:, None, None])  # 4 factors
    d = D.MultivariateNormal(Tensor(np.zeros((2, 1, 3))), scale_tril=tril)
    assert d.batch_shape == (2, 4) and d.event_shape == (3,)
    assert d.loc.shape == (2, 4, 3) and d.scale_tril.shape == (2, 4, 3, 3)
    assert d.covariance_matrix.shape == d.precision_matrix.shape == (2, 4, 3, 3)
    assert d._unbroadcasted_scale_tril.shape == (4, 3, 3)  # not copied across the loc batch
    e = d.expand((5, 2, 4))
    assert e.batch_shape == (5, 2, 4) and e.log_prob(Tensor(np.zeros(3))).shape == (5, 2, 4)
    np.testing.assert_allclose(e.variance.data[0, 0, 1], [4.0] * 3)
    assert D.MultivariateNormal(Tensor(np.zeros(3)), Tensor(np.eye(3))).entropy().shape == ()


def test_mvn_sample_shapes_seed_and_statistics():
    c = spd((2,), 3, 0)
    d = D.MultivariateNormal(Tensor(_rng(1).standard_normal((2, 3))), Tensor(c))
    tg.manual_seed(5)
    s = d.sample((4, 5))
    assert s.shape == (4, 5, 2, 3) and s.dtype == np.float64 and not s.requires_grad
    tg.manual_seed(5)
    np.testing.assert_array_equal(d.rsample((4, 5)).data, s.data)
    tg.manual_seed(0)
    n = 20000
    x = d.sample((n,)).data
    se = np.sqrt(np.diagonal(c, axis1=-2, axis2=-1) / n)
    assert np.all(np.abs(x.mean(0) - d.loc.data) < 5 * se)
    dev = x - x.mean(0)
    cov = np.einsum("sbi,sbj->bij", dev, dev) / (n - 1)
    assert np.abs(cov / c - 1).max() < 0.1 if np.all(np.abs(c) > 0.5) else \
        np.abs(cov - c).max() < 0.1 * np.abs(c).max()
    f32 = D.MultivariateNormal(Tensor(np.zeros(3, np.float32)), Tensor(np.eye(3, dtype=np.float32)))
    assert f32.sample((2,)).dtype == np.float32


def test_mvn_rsample_gradient_is_the_reparameterisation(torch):
    """d rsample / d loc is the identity, d / d scale_tril is the draws' eps: compared with torch
    on the same eps (torch's formula loc + L eps, fed our draws)."""
    from tinygrad_norm.distributions.utils import standard_normal
    loc, m = _rng(0).standard_normal((2, 3)), matrix("covariance_matrix", (2,), 3, 1)
    tl, tm = Tensor(loc, requires_grad=True), Tensor(m, requires_grad=True)
    tg.manual_seed(3)
    r = D.MultivariateNormal(tl, tm).rsample((4,))
    tg.manual_seed(3)
    eps = standard_normal((4, 2, 3), np.float64).data
    ql, qm = torch.tensor(loc, requires_grad=True), torch.tensor(m, requires_grad=True)
    ref = ql + (torch.linalg.cholesky(qm) @ torch.tensor(eps)[..., None])[..., 0]
    np.testing.assert_allclose(r.data, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = _rng(4).standard_normal(r.shape)
    r.backward(Tensor(g))
    gl, gm = torch.autograd.grad(ref, [ql, qm], torch.tensor(g))
    np.testing.assert_allclose(tl.grad.data, gl.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tm.grad.data, gm.numpy(), rtol=1e-10, atol=1e-12)


def test_mvn_empty_batch(torch):
    # validated here (torch's real_vector check cannot reshape an empty batch: not validated)
    d = D.MultivariateNormal(Tensor(np.zeros((0, 3))), Tensor(np.eye(3)))
    t = torch.distributions.MultivariateNormal(torch.zeros(0, 3, dtype=torch.float64),
                                               torch.eye(3, dtype=torch.float64),
                                               validate_args=False)
    assert tuple(t.log_prob(torch.zeros(0, 3, dtype=torch.float64)).shape) == (0,)
    assert d.batch_shape == tuple(t.batch_shape)
    assert d.log_prob(Tensor(np.zeros((0, 3)))).shape == (0,)
    assert d.sample((2,)).shape == (2, 0, 3) and d.entropy().shape == (0,)


# ---- TransformedDistribution and transforms ------------------------------------------------------

def _squash(M, loc, scale, which):
    """Transformed Normals, the same chain in either library (M: the distributions module)."""
    T = M.transforms
    base = M.Normal(loc, scale)
    chains = {
        "sac": lambda: M.Independent(M.TransformedDistribution(base, [T.TanhTransform()]), 1),
        "exp": lambda: M.TransformedDistribution(base, T.ExpTransform()),
        "sigmoid": lambda: M.TransformedDistribution(base, [T.SigmoidTransform()]),
        "affine_event": lambda: M.TransformedDistribution(
            base, [T.AffineTransform(loc * 2, scale, event_dim=1), T.ExpTransform()]),
        "compose_negative": lambda: M.TransformedDistribution(
            base, T.ComposeTransform([T.AffineTransform(1.0, -2.0), T.TanhTransform()])),
        "inverse": lambda: M.TransformedDistribution(
            base, [T.ExpTransform().inv, T.AffineTransform(0.5, 3.0)]),
        "empty": lambda: M.TransformedDistribution(base, []),
    }
    return chains[which]()


def _values(which, shape, seed):
    z = _rng(seed).standard_normal(shape)
    return {"sac": np.tanh(3 * z), "exp": np.exp(z), "sigmoid": 1 / (1 + np.exp(-z)),
            "affine_event": np.exp(z), "compose_negative": np.tanh(z), "inverse": z,
            "empty": z}[which]


CHAINS = ("sac", "exp", "sigmoid", "affine_event", "compose_negative", "inverse", "empty")
T_SHAPES = {"same": ((4, 3), (4, 3)), "samples": ((4, 3), (5, 4, 3)),
            "broadcast": ((1, 3), (2, 4, 3))}


def _t_case(which, shape):
    pshape, vshape = T_SHAPES[shape]
    arrays = [_rng(0).standard_normal(pshape), _rng(1).uniform(0.5, 2.0, pshape),
              _values(which, vshape, 2)]

    def ours(loc, scale, v):
        return _squash(D, loc, scale, which).log_prob(v)

    def theirs(loc, scale, v):
        return _squash(_torch().distributions, loc, scale, which).log_prob(v)
    return arrays, ours, theirs


@pytest.mark.parametrize("which,shape", [(w, s) for w in CHAINS for s in sorted(T_SHAPES)
                                         if w != "affine_event" or s != "broadcast"])
def test_transformed_log_prob_matches_torch(torch, which, shape):
    arrays, ours, theirs = _t_case(which, shape)
    torch_parity(torch, ours, theirs, arrays, np.float64, RTOL[np.float64], seed=7)


@pytest.mark.parametrize("which", CHAINS)
def test_transformed_log_prob_float32_matches_torch(torch, which):
    arrays, ours, theirs = _t_case(which, "samples")
    torch_parity(torch, ours, theirs, arrays, np.float32, RTOL[np.float32], seed=8)


def test_sac_tanh_normal_matches_torch(torch):
    """The SAC policy: a = tanh(u), u = loc + scale eps, scored with the cached u (cache_size=1,
    as SAC implementations build it), loss = alpha log pi(a) - q(a); values and gradients of
    loc and scale with torch fed the same eps, saturated actions (|u| up to 30) included."""
    from tinygrad_norm.distributions.utils import standard_normal
    loc = _rng(0).standard_normal((6, 2))
    loc[0] = [25.0, -30.0]  # tanh rounds to +-1 in float64: atanh of the action is infinite
    scale = _rng(1).uniform(0.5, 2.0, (6, 2))
    tl, ts = Tensor(loc, requires_grad=True), Tensor(scale, requires_grad=True)
    tg.manual_seed(11)
    pi = D.Independent(D.TransformedDistribution(
        D.Normal(tl, ts), [D.transforms.TanhTransform(cache_size=1)]), 1)
    a = pi.rsample()
    loss = (0.2 * pi.log_prob(a) - (a * a).sum(-1))
    tg.manual_seed(11)
    eps = torch.tensor(standard_normal((6, 2), np.float64).data)
    ql, qs = torch.tensor(loc, requires_grad=True), torch.tensor(scale, requires_grad=True)
    tq = torch.distributions.transforms.TanhTransform(cache_size=1)
    qpi = torch.distributions.Independent(torch.distributions.TransformedDistribution(
        torch.distributions.Normal(ql, qs), [tq]), 1)
    qa = tq(ql + eps * qs)
    ref = 0.2 * qpi.log_prob(qa) - (qa * qa).sum(-1)
    assert np.all(np.isfinite(loss.data)) and np.any(np.abs(a.data) == 1.0)
    np.testing.assert_allclose(loss.data, ref.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = _rng(2).standard_normal(6)
    loss.backward(Tensor(g))
    gl, gs = torch.autograd.grad(ref, [ql, qs], torch.tensor(g))
    np.testing.assert_allclose(tl.grad.data, gl.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ts.grad.data, gs.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["exp", "sigmoid", "tanh", "affine", "affine_tensor",
                                  "compose", "inverse"])
def test_transforms_match_torch(torch, name):
    """Forward, inverse and log |det J| (values and gradients) of each transform, tanh and
    sigmoid out to |x| = 30 where the naive log(1 - y^2) and log(y (1 - y)) are -inf."""
    def make(T, s):
        return {"exp": lambda: T.ExpTransform(), "sigmoid": lambda: T.SigmoidTransform(),
                "tanh": lambda: T.TanhTransform(), "affine": lambda: T.AffineTransform(1.5, -0.5),
                "affine_tensor": lambda: T.AffineTransform(s, s * s + 0.5, event_dim=1),
                "compose": lambda: T.ComposeTransform([T.AffineTransform(0.5, 2.0),
                                                       T.SigmoidTransform()]),
                "inverse": lambda: T.ExpTransform().inv}[name]()
    x = np.concatenate([_rng(3).standard_normal(6), [-30.0, 30.0]]).reshape(2, 4)
    if name == "inverse":
        x = np.exp(x[:, :3] / 10)
    s = _rng(4).standard_normal(x.shape[-1])

    def chain(M, x, s):
        t = make(M.transforms, s)
        y = t(x)
        ladj = t.log_abs_det_jacobian(x, y)
        back = t.inv(y) if name not in ("tanh", "sigmoid", "compose") else x  # not at +-1
        return ladj.sum() + (y * y).sum() + back.sum() if ladj.ndim else ladj + y.sum()
    torch_parity(torch, lambda a, b: chain(D, a, b), lambda a, b: chain(torch.distributions, a, b),
                 [x, s], np.float64, RTOL[np.float64], diff=[True, name == "affine_tensor"],
                 unused_ok=True)


def test_transform_objects_match_torch(torch):
    T, TT = D.transforms, torch.distributions.transforms
    pairs = [(T.ExpTransform(), TT.ExpTransform()), (T.TanhTransform(), TT.TanhTransform()),
             (T.SigmoidTransform(), TT.SigmoidTransform()),
             (T.AffineTransform(0.0, 2.0), TT.AffineTransform(0.0, 2.0)),
             (T.AffineTransform(0.0, 2.0, event_dim=2), TT.AffineTransform(0.0, 2.0, event_dim=2)),
             (T.ExpTransform().inv, TT.ExpTransform().inv),
             (T.ComposeTransform([T.ExpTransform(), T.AffineTransform(0.0, -1.0, event_dim=1)]),
              TT.ComposeTransform([TT.ExpTransform(), TT.AffineTransform(0.0, -1.0, event_dim=1)]))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        assert repr(ours.domain) == repr(theirs.domain)
        assert repr(ours.codomain) == repr(theirs.codomain)
        assert ours.bijective == theirs.bijective and ours.sign == theirs.sign
        assert ours.inv.inv is ours and ours.inv is ours.inv
    assert T.ExpTransform() == T.ExpTransform() and T.ExpTransform() != T.TanhTransform()
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0)
    assert T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    assert T.AffineTransform(0.0, 2.0, event_dim=1).event_dim == 1
    sign = T.AffineTransform(0.0, Tensor(np.array([-2.0, 0.0, 3.0]))).sign
    np.testing.assert_array_equal(sign.data, [-1.0, 0.0, 1.0])
    aff = T.AffineTransform(Tensor(np.zeros(3)), 1.0)
    assert aff.forward_shape((2, 1)) == (2, 3) == aff.inverse_shape((2, 1))
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)
    with pytest.raises(NotImplementedError):
        T.Transform().sign  # noqa: B018


def test_transform_cache(torch):
    t = D.transforms.TanhTransform(cache_size=1)
    x = Tensor(np.array([40.0]))
    y = t(x)
    assert y.item() == 1.0 and t(x) is y and t.inv(y) is x  # the inverse never sees atanh(1)
    plain = D.transforms.TanhTransform()
    with np.errstate(divide="ignore"):
        assert np.isinf(plain.inv(plain(x)).item())  # as torch's: no clamping
    assert plain.with_cache(1)._cache_size == 1 and plain.with_cache(0) is plain
    c = D.transforms.ComposeTransform([D.transforms.ExpTransform()], cache_size=1)
    assert c.parts[0]._cache_size == 1


def test_transformed_distribution_shapes_support_and_expand(torch):
    T = D.transforms
    base = D.Normal(Tensor(np.zeros(3)), Tensor(np.ones(3)))
    d = D.TransformedDistribution(base, T.AffineTransform(Tensor(np.zeros((2, 3))), 2.0,
                                                          event_dim=1))
    t = torch.distributions.TransformedDistribution(
        torch.distributions.Normal(torch.zeros(3), torch.ones(3)),
        torch.distributions.transforms.AffineTransform(torch.zeros(2, 3), 2.0, event_dim=1))
    assert d.batch_shape == tuple(t.batch_shape) and d.event_shape == tuple(t.event_shape)
    assert isinstance(d.base_dist, D.Independent) and d.base_dist.batch_shape == (2,)
    assert repr(d.support) == repr(t.support) and repr(d) == repr(t)
    e = _squash(D, Tensor(np.zeros(3)), Tensor(np.ones(3)), "sigmoid").expand((4, 3))
    assert e.batch_shape == (4, 3) and e.log_prob(Tensor(np.full(3, 0.5))).shape == (4, 3)
    assert e.has_rsample and not D.TransformedDistribution(
        D.Poisson(Tensor(np.ones(2))), []).has_rsample


def test_transformed_distribution_errors_have_torch_words(torch):
    T, TT = D.transforms, torch.distributions.transforms
    cases = [
        (lambda: D.TransformedDistribution(D.Normal(0.0, 1.0), (T.ExpTransform(),)),
         lambda: torch.distributions.TransformedDistribution(
             torch.distributions.Normal(0.0, 1.0), (TT.ExpTransform(),))),
        (lambda: D.TransformedDistribution(D.Normal(0.0, 1.0), [1]),
         lambda: torch.distributions.TransformedDistribution(
             torch.distributions.Normal(0.0, 1.0), [1])),
        (lambda: D.TransformedDistribution(D.Normal(0.0, 1.0), T.AffineTransform(
            Tensor(np.zeros(2)), 1.0, event_dim=1)),
         lambda: torch.distributions.TransformedDistribution(
             torch.distributions.Normal(0.0, 1.0), TT.AffineTransform(torch.zeros(2), 1.0,
                                                                      event_dim=1))),
        (lambda: _squash(D, tg.tensor([0.0]), tg.tensor([1.0]), "exp").log_prob(tg.tensor([-1.0])),
         lambda: _squash(torch.distributions, torch.tensor([0.0]), torch.tensor([1.0]),
                         "exp").log_prob(torch.tensor([-1.0]))),
    ]
    for ours, theirs in cases:
        with pytest.raises(ValueError) as a:
            theirs()
        with pytest.raises(ValueError) as b:
            ours()
        assert _words(str(b.value)) == _words(str(a.value))
    with pytest.raises(TypeError, match="base_distribution must be a Distribution"):
        D.TransformedDistribution(1.0, [])


@pytest.mark.parametrize("which", ["exp", "compose_negative", "sigmoid"])
def test_transformed_cdf_icdf_match_torch(torch, which):
    """cdf through the inverses, turned round (1 - cdf) by a decreasing chain, as torch's."""
    loc, scale = _rng(0).standard_normal(3), _rng(1).uniform(0.5, 2.0, 3)
    v, p = _values(which, (3,), 2), _rng(3).uniform(0.1, 0.9, 3)
    for method, arg in (("cdf", v), ("icdf", p)):
        def ours(a, b, x, method=method):
            return getattr(_squash(D, a, b, which), method)(x)

        def theirs(a, b, x, method=method):
            return getattr(_squash(torch.distributions, a, b, which), method)(x)
        torch_parity(torch, ours, theirs, [loc, scale, arg], np.float64, 1e-9, seed=9)


def test_transformed_sample_and_rsample():
    d = _squash(D, Tensor(np.zeros((2, 3))), Tensor(np.ones((2, 3))), "sac")
    tg.manual_seed(1)
    s = d.sample((5,))
    assert s.shape == (5, 2, 3) and not s.requires_grad and np.all(np.abs(s.data) <= 1)
    tg.manual_seed(1)
    np.testing.assert_array_equal(d.rsample((5,)).data, s.data)
    loc = Tensor(np.zeros(3), requires_grad=True)
    r = _squash(D, loc, Tensor(np.ones(3)), "exp").rsample((4,))
    r.sum().backward()
    np.testing.assert_allclose(loc.grad.data, r.data.sum(0))  # d exp(loc + eps) / d loc


def test_transformed_log_prob_gradchecks():
    v = _values("sac", (5, 3), 2)

    def sac(loc, scale):
        return _squash(D, loc, scale, "sac").log_prob(Tensor(v))
    gradchecks(sac, [_rng(0).standard_normal(3), _rng(1).uniform(0.5, 2.0, 3)])
