"""Linear, Identity, Flatten, the activation and loss layers, and ``nn.init``: parity with
PyTorch (values, gradients, reprs, parameter names), PyTorch's fans and gains, the statistics of
every initializer, and seeded reproducibility."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn
from tinygrad_norm.nn import init

from test_activation_losses import DTYPES, parity


def _tdtype(torch, dtype):
    return {np.float64: torch.float64, np.float32: torch.float32}[dtype]


# ---- Linear -----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape", [(5, 4), (2, 3, 4), (4,)])
def test_linear_matches_torch(torch, dtype, bias, x_shape):
    tg.manual_seed(0)
    ours = nn.Linear(4, 3, bias=bias, dtype=dtype)
    theirs = torch.nn.Linear(4, 3, bias=bias, dtype=_tdtype(torch, dtype))
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.from_numpy(dict(ours.named_parameters())[name].numpy()))
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(1).standard_normal(x_shape).astype(dtype)
    xs, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(xs), theirs(tx)
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=rtol)
    g = np.random.default_rng(2).standard_normal(out.shape).astype(dtype)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(xs.grad.numpy(), tx.grad.numpy(), rtol=rtol, atol=rtol)
    for name, p in theirs.named_parameters():
        mine = dict(ours.named_parameters())[name].grad
        assert mine.dtype == dtype
        np.testing.assert_allclose(mine.numpy(), p.grad.numpy(), rtol=rtol, atol=rtol * 10)


def test_linear_gradients_reach_parameters(torch):
    tg.manual_seed(3)
    lin = nn.Linear(3, 2, dtype=np.float64)
    x = Tensor(np.random.default_rng(2).standard_normal((4, 3)), requires_grad=True)
    assert tg.gradcheck(lambda a, w, b: F.linear(a, w, b),
                        [x, Tensor(lin.weight.numpy(), requires_grad=True),
                         Tensor(lin.bias.numpy(), requires_grad=True)])
    lin(x).sum().backward()
    assert lin.weight.grad.shape == (2, 3) and lin.bias.grad.shape == (2,)
    np.testing.assert_allclose(lin.bias.grad.numpy(), [4.0, 4.0])


def test_linear_init_default_and_seeded():
    tg.manual_seed(5)
    lin = nn.Linear(400, 300)
    w, b = lin.weight.numpy(), lin.bias.numpy()
    assert w.shape == (300, 400) and w.dtype == np.float32 and b.dtype == np.float32
    bound = 1 / math.sqrt(400)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.01
    assert abs(w.mean()) < 0.01 * bound
    assert b.std() > 0.4 * bound  # drawn, not zero
    tg.manual_seed(5)
    again = nn.Linear(400, 300)
    np.testing.assert_array_equal(again.weight.numpy(), w)
    np.testing.assert_array_equal(again.bias.numpy(), b)


def test_linear_checks():
    lin = nn.Linear(3, 2)
    with pytest.raises(TypeError, match="float64 but the module's parameters are float32"):
        lin(Tensor(np.zeros((1, 3))))
    with pytest.raises(ValueError, match="in_features 3"):
        lin(Tensor(np.zeros((1, 4), np.float32)))
    with pytest.raises(ValueError, match="in_features must be a non-negative int"):
        nn.Linear(-1, 2)
    with pytest.raises(TypeError, match="floating-point"):
        nn.Linear(2, 2, dtype=np.int32)
    assert nn.Linear(3, 2).to(np.float64)(Tensor(np.zeros((1, 3)))).dtype == np.float64
    assert nn.Linear(3, 2, bias=False).bias is None
    with pytest.warns(UserWarning, match="zero-element"):
        nn.Linear(0, 2)


def test_identity_and_flatten(torch):
    x = np.random.default_rng(4).standard_normal((2, 3, 4, 5))
    t = Tensor(x)
    assert nn.Identity(54, unused=True)(t) is t
    for args in [(), (0,), (2, 3), (1, -2)]:
        ours, theirs = nn.Flatten(*args), torch.nn.Flatten(*args)
        assert repr(ours) == repr(theirs)
        parity(torch, ours, theirs, [x], np.float64)
    assert repr(nn.Identity()) == repr(torch.nn.Identity())


# ---- activation and loss layers ---------------------------------------------------------------------

@pytest.mark.parametrize("name,args", [("ReLU", ()), ("LeakyReLU", ()), ("LeakyReLU", (0.2,)),
                                       ("Sigmoid", ()), ("Tanh", ()), ("Softmax", (1,)),
                                       ("LogSoftmax", (0,)), ("SiLU", ()), ("ELU", (0.5,)),
                                       ("Softplus", (2.0, 5.0)), ("LogSigmoid", ())])
def test_activation_layers_match_torch(torch, name, args):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(6).standard_normal((3, 4)) * 3
    for dtype in DTYPES:
        parity(torch, ours, theirs, [x], dtype)


def test_gelu_layer_and_inplace(torch):
    x = np.random.default_rng(7).standard_normal(5)
    for args in [(), ("tanh",)]:
        assert repr(nn.GELU(*args)) == repr(torch.nn.GELU(*args))
        parity(torch, nn.GELU(*args), torch.nn.GELU(*args), [x], np.float64)
    # torch's signatures: inplace=False is taken by every layer that has the argument
    for ours, theirs in [(nn.ELU(0.5, False), torch.nn.ELU(0.5, False)),
                         (nn.SiLU(inplace=False), torch.nn.SiLU(inplace=False)),
                         (nn.LeakyReLU(0.1, False), torch.nn.LeakyReLU(0.1, False))]:
        assert repr(ours) == repr(theirs)
    for ours, theirs in [(nn.ELU(inplace=True), torch.nn.ELU(inplace=True)),
                         (nn.SiLU(True), torch.nn.SiLU(True)), (nn.ReLU(True), torch.nn.ReLU(True))]:
        assert repr(ours) == repr(theirs)  # inplace=True is taken (tests/test_activations_extra)


def test_loss_layers_match_functional(torch):
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((4, 3)), rng.integers(0, 3, 4)
    w = rng.uniform(0.5, 2, 3)
    pairs = [
        (nn.CrossEntropyLoss(w, label_smoothing=0.1),
         torch.nn.CrossEntropyLoss(torch.tensor(w), label_smoothing=0.1), y),
        (nn.NLLLoss(reduction="sum"), torch.nn.NLLLoss(reduction="sum"), y),
        (nn.MSELoss(), torch.nn.MSELoss(), rng.standard_normal((4, 3))),
        (nn.L1Loss(reduction="none"), torch.nn.L1Loss(reduction="none"), rng.standard_normal((4, 3))),
        (nn.BCEWithLogitsLoss(pos_weight=w), torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w)),
         rng.uniform(size=(4, 3))),
    ]
    for ours, theirs, target in pairs:
        tt = torch.from_numpy(target)
        parity(torch, lambda a: ours(a, target if target.dtype.kind == "i" else Tensor(target)),
               lambda a: theirs(a, tt), [x], np.float64)
    p = rng.uniform(0.1, 0.9, (4, 3))
    t = rng.uniform(size=(4, 3))
    parity(torch, lambda a: nn.BCELoss()(a, Tensor(t)),
           lambda a: torch.nn.BCELoss()(a, torch.from_numpy(t)), [p], np.float64)
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        nn.MSELoss(reduction="avg")


# ---- init ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (8, 4, 3, 3), (2, 6, 1, 2, 3), (7, 1)])
def test_fans_match_torch(torch, shape):
    ours = init._calculate_fan_in_and_fan_out(Tensor(np.zeros(shape)))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))


def test_fans_need_two_dims(torch):
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_uniform_(Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_normal_(Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_normal_(Tensor(np.zeros((3, 3))), mode="fan_avg")


@pytest.mark.parametrize("args", [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",),
                                  ("leaky_relu",), ("leaky_relu", 0.2), ("leaky_relu", 3),
                                  ("selu",)])
def test_calculate_gain_matches_torch(torch, args):
    assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args),
                                                       rel=1e-15)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity swish"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "0.1")


SHAPE = (400, 250, 3)  # fan_in 750, fan_out 1200, 300k draws: std estimates within ~0.3%


def _fans(shape):
    rf = int(np.prod(shape[2:]))
    return shape[1] * rf, shape[0] * rf


@pytest.mark.parametrize("name,kwargs,dist,scale", [
    ("uniform_", dict(a=-2.0, b=3.0), "uniform", None),
    ("normal_", dict(mean=1.5, std=0.01), "normal", 0.01),
    ("xavier_uniform_", dict(gain=2.0), "uniform", 2.0 * math.sqrt(2 / (750 + 1200))),
    ("xavier_normal_", dict(gain=0.5), "normal", 0.5 * math.sqrt(2 / (750 + 1200))),
    ("kaiming_uniform_", dict(), "uniform", math.sqrt(2) / math.sqrt(750)),
    ("kaiming_uniform_", dict(a=math.sqrt(5)), "uniform", 1 / math.sqrt(3 * 750)),
    ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu"), "uniform",
     math.sqrt(2) / math.sqrt(1200)),
    ("kaiming_normal_", dict(), "normal", math.sqrt(2) / math.sqrt(750)),
    ("kaiming_normal_", dict(mode="fan_out", nonlinearity="tanh"), "normal",
     (5 / 3) / math.sqrt(1200)),
    ("kaiming_normal_", dict(nonlinearity="linear"), "normal", 1 / math.sqrt(750)),
])
@pytest.mark.parametrize("dtype", DTYPES)
def test_initializer_statistics(torch, name, kwargs, dist, scale, dtype):
    """Each initializer against the formula and against PyTorch's own draw of the same shape."""
    tg.manual_seed(0)
    t = Tensor(np.zeros(SHAPE, dtype))
    buf = t.data
    out = getattr(init, name)(t, **kwargs)
    assert out is t and t.data is buf and t.dtype == dtype  # in place, same array, same dtype
    v = t.numpy().astype(np.float64)
    torch.manual_seed(0)
    ref = getattr(torch.nn.init, name)(torch.zeros(SHAPE, dtype=torch.float64), **kwargs).numpy()
    assert abs(v.std() / ref.std() - 1) < 0.01
    assert abs(v.mean() - ref.mean()) < 0.01 * ref.std()
    if dist == "uniform":
        lo, hi = (kwargs["a"], kwargs["b"]) if name == "uniform_" else (-math.sqrt(3) * scale,
                                                                        math.sqrt(3) * scale)
        assert lo <= v.min() and v.max() <= hi
        assert v.min() < lo + 0.001 * (hi - lo) and v.max() > hi - 0.001 * (hi - lo)
        if scale is not None:
            assert abs(v.std() / scale - 1) < 0.01
    else:
        assert abs(v.std() / scale - 1) < 0.01
        kurt = ((v - v.mean()) ** 4).mean() / v.var() ** 2
        assert abs(kurt - 3) < 0.05  # Gaussian, not uniform (1.8)


