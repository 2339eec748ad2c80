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


# ---- the gamma families: Gamma, Chi2, Beta, Dirichlet, StudentT ----------------------------------

# torch's float64 trigamma (the derivative of digamma) is accurate to ~5e-10 only (this package's
# to 2e-16, checked against mpmath): gradients through digamma are compared to 1e-9
GRTOL = 1e-9


def _pos(shape, seed):
    return _rng(seed).uniform(0.5, 3.0, shape)


def _df(shape, seed):  # degrees of freedom on both sides of 1 and 2 (StudentT's moments)
    return _rng(seed).uniform(0.5, 4.0, shape)


def _unit(shape, seed):
    return _rng(seed).uniform(0.05, 0.95, shape)


def _simplex(shape, seed):
    return _rng(seed).dirichlet(np.arange(1.0, shape[-1] + 1), size=shape[:-1])


GAMMAS = {  # name: (constructor(M, *params), parameter makers, value maker)
    "Gamma": (lambda M, a, b: M.Gamma(a, b), [_pos, _pos], _pos),
    "Chi2": (lambda M, a: M.Chi2(a), [_pos], _pos),
    "Beta": (lambda M, a, b: M.Beta(a, b), [_pos, _pos], _unit),
    "Dirichlet": (lambda M, a: M.Dirichlet(a), [_pos], _simplex),
    "StudentT": (lambda M, a, b, c: M.StudentT(a, b, c), [_df, lambda s, k: real_(s, k), _pos],
                 lambda s, k: real_(s, k)),
}


def real_(shape, seed):
    return _rng(seed).standard_normal(shape)


G_SHAPES = {"same": ([(4, 3)] * 3, (4, 3)), "broadcast": ([(4, 1), (3,), (1, 3)], (5, 4, 3))}
G_METHODS = ("log_prob", "entropy", "mean", "mode", "variance")


def _g_case(name, method, shape):
    ctor, makers, vmaker = GAMMAS[name]
    pshapes, vshape = G_SHAPES[shape]
    if name == "Dirichlet":
        pshapes, vshape = [(4, 3)] if shape == "same" else [(1, 3)], (5, 4, 3)
    arrays = [m(s, i) for i, (m, s) in enumerate(zip(makers, pshapes))] + [vmaker(vshape, 7)]
    diff = [True] * len(makers) + [method == "log_prob" and name != "Dirichlet"]

    def call(M, xs):
        d = ctor(M, *xs[:-1])
        attr = getattr(d, method)
        return attr(xs[-1]) if method == "log_prob" else attr() if callable(attr) else attr
    return arrays, diff, (lambda *xs: call(D, xs)), (lambda *xs: call(_torch().distributions, xs))


@pytest.mark.parametrize("name,method,shape", [(n, m, s) for n in GAMMAS for m in G_METHODS
                                               for s in G_SHAPES])
def test_gamma_families_match_torch(torch, name, method, shape):
    arrays, diff, ours, theirs = _g_case(name, method, shape)
    torch_parity(torch, ours, theirs, arrays, np.float64, GRTOL, diff=diff, seed=3,
                 unused_ok=True)


@pytest.mark.parametrize("name", sorted(GAMMAS))
@pytest.mark.parametrize("method", ["log_prob", "entropy"])
def test_gamma_families_float32_match_torch(torch, name, method):
    arrays, diff, ours, theirs = _g_case(name, method, "same")
    torch_parity(torch, ours, theirs, arrays, np.float32, RTOL[np.float32], diff=diff, seed=4,
                 unused_ok=True)


