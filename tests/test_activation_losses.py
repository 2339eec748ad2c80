"""Activations and losses of ``tinygrad_norm.functional``: forward and backward parity with
``torch.nn.functional`` (random upstream gradients, float64 rtol 1e-10 and float32), finite
differences in float64, PyTorch's error conditions, and the composites' scopes."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
import tinygrad_norm.nn  # noqa: F401  (tg.nn: run alone, nothing else imports it)
from tinygrad_norm import Tensor

RTOL = {np.float64: 1e-10, np.float32: 2e-5}
DTYPES = [np.float64, np.float32]


def _close(actual, expected, rtol, what):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = np.abs(expected[np.isfinite(expected)])
    atol = rtol * max(1.0, float(scale.max())) if scale.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=False,
                               err_msg=what)


def parity(torch, tg_fn, torch_fn, arrays, dtype, diff=None, seed=0, consts=()):
    """Compare tg_fn(*tensors, *consts) with torch_fn(*torch tensors, *torch consts): forward,
    dtype and the gradient of each differentiable input under a random upstream gradient."""
    rtol = RTOL[dtype]
    diff = [True] * len(arrays) if diff is None else diff
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    xs = [Tensor(a.copy(), requires_grad=d) for a, d in zip(arrays, diff)]
    ts = [torch.tensor(a.copy(), requires_grad=d) for a, d in zip(arrays, diff)]
    tconsts = [torch.from_numpy(np.array(c)) if isinstance(c, np.ndarray) else c for c in consts]
    out, ref = tg_fn(*xs, *consts), torch_fn(*ts, *tconsts)
    ref_np = ref.detach().numpy()
    assert out.dtype == ref_np.dtype, f"dtype {out.dtype} != torch {ref_np.dtype}"
    _close(out.numpy(), ref_np, rtol, "forward")
    if not any(diff):
        return out
    g = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    out.backward(g)
    wrt = [t for t, d in zip(ts, diff) if d]
    theirs = torch.autograd.grad(ref, wrt, torch.from_numpy(g.copy()), allow_unused=True)
    for x, tgrad in zip([x for x, d in zip(xs, diff) if d], theirs):
        expected = np.zeros(x.shape, dtype) if tgrad is None else tgrad.numpy()
        assert x.grad is not None and x.grad.dtype == x.dtype
        _close(x.grad.numpy(), expected, rtol, "gradient")
    return out


# ---- activations ----------------------------------------------------------------------------

def _with_kinks(rng, shape):
    x = rng.standard_normal(shape) * 2
    x.flat[::5] = 0.0  # exact zeros: the subgradient chosen at the kink is part of the contract
    return x


def _implicit(f, x):
    """f(x) with no dim, PyTorch's deprecated implicit choice (both libraries warn alike)."""
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        return f(x)


ACTIVATIONS = [
    ("relu", lambda x: F.relu(x), lambda t, x: t.nn.functional.relu(x)),
    ("leaky_relu", lambda x: F.leaky_relu(x), lambda t, x: t.nn.functional.leaky_relu(x)),
    ("leaky_relu_0.2", lambda x: F.leaky_relu(x, 0.2),
     lambda t, x: t.nn.functional.leaky_relu(x, 0.2)),
    ("sigmoid", F.sigmoid, lambda t, x: t.sigmoid(x)),
    ("tanh", F.tanh, lambda t, x: t.tanh(x)),
    ("softmax", lambda x: F.softmax(x, dim=1), lambda t, x: t.softmax(x, dim=1)),
    ("softmax_implicit", lambda x: _implicit(F.softmax, x),  # PyTorch's implicit dim choice
     lambda t, x: _implicit(t.nn.functional.softmax, x)),
    ("log_softmax", lambda x: F.log_softmax(x, dim=0), lambda t, x: t.log_softmax(x, dim=0)),
    ("gelu", F.gelu, lambda t, x: t.nn.functional.gelu(x)),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"),
     lambda t, x: t.nn.functional.gelu(x, approximate="tanh")),
    ("silu", F.silu, lambda t, x: t.nn.functional.silu(x)),
    ("elu", lambda x: F.elu(x, 0.7), lambda t, x: t.nn.functional.elu(x, 0.7)),
    ("softplus", F.softplus, lambda t, x: t.nn.functional.softplus(x)),
    ("softplus_beta", lambda x: F.softplus(x, beta=2.0, threshold=3.0),
     lambda t, x: t.nn.functional.softplus(x, beta=2.0, threshold=3.0)),
    ("logsigmoid", F.logsigmoid, lambda t, x: t.nn.functional.logsigmoid(x)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,ours,theirs", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_parity(torch, name, ours, theirs, dtype):
    rng = np.random.default_rng(len(name))
    x = _with_kinks(rng, (4, 5, 3))
    parity(torch, ours, lambda t: theirs(torch, t), [x], dtype)


def test_activations_stable_for_extreme_inputs(torch):
    x = np.array([-800.0, -50.0, 0.0, 50.0, 800.0])
    for ours, theirs in [(F.logsigmoid, torch.nn.functional.logsigmoid),
                         (F.softplus, torch.nn.functional.softplus),
                         (F.elu, torch.nn.functional.elu), (F.sigmoid, torch.sigmoid)]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no overflow warnings
            out = parity(torch, ours, theirs, [x], np.float64)
        assert np.isfinite(out.numpy()).all()


_POINTWISE = [a for a in ACTIVATIONS if "soft" not in a[0] and "gelu" not in a[0]]
_SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-9, -1e-9, -10.0, -17.0, -20.0, -100.0, 30.0]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,ours,theirs", _POINTWISE, ids=[a[0] for a in _POINTWISE])
def test_activation_gradients_at_special_values_as_torch(torch, name, ours, theirs, dtype):
    # NaN's gradient takes the branch torch's backward takes (relu and elu dropped it), and
    # the tails keep their digits (elu's gradient was exp(x) as expm1(x) + 1: 0 below -17.3)
    a = np.array(_SPECIAL, dtype)
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    g = np.linspace(1.0, 2.0, a.size).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = ours(x)
        out.backward(g)
    ref = theirs(torch, t)
    ref.backward(torch.tensor(g))
    # atol: torch flushes sigmoid(-100) in float32 (a subnormal) to 0; rtol: tanh's 1 - t^2
    # cancels at -10 in both, to a few 1e-9
    tol = dict(rtol=max(RTOL[dtype], 1e-8), atol=np.finfo(dtype).tiny)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **tol)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), **tol)