def test_trunc_normal_and_constants(torch):
    tg.manual_seed(1)
    t = init.trunc_normal_(Tensor(np.zeros((200, 500))), mean=0.5, std=1.0, a=-1.0, b=1.5)
    v = t.numpy()
    assert v.min() >= -1.0 and v.max() <= 1.5
    torch.manual_seed(1)
    ref = torch.nn.init.trunc_normal_(torch.zeros(200, 500, dtype=torch.float64), 0.5, 1.0, -1.0, 1.5)
    assert abs(v.std() / ref.std().item() - 1) < 0.01 and abs(v.mean() - ref.mean().item()) < 0.01
    x = Tensor(np.zeros((2, 3), np.float32))
    assert init.constant_(x, 0.3) is x and np.all(x.numpy() == np.float32(0.3))
    assert np.all(init.ones_(x).numpy() == 1) and np.all(init.zeros_(x).numpy() == 0)
    np.testing.assert_array_equal(init.eye_(x).numpy(), np.eye(2, 3))
    assert x.dtype == np.float32


def _truncated_moments(lo, hi):
    """Mean and std of N(0, 1) on [lo, hi] by quadrature, the density scaled to 1 at the
    interval's point nearest 0 (so 40 standard deviations out does not underflow)."""
    lo, hi = max(lo, -60.0), min(hi, 60.0)
    x = np.linspace(lo, hi, 400_001)
    near = 0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi))
    w = np.exp(-(x * x - near * near) / 2)
    mean = np.trapezoid(x * w, x) / np.trapezoid(w, x)
    return mean, math.sqrt(np.trapezoid((x - mean) ** 2 * w, x) / np.trapezoid(w, x))