def test_gamma_families_modes_and_moments_at_the_edges(torch):
    """Dirichlet's corner mode (every concentration below 1: torch's first category), Beta's,
    Gamma's mode at concentration < 1 (0), StudentT's NaN/inf moments (df <= 1, 1 < df <= 2)."""
    c = np.array([[0.5, 0.3, 0.9], [0.2, 1.8, 2.4]])
    np.testing.assert_array_equal(D.Dirichlet(Tensor(c)).mode.data,
                                  torch.distributions.Dirichlet(torch.tensor(c)).mode.numpy())
    b = D.Beta(Tensor(np.array([0.5, 3.0])), Tensor(np.array([0.2, 2.0]))).mode
    np.testing.assert_allclose(b.data, [1.0, 2.0 / 3.0])
    assert D.Gamma(Tensor(np.array([0.5])), 1.0).mode.item() == 0.0
    df = Tensor(np.array([0.5, 1.0, 1.5, 2.0, 3.0]))
    t = torch.distributions.StudentT(torch.tensor(df.data), 1.0, 2.0)
    ours = D.StudentT(df, 1.0, 2.0)
    np.testing.assert_array_equal(ours.mean.data, t.mean.numpy())
    np.testing.assert_array_equal(ours.variance.data, t.variance.numpy())


G_KL = {  # (p, q): makers of (p's parameters, q's parameters), on the same batch (4,)
    ("Gamma", "Gamma"): ("gamma", "gamma"), ("Chi2", "Chi2"): ("chi2", "chi2"),
    ("Chi2", "Gamma"): ("chi2", "gamma"), ("Beta", "Beta"): ("beta", "beta"),
    ("Dirichlet", "Dirichlet"): ("dirichlet", "dirichlet"),
    ("Beta", "Exponential"): ("beta", "exponential"), ("Beta", "Gamma"): ("beta", "gamma"),
    ("Beta", "Normal"): ("beta", "normal"), ("Beta", "Uniform"): ("beta", "uniform"),
    ("Exponential", "Gamma"): ("exponential", "gamma"),
    ("Gamma", "Exponential"): ("gamma", "exponential"), ("Gamma", "Normal"): ("gamma", "normal"),
    ("Uniform", "Beta"): ("unit_uniform", "beta"), ("Uniform", "Gamma"): ("unit_uniform", "gamma"),
}
G_PARAMS = {
    "gamma": (lambda M, a, b: M.Gamma(a, b), [_pos, _pos]),
    "chi2": (lambda M, a: M.Chi2(a), [_pos]),
    "beta": (lambda M, a, b: M.Beta(a, b), [_pos, _pos]),
    "dirichlet": (lambda M, a: M.Dirichlet(a), [lambda s, k: _pos(s + (3,), k)]),
    "exponential": (lambda M, a: M.Exponential(a), [_pos]),
    "normal": (lambda M, a, b: M.Normal(a, b), [real_, _pos]),
    # bounds that cover (0, 1) where q is Uniform, or lie inside it where p is
    "uniform": (lambda M, a, b: M.Uniform(a, b), [lambda s, k: _rng(k).uniform(-1.0, -0.1, s),
                                                  lambda s, k: _rng(k).uniform(1.0, 2.0, s)]),
    "unit_uniform": (lambda M, a, b: M.Uniform(a, b),
                     [lambda s, k: _rng(k).uniform(0.1, 0.4, s),
                      lambda s, k: _rng(k).uniform(0.6, 0.9, s)]),
}


@pytest.mark.parametrize("pair", sorted(G_KL))
def test_gamma_families_kl_matches_torch(torch, pair):
    (pc, pm), (qc, qm) = (G_PARAMS[k] for k in G_KL[pair])
    arrays = [m((4,), i) for i, m in enumerate(pm + qm)]
    k = len(pm)

    def make(M, xs):
        return M.kl_divergence(pc(M, *xs[:k]), qc(M, *xs[k:]))
    torch_parity(torch, lambda *xs: make(D, xs), lambda *xs: make(torch.distributions, xs),
                 arrays, np.float64, GRTOL, seed=5)


@pytest.mark.parametrize("p,q", [("Exponential", "Beta"), ("Gamma", "Beta"), ("Gamma", "Uniform"),
                                 ("Laplace", "Beta"), ("Laplace", "Gamma"), ("Normal", "Beta"),
                                 ("Normal", "Gamma"), ("Uniform", "Gamma"), ("Beta", "Uniform"),
                                 ("Uniform", "Beta")])