def test_gelu_erf_gradients_of_all_orders():
    x = Tensor(np.linspace(-3, 3, 7), requires_grad=True)
    assert tg.gradcheck(F.gelu, [x])
    assert tg.gradgradcheck(F.gelu, [x])
    assert F.gelu(Tensor(np.ones(3, np.float32))).dtype == np.float32


def test_erf_without_scipy_is_the_same(torch, monkeypatch):
    import sys
    from tinygrad_norm import ops
    x = np.linspace(-4, 4, 41)
    with_scipy = ops.Erf.forward(x)
    monkeypatch.setitem(sys.modules, "scipy.special", None)  # import fails: the math.erf path
    without = ops.Erf.forward(x)
    assert without.dtype == np.float64
    np.testing.assert_allclose(without, with_scipy, rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(without, torch.erf(torch.tensor(x)).numpy(), rtol=1e-15, atol=1e-16)


def test_linear_functional(torch):
    rng = np.random.default_rng(0)
    for dtype in DTYPES:
        parity(torch, F.linear, torch.nn.functional.linear,
               [rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)],
               dtype)
    with pytest.raises(ValueError, match="in_features 4"):
        F.linear(Tensor(np.ones((2, 3))), Tensor(np.ones((5, 4))))


def test_activation_errors():
    with pytest.raises(TypeError, match="Tensor"):
        F.relu(np.ones(3))
    with pytest.raises(TypeError, match="floating point"):
        F.sigmoid(Tensor(np.arange(3)))
    with pytest.raises(ValueError, match="dim 2 is out of range"):
        F.softmax(Tensor(np.ones((2, 3))), dim=2)
    with pytest.raises(TypeError, match="negative_slope"):
        F.leaky_relu(Tensor(np.ones(3)), "0.1")
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        F.gelu(Tensor(np.ones(3)), approximate="fast")


def test_softmax_dtype_argument(torch):
    x = Tensor(np.ones((2, 3), np.float32))
    assert F.softmax(x, dim=1, dtype=np.float64).dtype == np.float64
    # dtype= casts before the floating-point check: an integer input is fine then, as in torch
    i = np.array([[1, 2, 3], [0, 0, 5]])
    for ours, theirs in ((F.softmax, torch.softmax), (F.log_softmax, torch.log_softmax)):
        out = ours(Tensor(i), dim=1, dtype=np.float32)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.numpy(), theirs(torch.tensor(i), 1, dtype=torch.float32),
                                   rtol=1e-6)
        with pytest.raises(TypeError, match="floating point"):
            ours(Tensor(i), dim=1)


# ---- cross entropy and nll ---------------------------------------------------------------------

def _targets(rng, shape, c, ignore=None):
    t = rng.integers(0, c, size=shape)
    if ignore is not None:
        t.flat[::3] = ignore
    return t


