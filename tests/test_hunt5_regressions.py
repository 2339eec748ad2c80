"""Known gradient and value gaps against torch 2.13 at the edges (no degrees of freedom, -0.0,
+-inf, NaN, clamp bounds), and NumPy RuntimeWarnings leaking to users: each test compares with
torch on the call that differed."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional  # noqa: F401  (tg.functional)


def _grads(lib, fn, arrays, g, **kw):
    """Output and input gradients of ``fn`` (float64) under the upstream gradient ``g``, in
    either library (``lib`` is ``tg`` or ``torch``): one helper so both run the same call."""
    if lib is tg:
        ts = [tg.tensor(a, requires_grad=True) for a in arrays]
        out = fn(*ts, **kw)
        out = out[0] if isinstance(out, tuple) else out
        return np.asarray(out.data), [np.asarray(t.data) for t in
                                      tg.grad(out, ts, [tg.tensor(np.asarray(g, out.dtype))])]
    ts = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts, **kw)
    out = out[0] if isinstance(out, tuple) else out
    gs = lib.autograd.grad(out, ts, lib.tensor(np.asarray(g)).to(out.dtype))
    return out.detach().numpy(), [t.numpy() for t in gs]


def _same(ours, theirs, rtol=1e-12):
    """Equal values, NaN where torch has NaN, and infinities of the same sign."""
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0, equal_nan=True)


def _compare(torch, name, arrays, g, torch_fn=None, rtol=1e-12, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns of no degrees of freedom
        out_t, g_t = _grads(torch, torch_fn or _attr(torch, name), arrays, g, **kw)
    out_o, g_o = _grads(tg, _attr(tg, name), arrays, g, **kw)
    _same(out_o, out_t, rtol)
    for a, b in zip(g_o, g_t):
        _same(a, b, rtol)


def _attr(mod, name):
    if mod is tg and name.startswith("nn.functional."):  # torch's path, ours is tg.functional
        name = "functional." + name.split(".")[-1]
    for part in name.split("."):
        mod = getattr(mod, part)
    return mod


# ------------------------------------------------------------------ var/std, no degrees of freedom
_ROWS = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0], [1.0, np.inf, 2.0], [-1.0, 0.5, 7.0]])


@pytest.mark.parametrize("name", ["var", "std", "var_mean", "std_mean"])
@pytest.mark.parametrize("correction", [3, 4, 5, 3.5])
def test_moment_gradient_along_a_dim_with_correction_at_or_past_the_count(torch, name, correction):
    # torch: 2 / (n - correction) * g * (x - mean), a finite negative slope past the count (the
    # old VJP gave inf there), inf at it; std's gradient is 0 past the count (g / 2std = 0)
    g = np.array([0.7, -0.4, 0.3, -1.1])
    _compare(torch, name, [_ROWS], g, dim=1, correction=correction)
    _compare(torch, name, [_ROWS.T.copy()], g, dim=0, keepdim=False, correction=correction)


@pytest.mark.parametrize("name", ["var", "std", "var_mean", "std_mean"])
@pytest.mark.parametrize("x", [np.array([1.0, 2.0, 4.0]), np.array([3.0, 3.0]),
                               np.array([[1.0, -2.0], [0.5, 0.5]]), np.array(2.5)])
@pytest.mark.parametrize("correction", [1, 2, 4, 6])
def test_moment_gradient_without_a_dim_and_no_degrees_of_freedom(torch, name, x, correction):
    # torch without a dim (or of a 0-d tensor): g * inf, NaN where a value equals the mean --
    # the sign of the deviation plays no part (the old VJP gave -inf below the mean)
    _compare(torch, name, [x], np.array(-0.6), correction=correction)


def test_var_without_a_dim_and_no_degrees_of_freedom_method_and_float32(torch):
    x = np.array([1.0, 2.0, 4.0])
    t = tg.tensor(x.astype(np.float32), requires_grad=True)
    (g,) = tg.grad(t.var(correction=3), [t], [tg.tensor(np.float32(0.5))])
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g.data, [np.inf] * 3)
    # 0-d along dim 0 is the no-dim rule too, as torch's
    _compare(torch, "var", [np.array(2.0)], np.array(0.5), dim=0, correction=2)


def test_var_no_degrees_of_freedom_gradient_of_gradient_records(torch):
    # the VJP is written with xp: recorded under create_graph, the same first gradient
    x = tg.tensor(np.array([[1.0, 2.0, 4.0], [0.0, 1.0, 1.0]]), requires_grad=True)
    (g,) = tg.grad(x.var(dim=1, correction=4).sum(), [x], create_graph=True)
    xt = torch.tensor(x.data, requires_grad=True)
    (gt,) = torch.autograd.grad(xt.var(dim=1, correction=4).sum(), [xt], create_graph=True)
    _same(g.data, gt.detach().numpy())
    (h,) = tg.grad((g * g).sum(), [x])
    (ht,) = torch.autograd.grad((gt * gt).sum(), [xt])
    _same(h.data, ht.numpy())


# ------------------------------------------------------------------ logit
_P = np.array([-0.0, 0.0, 1.0, 0.3, 0.9, 1e-6, 1 - 1e-6, -0.2, 1.2, np.nan, np.inf, -np.inf])


@pytest.mark.parametrize("eps", [None, 0.0, 1e-6, 0.25, 0.7, 1.0, -0.2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logit_at_zero_one_nan_and_the_clamp_bounds(torch, eps, dtype):
    # torch's scalar loop, element by element (its vectorised loop over 16+ float64 values
    # differs at -0.0 and NaN: see docs/api.md): -0.0 and 0 give g * inf (1/p gave -inf at
    # -0.0), NaN inside a clamp gives NaN (the clamp gave 0); eps > 0.5 clamps below-lo to lo
    e = 0.25 if eps is None else abs(eps)
    for v in np.concatenate([_P, [e, 1 - e]]).astype(dtype):
        for g in (1.5, -2.0):
            x, gg = np.array([v], dtype), np.array([g], dtype)
            o_t, (g_t,) = _grads(torch, lambda t: torch.logit(t, eps), [x], gg)
            o_o, (g_o,) = _grads(tg, lambda t: tg.logit(t, eps), [x], gg)
            _same(o_o, o_t, 1e-6 if dtype == np.float32 else 1e-14)
            _same(g_o, g_t, 1e-6 if dtype == np.float32 else 1e-14)
            assert o_o.dtype == g_o.dtype == dtype


def test_logit_gradients_checked():
    x = np.array([0.1, 0.35, 0.8, 0.55])
    assert tg.gradcheck(tg.logit, [x])
    assert tg.gradgradcheck(tg.logit, [x])
    assert tg.gradcheck(lambda t: tg.logit(t, 0.15), [x])  # (0.8 is not on a bound)
    assert tg.gradgradcheck(lambda t: tg.special.logit(t, eps=0.15), [x])


def test_logit_random_upstream_against_torch(torch):
    rng = np.random.default_rng(5)
    x = rng.uniform(0.01, 0.99, (3, 4))
    g = rng.standard_normal((3, 4))
    for eps in (None, 0.1):
        _compare(torch, "logit", [x], g, rtol=1e-12, eps=eps)
        o_t, (g_t,) = _grads(torch, lambda t: torch.logit(t, eps), [x.astype(np.float32)], g)
        o_o, (g_o,) = _grads(tg, lambda t: tg.logit(t, eps), [x.astype(np.float32)], g)
        _same(o_o, o_t, 2e-6)
        _same(g_o, g_t, 2e-6)


# ------------------------------------------------------------------ lerp
_ENDS = np.array([0.0, 1.0, np.inf, -np.inf, np.nan, -2.0])


@pytest.mark.parametrize("w", [0.3, 0.7, 0.0, 1.0, -1.0, 2.0, np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("tensor_weight", [False, True])
def test_lerp_gradients_at_infinities(torch, w, tensor_weight):
    # torch: g (1 - w), g w, g (end - start); the select between two composites sent
    # 0 * inf = NaN to the weight where end - start was infinite, everywhere where w was
    a, b = (m.ravel().copy() for m in np.meshgrid(_ENDS, _ENDS))
    g = np.linspace(-1.3, 1.1, a.size)
    if tensor_weight:
        _compare(torch, "lerp", [a, b, np.full(a.size, w)], g)
    elif np.isfinite(w):  # a number weight: torch's Scalar overload
        _compare(torch, "lerp", [a, b], g, weight=float(w))


def test_lerp_broadcast_float32_and_checks(torch):
    rng = np.random.default_rng(2)
    a, b, w = rng.standard_normal((2, 1, 3)), rng.standard_normal((4, 1)), rng.uniform(-1, 2, (3,))
    g = rng.standard_normal((2, 4, 3))
    _compare(torch, "lerp", [a, b, w], g)
    _compare(torch, "lerp", [a, b], g, weight=0.8)
    f32 = [v.astype(np.float32) for v in (a, b, w)]
    o_t, g_t = _grads(torch, torch.lerp, f32, g)
    o_o, g_o = _grads(tg, tg.lerp, f32, g)
    _same(o_o, o_t, 1e-6)
    for x, y in zip(g_o, g_t):
        assert x.dtype == np.float32
        _same(x, y, 1e-5)
    assert tg.gradcheck(tg.lerp, [a, b, w])
    assert tg.gradgradcheck(tg.lerp, [a, b, w])
    assert tg.gradgradcheck(lambda s, e: tg.lerp(s, e, 0.7), [a, b])


# ------------------------------------------------------------------ logcumsumexp
@pytest.mark.parametrize("x", [[np.inf], [-np.inf], [np.inf, 1.0, 2.0], [-np.inf, -np.inf, 0.0],
                               [-np.inf, 1.0, np.inf], [1.0, -np.inf, 2.0], [0.5, np.nan, 2.0],
                               [[np.inf, 2.0], [-np.inf, -1.0]]])
def test_logcumsumexp_gradient_at_infinities(torch, x):
    # torch's log-space gradient is NaN at +inf, NaN, and -inf while the running result is
    # still -inf; the scan's was g there
    x = np.array(x)
    g = np.linspace(-1.2, 0.9, x.size).reshape(x.shape)
    _compare(torch, "logcumsumexp", [x], g, dim=0)


def test_logcumsumexp_0d_infinity_passes_g(torch):
    _compare(torch, "logcumsumexp", [np.array(np.inf)], np.array(0.4), dim=0)


# ------------------------------------------------------------------ addcdiv
@pytest.mark.parametrize("value", [1, -2.0, 0.5, 0])
def test_addcdiv_gradients_where_the_divisor_is_zero_under_broadcast(torch, value):
    # torch multiplies g by value / t2 at the broadcast shape, then sums: +inf and -inf terms
    # give NaN; the composite summed g first (to the quotient's shape) and gave inf
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    t1 = np.array([[1.0], [0.0]])
    t2 = np.array([[0.0], [-0.0]])
    g = np.array([[0.5, -1.0, 2.0], [1.5, 1.0, -0.25]])
    _compare(torch, "addcdiv", [x, t1, t2], g, value=value)
    # t2 * t2 underflowing to 0 (and overflowing to inf) is torch's, as its formula
    _compare(torch, "addcdiv", [np.array([0.5]), np.array([2.0]), np.array([1e-300])],
             np.array([0.7]), value=value)
    _compare(torch, "addcdiv", [np.array([0.5, 1.0]), np.array([np.inf, 1.0]),
                                np.array([1e300, 1e300])], np.array([0.7, -1.0]), value=value)


def test_addcdiv_checks_and_float32(torch):
    rng = np.random.default_rng(4)
    x, a, b = rng.standard_normal((2, 3)), rng.standard_normal(3), rng.uniform(0.5, 2, (2, 1))
    g = rng.standard_normal((2, 3))
    _compare(torch, "addcdiv", [x, a, b], g, value=-1.5)
    f32 = [v.astype(np.float32) for v in (x, a, b)]
    o_t, g_t = _grads(torch, lambda *t: torch.addcdiv(*t, value=0.3), f32, g)
    o_o, g_o = _grads(tg, lambda *t: tg.addcdiv(*t, value=0.3), f32, g)
    _same(o_o, o_t, 1e-6)
    for u, w in zip(g_o, g_t):
        assert u.dtype == np.float32
        _same(u, w, 1e-5)
    f = lambda *t: tg.addcdiv(*t, value=-1.5)  # noqa: E731
    assert tg.gradcheck(f, [x, a, b])
    assert tg.gradgradcheck(f, [x, a, b])


# ------------------------------------------------------------------ NumPy warnings
def test_backward_lets_no_numpy_runtime_warning_through():
    # g / x at 0 and inf - inf in VJPs are torch's inf and NaN, silently (one errstate per pass)
    x = tg.tensor(np.array([0.0, 1.0, -1.0, np.inf]), requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # the forward's warnings are kept
        y = x.log() + x.log2() + x.prod() + tg.logsumexp(x, 0)
    g = tg.tensor(np.ones(4))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        (a,) = tg.grad(y, [x], [g], retain_graph=True)
        (b,) = tg.grad(y, [x], [g], retain_graph=True, create_graph=True)
        y.backward(g)
    assert not np.isfinite(a.data).any()  # inf and NaN, as torch
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(x.grad.data, a.data)
    assert np.geterr()["divide"] == "warn"  # the caller's own NumPy state is untouched


def test_mean_of_an_empty_slice_is_nan_without_a_warning(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ours = tg.tensor(np.zeros((2, 0))).mean(axis=1)
        v, m = tg.var_mean(tg.tensor(np.zeros((2, 0))), dim=1, correction=0)
    theirs = torch.zeros((2, 0), dtype=torch.float64).mean(1)
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    assert np.isnan(v.data).all() and np.isnan(m.data).all()


# ------------------------------------------------------------------ found by the new fuzz cases
@pytest.mark.parametrize("nd,shape,out", [(2, (2, 2, 2, 2), (3, 3)), (2, (1, 1, 2, 3), (3, 5)),
                                          (1, (2, 2, 2), 3), (3, (1, 2, 1, 3, 2), (3, 1, 3))])
def test_adaptive_max_pool_to_a_bigger_output(torch, nd, shape, out):
    # each window as long as the plane (output > input) was taken for the one global window
    rng = np.random.default_rng(7)
    x = rng.integers(-2, 3, shape).astype(np.float64)
    name = f"nn.functional.adaptive_max_pool{nd}d"
    _compare(torch, name, [x], rng.standard_normal(np.shape(_attr(torch, name)(torch.tensor(x), out))),
             output_size=out)


def test_pdist_inf_gives_each_tied_coordinate_the_whole_gradient(torch):
    x = np.array([[1.0, -2.0, 1.0], [0.0, -2.0, 2.0], [-2.0, 2.0, -1.0]])
    _compare(torch, "nn.functional.pdist", [x], np.array([0.7, -1.2, 0.4]), p=float("inf"))


def test_bessel_y_at_the_smallest_subnormal(torch):
    # 0.5 * x rounded 5e-324 to 0: log(0) * J1 gave NaN for Y1 and -inf for Y0
    x = np.array([5e-324, 1e-323, 1e-300, 0.3])
    for name in ("bessel_y0", "bessel_y1"):
        ours = getattr(tg.special, name)(tg.tensor(x)).data
        theirs = getattr(torch.special, name)(torch.tensor(x)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-13)


def test_zeta_of_a_huge_s_returns(torch):
    # the direct sum ran until q + k passed s: 1e300 steps at s = 1e300 (a hang)
    s = np.array([1e300, 1e300, 80.0, 60.0, 35.0, 1.01, 1e5])
    q = np.array([0.2124, 2.0, 0.5, 3.0, 0.9, 1e-30, 0.999])
    ours = tg.special.zeta(tg.tensor(s), tg.tensor(q)).data
    theirs = torch.special.zeta(torch.tensor(s), torch.tensor(q)).numpy()
    assert ours[0] == np.inf and ours[1] == 0.0  # 0.2124^-1e300, 2^-1e300 (torch: NaN there)
    np.testing.assert_allclose(ours[2:], theirs[2:], rtol=1e-14)


def test_i1_gradient_at_subnormals(torch):
    # I1(5e-324) rounds to 0, so I0 - I1 / x gave 1 where the derivative is 1/2
    x = np.array([5e-324, -1e-320, 1e-9, 0.0, 1e-3, 2.5])
    g = np.linspace(-1.0, 1.5, x.size)
    _, (ours,) = _grads(tg, tg.special.i1, [x], g)
    _, (theirs,) = _grads(torch, torch.special.i1, [x], g)  # (I1(5e-324): 0 here, 5e-324 there)
    _same(ours, theirs, 1e-13)
    assert tg.gradgradcheck(tg.special.i1, [np.array([0.3, -1.2, 2.0])])


def test_svd_of_a_matrix_with_inf_is_nan_and_returns(torch):
    # LAPACK's gesdd looped forever on this one (with vectors): matrix norms, pinv and the
    # svdvals gradient hung the process; torch gives NaN. A batch keeps its finite members.
    bad = np.array([[-1.0920995e-01, -1.73353043e-01, -1.31824223e+00],
                    [np.inf, 1.99138542e+00, 2.51643286e+00],
                    [4.94065646e-324, -1.0e300, -2.73902557e+00]])
    b = np.stack([bad, np.diag([3.0, 2.0, 1.0])])
    ours = tg.linalg.svd(tg.tensor(b), full_matrices=False)
    theirs = torch.linalg.svd(torch.tensor(b), full_matrices=False)
    np.testing.assert_array_equal(ours[1].data, theirs[1].numpy())  # NaN, then 3 2 1
    assert np.isnan(ours[0].data[0]).all()
    assert np.isnan(tg.linalg.matrix_norm(tg.tensor(bad), 2).item())
    assert np.isnan(tg.linalg.pinv(tg.tensor(bad)).data).all()
    t = tg.tensor(b, requires_grad=True)
    (g,) = tg.grad(tg.linalg.svdvals(t).sum(), [t])
    np.testing.assert_allclose(g.data[1], np.eye(3), atol=1e-15)