def test_gamma_families_infinite_kl_match_torch(torch, p, q):
    makers = {"Exponential": lambda M, t: M.Exponential(t([1.0, 2.0])),
              "Gamma": lambda M, t: M.Gamma(t([1.0, 2.0]), t([1.0, 1.0])),
              "Beta": lambda M, t: M.Beta(t([1.0, 2.0]), t([3.0, 1.0])),
              "Laplace": lambda M, t: M.Laplace(t([0.0, 1.0]), t([1.0, 1.0])),
              "Normal": lambda M, t: M.Normal(t([0.0, 1.0]), t([1.0, 1.0])),
              # a support partly outside q's: one place inf, one finite
              "Uniform": lambda M, t: M.Uniform(t([-0.5, 0.2]), t([0.5, 0.7]))}
    ours = D.kl_divergence(makers[p](D, tg.tensor), makers[q](D, tg.tensor))
    theirs = torch.distributions.kl_divergence(makers[p](torch.distributions, torch.tensor),
                                               makers[q](torch.distributions, torch.tensor))
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)


def test_gamma_rsample_gradient_is_the_implicit_one(torch):
    """d x / d concentration of a Gamma draw is -(dF/da) / p(x), F the gamma cdf: against
    SciPy's incomplete gamma differentiated by central differences (1e-6), and against torch's
    own approximation of it (torch._standard_gamma_grad, accurate to about 1e-4)."""
    import scipy.special as ss
    import scipy.stats as st
    for lo, hi in ((0.05, 0.5), (0.5, 5.0), (5.0, 100.0), (100.0, 2000.0)):
        a = _rng(0).uniform(lo, hi, 200)
        conc = Tensor(a, requires_grad=True)
        rate = Tensor(np.full(200, 2.0), requires_grad=True)
        tg.manual_seed(1)
        x = D.Gamma(conc, rate).rsample()
        x.backward(Tensor(np.ones(200)))
        s = x.data * 2.0  # the standard draw
        h = 1e-6 * a
        dfda = (ss.gammainc(a + h, s) - ss.gammainc(a - h, s)) / (2 * h)
        exact = -dfda / st.gamma.pdf(s, a) / 2.0
        np.testing.assert_allclose(conc.grad.data, exact, rtol=1e-6)
        approx = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(s)).numpy() / 2.0
        np.testing.assert_allclose(conc.grad.data, approx, rtol=1e-3)
        np.testing.assert_allclose(rate.grad.data, -x.data / 2.0, rtol=1e-12)


@pytest.mark.parametrize("name", ["Gamma", "Beta", "Dirichlet", "StudentT", "Chi2"])
def test_gamma_families_rsample_gradients_are_unbiased(name):
    """The derivative of the mean of many draws matches the derivative of the true mean (within
    5 standard errors, estimated from 10 independent batches): what a pathwise gradient must
    do, whatever path it takes."""
    makers = {"Gamma": lambda c: D.Gamma(c, 2.0), "Chi2": lambda c: D.Chi2(c * 2),
              "Beta": lambda c: D.Beta(c, 1.5), "Dirichlet": lambda c: D.Dirichlet(c),
              "StudentT": lambda c: D.StudentT(c * 2 + 8, 0.0, 1.0)}  # x^2 of finite variance
    c = Tensor(np.array([0.7, 2.5]), requires_grad=True)
    d = makers[name](c)
    tg.manual_seed(2)
    grads = []
    for _ in range(10):
        x = d.rsample((2000,))
        f = (x * x) if name == "StudentT" else x  # E[x^2] for the symmetric StudentT
        grads.append(tg.grad(f.mean(0).sum(), [c], retain_graph=True)[0].data)
    grads = np.stack(grads)
    exact = (d.variance + d.mean ** 2) if name == "StudentT" else d.mean
    want = tg.grad(exact.sum(), [c])[0].data
    se = grads.std(0, ddof=1) / np.sqrt(len(grads))
    assert np.all(np.abs(grads.mean(0) - want) < 5 * se + 1e-9), (grads.mean(0), want, se)