CE_SHAPES = [((7,), ()), ((6, 5), (6,)), ((3, 4, 2, 3), (3, 2, 3))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("in_shape,t_shape", CE_SHAPES, ids=["unbatched", "2d", "4d"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.15, 1.0])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [False, True])
def test_cross_entropy_class_targets(torch, dtype, reduction, in_shape, t_shape, label_smoothing,
                                     weighted, ignore):
    rng = np.random.default_rng([len(in_shape), len(reduction), int(label_smoothing * 100),
                                 weighted, ignore])
    c = in_shape[0] if len(in_shape) == 1 else in_shape[1]
    x = rng.standard_normal(in_shape) * 3
    ignore_index = 2 if ignore else -100
    t = _targets(rng, t_shape, c, ignore_index if ignore and t_shape else None)
    if ignore and not t_shape:
        t = np.array(1)  # unbatched: one sample; ignoring it is the all-ignored test's job
    w = rng.uniform(0.5, 2.0, c) if weighted else None
    kw = dict(reduction=reduction, label_smoothing=label_smoothing, ignore_index=ignore_index)
    parity(torch,
           lambda a: F.cross_entropy(a, t, weight=None if w is None else Tensor(w.astype(dtype)), **kw),
           lambda a: torch.nn.functional.cross_entropy(
               a, torch.from_numpy(t), weight=None if w is None else torch.tensor(w, dtype=a.dtype),
               **kw),
           [x], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("in_shape", [(6, 5), (2, 4, 3)])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probability_targets(torch, dtype, reduction, in_shape, label_smoothing,
                                           weighted):
    rng = np.random.default_rng(7)
    x = rng.standard_normal(in_shape)
    p = rng.uniform(size=in_shape)
    p /= p.sum(axis=1, keepdims=True)
    w = rng.uniform(0.5, 2.0, in_shape[1]) if weighted else None
    kw = dict(reduction=reduction, label_smoothing=label_smoothing)
    # The target is differentiable too (PyTorch differentiates it; so does the tape).
    parity(torch,
           lambda a, b: F.cross_entropy(a, b, None if w is None else w, **kw),
           lambda a, b: torch.nn.functional.cross_entropy(
               a, b, None if w is None else torch.tensor(w, dtype=a.dtype), **kw),
           [x, p], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(torch, dtype, reduction, weighted):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 4))
    t = _targets(rng, (8,), 4, ignore=-1)
    w = rng.uniform(0.5, 2.0, 4) if weighted else None
    parity(torch,
           lambda a: F.nll_loss(a, Tensor(t), w, ignore_index=-1, reduction=reduction),
           lambda a: torch.nn.functional.nll_loss(
               a, torch.from_numpy(t), None if w is None else torch.tensor(w, dtype=a.dtype),
               ignore_index=-1, reduction=reduction),
           [x], dtype)


def test_cross_entropy_all_ignored_is_nan_like_torch(torch):
    x = np.random.default_rng(0).standard_normal((3, 4))
    t = np.full(3, -100)
    for ls in (0.0, 0.1):
        ours = F.cross_entropy(Tensor(x), t, label_smoothing=ls)
        ref = torch.nn.functional.cross_entropy(torch.tensor(x), torch.from_numpy(t),
                                                label_smoothing=ls)
        assert np.isnan(ours.item()) and np.isnan(ref.item())


def test_cross_entropy_extreme_logits_stay_finite(torch):
    x = np.array([[1000.0, -1000.0, 0.0], [-1e4, 1e4, 3.0]])
    t = np.array([1, 0])
    out = parity(torch, lambda a: F.cross_entropy(a, t, label_smoothing=0.1),
                 lambda a: torch.nn.functional.cross_entropy(a, torch.from_numpy(t),
                                                             label_smoothing=0.1),
                 [x], np.float64)
    assert np.isfinite(out.item())


def test_cross_entropy_gradcheck():
    rng = np.random.default_rng(5)
    x = Tensor(rng.standard_normal((5, 4)), requires_grad=True)
    t = np.array([0, 3, 1, -100, 2])
    w = Tensor(rng.uniform(0.5, 2.0, 4))
    assert tg.gradcheck(lambda a: F.cross_entropy(a, t, w, label_smoothing=0.1), [x])
    assert tg.gradcheck(lambda a: F.cross_entropy(a, t, reduction="none"), [x])
    x4 = Tensor(rng.standard_normal((2, 3, 2, 2)), requires_grad=True)
    t4 = rng.integers(0, 3, (2, 2, 2))
    assert tg.gradcheck(lambda a: F.cross_entropy(a, t4, reduction="sum"), [x4])
    p = Tensor(rng.uniform(size=(5, 4)), requires_grad=True)
    assert tg.gradcheck(lambda a, b: F.cross_entropy(a, b, label_smoothing=0.3), [x, p])
    assert tg.gradgradcheck(lambda a: F.cross_entropy(a, t, w), [x])