@pytest.mark.filterwarnings("ignore:mean is more than 2 std")  # torch's, for [3, 4]
@pytest.mark.parametrize("a,b", [(-2.0, 2.0), (-0.001, 0.001), (3.0, 4.0), (-9.0, -8.0),
                                 (8.0, 9.0), (5.0, np.inf), (-np.inf, -6.0), (40.0, 41.0)])
def test_trunc_normal_is_exact_on_unlikely_intervals(torch, a, b):
    # Redrawing gave up after 1000 rounds and clipped: [-0.001, 0.001] put 45% of the values on
    # its two bounds, [8, 9] made every value 8.0. Now: no value on a bound, the exact moments.
    n = 100_000
    tg.manual_seed(3)
    v = init.trunc_normal_(Tensor(np.zeros(n)), mean=0.0, std=1.0, a=a, b=b).numpy()
    assert v.min() >= a and v.max() <= b and np.mean((v == a) | (v == b)) < 1e-3
    mean, std = _truncated_moments(a, b)
    assert abs(v.mean() - mean) < 5 * std / math.sqrt(n) and abs(v.std() / std - 1) < 0.02
    if abs(a) < 5 and abs(b) < 5:  # torch's inverse-CDF sampler is exact there too
        ref = torch.nn.init.trunc_normal_(torch.zeros(n, dtype=torch.float64), 0.0, 1.0, a, b)
        assert abs(ref.mean().item() - mean) < 5 * std / math.sqrt(n)
    t = init.trunc_normal_(Tensor(np.zeros(5000, np.float32)), mean=2.0, std=0.5, a=1.0, b=1.01)
    assert t.dtype == np.float32 and 1.0 <= t.numpy().min() and t.numpy().max() <= 1.01


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1e-160, 1.0, 2.0), (0.0, 1.0, 40.0, 40.0 + 1e-9),
                                           (0.0, 1.0, 1e200, np.inf), (0.0, 1.0, -41.0, -40.0)])