def test_gamma_families_sample_shapes_seed_and_statistics():
    cases = {"Gamma": D.Gamma(Tensor(np.array([0.3, 4.0])), Tensor(np.array([1.0, 2.0]))),
             "Chi2": D.Chi2(Tensor(np.array([1.0, 5.0]))),
             "Beta": D.Beta(Tensor(np.array([0.5, 2.0])), Tensor(np.array([0.5, 3.0]))),
             "Dirichlet": D.Dirichlet(Tensor(np.array([[0.5, 1.0, 2.0], [3.0, 3.0, 3.0]]))),
             "StudentT": D.StudentT(Tensor(np.array([5.0, 9.0])), 1.0, 2.0)}
    for name, d in cases.items():
        tg.manual_seed(4)
        s = d.sample((3, 5))
        assert s.shape == (3, 5, 2) + d.event_shape and s.dtype == np.float64, name
        assert not s.requires_grad and np.all(d.support.check(s).data), name
        tg.manual_seed(4)
        np.testing.assert_array_equal(d.rsample((3, 5)).data, s.data)
        tg.manual_seed(0)
        x = d.sample((20000,)).data
        se = np.sqrt(d.variance.data / 20000)
        assert np.all(np.abs(x.mean(0) - d.mean.data) < 5 * se), name
        assert np.all(np.abs(x.var(0) / d.variance.data - 1) < 0.1), name
    f32 = D.Gamma(Tensor(np.array([0.01], np.float32)), 1.0).sample((1000,))
    assert f32.dtype == np.float32 and f32.data.min() > 0  # clamped to the smallest normal


def test_gamma_families_validation_errors_have_torch_words(torch):
    calls = [lambda M, t: M.Dirichlet(t(1.0)), lambda M, t: M.Dirichlet(t([1.0, -1.0])),
             lambda M, t: M.Gamma(t([1.0]), t([-1.0])), lambda M, t: M.Beta(t([0.0]), t([1.0])),
             lambda M, t: M.Chi2(t([-1.0])), lambda M, t: M.StudentT(t([-1.0])),
             lambda M, t: M.StudentT(t([1.0]), 0.0, t([0.0])),
             lambda M, t: M.Gamma(1.0, 1.0).log_prob(t(-1.0)),
             lambda M, t: M.Beta(1.0, 1.0).log_prob(t(1.5)),
             lambda M, t: M.Dirichlet(t([1.0, 1.0])).log_prob(t([0.5, 0.6]))]
    for call in calls:
        with pytest.raises(ValueError) as theirs:
            call(torch.distributions, torch.tensor)
        with pytest.raises(ValueError) as ours:
            call(D, tg.tensor)
        assert _words(str(ours.value)) == _words(str(theirs.value))
    with pytest.raises(TypeError, match="concentration must be a Tensor"):
        D.Dirichlet([1.0, 2.0])


def test_gamma_families_shapes_and_expand(torch):
    assert D.Beta(1.0, 2.0).batch_shape == () and D.Beta(1.0, 2.0).mean.dtype == np.float32
    assert D.Chi2(3.0).df.item() == 3.0 and D.StudentT(3.0).batch_shape == ()
    assert repr(D.Chi2(Tensor(np.ones(2)))) == repr(torch.distributions.Chi2(torch.ones(2)))
    for d in (D.Gamma(Tensor(np.ones(3)), 2.0), D.Chi2(Tensor(np.ones(3))),
              D.Beta(Tensor(np.ones(3)), 2.0), D.StudentT(Tensor(np.ones(3))),
              D.Dirichlet(Tensor(np.ones((3, 2))))):
        e = d.expand((4, 3))
        assert type(e) is type(d) and e.batch_shape == (4, 3)
        assert e.log_prob(e.sample()).shape == (4, 3) and e.entropy().shape == (4, 3)


def test_gamma_families_gradchecks():
    v = _unit((4, 3), 7)

    def beta(a, b):
        d = D.Beta(a, b)
        return d.log_prob(Tensor(v)) + d.entropy()
    gradchecks(beta, [_pos((3,), 0), _pos((3,), 1)])

    def student(df, scale):
        d = D.StudentT(df, 0.5, scale)
        return d.log_prob(Tensor(real_((4, 3), 2))) + d.entropy()
    gradchecks(student, [_df((3,), 0), _pos((3,), 1)])

    def dirichlet_kl(a, b):
        return D.kl_divergence(D.Dirichlet(a), D.Dirichlet(b))
    gradchecks(dirichlet_kl, [_pos((2, 3), 0), _pos((2, 3), 1)])
