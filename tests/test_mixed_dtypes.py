"""float32 meeting float64: values and gradients against torch 2.13, which computes a mixed
op in the wider type; losses with targets of another float dtype; clamp with tensor bounds."""
import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

RNG = np.random.default_rng(7)
A32 = RNG.uniform(0.2, 0.9, (4, 5)).astype(np.float32)
B64 = RNG.uniform(0.2, 0.9, (4, 5))
G = RNG.normal(size=(4, 5))


def _both(fn_tg, fn_torch, *arrays):
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    o, t = fn_tg(*ours), fn_torch(*theirs)
    g = RNG.normal(size=tuple(t.shape))
    o.backward(tg.tensor(g.astype(o.dtype)))
    t.backward(torch.tensor(g, dtype=t.dtype))
    return o, t, ours, theirs


def _close(ours, theirs, rtol, scaled=False):
    want = theirs.detach().numpy()
    atol = rtol * np.abs(want).max() if scaled and want.size else 0  # cancellation in a sum
    np.testing.assert_allclose(np.asarray(ours, np.float64), want, rtol=rtol, atol=atol)


@pytest.mark.parametrize("swap", [False, True])
def test_pow_gradients_have_float64_digits(swap):
    # the exponent's gradient reads log(base): a float32 base must be widened first. Against
    # torch with both operands float64 (A32 is exact in float64): torch's own mixed backward
    # gives the float64 base's gradient float32's digits (swap), where ours keeps float64's
    def f(a, b):
        return b ** a if swap else a ** b
    exact = [torch.tensor(a.astype(np.float64), requires_grad=True) for a in (A32, B64)]
    a, b = tg.tensor(A32, requires_grad=True), tg.tensor(B64, requires_grad=True)
    o, t = f(a, b), f(*exact)
    o.backward(tg.tensor(G))
    t.backward(torch.tensor(G))
    assert o.dtype == np.float64 and b.grad.dtype == np.float64 and a.grad.dtype == np.float32
    _close(o.numpy(), t, 1e-14)
    _close(b.grad.numpy(), exact[1].grad, 1e-13)
    _close(a.grad.numpy(), exact[0].grad, 1.2e-7)


@pytest.mark.parametrize("name,call", [
    ("mse_loss", lambda m, a, b: m.mse_loss(a, b)),
    ("l1_loss", lambda m, a, b: m.l1_loss(b, a)),
    ("smooth_l1_loss", lambda m, a, b: m.smooth_l1_loss(a, b, beta=0.3)),
    ("kl_div", lambda m, a, b: m.kl_div(a, b, reduction="batchmean")),
    ("bce_with_logits", lambda m, a, b: m.binary_cross_entropy_with_logits(a, b)),
    ("poisson_nll_loss", lambda m, a, b: m.poisson_nll_loss(a, b)),
    ("gaussian_nll_loss", lambda m, a, b: m.gaussian_nll_loss(a, b, b * 0 + 0.5)),
    ("gaussian_var64", lambda m, a, b: m.gaussian_nll_loss(a, a * 0.5, b)),
    ("multilabel_soft_margin", lambda m, a, b: m.multilabel_soft_margin_loss(a, b)),
    ("cross_entropy_probs", lambda m, a, b: m.cross_entropy(a, b.softmax(-1))),
    ("soft_margin_loss", lambda m, a, b: m.soft_margin_loss(a, (b > 0.5) * 2.0 - 1)),
])
def test_loss_of_float32_input_and_float64_target_as_torch(name, call):
    o, t, ours, theirs = _both(lambda a, b: call(F, a, b), lambda a, b: call(TF, a, b), A32, B64)
    assert str(o.dtype) == str(t.dtype).replace("torch.", "")
    _close(o.numpy(), t, 1e-6)
    assert ours[0].grad.dtype == np.float32
    _close(ours[0].grad.numpy(), theirs[0].grad, 1e-5, scaled=True)
    if theirs[1].grad is not None:
        assert ours[1].grad.dtype == np.float64
        _close(ours[1].grad.numpy(), theirs[1].grad, 1e-6, scaled=True)