def test_trunc_normal_far_tails_end_and_stay_in_bounds(mean, std, a, b):
    # the exponential proposal alone never accepted past ~1e154 sd (rate overflowed) and took
    # seconds for an interval much narrower than 1 / lo (a uniform proposal now)
    v = init.trunc_normal_(Tensor(np.zeros(2000)), mean=mean, std=std, a=a, b=b).numpy()
    assert np.isfinite(v).all() and v.min() >= a and v.max() <= b
    lo = (a - mean) / std if a > mean else (mean - b) / std
    assert abs(abs(v.mean() - mean) / std - lo) < 5.0 / max(lo, 1.0) + 1e-6 * lo  # near the bound


def test_ndtri_matches_torch_in_the_range_trunc_normal_uses(torch):
    from tinygrad_norm.nn.truncated_normal import ndtri
    p = np.concatenate([np.logspace(-300, -2, 400), np.linspace(0.01, 0.99, 400)])
    ref = torch.special.ndtri(torch.tensor(p)).numpy()
    np.testing.assert_allclose(ndtri(p), ref, rtol=1e-13, atol=1e-15)


def test_init_is_seeded_and_untracked():
    w = Tensor(np.zeros((30, 20)), requires_grad=True)
    tg.manual_seed(7)
    a = init.kaiming_normal_(w).numpy().copy()
    assert w.grad_fn is None and w.requires_grad
    tg.manual_seed(7)
    np.testing.assert_array_equal(init.kaiming_normal_(w).numpy(), a)
    gen = np.random.default_rng(3)
    b = init.normal_(w, std=0.01, generator=gen).numpy().copy()
    np.testing.assert_array_equal(b, np.random.default_rng(3).normal(0, 0.01, (30, 20)))