def test_cross_entropy_records_a_scope_and_gathers_without_matmul():
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    loss = F.cross_entropy(x, np.array([0, 1, 2, 0]))
    names, node = set(), loss.grad_fn
    stack = [node]
    while stack:
        n = stack.pop()
        assert n.scope is not None and n.scope.name == "cross_entropy"
        assert n.scope.args["reduction"] == "mean"
        names.add(n.name)
        stack.extend(i.grad_fn for i in n.inputs if isinstance(i, Tensor) and i.grad_fn)
    # the usual batch picks in one nll_loss primitive; others (here: class weights) by indexing
    assert "nll_loss" in names and "log_softmax" in names and "matmul" not in names
    loss = F.cross_entropy(x, np.array([0, 1, 2, 0]), np.array([1.0, 2.0, 0.5]))
    names, stack = set(), [loss.grad_fn]
    while stack:
        n = stack.pop()
        assert n.scope is not None and n.scope.name == "cross_entropy"
        names.add(n.name)
        stack.extend(i.grad_fn for i in n.inputs if isinstance(i, Tensor) and i.grad_fn)
    assert "getitem" in names and "nll_loss" not in names and "matmul" not in names


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nll_primitive_equals_the_composite_bit_for_bit(reduction, dtype):
    """The usual batch (no weights, no target equal to ignore_index) goes through the nll_loss
    primitive; the same batch with an absent ignore_index inside the targets' range goes through
    the general composite (pick, negate, reduce). Same loss and gradient, bit for bit."""
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((9, 5)) * 4).astype(dtype)
    t = np.array([0, 4, 4, 0, 2, 4, 0, 2, 0])  # no 1 nor 3: ignore_index=1 ignores nothing
    results = []
    for ignore_index in (-100, 1):
        a = Tensor(x, requires_grad=True)
        loss = F.cross_entropy(a, t, reduction=reduction, ignore_index=ignore_index)
        names = {loss.grad_fn.name}
        loss.backward()
        results.append((loss.numpy(), a.grad.numpy(), names))
    (l1, g1, n1), (l2, g2, n2) = results
    assert n1 == {"nll_loss"} and n2 != {"nll_loss"}  # each path really taken
    assert l1.dtype == g1.dtype == dtype
    assert l1.tobytes() == l2.tobytes() and g1.tobytes() == g2.tobytes()


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_nll_primitive_loss_of_zero_is_plus_zero_like_torch(torch, reduction):
    """Every picked log-probability exactly 0 (one class, or margins that round log_softmax to
    0): the loss is +0.0, as in PyTorch and the composite; -sum(picked) would give -0.0."""
    cases = [(np.zeros((3, 1)), np.zeros(3, dtype=np.int64)),
             (np.array([[100.0, 0.0, 0.0], [0.0, 0.0, 100.0]]), np.array([0, 2])),
             (np.array([[-0.0, -200.0], [-0.0, -300.0]]), np.array([0, 0]))]
    for x, t in cases:
        for dtype in (np.float32, np.float64):
            a = Tensor(x.astype(dtype), requires_grad=True)
            loss = F.cross_entropy(a, t, reduction=reduction)
            assert loss.grad_fn.name == "nll_loss"
            ref = torch.nn.functional.cross_entropy(torch.tensor(x.astype(dtype)),
                                                    torch.from_numpy(t), reduction=reduction)
            assert loss.item() == 0.0 and np.signbit(loss.item()) == np.signbit(ref.item())


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64])
def test_narrow_integer_targets_with_many_classes_keep_their_meaning(torch, dtype):
    """The plain-batch test reads signed targets as unsigned in one reduction; a negative int8
    target (-100 is 156 as uint8) must not pass for a class when there are more classes than
    that. Ignored targets stay ignored and out-of-range ones stay an error."""
    rng = np.random.default_rng(13)
    x = rng.standard_normal((3, 300)).astype(np.float32)
    t = np.array([0, 1, -100], dtype=dtype)
    loss = F.cross_entropy(Tensor(x), t)
    ref = torch.nn.functional.cross_entropy(torch.tensor(x), torch.from_numpy(t.astype(np.int64)))
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-6)
    with pytest.raises(ValueError, match="Target -1 is out of bounds"):
        F.cross_entropy(Tensor(x), np.array([0, -1, 2], dtype=dtype))


def test_nll_primitive_gradcheck_and_second_order():
    rng = np.random.default_rng(12)
    x = Tensor(rng.standard_normal((6, 4)), requires_grad=True)
    t = np.array([3, 0, 1, 1, 2, 0])
    for reduction in ("mean", "sum"):
        f = lambda a, r=reduction: F.cross_entropy(a, t, reduction=r)
        assert f(x).grad_fn.name == "nll_loss"
        assert tg.gradcheck(f, [x]) and tg.gradgradcheck(f, [x])
        g = lambda a, r=reduction: F.nll_loss(a.log_softmax(1) * a, Tensor(t), reduction=r)
        assert tg.gradcheck(g, [x]) and tg.gradgradcheck(g, [x])


def test_cross_entropy_float32_stays_float32():
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32),
               requires_grad=True)
    w = np.array([1.0, 2.0, 0.5])  # float64 weights do not promote the float32 graph
    loss = F.cross_entropy(x, np.array([0, 1, 2, 0]), w, label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32


def test_cross_entropy_errors():
    x = Tensor(np.zeros((4, 3)))
    t = np.array([0, 1, 2, 0])
    with pytest.raises(ValueError, match="bogus is not a valid value for reduction"):
        F.cross_entropy(x, t, reduction="bogus")
    with pytest.raises(ValueError, match=r"Expected input batch_size \(4\) to match target "
                                         r"batch_size \(3\)"):
        F.cross_entropy(x, t[:3])
    with pytest.raises(ValueError, match="expected target of shape"):
        F.cross_entropy(Tensor(np.zeros((2, 3, 4))), np.zeros((2, 5), np.int64))
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        F.cross_entropy(x, np.array([0, 1, 3, 0]))
    with pytest.raises(ValueError, match="Target -1 is out of bounds"):
        F.nll_loss(x, np.array([0, -1, 2, 0]))
    with pytest.raises(TypeError, match="integer"):
        F.cross_entropy(x, Tensor([0, 1, 2, 0]))  # a float tensor of labels: the hint says why
    with pytest.raises(ValueError, match="input's shape"):
        F.cross_entropy(x, np.zeros((4, 4)))
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, t, label_smoothing=1.5)
    with pytest.raises(ValueError, match="weight should be defined either for all 3 classes"):
        F.cross_entropy(x, t, weight=np.ones(4))
    with pytest.raises(TypeError, match="deprecated"):
        F.cross_entropy(x, t, None, True)
    with pytest.raises(TypeError, match="floating point"):
        F.cross_entropy(Tensor(np.zeros((4, 3), np.int64)), t)
    with pytest.raises(ValueError, match="at least one dimension"):
        F.nll_loss(Tensor(np.array(1.0)), np.array(0))


