"""The piecewise, gated and self-normalizing activations (relu6, hardtanh, hardsigmoid, hardswish,
mish, selu, celu, softsign, tanhshrink, softshrink, hardshrink, threshold, prelu, glu, softmin)
and their layers, against torch: values and gradients under a random upstream gradient (float64
tight, float32), the gradient at every kink and at +-inf and NaN exactly as torch's backward,
float16 within torch's own distance from the float64 result, reprs, state-dict keys and errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn

RTOL = {np.float64: 1e-10, np.float32: 2e-5}

# (id, ours, torch's name in torch.nn.functional, keyword arguments)
CASES = [
    ("relu6", F.relu6, "relu6", {}),
    ("hardtanh", F.hardtanh, "hardtanh", {}),
    ("hardtanh_-2_3", F.hardtanh, "hardtanh", {"min_val": -2.0, "max_val": 3.0}),
    ("hardtanh_equal", F.hardtanh, "hardtanh", {"min_val": 1.0, "max_val": 1.0}),
    ("hardsigmoid", F.hardsigmoid, "hardsigmoid", {}),
    ("hardswish", F.hardswish, "hardswish", {}),
    ("mish", F.mish, "mish", {}),
    ("selu", F.selu, "selu", {}),
    ("celu", F.celu, "celu", {}),
    ("celu_2", F.celu, "celu", {"alpha": 2.0}),
    ("celu_-0.5", F.celu, "celu", {"alpha": -0.5}),
    ("softsign", F.softsign, "softsign", {}),
    ("tanhshrink", F.tanhshrink, "tanhshrink", {}),
    ("softshrink", F.softshrink, "softshrink", {}),
    ("softshrink_0", F.softshrink, "softshrink", {"lambd": 0.0}),
    ("softshrink_2", F.softshrink, "softshrink", {"lambd": 2.0}),
    ("hardshrink", F.hardshrink, "hardshrink", {}),
    ("hardshrink_-1", F.hardshrink, "hardshrink", {"lambd": -1.0}),
    ("threshold", F.threshold, "threshold", {"threshold": 1.0, "value": -5.0}),
    ("glu", F.glu, "glu", {}),
    ("glu_0", F.glu, "glu", {"dim": 0}),
    ("softmin", F.softmin, "softmin", {"dim": 1}),
]
IDS = [c[0] for c in CASES]
# Every kink of every case above, exactly: the subgradient chosen there is part of the contract
KINKS = [0.0, -0.0, 6.0, -3.0, 3.0, -1.0, 1.0, -2.0, 2.0, 0.5, -0.5, 7.0, -7.0, 1e-9, -1e-9]
SPECIAL = [np.nan, np.inf, -np.inf, 40.0, -40.0, 1e4, -1e4]


def _run(torch, ours, name, kw, a, g=None):
    """(our output, our input gradient, torch's output, torch's input gradient) under the
    upstream gradient ``g`` (a random one by default)."""
    theirs = getattr(torch.nn.functional, name)
    x, t = Tensor(a.copy(), requires_grad=True), torch.tensor(a.copy(), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # inf - inf and the like, in both
        out = ours(x, **kw)
        if g is None:
            g = np.random.default_rng(7).standard_normal(out.shape).astype(a.dtype)
        out.backward(Tensor(g))
    ref = theirs(t, **kw)
    ref.backward(torch.tensor(g))
    return out, x.grad, ref.detach().numpy(), t.grad.numpy()


def _points(rng, dtype, extra=()):
    a = np.concatenate([KINKS, extra, rng.standard_normal(60 - len(KINKS) - len(extra)) * 4])
    return a.reshape(6, 10).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_values_and_gradients_as_torch(torch, case, dtype):
    _, ours, name, kw = case
    rng = np.random.default_rng(len(case[0]))
    a = _points(rng, dtype)
    out, grad, ref, tgrad = _run(torch, ours, name, kw, a)
    assert out.dtype == dtype and grad.dtype == dtype
    tol = dict(rtol=RTOL[dtype], atol=RTOL[dtype] * 10, equal_nan=False)
    np.testing.assert_allclose(out.numpy(), ref, **tol)
    np.testing.assert_allclose(grad.numpy(), _exact_sixth(name, tgrad), **tol)


def _exact_sixth(name, tgrad):
    """torch's hardsigmoid backward multiplies by 1/6 rounded to float32, in float64 too: 3e-8
    off the exact 1/6 that ours takes (float64 only; in float32 it is 1/6)."""
    if name != "hardsigmoid" or tgrad.dtype != np.float64:
        return tgrad
    return tgrad * ((1 / 6) / np.float64(np.float32(1 / 6)))


_POINTWISE = [c for c in CASES if c[2] not in ("glu", "softmin")]


@pytest.mark.parametrize("case", _POINTWISE, ids=[c[0] for c in _POINTWISE])
def test_kinks_inf_and_nan_as_torch_exactly(torch, case):
    # At a kink the two sides differ by a whole unit: equal to the bit where torch is exact.
    # One element at a time: at NaN, torch's scalar kernel (the ternaries of its source, which
    # ours follow) and its vectorized one (0 for hardtanh and the shrinks, NaN for the elus and
    # hardswish) disagree; at the kinks and +-inf they agree (test above: vectorized).
    _, ours, name, kw = case
    a = np.array(KINKS + SPECIAL)
    g = np.linspace(1.0, 2.0, a.size)
    out, grad, _, _ = _run(torch, ours, name, kw, a, g)
    each = [_run(torch, ours, name, kw, a[i:i + 1], g[i:i + 1]) for i in range(a.size)]
    ref, tgrad = (np.concatenate([e[k] for e in each]) for k in (2, 3))
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-300, equal_nan=True)
    np.testing.assert_allclose(grad.numpy(), _exact_sixth(name, tgrad), rtol=1e-12, atol=1e-300,
                               equal_nan=True)
    assert np.array_equal(np.signbit(out.numpy()[ref == 0]), np.signbit(ref[ref == 0]))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float16_within_torchs_distance_from_float64(torch, case):
    _, ours, name, kw = case
    rng = np.random.default_rng(3)
    a = _points(rng, np.float16)
    out, grad, ref, tgrad = _run(torch, ours, name, kw, a)
    g = np.random.default_rng(7).standard_normal(out.shape).astype(np.float16)
    _, _, ref64, tgrad64 = _run(torch, ours, name, kw, a.astype(np.float64), g.astype(np.float64))
    assert out.dtype == np.float16 and grad.dtype == np.float16

    def ulps(v, exact):
        v, exact = np.asarray(v)[np.abs(exact) < 65504], exact[np.abs(exact) < 65504]  # in range
        unit = np.maximum(np.spacing(np.abs(exact).astype(np.float16)).astype(np.float64),
                          2.0 ** -24)
        return np.max(np.abs(np.asarray(v, np.float64) - exact) / unit)
    assert ulps(out.numpy(), ref64) <= ulps(ref, ref64) + 0.5
    assert ulps(grad.numpy(), tgrad64) <= ulps(tgrad, tgrad64) + 0.5


@pytest.mark.parametrize("fn", [F.mish, F.selu, F.celu, F.softsign, F.tanhshrink, F.glu,
                                lambda x: F.softmin(x, 0), F.hardswish])
def test_second_derivatives_by_finite_differences(fn):
    # away from the kinks: every derivative is the tape's
    x = Tensor(np.linspace(-2.3, 2.7, 6), requires_grad=True)
    assert tg.gradcheck(fn, [x])
    assert tg.gradgradcheck(fn, [x])


# ---- prelu ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("xshape,wshape", [((3, 4, 5), (4,)), ((3, 4, 5), (1,)), ((2, 3), (3,)),
                                           ((2, 3, 2, 2), (3,)), ((5,), (1,)), ((), (1,)),
                                           ((2, 3), ())])
def test_prelu_values_and_both_gradients_as_torch(torch, xshape, wshape, dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(xshape).astype(dtype)
    if a.size:
        a.flat[::3] = 0.0  # the kink: its input gradient is the weight, as torch's
    w = rng.standard_normal(wshape).astype(dtype)
    x, wt = Tensor(a, requires_grad=True), Tensor(w, requires_grad=True)
    tx, tw = torch.tensor(a, requires_grad=True), torch.tensor(w, requires_grad=True)
    out, ref = F.prelu(x, wt), torch.nn.functional.prelu(tx, tw)
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(Tensor(g))
    ref.backward(torch.tensor(g))
    tol = dict(rtol=RTOL[dtype], atol=RTOL[dtype])
    assert out.dtype == dtype and out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **tol)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), **tol)
    np.testing.assert_allclose(wt.grad.numpy(), tw.grad.numpy(), **tol)


def test_prelu_gradients_at_inf_and_nan_as_torch(torch):
    # the weight's gradient at +inf is 0, as torch's (0 * inf from the branch not taken would
    # make it NaN); at NaN both take the weight's side
    a = np.array([[np.inf, -np.inf, np.nan, 0.0, 2.0]])
    x, w = Tensor(a, requires_grad=True), Tensor(np.array([0.3]), requires_grad=True)
    F.prelu(x, w).backward(Tensor(np.ones_like(a)))
    tx = torch.tensor(a, requires_grad=True)
    tw = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.prelu(tx, tw).backward(torch.ones(a.shape, dtype=torch.float64))
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_array_equal(w.grad.numpy(), tw.grad.numpy())


# ---- layers ---------------------------------------------------------------------------------

LAYERS = [
    ("ReLU6", (), {}), ("Hardtanh", (), {}), ("Hardtanh", (-2, 3), {}),
    ("Hardtanh", (), {"min_val": -0.5, "max_val": 2.5}), ("Hardsigmoid", (), {}),
    ("Hardswish", (), {}), ("Mish", (), {}), ("SELU", (), {}), ("CELU", (), {}),
    ("CELU", (2,), {}), ("Softsign", (), {}), ("Tanhshrink", (), {}), ("Softshrink", (), {}),
    ("Softshrink", (1.5,), {}), ("Hardshrink", (0.3,), {}), ("Threshold", (0.1, 20), {}),
    ("PReLU", (), {}), ("PReLU", (4, 0.1), {}), ("GLU", (), {}), ("GLU", (1,), {}),
    ("Softmin", (1,), {}), ("Softmax2d", (), {}),
]


@pytest.mark.parametrize("name,args,kw", LAYERS, ids=[f"{n}{a}{kw}" for n, a, kw in LAYERS])
def test_layers_as_torch(torch, name, args, kw):
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[k].numpy(), v.numpy())
    a = np.random.default_rng(0).standard_normal((2, 4, 3, 2)).astype(np.float32)
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = ours(x), theirs(t)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=2e-6, atol=1e-7)
    for (k, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=2e-5, err_msg=k)


def test_prelu_layer_dtype_and_reset():
    m = nn.PReLU(3, init=0.5, dtype=np.float64)
    assert m.weight.dtype == np.float64 and m.weight.requires_grad
    m.weight.data[...] = 2.0
    m.reset_parameters()
    np.testing.assert_array_equal(m.weight.numpy(), [0.5, 0.5, 0.5])
    with pytest.raises(TypeError, match="float64"):
        m(Tensor(np.ones((2, 3), np.float32)))


@pytest.mark.parametrize("name", ["ReLU", "LeakyReLU", "SiLU", "ELU", "ReLU6", "Hardtanh",
                                  "Hardsigmoid", "Hardswish", "Mish", "SELU", "CELU"])
def test_inplace_true_writes_the_input_as_torch(torch, name):
    a = np.random.default_rng(3).standard_normal((3, 4)) * 4
    ours, theirs = getattr(nn, name)(inplace=True), getattr(torch.nn, name)(inplace=True)
    assert repr(ours) == repr(theirs) and ours.inplace is True
    x, tx = Tensor(a.copy()), torch.tensor(a.copy())
    assert ours(x) is x  # nothing recorded: written into the input, as torch
    theirs(tx)
    np.testing.assert_allclose(x.data, tx.numpy(), rtol=1e-12, atol=1e-12)
    f = getattr(F, name.lower() if name != "LeakyReLU" else "leaky_relu")
    y = Tensor(a.copy())
    assert f(y, inplace=True) is y and np.array_equal(y.data, x.data)
    # on the tape: written into the input too, the write recorded, torch's gradient
    w, tw = Tensor(a.copy(), requires_grad=True), torch.tensor(a.copy(), requires_grad=True)
    h = w * 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ours(h)
    assert out is h
    tout = theirs(tw * 1.0)
    up = np.random.default_rng(4).standard_normal(a.shape)
    out.backward(Tensor(up))
    tout.backward(torch.tensor(up))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    tol = 1e-7 if name == "Hardsigmoid" else 1e-12  # torch's 1/6 in float32 (api.md)
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=tol, atol=tol)
    with pytest.raises(TypeError, match="inplace"):
        f(Tensor(a), inplace="yes")


def test_softmin_implicit_dim_warns_as_torch(torch):
    a = np.random.default_rng(0).standard_normal((2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        ours = nn.Softmin()(Tensor(a))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        ref = torch.nn.Softmin()(torch.tensor(a))
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)
    out = F.softmin(Tensor(a.astype(np.float32)), 0, dtype=np.float64)
    assert out.dtype == np.float64


# ---- errors ---------------------------------------------------------------------------------

def _torch_raises(torch, fn):
    try:
        fn()
    except (RuntimeError, ValueError, IndexError, AssertionError):
        return True
    return False


ERRORS = [
    ("hardtanh min > max", lambda F, x: F.hardtanh(x, 2.0, 1.0), ValueError, "min_val"),
    ("softshrink lambd < 0", lambda F, x: F.softshrink(x, -1.0), ValueError, "lambd"),
    ("celu alpha 0", lambda F, x: F.celu(x, 0.0), ValueError, "alpha"),
    ("glu odd", lambda F, x: F.glu(x), ValueError, "Halving dimension must be even"),
    ("glu scalar", lambda F, x: F.glu(x[0, 0]), ValueError, "scalars"),
    ("glu dim", lambda F, x: F.glu(x, 2), ValueError, "dim"),
    ("prelu channels", lambda F, x: F.prelu(x, x[:, 0]), ValueError, "channel size"),
    ("prelu 2-D weight", lambda F, x: F.prelu(x, x[:1, :1]), ValueError, "1D"),
    ("softmin dim", lambda F, x: F.softmin(x, 3), ValueError, "dim"),
]


@pytest.mark.parametrize("what,call,exc,match", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_where_torch_raises(torch, what, call, exc, match):
    a = np.ones((2, 3))
    with pytest.raises(exc, match=match):
        call(F, Tensor(a))
    assert _torch_raises(torch, lambda: call(torch.nn.functional, torch.tensor(a)))


@pytest.mark.parametrize("call", [
    lambda: F.hardtanh(np.ones(2)), lambda: F.mish(Tensor(np.ones(2, np.int64))),
    lambda: F.hardtanh(Tensor(np.ones(2)), "a"), lambda: F.threshold(Tensor(np.ones(2)), 1, None),
    lambda: F.prelu(Tensor(np.ones(2)), np.ones(1)),
    lambda: F.prelu(Tensor(np.ones(2)), Tensor(np.ones(1, np.float32))),
    lambda: F.softshrink(Tensor(np.ones(2)), "0.5"), lambda: nn.Hardtanh("a"),
    lambda: nn.PReLU(1.5), lambda: nn.PReLU(2, init="x"),
])
def test_type_errors(call):
    with pytest.raises(TypeError):
        call()


def test_layer_construction_errors(torch):
    with pytest.raises(ValueError, match="greater than min_val"):
        nn.Hardtanh(1, 1)
    with pytest.raises(AssertionError):
        torch.nn.Hardtanh(1, 1)
    with pytest.raises(ValueError, match="3D or 4D"):
        nn.Softmax2d()(Tensor(np.ones((2, 3))))
    with pytest.raises(ValueError, match="num_parameters"):
        nn.PReLU(-1)