def test_init_errors():
    with pytest.raises(TypeError, match="floating-point"):
        init.normal_(Tensor(np.zeros(3, np.int64)))
    with pytest.raises(TypeError, match="expected a Tensor"):  # (an ndarray is filled: .data)
        init.normal_([0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="std >= 0.0"):
        init.normal_(Tensor(np.zeros(3)), std=-1.0)
    with pytest.raises(ValueError, match="a <= b"):
        init.uniform_(Tensor(np.zeros(3)), 2.0, 1.0)
    with pytest.raises(TypeError, match="generator"):
        init.normal_(Tensor(np.zeros(3)), generator=1)


# ---- from an nn/init bug hunt against torch 2.13 -------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda t: init.normal_(t, 0.0, float("nan")), "finite std"),
    (lambda t: init.kaiming_normal_(t, a=float("nan")), "finite std"),
    (lambda t: init.xavier_normal_(t, gain=float("nan")), "finite std"),
    (lambda t: init.xavier_normal_(t, gain=-1), "finite std >= 0"),
    (lambda t: init.trunc_normal_(t, std=float("inf")), "finite std"),
    (lambda t: init.uniform_(t, 0, float("inf")), "finite bounds"),
    (lambda t: init.uniform_(t, -1e308, 1e308), "does not fit"),
    (lambda t: init.xavier_uniform_(t, gain=-1), "finite bounds a <= b"),
    (lambda t: init.uniform_(t, 0, 1e39), "does not fit the tensor's dtype float32"),
    (lambda t: init.constant_(t, 1e39), "does not fit the tensor's dtype float32")])
def test_init_refuses_spreads_and_values_it_cannot_draw_or_hold(call, match):
    """NaN spreads filled the tensor with NaN, NumPy's own errors named no argument, and values
    beyond float32 became inf; each is a ValueError now, the tensor left as it was."""
    t = tg.Tensor(np.full((3, 3), 7.0, np.float32))
    with pytest.raises(ValueError, match=match):
        call(t)
    assert (t.numpy() == 7.0).all()


def test_constant_fills_take_integer_tensors_as_torch(torch):
    for fn in ("zeros_", "ones_", "eye_"):
        ours = getattr(init, fn)(tg.Tensor(np.full((2, 2), 5, np.int64)))
        theirs = getattr(torch.nn.init, fn)(torch.full((2, 2), 5, dtype=torch.int64))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert ours.dtype == np.int64
    with pytest.raises(TypeError, match="ones_: expected a Tensor"):  # named as called
        init.ones_([1.0, 1.0])


def test_constant_fills_refuse_integers_that_do_not_fit():
    t = tg.Tensor(np.zeros(2, np.int8))
    with pytest.raises(ValueError, match="does not fit the tensor's dtype int8"):
        init.constant_(t, 300)  # wrapped around to 44
    assert not t.numpy().any()