# ---- regression and binary losses --------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_losses(torch, dtype, reduction, name, weighted):
    rng = np.random.default_rng(11)
    x, y = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    y[0, :2] = x[0, :2]  # l1's kink: gradient 0 where input == target, as torch
    w = rng.uniform(0.1, 2.0, (4, 5)) if weighted else None
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)
    parity(torch, lambda a, b: ours(a, b, reduction=reduction, weight=None if w is None else w),
           lambda a, b: theirs(a, b, reduction=reduction,
                               weight=None if w is None else torch.tensor(w, dtype=a.dtype)),
           [x, y], dtype)


def test_mse_loss_broadcast_warns_like_torch(torch):
    with pytest.warns(UserWarning, match="different to the input size"):
        out = F.mse_loss(Tensor(np.ones((3, 2))), Tensor(np.zeros(2)))
    assert out.item() == 1.0
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        F.mse_loss(Tensor(np.ones(3)), Tensor(np.zeros(3)), weight=np.ones(2))
    # a float32 target promotes, as torch's (float64 here); a bool one is refused
    assert F.mse_loss(Tensor(np.ones(3)), Tensor(np.zeros(3, np.float32))).dtype == np.float64
    with pytest.raises(TypeError, match="target must be floating point, got dtype bool"):
        F.mse_loss(Tensor(np.ones(3)), Tensor(np.zeros(3, bool)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_bce_with_logits(torch, dtype, reduction, weighted, pos_weighted):
    rng = np.random.default_rng(13)
    x = rng.standard_normal((6, 3)) * 4
    x[0] = [0.0, 60.0, -60.0]  # the kink of |x| at 0 and saturated logits
    t = rng.uniform(size=(6, 3))
    w = rng.uniform(0.5, 2.0, (6, 1)) if weighted else None
    pw = rng.uniform(0.5, 3.0, 3) if pos_weighted else None
    parity(torch,
           lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, reduction=reduction,
                                                           pos_weight=pw),
           lambda a, b: torch.nn.functional.binary_cross_entropy_with_logits(
               a, b, None if w is None else torch.tensor(w, dtype=a.dtype), reduction=reduction,
               pos_weight=None if pw is None else torch.tensor(pw, dtype=a.dtype)),
           [x, t], dtype)


def test_bce_with_logits_huge_logits_finite(torch):
    x = Tensor(np.array([-1e4, -800.0, 800.0, 1e4]), requires_grad=True)
    t = Tensor(np.array([1.0, 0.0, 1.0, 0.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy_with_logits(x, t, reduction="sum")
        loss.backward()
    ref = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(x.numpy()), torch.tensor(t.numpy()), reduction="sum")
    _close(loss.numpy(), ref.numpy(), 1e-12, "huge logits")
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 0.0, 0.0, 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy(torch, dtype, reduction):
    rng = np.random.default_rng(17)
    p = rng.uniform(0.05, 0.95, (5, 4))
    t = rng.uniform(size=(5, 4))
    w = rng.uniform(0.5, 2.0, 4)
    parity(torch, lambda a, b: F.binary_cross_entropy(a, b, w, reduction=reduction),
           lambda a, b: torch.nn.functional.binary_cross_entropy(
               a, b, torch.tensor(w, dtype=a.dtype), reduction=reduction),
           [p, t], dtype)


def test_binary_cross_entropy_clamps_log_at_minus_100(torch):
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    x = Tensor(p, requires_grad=True)
    loss = F.binary_cross_entropy(x, Tensor(t), reduction="none")
    ref = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(t),
                                                   reduction="none")
    _close(loss.numpy(), ref.numpy(), 1e-12, "clamped")
    loss.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()  # no 0/0 at the clamp (PyTorch: +-1e12 there)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(Tensor(np.array([1.5])), Tensor(np.array([1.0])))


def test_regression_and_bce_gradcheck():
    rng = np.random.default_rng(19)
    a = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = Tensor(rng.uniform(size=(3, 4)), requires_grad=True)
    pw = rng.uniform(0.5, 2.0, 4)
    assert tg.gradcheck(lambda x, y: F.mse_loss(x, y), [a, b])
    assert tg.gradcheck(lambda x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw),
                        [a, b])
    assert tg.gradcheck(lambda x, y: F.binary_cross_entropy(x, y),
                        [Tensor(rng.uniform(0.1, 0.9, (3, 4)), requires_grad=True), b])
    assert tg.gradgradcheck(lambda x, y: F.binary_cross_entropy_with_logits(x, y), [a, b])


@pytest.mark.parametrize("fn", ["mse_loss", "l1_loss", "binary_cross_entropy_with_logits",
                                "binary_cross_entropy"])
def test_bad_reduction_named(fn):
    x = Tensor(np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="average is not a valid value for reduction"):
        getattr(F, fn)(x, Tensor(np.zeros((2, 2))), reduction="average")


# ---- found by a bug hunt: curvature at the kink, and the tails --------------------------------

@pytest.mark.parametrize("name", ["softplus", "softplus_beta", "logsigmoid", "bce_logits"])
def test_second_derivative_at_zero_matches_torch(torch, name):
    """The stable forms have kinks (|x|, max) that cancel in value; their derivatives at exactly
    0 must still be the smooth function's (softplus'' = 0.25 beta, logsigmoid'' = -0.25). A
    zero-initialized last layer puts every logit there."""
    tf = torch.nn.functional
    fns = {
        "softplus": (F.softplus, tf.softplus),
        "softplus_beta": (lambda x: F.softplus(x, beta=2.0), lambda t: tf.softplus(t, beta=2.0)),
        "logsigmoid": (F.logsigmoid, tf.logsigmoid),
        "bce_logits": (lambda x: F.binary_cross_entropy_with_logits(x, Tensor(np.full(3, 0.3)),
                                                                    reduction="sum"),
                       lambda t: tf.binary_cross_entropy_with_logits(t, torch.full((3,), 0.3,
                                                                     dtype=torch.float64),
                                                                     reduction="sum"))}
    fn, tfn = fns[name]
    a = np.array([0.0, -0.0, 0.7])
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = fn(x), tfn(t)
    g = np.ones(out.shape)
    (gx,) = tg.grad(out, [x], grad_outputs=g, create_graph=True)
    (gt,) = torch.autograd.grad(ref, [t], torch.ones(ref.shape, dtype=torch.float64),
                                create_graph=True)
    (hx,) = tg.grad(gx, [x], grad_outputs=np.ones(3))
    (ht,) = torch.autograd.grad(gt, [t], torch.ones(3, dtype=torch.float64))
    np.testing.assert_allclose(gx.numpy(), gt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(hx.numpy(), ht.numpy(), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_logsigmoid_elu_keep_their_tails(torch, dtype):
    """log1p and expm1: softplus(-17) was 0 in float32 and elu(-1e-9) was 0."""
    tf = torch.nn.functional
    far = np.array([-10.0, -17.0, -20.0, -40.0, 0.0, 3.0], dtype)
    near = np.array([-1e-5, -1e-7, -1e-9, -1e-12, -3.0, 2.0], dtype)
    cases = ((F.softplus, tf.softplus, far), (lambda x: F.softplus(x, beta=3.0),
                                               lambda t: tf.softplus(t, beta=3.0), far),
             (F.logsigmoid, tf.logsigmoid, -far), (F.elu, tf.elu, near))
    for fn, tfn, a in cases:
        np.testing.assert_allclose(fn(Tensor(a)).numpy(), tfn(torch.from_numpy(a)).numpy(),
                                   rtol=4e-7 if dtype == np.float32 else 1e-13, atol=0)


# ---- from a losses bug hunt against torch 2.13 ---------------------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_empty_batch_with_spatial_axes_as_torch(torch, fn, reduction):
    x = np.zeros((0, 3, 4))
    t = np.zeros((0, 4), np.int64)
    ours = getattr(F, fn)(Tensor(x, requires_grad=True), Tensor(t), reduction=reduction)
    theirs = getattr(torch.nn.functional, fn)(torch.tensor(x), torch.tensor(t),
                                              reduction=reduction)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())  # was a NumPy IndexError


def test_losses_of_an_empty_input_are_nan_without_warnings(torch):
    import warnings
    x, y = Tensor(np.zeros((0, 2))), Tensor(np.zeros((0, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Mean of empty slice" from inside NumPy before
        for loss in (F.mse_loss(x, y), F.l1_loss(x, y), F.binary_cross_entropy(x, y),
                     F.binary_cross_entropy_with_logits(x, y),
                     F.cross_entropy(Tensor(np.zeros((0, 3))), np.zeros(0, np.int64)),
                     F.mse_loss(Tensor(np.ones(2)), Tensor(np.zeros(2)), weight=np.zeros(2))):
            assert np.isnan(loss.item())


def test_binary_cross_entropy_checks_input_and_target_as_torch(torch):
    good = np.array([0.3, 0.2])
    for x, y, what in ((np.array([np.nan, 0.5]), good, "input"),
                       (np.array([0.5, 0.5]), np.array([1.5, -0.5]), "target"),
                       (np.array([0.5, 0.5]), np.array([np.nan, 0.5]), "target")):
        with pytest.raises(RuntimeError, match=f"elements of {what} should be between 0 and 1"):
            torch.nn.functional.binary_cross_entropy(torch.tensor(x), torch.tensor(y))
        with pytest.raises(ValueError, match=f"elements of {what} should be between 0 and 1"):
            F.binary_cross_entropy(Tensor(x), Tensor(y))


def test_probability_targets_refuse_a_class_to_ignore_as_torch(torch):
    x, p = np.zeros((2, 3)), np.full((2, 3), 1 / 3)
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point"):
        torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(p), ignore_index=0)
    with pytest.raises(ValueError, match="ignore_index is not supported for floating point"):
        F.cross_entropy(Tensor(x), Tensor(p), ignore_index=0)
    F.cross_entropy(Tensor(x), Tensor(p), ignore_index=-1)  # negative: nothing to ignore, as torch


@pytest.mark.parametrize("call", [
    lambda x, y, w: F.binary_cross_entropy_with_logits(x, y, weight=w),
    lambda x, y, w: F.binary_cross_entropy_with_logits(x, y, pos_weight=w),
    lambda x, y, w: F.binary_cross_entropy(x * 0 + 0.5, y, weight=w)])
def test_a_weight_bigger_than_the_input_is_refused_as_torch(call):
    x, y = Tensor(np.zeros(4)), Tensor(np.zeros(4))
    with pytest.raises(ValueError, match=r"does not broadcast to the input's shape \(4,\)"):
        call(x, y, Tensor(np.ones((3, 4))))  # gave a (3, 4) loss for a (4,) input
    assert call(x, y, Tensor(np.ones(1))).shape == ()


@pytest.mark.parametrize("fn", [F.binary_cross_entropy, F.binary_cross_entropy_with_logits])
def test_bce_of_another_target_shape_is_an_error_without_a_broadcast_warning(fn):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the mse/l1 broadcasting warning came first
        with pytest.raises(ValueError, match="size"):
            fn(Tensor(np.full((4, 3), 0.5)), Tensor(np.ones((4, 1))))


def test_a_class_weight_of_another_float_dtype_is_refused_as_torch(torch):
    x, t = Tensor(np.zeros((2, 3))), Tensor(np.array([0, 2]))
    for call in (lambda w: F.cross_entropy(x, t, weight=w), lambda w: F.nll_loss(x, t, weight=w)):
        with pytest.raises(TypeError, match="weight has dtype float32 but input has dtype float64"):
            call(Tensor(np.ones(3, np.float32)))
        call(np.ones(3, np.float32))  # an array or a list is converted
        call([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="weight has dtype float32"):
        tg.nn.CrossEntropyLoss(weight=[1.0, 2.0, 3.0])(x, t)  # torch: expected Double, got Float
    assert tg.nn.CrossEntropyLoss(weight=[1.0, 2.0, 3.0]).double()(x, t).dtype == np.float64


def test_one_hot_matches_torch(torch):
    y = np.array([[0, 3], [2, 2]])
    for n in (-1, 4, 6):
        ours = F.one_hot(Tensor(y), n)
        theirs = torch.nn.functional.one_hot(torch.tensor(y), n)
        assert ours.dtype == np.int64 and ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    assert F.one_hot(Tensor(np.zeros(0, np.int64)), 3).shape == (0, 3)
    assert F.one_hot(Tensor(np.array([1], np.uint8))).data.tolist() == [[0, 1]]
    for bad, error, match in [(Tensor(np.array([-1, 0])), ValueError, "non-negative"),
                              (Tensor(np.array([[0.0, 1.0]])), TypeError, "integer class"),
                              (np.array([0, 1]), TypeError, "integer class"),
                              (Tensor(np.zeros(0, np.int64)), ValueError, "Can not infer")]:
        with pytest.raises(error, match=match):
            F.one_hot(bad)
    with pytest.raises(ValueError, match="smaller than num_classes"):
        F.one_hot(Tensor(y), 3)
    with pytest.raises(TypeError, match="num_classes must be an int"):
        F.one_hot(Tensor(y), 4.0)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "sigmoid", "silu", "elu",
                                  "logsigmoid", "softplus", "gelu"])
def test_float16_activations_round_once_as_torch(torch, name):
    # computed in float16 step by step, softmax was 8 ulps off, sigmoid(2) 0.8804 (torch
    # 0.881) and silu's gradient 500 ulps off (a bug hunter's finding); in float32 and rounded
    # once they are as close to the float64 result as torch's own
    import tinygrad_norm.functional as F
    x = (np.random.default_rng(0).standard_normal((50, 40)) * 4).astype(np.float16)
    g = np.random.default_rng(1).standard_normal((50, 40)).astype(np.float16)
    kw = {"dim": -1} if "softmax" in name else {}
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)
    X, T = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    T64 = torch.tensor(x.astype(np.float64), requires_grad=True)
    y, ty, y64 = ours(X, **kw), theirs(T, **kw), theirs(T64, **kw)
    y.backward(Tensor(g))
    ty.backward(torch.tensor(g))
    y64.backward(torch.tensor(g.astype(np.float64)))
    assert y.dtype == np.float16 and X.grad.dtype == np.float16

    def ulps(v, ref):
        unit = np.maximum(np.spacing(np.abs(ref).astype(np.float16)).astype(np.float64), 2.0**-24)
        return np.max(np.abs(np.asarray(v, np.float64) - ref) / unit)
    ref, gref = y64.detach().numpy(), T64.grad.numpy()
    assert ulps(y.numpy(), ref) <= ulps(ty.detach().numpy(), ref) + 0.5
    assert ulps(X.grad.numpy(), gref) <= ulps(T.grad.numpy(), gref) + 0.5


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("in_shape", [(4,), (3, 4), (2, 4, 3)])
def test_a_class_weight_that_requires_grad_gets_its_gradient_with_probabilities(
        torch, reduction, label_smoothing, in_shape):
    # it was read as a constant array: no gradient and no error (the hunt's finding #4)
    rng = np.random.default_rng(41)
    x = rng.standard_normal(in_shape)
    cdim = 0 if len(in_shape) == 1 else 1
    p = rng.uniform(size=in_shape)
    p /= p.sum(axis=cdim, keepdims=True)
    w = rng.uniform(0.5, 2.0, 4)
    up = rng.standard_normal(in_shape[:cdim] + in_shape[cdim + 1:]) if reduction == "none" \
        else np.array(rng.standard_normal())
    a, tw = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    out = F.cross_entropy(a, Tensor(p), weight=tw, reduction=reduction,
                          label_smoothing=label_smoothing)
    out.backward(Tensor(up))
    ta, ttw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(ta, torch.tensor(p), weight=ttw, reduction=reduction,
                                            label_smoothing=label_smoothing)
    ref.backward(torch.tensor(up))
    _close(out.numpy(), ref.detach().numpy(), 1e-12, "forward")
    _close(tw.grad.numpy(), ttw.grad.numpy(), 1e-12, "weight gradient")
    _close(a.grad.numpy(), ta.grad.numpy(), 1e-12, "input gradient")
    assert tg.gradcheck(lambda xx, ww: F.cross_entropy(xx, Tensor(p), weight=ww,
                                                       label_smoothing=label_smoothing),
                        [Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)])


_NOT_DIFFERENTIABLE = "is not differentiable with respect to argument '{}'. This input cannot " \
                      "have requires_grad True"


@pytest.mark.parametrize("in_shape", [(4,), (3, 4), (2, 4, 3)])
@pytest.mark.parametrize("call", [
    lambda x, t, w: F.nll_loss(x, t, weight=w),
    lambda x, t, w: F.nll_loss(x, t, weight=w, reduction="none"),
    lambda x, t, w: F.cross_entropy(x, t, weight=w),
    lambda x, t, w: F.cross_entropy(x, t, weight=w, reduction="sum", label_smoothing=0.1),
    lambda x, t, w: tg.nn.CrossEntropyLoss(weight=w)(x, t)])
def test_a_class_weight_that_requires_grad_with_class_indices_is_refused_as_torch(
        torch, in_shape, call):
    # PyTorch's nll_loss kernel is not differentiable in the weight: it refuses (RuntimeError,
    # a ValueError here) where the weight was silently taken as a constant
    x = np.random.default_rng(42).standard_normal(in_shape)
    t = np.zeros(() if len(in_shape) == 1 else in_shape[:1] + in_shape[2:], np.int64)
    w = np.array([1.0, 2.0, 3.0, 4.0])
    kernel = "nll_loss_forward" if len(in_shape) <= 2 else "nll_loss2d_forward"
    msg = f"The function '{kernel}' " + _NOT_DIFFERENTIABLE.format("weight")
    with pytest.raises(RuntimeError, match=msg):
        torch.nn.functional.nll_loss(torch.tensor(x), torch.tensor(t),
                                     weight=torch.tensor(w, requires_grad=True))
    tw = Tensor(w, requires_grad=True)
    with pytest.raises(ValueError, match=msg):
        call(Tensor(x, requires_grad=True), Tensor(t), tw)
    with pytest.raises(ValueError, match=msg):  # whether or not the input requires grad
        call(Tensor(x), Tensor(t), tw)
    with tg.no_grad():  # as torch: no graph, nothing to refuse
        call(Tensor(x), Tensor(t), tw)
        with torch.no_grad():
            torch.nn.functional.nll_loss(torch.tensor(x), torch.tensor(t),
                                         weight=torch.tensor(w, requires_grad=True))
    call(Tensor(x, requires_grad=True), Tensor(t), tw.detach()).sum().backward()


@pytest.mark.parametrize("name, arg", [("binary_cross_entropy", "weight"),
                                       ("binary_cross_entropy_with_logits", "weight"),
                                       ("binary_cross_entropy_with_logits", "pos_weight")])
def test_a_bce_weight_that_requires_grad_is_refused_as_torch(torch, name, arg):
    # it got a gradient here, where PyTorch's kernels refuse it (they compute none)
    rng = np.random.default_rng(43)
    x, y, w = rng.uniform(0.1, 0.9, (3, 4)), rng.uniform(size=(3, 4)), rng.uniform(size=4)
    msg = f"The function '{name}' " + _NOT_DIFFERENTIABLE.format(arg)
    with pytest.raises(RuntimeError, match=msg):
        getattr(torch.nn.functional, name)(torch.tensor(x, requires_grad=True),
                                           torch.tensor(y),
                                           **{arg: torch.tensor(w, requires_grad=True)})
    with pytest.raises(ValueError, match=msg):
        getattr(F, name)(Tensor(x, requires_grad=True), Tensor(y),
                         **{arg: Tensor(w, requires_grad=True)})
    with tg.no_grad():
        getattr(F, name)(Tensor(x), Tensor(y), **{arg: Tensor(w, requires_grad=True)})


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_a_regression_weight_that_requires_grad_gets_its_gradient_as_torch(torch, name):
    rng = np.random.default_rng(44)
    x, y, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.uniform(size=(3, 4))
    tw = Tensor(w, requires_grad=True)
    getattr(F, name)(Tensor(x, requires_grad=True), Tensor(y), weight=tw).backward()
    ttw = torch.tensor(w, requires_grad=True)
    getattr(torch.nn.functional, name)(torch.tensor(x, requires_grad=True), torch.tensor(y),
                                       weight=ttw).backward()
    _close(tw.grad.numpy(), ttw.grad.numpy(), 1e-12, "weight gradient")