def test_huber_loss_computes_in_the_inputs_dtype_as_torch():
    # torch 2.13's forward casts the target to the input's float32; its backward then fails
    # ("Found dtype Double but expected Float"), so the oracle is the target cast by hand
    a, b = tg.tensor(A32, requires_grad=True), tg.tensor(B64, requires_grad=True)
    ta = torch.tensor(A32, requires_grad=True)
    tb = torch.tensor(B64.astype(np.float32), requires_grad=True)
    o, t = F.huber_loss(a, b, delta=0.2), TF.huber_loss(ta, tb, delta=0.2)
    assert o.dtype == np.float32 and TF.huber_loss(torch.tensor(A32), torch.tensor(B64),
                                                   delta=0.2).dtype == torch.float32
    o.backward()
    t.backward()
    _close(o.numpy(), t, 1e-6)
    _close(a.grad.numpy(), ta.grad, 1e-6)
    assert b.grad.dtype == np.float64
    _close(b.grad.numpy(), tb.grad, 1e-6)


def test_binary_cross_entropy_refuses_mixed_dtypes_as_torch():
    with pytest.raises(RuntimeError):
        TF.binary_cross_entropy(torch.tensor(A32), torch.tensor(B64))
    with pytest.raises(TypeError, match="target has dtype float64 but input has dtype float32"):
        F.binary_cross_entropy(tg.tensor(A32), tg.tensor(B64))


NAN = np.nan
CX = np.array([0., 1, 2, 3, 4, 5, NAN, 2, 2, 0, 5, 2, 2, 2])
CLO = np.array([1., 1, 1, 1, 3, 6, 1, NAN, 2, 1, 1, 1, NAN, 3])
CHI = np.array([3., 3, 3, 3, 3, 5, 3, 3, 2, 1, 1, NAN, 3, NAN])


@pytest.mark.parametrize("which", ["both", "min", "max"])
def test_clamp_with_tensor_bounds_values_and_gradients_as_torch(which):
    # ties, crossed bounds, equal bounds and NaN in each operand: torch's rule for who gets g
    def kw(lo, hi):
        return dict(min=None if which == "max" else lo, max=None if which == "min" else hi)
    o, t, ours, theirs = _both(lambda x, lo, hi: tg.clamp(x, **kw(lo, hi)),
                               lambda x, lo, hi: torch.clamp(x, **kw(lo, hi)), CX, CLO, CHI)
    np.testing.assert_array_equal(o.numpy(), t.detach().numpy())
    for a, b in zip(ours, theirs):
        if b.grad is None:
            assert a.grad is None
        else:
            np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_clamp_with_tensor_bounds_broadcasts_and_differentiates_twice():
    x, lo, hi = RNG.normal(size=(3, 4)), RNG.normal(size=(4,)) - 0.5, RNG.normal(size=(3, 1)) + 0.5
    o, t, ours, theirs = _both(lambda a, b, c: a.clamp(b, c), lambda a, b, c: a.clamp(b, c),
                               x, lo, hi)
    _close(o.numpy(), t, 0)
    for a, b in zip(ours, theirs):
        _close(a.grad.numpy(), b.grad, 1e-15)
    args = [tg.tensor(v, requires_grad=True) for v in (x, lo, hi)]
    assert tg.gradcheck(lambda a, b, c: a.clamp(b, c), args)
    assert tg.gradgradcheck(lambda a, b, c: a.clamp(b, c) ** 2, args)


def test_clamp_with_tensor_bounds_dtypes_and_errors():
    ints = tg.tensor([1, 5, 9])
    got = ints.clamp(tg.tensor([2.5, 2.5, 2.5]))
    want = torch.tensor([1, 5, 9]).clamp(torch.tensor([2.5, 2.5, 2.5]))
    assert got.dtype == np.float32 and np.array_equal(got.numpy(), want.numpy())
    assert ints.clamp(tg.tensor([2, 2, 2]), tg.tensor([6, 6, 6])).dtype == np.int64
    x32 = tg.tensor(np.float32([0.1, 2.0]))
    assert x32.clamp(tg.tensor(0.5, dtype=np.float64, requires_grad=True)).dtype == np.float32
    with pytest.raises(ValueError, match="input of shape \\(2,\\) and min of shape \\(3,\\)"):
        x32.clamp(tg.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match="bound must be a Tensor or a number, not str"):
        x32.clamp(tg.tensor([1.0, 2.0]), "a")
    lo = tg.tensor([0.5, 0.5], requires_grad=True)
    x = tg.tensor([0.1, 2.0], requires_grad=True)
    x.clamp(lo).sum().backward()  # a one-element Tensor on the graph was refused before
    assert np.array_equal(lo.grad.numpy(), [1.0, 0.0])
