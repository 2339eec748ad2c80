"""The primitives of task speed6: the exact GELU as one primitive (``gelu``, its slope
``gelu_grad``, Phi from ``special_kernels_ndtr``) and the fused recurrent cells (``lstm_cell``,
``lstm_hidden``, ``gru_cell``). Values against mpmath and torch 2.13, gradients under a random
upstream gradient, gradcheck and gradgradcheck in float64, edges (tails, infinities, NaN, empty,
0-d, float16)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, gradcheck, gradgradcheck, ops
from tinygrad_norm.special_kernels_ndtr import ndtr
from tinygrad_norm.tensor import apply

mpmath = pytest.importorskip("mpmath")


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _exact_ndtr(x):
    with mpmath.workdps(40):
        return np.array([float(mpmath.ncdf(mpmath.mpf(float(v)))) for v in x])


# ---- Phi ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype, lo, ulps", [(np.float64, -38.0, 16), (np.float32, -14.0, 4)])
def test_ndtr_is_relatively_accurate_in_both_tails(dtype, lo, ulps):
    # every region: the small polynomial, erfcx's, the continued fraction past the cut, and
    # the upper side (1 - E)
    x = np.concatenate([np.linspace(lo, 9.0, 4001), np.linspace(-1.3, 1.3, 1001)]).astype(dtype)
    got = ndtr(x).astype(np.float64)
    want = _exact_ndtr(x)
    keep = want > np.finfo(dtype).tiny
    rel = np.abs(got - want)[keep] / want[keep]
    assert rel.max() <= ulps * np.finfo(dtype).eps
    near = keep & (np.abs(x) < 8)
    if dtype == np.float64:  # away from the far tail: a few ulps
        rel64 = np.abs(got - want)[near] / want[near]
        assert rel64.max() <= 8 * np.finfo(dtype).eps
    assert ndtr(x).dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ndtr_edges(dtype):
    x = np.array([-np.inf, np.inf, np.nan, 0.0, -0.0, -60.0, 60.0], dtype)
    np.testing.assert_array_equal(ndtr(x), np.array([0, 1, np.nan, 0.5, 0.5, 0, 1], dtype))
    assert ndtr(np.zeros((0, 3), dtype)).shape == (0, 3)
    assert ndtr(np.array(-3.0, dtype)).shape == ()


# ---- GELU ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gelu_matches_torch_under_a_random_gradient(torch, dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((3, 5, 7)) * 2).astype(dtype)
    x.flat[::9] = 0.0
    g = rng.standard_normal(x.shape).astype(dtype)
    a = Tensor(x, requires_grad=True)
    out = F.gelu(a)
    out.backward(Tensor(g))
    t = torch.tensor(x, requires_grad=True)
    ref = torch.nn.functional.gelu(t)
    ref.backward(torch.from_numpy(g))
    tol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)
    assert out.dtype == a.grad.dtype == dtype


def test_gelu_float32_keeps_its_digits_in_the_lower_tail(torch):
    # 1 + erf(x / sqrt 2) cancels below -2.5 (torch's float32: 1e-4 off at -3, 0 from -6)
    x = -np.linspace(2.5, 13.0, 400).astype(np.float32).astype(np.float64)
    got = F.gelu(Tensor(x.astype(np.float32))).numpy().astype(np.float64)
    want = x * _exact_ndtr(x)
    keep = np.abs(want) > np.finfo(np.float32).tiny
    assert (np.abs(got - want)[keep] / np.abs(want[keep])).max() < 1e-6
    theirs = torch.nn.functional.gelu(torch.tensor(x, dtype=torch.float32)).numpy()
    assert (np.abs(theirs - want)[keep] / np.abs(want[keep])).max() > 1e-4  # what was fixed


def test_gelu_gradient_in_the_tail_matches_float64_torch(torch):
    x = -np.linspace(2.5, 12.0, 50)
    a = Tensor(x.astype(np.float32), requires_grad=True)
    F.gelu(a).backward(Tensor(np.ones(50, np.float32)))
    t = torch.tensor(x, requires_grad=True)
    torch.nn.functional.gelu(t).backward(torch.ones(50, dtype=torch.float64))
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-12)


def test_gelu_is_one_primitive_with_derivatives_of_every_order():
    x = Tensor(np.random.default_rng(1).standard_normal((3, 4)) * 2.5, requires_grad=True)
    assert gradcheck(F.gelu, [x])
    assert gradgradcheck(F.gelu, [x])
    assert gradcheck(lambda t: apply(ops.GeluGrad, t), [x])
    assert gradgradcheck(lambda t: apply(ops.GeluGrad, t), [x])
    y = F.gelu(x)
    assert y._node.op is ops.Gelu


def test_gelu_second_derivative_matches_torch(torch):
    x = np.random.default_rng(2).standard_normal(9) * 2.5
    g = np.random.default_rng(3).standard_normal(9)
    a = Tensor(x, requires_grad=True)
    (d,) = __import__("tinygrad_norm").grad(F.gelu(a), a, Tensor(g), create_graph=True)
    (dd,) = __import__("tinygrad_norm").grad(d.sum(), a)
    t = torch.tensor(x, requires_grad=True)
    (td,) = torch.autograd.grad(torch.nn.functional.gelu(t), t, torch.tensor(g),
                                create_graph=True)
    (tdd,) = torch.autograd.grad(td.sum(), t)
    np.testing.assert_allclose(d.numpy(), td.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dd.numpy(), tdd.numpy(), rtol=1e-10, atol=1e-12)


def test_gelu_edges(torch):
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0])
    got = F.gelu(Tensor(x)).numpy()
    want = torch.nn.functional.gelu(torch.tensor(x)).numpy()  # float64 torch: inf, nan, nan, 0
    np.testing.assert_array_equal(got, want)
    assert F.gelu(Tensor(np.zeros((2, 0), np.float32))).shape == (2, 0)
    a = Tensor(np.array(-4.0), requires_grad=True)
    F.gelu(a).backward()
    assert a.grad.shape == () and math.isclose(float(a.grad.numpy()), -4.0 * 0.0 + (
        _exact_ndtr([-4.0])[0] - 4.0 * math.exp(-8.0) / math.sqrt(2 * math.pi)), rel_tol=1e-12)
    h = F.gelu(Tensor(np.array([-3.0, 1.0], np.float16)))
    assert h.dtype == np.float16


def test_gelu_vjp_takes_a_broadcast_or_other_dtype_gradient():
    x = np.array([0.3, -1.2, 2.0])
    out, cdf = ops.Gelu.forward(x)
    g = np.array([1.0, 2.0, -1.0], np.float32)
    (got,) = ops.Gelu.vjp(g, (x,), out, cdf, {}, (True,), ops.NP)
    want = g * ops.GeluGrad.forward(x)
    np.testing.assert_array_equal(got, want)
    (got,) = ops.Gelu.vjp(np.float64(2.0), (x,), out, cdf, {}, (True,), ops.NP)
    np.testing.assert_array_equal(got, 2.0 * ops.GeluGrad.forward(x))


# ---- fused recurrent cells ----------------------------------------------------------------------

def _rand(rng, *shape, scale=1.0):
    return Tensor(rng.standard_normal(shape) * scale, requires_grad=True)


@pytest.mark.parametrize("lead", [(3,), (), (2, 3)])
def test_lstm_and_gru_cells_gradcheck_and_gradgradcheck(lead):
    rng = np.random.default_rng(5)
    H = 2
    gx, gh, c = _rand(rng, *lead, 4 * H, scale=1.5), _rand(rng, *lead, 4 * H), _rand(rng, *lead, H)
    for op in (ops.LstmCell, ops.LstmHidden):
        fn = lambda a, b, s, op=op: apply(op, a, b, s)  # noqa: E731
        assert gradcheck(fn, [gx, gh, c])
        assert gradgradcheck(fn, [gx, gh, c])
    gx3, gh3, h = _rand(rng, *lead, 3 * H, scale=1.5), _rand(rng, *lead, 3 * H), _rand(rng, *lead, H)
    fn = lambda a, b, s: apply(ops.GruCell, a, b, s)  # noqa: E731
    assert gradcheck(fn, [gx3, gh3, h])
    assert gradgradcheck(fn, [gx3, gh3, h])


def test_cells_equal_their_composites_to_the_bit():
    rng = np.random.default_rng(6)
    H = 5
    gx, gh = rng.standard_normal((4, 4 * H)) * 2, rng.standard_normal((4, 4 * H))
    c = rng.standard_normal((4, H))
    gates = gx + gh
    s = 1 / (1 + np.exp(-gates))
    want_c = s[:, H:2 * H] * c + s[:, :H] * np.tanh(gates[:, 2 * H:3 * H])
    got_c, _ = ops.LstmCell.forward(gx, gh, c)
    np.testing.assert_array_equal(got_c, want_c)
    got_h, _ = ops.LstmHidden.forward(gx, gh, got_c)
    np.testing.assert_array_equal(got_h, s[:, 3 * H:] * np.tanh(got_c))
    gx3, gh3, h = gx[:, :3 * H], gh[:, :3 * H], c
    rz = 1 / (1 + np.exp(-(gx3[:, :2 * H] + gh3[:, :2 * H])))
    n = np.tanh(gx3[:, 2 * H:] + rz[:, :H] * gh3[:, 2 * H:])
    got, _ = ops.GruCell.forward(gx3, gh3, h)
    np.testing.assert_array_equal(got, n + rz[:, H:] * (h - n))


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_recurrent_layers_match_torch_with_the_fused_cells(torch, mode, dtype):
    from tinygrad_norm import nn
    rng = np.random.default_rng(7)
    kw = dict(num_layers=2, bidirectional=True)
    m = getattr(nn, mode)(3, 4, dtype=dtype, **kw)
    tm = getattr(torch.nn, mode)(3, 4, **kw).to(torch.float64 if dtype == np.float64
                                                else torch.float32)
    with torch.no_grad():
        for name, p in tm.named_parameters():
            p.copy_(torch.from_numpy(getattr(m, name).numpy()))
    x = rng.standard_normal((6, 2, 3)).astype(dtype)
    g = rng.standard_normal((6, 2, 8)).astype(dtype)
    a = Tensor(x, requires_grad=True)
    out = m(a)[0]
    out.backward(Tensor(g))
    ta = torch.tensor(x, requires_grad=True)
    tout = tm(ta)[0]
    tout.backward(torch.from_numpy(g))
    tol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=tol, atol=tol)
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(getattr(m, name).grad.numpy(), p.grad.numpy(), rtol=tol,
                                   atol=tol, err_msg=name)


def test_lstm_records_one_sequence_node_and_gru_its_cells_and_one_stack():
    from tinygrad_norm import nn
    m = nn.LSTM(3, 4)
    out = m(Tensor(np.ones((5, 2, 3), np.float32), requires_grad=True))[0]
    assert out._node.inputs[0]._node.op is ops.LstmSequence
    m = nn.GRU(3, 4)
    out = m(Tensor(np.ones((5, 2, 3), np.float32), requires_grad=True))[0]
    assert out._node.op is ops.Stack and len(out._node.inputs) == 5
    assert all(t._node.op is ops.GruCell for t in out._node.inputs)


@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_sequence_gradcheck_gradgradcheck_and_steps(reverse):
    rng = np.random.default_rng(18)
    L, N, H = 3, 2, 2
    gx, h0, c0 = _rand(rng, L, N, 4 * H), _rand(rng, N, H), _rand(rng, N, H)
    w = _rand(rng, 4 * H, H, scale=0.7)
    fn = lambda a, b, c, d: apply(ops.LstmSequence, a, b, c, d, reverse=reverse)  # noqa: E731
    assert gradcheck(fn, [gx, h0, c0, w])
    assert gradgradcheck(fn, [gx, h0, c0, w])
    # the values of the per-step primitives, to the bit
    y = fn(gx, h0, c0, w).numpy()
    h, c = h0.numpy(), c0.numpy()
    for t in (range(L - 1, -1, -1) if reverse else range(L)):
        gh = h @ w.numpy().T
        c, _ = ops.LstmCell.forward(gx.numpy()[t], gh, c)
        h, _ = ops.LstmHidden.forward(gx.numpy()[t], gh, c)
        np.testing.assert_array_equal(y[t], np.concatenate([h, c], axis=-1))


def test_stack_primitive_gradients():
    rng = np.random.default_rng(8)
    a, b = _rand(rng, 2, 3), _rand(rng, 2, 3)
    for axis in (0, 1, 2):
        fn = lambda x, y, axis=axis: apply(ops.Stack, x, y * y, axis=axis)  # noqa: E731
        assert gradcheck(fn, [a, b])
        assert gradgradcheck(fn, [a, b])
    assert apply(ops.Stack, a, b, axis=1).shape == (2, 2, 3)


# ---- softplus -----------------------------------------------------------------------------------

_SP_X = [-30.0, -17.0, -1.0, 0.0, -0.0, 0.5, 1.0, 2.5, 3.0, 10.0, 25.0, np.inf, -np.inf, np.nan]


@pytest.mark.parametrize("beta, threshold", [(1.0, 20.0), (2.0, 5.0), (-1.5, 3.0), (0.5, 1.0)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softplus_matches_torch_at_edges_under_a_random_gradient(torch, beta, threshold, dtype):
    rng = np.random.default_rng(9)
    x = np.concatenate([_SP_X, rng.standard_normal(30) * 8]).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    a = Tensor(x, requires_grad=True)
    out = F.softplus(a, beta, threshold)
    out.backward(Tensor(g))
    t = torch.tensor(x, requires_grad=True)
    ref = torch.nn.functional.softplus(t, beta, threshold)
    ref.backward(torch.from_numpy(g))
    tol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)
    assert out.dtype == a.grad.dtype == dtype
    assert out._node.op is ops.Softplus


@pytest.mark.parametrize("beta, threshold", [(1.0, 20.0), (2.0, 1.0), (-0.7, 0.5)])
def test_softplus_gradcheck_gradgradcheck_and_second_derivative(torch, beta, threshold):
    x = np.random.default_rng(10).standard_normal((3, 4)) * 2
    a = Tensor(x, requires_grad=True)
    fn = lambda t: F.softplus(t, beta, threshold)  # noqa: E731
    assert gradcheck(fn, [a])
    assert gradgradcheck(fn, [a])
    slope = lambda t: apply(ops.SoftplusGrad, t, beta=beta, threshold=threshold)  # noqa: E731
    assert gradcheck(slope, [a])
    assert gradgradcheck(slope, [a])
    g = np.random.default_rng(11).standard_normal(x.shape)
    import tinygrad_norm as tg
    (d,) = tg.grad(fn(a), a, Tensor(g), create_graph=True)
    (dd,) = tg.grad((d * d).sum(), a)
    t = torch.tensor(x, requires_grad=True)
    (td,) = torch.autograd.grad(torch.nn.functional.softplus(t, beta, threshold), t,
                                torch.from_numpy(g), create_graph=True)
    (tdd,) = torch.autograd.grad((td * td).sum(), t)
    np.testing.assert_allclose(dd.numpy(), tdd.numpy(), rtol=1e-10, atol=1e-12)


def test_softplus_values_equal_the_former_composite_to_the_bit():
    x = np.random.default_rng(12).standard_normal(1000).astype(np.float32) * 10
    for beta in (1.0, 3.0):
        z = x * beta if beta != 1.0 else x
        r = np.maximum(z, 0)
        soft = r + np.log1p(np.exp(np.minimum(z, 0) - r))
        if beta != 1.0:
            soft = soft / beta
        want = np.where(z > 20.0, x, soft)
        np.testing.assert_array_equal(F.softplus(Tensor(x), beta).numpy(), want)
    assert F.softplus(Tensor(np.array(-2.0))).shape == ()
    assert F.softplus(Tensor(np.zeros((0, 2), np.float32))).shape == (0, 2)


# ---- smooth L1 ----------------------------------------------------------------------------------

@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0, 1e-3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_smooth_l1_matches_torch_at_the_seams(torch, beta, dtype):
    rng = np.random.default_rng(13)
    t = rng.standard_normal(40)
    d = np.concatenate([[0.0, -0.0, beta, -beta, beta * (1 + 1e-9), 1e-30, np.inf, -np.inf],
                        rng.standard_normal(32) * 2 * beta])
    x = (t + d).astype(dtype)
    t = t.astype(dtype)
    g = rng.standard_normal(40).astype(dtype)
    for reduction in ("none", "mean", "sum"):
        a, b = Tensor(x, requires_grad=True), Tensor(t, requires_grad=True)
        out = F.smooth_l1_loss(a, b, reduction=reduction, beta=beta)
        up = g if reduction == "none" else np.array(g[0])
        out.backward(Tensor(up))
        ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
        ref = torch.nn.functional.smooth_l1_loss(ta, tb, reduction=reduction, beta=beta)
        ref.backward(torch.from_numpy(up))
        tol = 1e-12 if dtype == np.float64 else 1e-6
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=tol, atol=tol)
        assert out.dtype == a.grad.dtype == dtype


def test_smooth_l1_is_one_primitive_with_second_derivatives(torch):
    rng = np.random.default_rng(14)
    a, b = _rand(rng, 3, 4, scale=2.0), _rand(rng, 3, 4)
    for beta in (1.0, 0.6):
        fn = lambda x, y, beta=beta: F.smooth_l1_loss(x, y, reduction="none", beta=beta)  # noqa
        assert fn(a, b)._node.op is ops.SmoothL1
        assert gradcheck(fn, [a, b])
        assert gradgradcheck(fn, [a, b])
    # broadcast target (torch's warning): the gradients are summed back to each shape
    x, y = rng.standard_normal((3, 4)), rng.standard_normal(4)
    with pytest.warns(UserWarning):
        ta, tb = Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)
        F.smooth_l1_loss(ta, tb, beta=0.5).backward()
    with pytest.warns(UserWarning):
        xa, xb = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
        torch.nn.functional.smooth_l1_loss(xa, xb, beta=0.5).backward()
    np.testing.assert_allclose(tb.grad.numpy(), xb.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ta.grad.numpy(), xa.grad.numpy(), rtol=1e-12, atol=1e-14)


# ---- fractional max pooling's winners (branch-free scan) ----------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fractional_max_pool_winners_with_signed_zeros_nans_and_ties(torch, dtype):
    rng = np.random.default_rng(15)
    vals = np.array([0.0, -0.0, 1.0, np.nan, -np.inf, np.inf, 1.0, -1.0])
    x = rng.choice(vals, size=(2, 3, 11, 9)).astype(dtype)
    u = rng.random((2, 3, 2)).astype(dtype)
    g = rng.standard_normal((2, 3, 5, 4)).astype(dtype)
    a = Tensor(x, requires_grad=True)
    out, idx = F.fractional_max_pool2d(a, 3, output_size=(5, 4), return_indices=True,
                                       _random_samples=Tensor(u))
    out.backward(Tensor(g))
    t = torch.tensor(x, requires_grad=True)
    tout, tidx = torch.nn.functional.fractional_max_pool2d(
        t, 3, output_size=(5, 4), return_indices=True, _random_samples=torch.from_numpy(u))
    tout.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
    np.testing.assert_array_equal(np.signbit(out.numpy()), np.signbit(tout.detach().numpy()))
    np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())


# ---- binary cross entropy with logits -----------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bce_with_logits_matches_torch_and_its_former_composite(torch, dtype):
    rng = np.random.default_rng(16)
    x = np.concatenate([[0.0, -0.0, 40.0, -40.0, 800.0, -800.0, np.inf, -np.inf, np.nan],
                        rng.standard_normal(31) * 5]).astype(dtype)
    t = rng.random(40).astype(dtype)
    t[:4] = (0.0, 1.0, 0.0, 1.0)
    g = rng.standard_normal(40).astype(dtype)
    w = rng.random(40).astype(dtype)
    for weight in (None, w):
        a, b = Tensor(x, requires_grad=True), Tensor(t, requires_grad=True)
        out = F.binary_cross_entropy_with_logits(
            a, b, weight=None if weight is None else Tensor(weight), reduction="none")
        out.backward(Tensor(g))
        ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
        ref = torch.nn.functional.binary_cross_entropy_with_logits(
            ta, tb, weight=None if weight is None else torch.from_numpy(weight),
            reduction="none")
        ref.backward(torch.from_numpy(g))
        fin = np.isfinite(x)
        tol = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(out.numpy()[fin], ref.detach().numpy()[fin], rtol=tol,
                                   atol=tol)
        np.testing.assert_allclose(a.grad.numpy()[fin], ta.grad.numpy()[fin], rtol=tol, atol=tol)
        np.testing.assert_allclose(b.grad.numpy()[fin], tb.grad.numpy()[fin], rtol=tol, atol=tol)
    # the composite it replaces, to the bit (infinities and NaN included)
    m, r = np.minimum(x, 0), np.maximum(x, 0)
    with np.errstate(invalid="ignore"):
        want = (1.0 - t) * x - (m - np.log1p(np.exp(m - r)))
    got = F.binary_cross_entropy_with_logits(Tensor(x), Tensor(t), reduction="none").numpy()
    np.testing.assert_array_equal(got, want.astype(dtype))


def test_bce_with_logits_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(17)
    x = Tensor(rng.standard_normal((3, 4)) * 3, requires_grad=True)
    t = Tensor(rng.random((3, 4)), requires_grad=True)
    fn = lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none")  # noqa: E731
    assert fn(x, t)._node.op is ops.BceWithLogits
    assert gradcheck(fn, [x, t])
    assert gradgradcheck(fn, [x, t])


# ---- CTC's forward recursion --------------------------------------------------------------------

def _ctc_case(rng, T=6, N=3, C=5, S=3, dtype=np.float64):
    lp = rng.standard_normal((T, N, C)).astype(dtype)
    tg = rng.integers(1, C, (N, S))
    tg[0, 1] = tg[0, 0]  # a repeat: no skip between them
    return lp, tg, np.array([T, T - 2, T - 1]), np.array([S, 2, 0])


def test_ctc_alpha_is_one_node_with_the_step_composites_values_and_gradients():
    from tinygrad_norm.functional import ctc as C
    rng = np.random.default_rng(19)
    lp, tg, il, tl = _ctc_case(rng)
    g = rng.standard_normal(3)
    x = Tensor(lp, requires_grad=True)
    loss = F.ctc_loss(x.log_softmax(axis=2), tg, il, tl, reduction="none")
    loss.backward(Tensor(g))
    # the former loop of window_logsumexp steps, run by hand on the same inputs
    seen = []
    real = ops.CtcAlpha.forward

    def spy(lpx, start, move, stay, active, fill):
        seen.append((lpx, start, move, stay, active, fill))
        return real(lpx, start, move, stay, active, fill)
    ops.CtcAlpha.forward = staticmethod(spy)
    try:
        F.ctc_loss(Tensor(lp).log_softmax(axis=2), tg, il, tl, reduction="none")
    finally:
        ops.CtcAlpha.forward = staticmethod(real)
    lpx, start, move, stay, active, fill = seen[0]
    lt = Tensor(lpx, requires_grad=True)
    alpha = Tensor(start)
    for t, mask in enumerate(ops._ctc_masks(move, stay, active)):
        alpha = apply(ops.WindowLogsumexp, alpha, mask, size=3, fill=fill) + lt[t]
    ga = rng.standard_normal(alpha.shape)
    alpha.backward(Tensor(ga))
    lt2 = Tensor(lpx, requires_grad=True)
    got = apply(ops.CtcAlpha, lt2, start=start, move=move, stay=stay, active=active, fill=fill)
    got.backward(Tensor(ga))
    np.testing.assert_array_equal(got.numpy(), alpha.numpy())
    np.testing.assert_array_equal(lt2.grad.numpy(), lt.grad.numpy())
    assert C  # (the module under test)


def test_ctc_alpha_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(20)
    lp, tg, il, tl = _ctc_case(rng, T=4, N=2, C=3, S=2)
    tl = np.array([2, 1])
    il = np.array([4, 3])
    fn = lambda x: F.ctc_loss(x.log_softmax(axis=2), tg[:2], il, tl, reduction="sum")  # noqa
    x = Tensor(lp[:, :2], requires_grad=True)
    assert gradcheck(fn, [x])
    assert gradgradcheck(fn, [x])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ctc_loss_matches_torch_under_a_random_gradient(torch, dtype):
    rng = np.random.default_rng(21)
    lp, tg, il, tl = _ctc_case(rng, T=12, N=3, C=6, S=4, dtype=dtype)
    tl = np.array([4, 2, 0])
    g = rng.standard_normal(3).astype(dtype)
    x = Tensor(lp, requires_grad=True)
    F.ctc_loss(x.log_softmax(axis=2), tg, il, tl, reduction="none").backward(Tensor(g))
    tx = torch.tensor(lp, requires_grad=True)
    torch.nn.functional.ctc_loss(tx.log_softmax(2), torch.from_numpy(tg), torch.from_numpy(il),
                                 torch.from_numpy(tl), reduction="none").backward(
        torch.from_numpy(g))
    tol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)
