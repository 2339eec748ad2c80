"""Every primitive of the engine, three ways:

* forward parity with NumPy, and forward + backward parity with PyTorch in float64 (rtol 1e-10) and
  float32 (rtol 1e-5), over hypothesis-drawn shapes, axes, keepdims, indices and broadcast pairs,
  always with a RANDOM upstream gradient (a ``.sum()`` upstream hides whole classes of bugs);
* finite-difference ``gradcheck`` and ``gradgradcheck`` in float64, at fixed small inputs;
* the kinks and ties where PyTorch's choice of subgradient is the contract (relu at 0, ties of
  maximum and max, clip at its bounds, pow at 0).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import tinygrad_norm as tg  # noqa: E402
from tinygrad_norm import Tensor  # noqa: E402
from tinygrad_norm.tensor import apply as _apply  # noqa: E402  (tg.tensor: the constructor)
import tinygrad_norm.functional as F  # noqa: E402

DTYPES = [np.float64, np.float32]
RTOL = {np.float64: 1e-10, np.float32: 1e-5}
NP_RTOL = {np.float64: 1e-12, np.float32: 1e-6}

seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)
pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4)
triples = hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3)


def _close(actual, expected, rtol, what):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    finite = np.abs(expected[np.isfinite(expected)])
    # Summation order differs between libraries: allow rtol relative to the largest magnitude too.
    atol = rtol * max(1.0, float(finite.max())) if finite.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=False,
                               err_msg=what)


def _tdtype(torch, dtype):
    return {np.float64: torch.float64, np.float32: torch.float32}[dtype]


def parity(torch, tg_fn, torch_fn, arrays, dtype, seed, np_fn=None, diff=None):
    """Run ``tg_fn`` and ``torch_fn`` on the same ``arrays`` cast to ``dtype``; compare forward,
    dtype and the gradient of every differentiable input under one random upstream gradient."""
    rtol = RTOL[dtype]
    diff = [True] * len(arrays) if diff is None else diff
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    xs = [Tensor(a.copy(), requires_grad=d) for a, d in zip(arrays, diff)]
    ts = [torch.tensor(a.copy(), requires_grad=d) for a, d in zip(arrays, diff)]
    out, ref = tg_fn(*xs), torch_fn(*ts)
    ref_np = ref.detach().numpy()
    assert out.dtype == ref_np.dtype, f"forward dtype {out.dtype} != torch {ref_np.dtype}"
    _close(out.numpy(), ref_np, rtol, "forward vs torch")
    if np_fn is not None:
        _close(out.numpy(), np_fn(*arrays), NP_RTOL[dtype], "forward vs numpy")
    for a, x in zip(arrays, xs):  # the forward never writes into its inputs
        np.testing.assert_array_equal(x.numpy(), a)
    if not any(diff):
        return
    g = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
    out.backward(g)
    wrt = [t for t, d in zip(ts, diff) if d]
    theirs = torch.autograd.grad(ref, wrt, torch.from_numpy(g.copy()), allow_unused=True)
    for x, t_grad in zip([x for x, d in zip(xs, diff) if d], theirs):
        expected = np.zeros(x.shape, dtype) if t_grad is None else t_grad.numpy()
        assert x.grad is not None, "no gradient reached a differentiable input"
        assert x.grad.dtype == x.dtype, f"gradient dtype {x.grad.dtype} for a {x.dtype} input"
        _close(x.grad.numpy(), expected, rtol, "gradient vs torch")


def values(seed, shape, domain="real"):
    rng = np.random.default_rng(seed)
    v = np.asarray(rng.standard_normal(shape))
    if domain == "pos":       # log, sqrt, rsqrt, pow base: away from 0
        v = np.abs(v) + 0.5
    elif domain == "nonzero":   # abs, division: away from the kink / pole
        v = np.where(v >= 0, v + 0.3, v - 0.3)
    return np.asarray(v)


def _tdim(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


@st.composite
def shape_axis(draw, min_dims=0):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=4, min_side=1, max_side=4))
    nd = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none" or nd == 0:
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-nd, nd - 1))
    else:
        axis = tuple(draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd,
                                   unique_by=lambda a: a % nd)))
    return shape, axis, draw(st.booleans())


# ---- elementwise unary ---------------------------------------------------------------------------

def _np_sigmoid(a):
    return 1 / (1 + np.exp(-a))


UNARY = {
    # name: (tinygrad_norm, torch, numpy, input domain)
    "neg": (lambda x: -x, lambda t: -t, np.negative, "real"),
    "exp": (lambda x: x.exp(), lambda t: t.exp(), np.exp, "real"),
    "log": (lambda x: x.log(), lambda t: t.log(), np.log, "pos"),
    "log1p": (lambda x: x.log1p(), lambda t: t.log1p(), np.log1p, "pos"),
    "expm1": (lambda x: x.expm1(), lambda t: t.expm1(), np.expm1, "real"),
    "sqrt": (lambda x: x.sqrt(), lambda t: t.sqrt(), np.sqrt, "pos"),
    "rsqrt": (lambda x: x.rsqrt(), lambda t: t.rsqrt(), lambda a: 1 / np.sqrt(a), "pos"),
    "abs": (lambda x: x.abs(), lambda t: t.abs(), np.abs, "nonzero"),
    "sign": (lambda x: x.sign(), lambda t: t.sign(), np.sign, "real"),
    "relu": (lambda x: x.relu(), lambda t: t.relu(), lambda a: np.maximum(a, 0), "real"),
    "sigmoid": (lambda x: x.sigmoid(), lambda t: t.sigmoid(), _np_sigmoid, "real"),
    "tanh": (lambda x: x.tanh(), lambda t: t.tanh(), np.tanh, "real"),
    "square": (lambda x: x.square(), lambda t: t.square(), np.square, "real"),
    "clip": (lambda x: x.clip(-0.5, 0.7), lambda t: t.clamp(-0.5, 0.7),
             lambda a: np.clip(a, -0.5, 0.7), "real"),
    "clip_lo": (lambda x: x.clip(min=0.1), lambda t: t.clamp(min=0.1),
                lambda a: np.maximum(a, 0.1), "real"),
    "clip_hi": (lambda x: x.clip(max=0.1), lambda t: t.clamp(max=0.1),
                lambda a: np.minimum(a, 0.1), "real"),
    "pow_scalar": (lambda x: x ** 3, lambda t: t ** 3, lambda a: a ** 3, "real"),
    "pow_half": (lambda x: x ** 0.5, lambda t: t ** 0.5, np.sqrt, "pos"),
    "pow_neg": (lambda x: x ** -1.5, lambda t: t ** -1.5, lambda a: a ** -1.5, "pos"),
    "pow_two": (lambda x: x ** 2, lambda t: t ** 2, np.square, "real"),
    "rpow": (lambda x: 2.5 ** x, lambda t: 2.5 ** t, lambda a: 2.5 ** a, "real"),
    "add_scalar": (lambda x: x + 1.5, lambda t: t + 1.5, lambda a: a + 1.5, "real"),
    "radd_scalar": (lambda x: 1.5 + x, lambda t: 1.5 + t, lambda a: 1.5 + a, "real"),
    "rsub_scalar": (lambda x: 1.5 - x, lambda t: 1.5 - t, lambda a: 1.5 - a, "real"),
    "mul_scalar": (lambda x: x * -3, lambda t: t * -3, lambda a: a * -3, "real"),
    "rdiv_scalar": (lambda x: 2 / x, lambda t: 2 / t, lambda a: 2 / a, "nonzero"),
    "div_scalar": (lambda x: x / 4.0, lambda t: t / 4.0, lambda a: a / 4.0, "real"),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=shapes, seed=seeds)
def test_unary_parity(torch, name, dtype, shape, seed):
    fn, tfn, npfn, domain = UNARY[name]
    parity(torch, fn, tfn, [values(seed, shape, domain)], dtype, seed, np_fn=npfn)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(shape=shapes, seed=seeds)
def test_astype_parity(torch, dtype, shape, seed):
    other = np.float32 if dtype == np.float64 else np.float64
    parity(torch, lambda x: x.astype(other), lambda t: t.to(_tdtype(torch, other)),
           [values(seed, shape)], dtype, seed, np_fn=lambda a: a.astype(other))


def test_astype_same_dtype_and_integer_cast():
    x = Tensor(np.array([1.7, -2.2]), requires_grad=True)
    assert x.astype(np.float64) is x
    i = x.astype(np.int32)  # not differentiable: a constant
    assert i.dtype == np.int32 and not i.requires_grad
    np.testing.assert_array_equal(i.numpy(), [1, -2])


# ---- elementwise binary, broadcasting both sides -----------------------------------------------

BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, np.add, ("real", "real")),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, np.subtract, ("real", "real")),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, np.multiply, ("real", "real")),
    "div": (lambda a, b: a / b, lambda a, b: a / b, np.divide, ("real", "nonzero")),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b, np.power, ("pos", "real")),
    "maximum": (tg.maximum, lambda a, b: a.maximum(b), np.maximum, ("real", "real")),
    "minimum": (lambda a, b: a.minimum(b), lambda a, b: a.minimum(b), np.minimum, ("real", "real")),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("name", sorted(BINARY))
@given(shapes=pairs, seed=seeds, which=st.sampled_from(["both", "left", "right"]))
def test_binary_parity(torch, name, dtype, shapes, seed, which):
    fn, tfn, npfn, (da, db) = BINARY[name]
    sa, sb = shapes.input_shapes
    arrays = [values(seed, sa, da), values(seed + 1, sb, db)]
    diff = {"both": [True, True], "left": [True, False], "right": [False, True]}[which]
    parity(torch, fn, tfn, arrays, dtype, seed, np_fn=npfn, diff=diff)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow"])
@given(shape=shapes, seed=seeds, array_on_left=st.booleans())
def test_binary_with_ndarray_operand(torch, name, dtype, shape, seed, array_on_left):
    """An ndarray on either side of an operator is a constant operand; the result is a Tensor."""
    fn, tfn, npfn, (da, db) = BINARY[name]
    const = values(seed + 7, shape, db if array_on_left is False else da).astype(dtype)
    if array_on_left:
        parity(torch, lambda x: fn(const, x), lambda t: tfn(torch.from_numpy(const), t),
               [values(seed, shape, db)], dtype, seed, np_fn=lambda a: npfn(const, a))
    else:
        parity(torch, lambda x: fn(x, const), lambda t: tfn(t, torch.from_numpy(const)),
               [values(seed, shape, da)], dtype, seed, np_fn=lambda a: npfn(a, const))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(shapes=triples, seed=seeds)
def test_where_parity(torch, dtype, shapes, seed):
    sc, sa, sb = shapes.input_shapes
    cond = np.asarray(np.random.default_rng(seed).random(sc) > 0.5)
    parity(torch, lambda a, b: tg.where(Tensor(cond), a, b),
           lambda a, b: torch.where(torch.from_numpy(cond), a, b),
           [values(seed, sa), values(seed + 1, sb)], dtype, seed,
           np_fn=lambda a, b: np.where(cond, a, b))


def test_where_with_scalar_branches_and_array_condition(torch):
    x = Tensor(np.array([-1.0, 2.0, -3.0]), requires_grad=True)
    y = tg.where(x.numpy() > 0, x, 0.0)
    y.backward(np.array([5.0, 6.0, 7.0]))
    np.testing.assert_array_equal(y.numpy(), [0.0, 2.0, 0.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 6.0, 0.0])
    z = tg.where(Tensor([True, False]), 1.0, 2.0)  # no tensor branch: a constant
    assert not z.requires_grad and z.numpy().tolist() == [1.0, 2.0]


def test_where_gradient_is_a_select_not_a_multiply():
    """The unselected branch gets exactly 0 even when the upstream gradient is inf or NaN."""
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    y = tg.where(Tensor([True, False, True]), a, b)
    y.backward(np.array([np.inf, np.nan, 1.0]))
    assert a.grad.numpy()[1] == 0.0 and b.grad.numpy()[0] == 0.0 and b.grad.numpy()[2] == 0.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("zero_on_right", [True, False])
@pytest.mark.parametrize("upstream", ["owned", "caller's", "broadcast", "other dtype"])
@pytest.mark.parametrize("shape", [(40, 30), (300, 250)])  # the mask in two passes / in one
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # the loss sums inf and NaN
def test_where_against_zero_keeps_its_mask_for_the_gradient(dtype, zero_on_right, upstream,
                                                            shape):
    """where(c, x, 0) / where(c, 0, x) keep the forward's bit mask; the VJP selects with it (in
    place when the gradient is the tape's own). Every upstream layout gives np.where's result,
    and exactly 0 where unselected, inf and NaN included."""
    rng = np.random.default_rng(3)
    c = rng.random(shape) > 0.4
    xv = rng.standard_normal(shape).astype(dtype)
    x = Tensor(xv, requires_grad=True)
    y = tg.where(c, x, 0.0) if zero_on_right else tg.where(c, 0.0, x)
    sel = c if zero_on_right else ~c
    np.testing.assert_array_equal(y.numpy(), np.where(sel, xv, 0))
    g = rng.standard_normal(shape)
    g[0, :] = np.inf
    g[1, :] = np.nan
    if upstream == "owned":      # an op after the where hands it a fresh array of its own
        (y * Tensor(g.astype(dtype))).sum().backward()
        expected = np.where(sel, g.astype(dtype), 0)
    elif upstream == "caller's":  # the caller's array: must not be written to
        gd = g.astype(dtype)
        before = gd.copy()
        y.backward(gd)
        np.testing.assert_array_equal(gd, before)
        expected = np.where(sel, gd, 0)
    elif upstream == "broadcast":  # a sum's read-only broadcast view
        y.sum().backward()
        expected = np.where(sel, np.ones_like(xv), 0)
    else:  # a float64 gradient into a narrower graph: the mask's width does not fit it
        y.backward(g)
        expected = np.where(sel, g, 0).astype(dtype)
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    assert not np.isnan(x.grad.numpy()[~sel]).any()


@pytest.mark.parametrize("shape", [(40, 30), (300, 250)])
@pytest.mark.parametrize("zero_on_right", [True, False])
def test_where_reads_any_nonzero_byte_of_a_bool_condition_as_true(shape, zero_on_right):
    """A bool array viewed from other bytes may hold 2..255; NumPy reads them as True. The
    select's bit mask must too, at every size (the one-pass mask reads the bytes as numbers)."""
    rng = np.random.default_rng(4)
    raw = rng.integers(0, 256, shape, dtype=np.uint8)
    raw[raw < 100] = 0
    c = raw.view(bool)
    xv = rng.standard_normal(shape)
    x = Tensor(xv, requires_grad=True)
    y = tg.where(c, x, 0.0) if zero_on_right else tg.where(c, 0.0, x)
    sel = (raw != 0) if zero_on_right else (raw == 0)
    np.testing.assert_array_equal(y.numpy(), np.where(sel, xv, 0.0))
    g = rng.standard_normal(shape)
    y.backward(g)
    np.testing.assert_array_equal(x.grad.numpy(), np.where(sel, g, 0.0))


def test_where_mask_gradient_twice_with_retain_graph_and_double_backward():
    c = np.array([True, False, True, True])
    x = Tensor(np.array([1.0, 2.0, 3.0, 4.0]), requires_grad=True)
    y = (tg.where(c, x, 0.0) * x).sum()  # d/dx = 2x where c
    (gx,) = tg.grad(y, [x], create_graph=True, retain_graph=True)
    np.testing.assert_array_equal(gx.numpy(), [2.0, 0.0, 6.0, 8.0])
    gx.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 2.0, 2.0])
    y2 = (tg.where(c, x, 0.0) * 3.0).sum()
    y2.backward(retain_graph=True)
    y2.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 0.0, 8.0, 8.0])


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(shapes=triples, seed=seeds, value=st.sampled_from([1, 0.5, -3]))
def test_addcmul_parity(torch, dtype, shapes, seed, value):
    sc, sa, sb = shapes.input_shapes
    parity(torch, lambda c, a, b: tg.addcmul(c, a, b, value=value),
           lambda c, a, b: torch.addcmul(c, a, b, value=value),
           [values(seed, sc), values(seed + 1, sa), values(seed + 2, sb)], dtype, seed,
           np_fn=lambda c, a, b: c + value * a * b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_addcmul_rounds_as_mul_then_add(dtype):
    """One primitive, the same two roundings: bit for bit what ``a * b + c`` gives, forward and
    backward (the normalizations rely on it to keep their values)."""
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s).astype(dtype) for s in ((64, 128), (128,), (128,))]
    dy = rng.standard_normal((64, 128)).astype(dtype)
    grads = []
    for fused in (True, False):
        a, b, c = (Tensor(v, requires_grad=True) for v in arrays)
        y = tg.addcmul(c, a, b) if fused else a * b + c
        assert y.dtype == dtype
        (y * Tensor(dy)).sum().backward()  # an owned upstream: the in-place VJP
        grads.append([y.numpy(), a.grad.numpy(), b.grad.numpy(), c.grad.numpy()])
    for fused, plain in zip(*grads):
        np.testing.assert_array_equal(fused, plain)


@pytest.mark.parametrize("case", ["bias", "full input", "same size", "same size factor", "square",
                                  "input only",
                                  "scalar factor", "factor on the left"])
def test_addcmul_gradient_written_into_the_tapes_own_upstream(torch, case):
    """The VJP may write one factor's gradient into the upstream array when the tape owns it; the
    input's gradient must not be that array (or a view of it), nor may the other factor's read it
    after. Each layout against torch, with a fresh upstream array the tape owns."""
    rng = np.random.default_rng(8)
    big = (64, 96)  # over the size from which the tape tracks ownership
    shapes = {"bias": [(96,), big, (96,)], "full input": [big, big, (96,)],
              "same size": [(1, 96 * 64), (1, 96 * 64), (96 * 64,)],
              "same size factor": [None, (1, 96 * 64), (96 * 64,)],
              "square": [(96,), big, big], "input only": [big, (96,), (96,)],
              "scalar factor": [(96,), big, None], "factor on the left": [(1, 96), (96,), big]}
    arrays = [None if s is None else rng.standard_normal(s) for s in shapes[case]]
    w = rng.standard_normal(np.broadcast_shapes(*[a.shape for a in arrays if a is not None]))
    ours = [2.5 if a is None else Tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(2.5, dtype=torch.float64) if a is None
              else torch.tensor(a, requires_grad=True) for a in arrays]
    if case == "square":
        ours[2], theirs[2] = ours[1], theirs[1]
    (tg.addcmul(*ours) * Tensor(w)).sum().backward()
    (torch.addcmul(*theirs) * torch.from_numpy(w)).sum().backward()
    for o, t in zip(ours, theirs):
        if isinstance(o, Tensor):
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_addcmul_bad_input():
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"addcmul: operands of shapes \(4,\), \(2, 3\), \(3,\)"):
        tg.addcmul(np.ones(4), a, np.ones(3))
    for value in ("2", None, True, np.ones(2)):
        with pytest.raises(TypeError, match="value must be a real number"):
            tg.addcmul(a, a, a, value=value)
    assert a.grad is None and not tg.addcmul(1.0, 2.0, np.float64(3.0)).requires_grad
    assert tg.addcmul(1.0, 2.0, 3.0).item() == 7.0
    assert a.addcmul(a, 2.0, value=np.float32(0.5)).numpy().tolist() == [[2.0] * 3] * 2
    f32 = Tensor(np.ones(3, np.float32))
    for t1, t2 in ((2.0, f32), (f32, np.float64(2.0)), (np.float32(2.0), f32), (2.0, 3.0), (2, 3),
                   (np.array(2.0), np.array(3.0))):
        for value in (1, np.float64(0.5)):  # Python and NumPy scalars do not promote float32
            assert tg.addcmul(f32, t1, t2, value=value).dtype == np.float32, (t1, t2, value)
    assert tg.addcmul(Tensor(np.ones(3, np.int32)), 2, 3).dtype == np.int32


def test_addcmul_takes_the_product_in_the_precision_of_a_wider_input(torch):
    """As torch promotes all three operands first: float32 factors, float64 input, the product
    not rounded to float32 before the add (a * b + c would be)."""
    a = np.array([1 + 2.0 ** -12, 3.1], np.float32)
    c = np.zeros(2)
    ours = tg.addcmul(Tensor(c), Tensor(a), Tensor(a))
    theirs = torch.addcmul(torch.from_numpy(c), torch.from_numpy(a), torch.from_numpy(a))
    assert ours.dtype == np.float64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.numpy()[0] != (Tensor(a) * Tensor(a) + Tensor(c)).numpy()[0]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(seed=seeds, data=st.data())
def test_comparisons_have_no_gradient(dtype, seed, data):
    sa, sb = data.draw(pairs).input_shapes
    a, b = values(seed, sa).astype(dtype), values(seed + 1, sb).astype(dtype)
    x = Tensor(a, requires_grad=True)
    for op in ["__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"]:
        r = getattr(x, op)(b)
        assert r.dtype == np.bool_ and not r.requires_grad
        np.testing.assert_array_equal(r.numpy(), getattr(a, op)(b))


# ---- matmul --------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(shapes=hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=3,
                                                max_side=4),
       seed=seeds, which=st.sampled_from(["both", "left", "right"]))
def test_matmul_parity(torch, dtype, shapes, seed, which):
    sa, sb = shapes.input_shapes
    diff = {"both": [True, True], "left": [True, False], "right": [False, True]}[which]
    parity(torch, lambda a, b: a @ b, lambda a, b: a @ b, [values(seed, sa), values(seed + 1, sb)],
           dtype, seed, np_fn=np.matmul, diff=diff)


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)),
                                   ((4, 2, 3), (3,)), ((3,), (4, 3, 2)), ((2, 1, 2, 3), (5, 3, 2))])
def test_matmul_1d_and_batched_cases(torch, sa, sb):
    parity(torch, tg.matmul, torch.matmul, [values(0, sa), values(1, sb)], np.float64, 2,
           np_fn=np.matmul)


@st.composite
def vecdot_case(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4))
    nd = len(shapes.result_shape)
    if nd == 0:
        return shapes.input_shapes, draw(st.sampled_from([None, ()])), draw(st.booleans())
    axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1),
                          st.lists(st.integers(0, nd - 1), max_size=nd, unique=True).map(tuple)))
    return shapes.input_shapes, axis, draw(st.booleans())


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(case=vecdot_case(), seed=seeds, which=st.sampled_from(["both", "left", "right"]))
def test_vecdot_parity(torch, dtype, case, seed, which):
    (sa, sb), axis, keepdims = case
    nd = max(len(sa), len(sb))
    dims = tuple(range(nd)) if axis is None else axis
    diff = {"both": [True, True], "left": [True, False], "right": [False, True]}[which]
    parity(torch, lambda a, b: tg.vecdot(a, b, axis=axis, keepdims=keepdims),
           # axis=() sums nothing, as in NumPy (torch's sum(dim=()) would sum everything)
           lambda a, b: (a * b).sum(dim=dims, keepdim=keepdims) if dims != () else a * b,
           [values(seed, sa), values(seed + 1, sb)], dtype, seed, diff=diff,
           np_fn=lambda a, b: np.sum(a * b, axis=axis, keepdims=keepdims))


def test_vecdot_default_axis_is_torch_linalg_vecdot(torch):
    a, b = values(0, (3, 4)), values(1, (2, 1, 4))
    parity(torch, lambda x, y: x.vecdot(y), lambda x, y: torch.linalg.vecdot(x, y),
           [a, b], np.float64, 3)


def test_vecdot_of_a_tensor_with_itself_routes_one_gradient(torch):
    a = values(2, (5, 3))
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    x.vecdot(x, axis=0).backward(np.arange(3.0))
    (t * t).sum(dim=0).backward(torch.arange(3.0, dtype=torch.float64))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    assert x._node is None and x.vecdot(x)._node.inputs[0] is x


def test_vecdot_bad_operands():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"vecdot: operands of shapes \(2, 3\) and \(4,\)"):
        tg.vecdot(x, np.ones(4))
    with pytest.raises(TypeError, match="vecdot: both operands must be tensors"):
        tg.vecdot(x, 2.0)
    with pytest.raises(ValueError, match="out of range"):
        x.vecdot(x, axis=2)


def test_matmul_with_ndarray_on_either_side():
    w = np.arange(6.0).reshape(2, 3)
    x = Tensor(np.ones((3, 2)), requires_grad=True)
    assert isinstance(w @ x, Tensor) and isinstance(x @ w, Tensor)
    np.testing.assert_array_equal((w @ x).numpy(), w @ np.ones((3, 2)))


# ---- reductions ----------------------------------------------------------------------------------

REDUCTIONS = {
    "sum": (lambda x, ax, k: x.sum(axis=ax, keepdims=k),
            lambda t, ax, k: t.sum(dim=ax, keepdim=k), np.sum),
    "mean": (lambda x, ax, k: x.mean(axis=ax, keepdims=k),
             lambda t, ax, k: t.mean(dim=ax, keepdim=k), np.mean),
    "max": (lambda x, ax, k: x.max(axis=ax, keepdims=k),
            lambda t, ax, k: t.amax(dim=ax, keepdim=k), np.max),
    "min": (lambda x, ax, k: x.min(axis=ax, keepdims=k),
            lambda t, ax, k: t.amin(dim=ax, keepdim=k), np.min),
    "logsumexp": (lambda x, ax, k: x.logsumexp(axis=ax, keepdims=k),
                  lambda t, ax, k: t.logsumexp(dim=ax, keepdim=k),
                  lambda a, axis, keepdims: np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims))),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(sak=shape_axis(), seed=seeds)
def test_reduction_parity(torch, name, dtype, sak, seed):
    shape, axis, keepdims = sak
    fn, tfn, npfn = REDUCTIONS[name]
    nd = len(shape)
    if nd == 0 and name == "logsumexp":
        return  # torch.logsumexp needs a dim; the 0-d case is tested against NumPy below
    parity(torch, lambda x: fn(x, axis, keepdims), lambda t: tfn(t, _tdim(axis, nd), keepdims),
           [values(seed, shape)], dtype, seed,
           np_fn=lambda a: npfn(a, axis=axis, keepdims=keepdims))


@st.composite
def var_case(draw):
    shape, axis, keepdims = draw(shape_axis())
    correction = draw(st.sampled_from([0, 1]))
    axes = _tdim(axis, len(shape))
    axes = (axes,) if isinstance(axes, int) else axes
    n = int(np.prod([shape[a] for a in axes])) if shape else 1
    if n <= correction:  # no degrees of freedom: NaN in every library (tested on its own)
        correction = 0
    return shape, axis, keepdims, correction


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("name", ["var", "std"])
@given(case=var_case(), seed=seeds)
def test_var_std_parity(torch, name, dtype, case, seed):
    shape, axis, keepdims, correction = case
    nd = len(shape)
    npfn = np.var if name == "var" else np.std
    parity(torch,
           lambda x: getattr(x, name)(axis=axis, correction=correction, keepdims=keepdims),
           lambda t: getattr(t, name)(dim=_tdim(axis, nd), correction=correction, keepdim=keepdims),
           [values(seed, shape)], dtype, seed,
           np_fn=lambda a: npfn(a, axis=axis, ddof=correction, keepdims=keepdims))


def test_var_is_two_pass_stable():
    """E[x^2] - E[x]^2 loses every digit at a mean of 1e8; the two-pass variance does not."""
    base = np.array([1.0, 2.0, 3.0, 4.0])
    x = Tensor(base + 1e8, requires_grad=True)
    v = x.var(correction=0)
    assert v.item() == pytest.approx(1.25, rel=1e-12)
    v.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (base - base.mean()) / 4, rtol=1e-9)
    s = Tensor(base + 1e8).std(correction=0)
    assert s.item() == pytest.approx(np.sqrt(1.25), rel=1e-12)
    x32 = Tensor((base + 1e4).astype(np.float32))
    assert x32.var(correction=1).item() == pytest.approx(np.var(base, ddof=1), rel=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [0, (0, 2)])
def test_std_and_var_of_a_constant_slice_are_exactly_zero_as_torch(torch, dtype, axis):
    # the rounded mean of n copies of v is not always v (float32 0.1 three times: 1 ulp over),
    # which left std ~1e-8 and its gradient O(1) (-0.41 each) where torch gives 0 and 0
    rng = np.random.default_rng(5)
    for n in range(2, 11):
        v = rng.standard_normal(8) * 10.0 ** rng.integers(-3, 4, 8)
        const = v if axis == 0 else v[:2, None]  # every reduced slice holds one value
        a = np.broadcast_to(const.astype(dtype), (n, 2, 8)).copy()
        up = rng.standard_normal((2, 8) if axis == 0 else (2,)).astype(dtype)
        for name in ("std", "var"):
            x = Tensor(a, requires_grad=True)
            y = getattr(x, name)(axis=axis)
            y.backward(up)
            t = torch.tensor(a, requires_grad=True)
            getattr(t, name)(dim=axis).backward(torch.tensor(up))
            assert not y.numpy().any() and not x.grad.numpy().any()
            if name == "std":  # torch's var gradient is 2 (x - mean) / (n - 1): not always 0
                np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_var_of_integers_bools_and_near_overflow_values_as_numpy(torch):
    # the first-element shift made int arrays fail (a float mean written into them) and turned
    # 2e38 - -2e38 into inf - inf = NaN where NumPy and torch give inf
    assert Tensor(np.array([1, 2, 4])).var().item() == pytest.approx(np.var([1, 2, 4], ddof=1))
    assert Tensor(np.array([1, 2, 4], np.int8)).std().dtype == np.float64
    assert Tensor(np.array([True, False, True])).var().item() == pytest.approx(1 / 3)
    for a in (np.array([2e38, -2e38, 0], np.float32), np.array([1e308, -1e308, 0.0])):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert Tensor(a).var().item() == np.inf == torch.tensor(a).var().item()


def _std_and_gradient_in_float64(a, dim, g):
    """The standard deviation (correction 1) and its exact gradient under ``g``, in float64."""
    a = a.astype(np.float64)
    axis = tuple(range(a.ndim)) if dim is None else (dim,)
    d = a - a.mean(axis=axis, keepdims=True)
    n = np.prod([a.shape[i] for i in axis]) - 1
    std = np.sqrt((d * d).sum(axis=axis, keepdims=True) / n)
    gn = np.asarray(g, np.float64).reshape(std.shape if dim is not None else ()) / n
    grad = np.where(std == 0, 0.0, d / np.where(std == 0, 1.0, std) * gn)  # 0 at a constant set
    return std.reshape(np.shape(g)), grad


def test_float32_std_of_huge_and_tiny_values_as_torch(torch):
    # the squares of float32 values near 1e20 overflow, near 1e-25 underflow; their standard
    # deviation does neither. The VJP divided g by n * std, which overflowed float16 at std 1
    # and 65504 elements (and float32 near 1e36 * 1000): every gradient was 0
    cases = [(np.array([1e20, -1e20, 3e19], np.float32), None, 1e-6),
             (np.array([[1e20, -1e20], [1.0, 2.0]], np.float32), 1, 1e-6),
             (np.array([2e38, -2e38, 0.0], np.float32), None, 1e-6),  # torch's gradient: 0
             ((np.random.default_rng(1).standard_normal(1000) * 1e36).astype(np.float32),
              None, 1e-5),
             ((np.array([1.0, 2.0, 3.0, 4.0]) * 1e-25).astype(np.float32), None, 1e-6),
             ((np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]) * 1e-30).astype(np.float32), 1,
              1e-6),
             (np.random.default_rng(0).standard_normal(100_000).astype(np.float16), None, 2e-3)]
    for a, dim, rtol in cases:
        x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no overflow or underflow warning either
            s = x.std() if dim is None else x.std(axis=dim)
        ts = t.std() if dim is None else t.std(dim)
        assert s.dtype == a.dtype and np.isfinite(s.numpy()).all()
        np.testing.assert_allclose(s.numpy(), ts.detach().numpy(), rtol=rtol)
        g = (values(1, s.shape) + 2).astype(a.dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            s.backward(Tensor(g))
        std64, grad64 = _std_and_gradient_in_float64(a, dim, g)
        assert x.grad.dtype == a.dtype and np.abs(x.grad.numpy()).max() > 0
        # float16 gradients near 1e-6 are subnormal: a unit in the last place is 6e-8
        atol = 2.0 ** -24 if a.dtype == np.float16 else 0.0
        np.testing.assert_allclose(x.grad.numpy(), grad64, rtol=rtol, atol=atol)
        if a.dtype == np.float16 or np.abs(a).max() < 1e37:  # torch's own overflows above
            ts.backward(torch.tensor(g))
            np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)


def test_var_default_correction_and_ddof_alias(torch):
    a = values(0, (3, 4))
    x = Tensor(a)
    np.testing.assert_allclose(x.var().numpy(), torch.tensor(a).var().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.var(axis=0, ddof=0).numpy(), np.var(a, axis=0), rtol=1e-12)
    np.testing.assert_allclose(x.std(axis=1, ddof=1).numpy(), np.std(a, axis=1, ddof=1),
                               rtol=1e-12)


def test_var_without_degrees_of_freedom_is_nan_like_torch(torch):
    x = Tensor(np.array([[1.0], [2.0]]), requires_grad=True)
    v = x.var(axis=1)  # one element per row, correction 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that there are no degrees of freedom
        expected = torch.tensor([[1.0], [2.0]]).var(dim=1).numpy()
    assert np.isnan(v.numpy()).all() and np.isnan(expected).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5), seed=seeds,
       data=st.data())
def test_softmax_parity(torch, name, dtype, shape, seed, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))

    def np_fn(a):
        z = a - a.max(axis=axis, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=axis, keepdims=True))
        return np.exp(z - lse) if name == "softmax" else z - lse

    parity(torch, lambda x: getattr(x, name)(axis=axis), lambda t: getattr(t, name)(dim=axis),
           [values(seed, shape) * 3], dtype, seed, np_fn=np_fn)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_softmax_logsumexp_are_stable(torch, dtype):
    a = np.array([[1000.0, 0.0, -1000.0], [-1e4, -1e4 + 1, -1e4 + 2]])
    for name in ["softmax", "log_softmax"]:
        parity(torch, lambda x: getattr(x, name)(axis=-1), lambda t: getattr(t, name)(dim=-1),
               [a], dtype, 3)
    parity(torch, lambda x: x.logsumexp(axis=1), lambda t: t.logsumexp(dim=1), [a], dtype, 4)
    # a row of -inf: the max shift must not make it NaN
    x = Tensor(np.array([-np.inf, -np.inf]))
    with np.errstate(divide="ignore"):  # log(0), as NumPy says
        assert x.logsumexp().item() == -np.inf


def test_reductions_over_no_axes_and_on_0d():
    a = values(0, (2, 3))
    x = Tensor(a)
    np.testing.assert_array_equal(x.sum(axis=()).numpy(), np.sum(a, axis=()))
    s = Tensor(np.array(2.5), requires_grad=True)
    for name in ["sum", "mean", "max", "min", "logsumexp"]:
        for axis in [None, 0, -1, ()]:
            out = getattr(s, name)(axis=axis)
            assert out.shape == () and out.item() == pytest.approx(2.5), (name, axis)
            g, = tg.grad(out, s, grad_outputs=np.array(3.0))
            assert g.item() == pytest.approx(3.0)


@pytest.mark.parametrize("bad", [2, -3, (0, 0), (0, -2)])
def test_reduction_bad_axis(bad):
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="axis"):
        x.sum(axis=bad)


def test_reduction_axis_type_error():
    with pytest.raises(TypeError, match="axis"):
        Tensor(np.ones((2, 3))).mean(axis=1.5)


# ---- ties and kinks: PyTorch's subgradients are the contract --------------------------------------

def test_relu_derivative_is_zero_at_zero(torch):
    a = np.array([-1.0, 0.0, 1.0, 0.0])
    parity(torch, lambda x: x.relu(), lambda t: t.relu(), [a], np.float64, 0)
    x = Tensor(a, requires_grad=True)
    x.relu().backward(np.ones(4))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0, 0.0])


@pytest.mark.parametrize("n", [4, 1 << 17])  # both sides of the select's one-pass mask
def test_relu_passes_the_gradient_of_a_nan_input_as_torch(torch, n):
    a = np.linspace(-1.0, 1.0, n)
    a[:4] = [np.nan, 0.0, -0.0, np.inf]
    up = np.arange(1.0, n + 1)
    for scale in (1.0, 2.0):  # * 2 hands relu a gradient the tape owns (its in-place path)
        x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        (x.relu() * scale).backward(up)
        (t.relu() * scale).backward(torch.tensor(up))
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
        assert x.grad.numpy()[0] == scale


def test_second_derivative_of_a_relu_network_wrt_its_input_is_zeros_as_torch(torch):
    # relu's recorded VJP keeps x as an input with derivative 0 (torch's threshold_backward), so
    # d(dy/dx)/dx is zeros -- it used to raise that x was not used in the graph
    rng = np.random.default_rng(3)
    a = rng.standard_normal((5, 3))
    a[0, 0], a[1, 1] = 0.0, np.nan
    ws = [rng.standard_normal((3, 4)), rng.standard_normal((4, 2))]
    up, v = rng.standard_normal((5, 2)), rng.standard_normal((5, 3))

    def run(lib, leaf, grad):
        x, w1, w2 = leaf(a), leaf(ws[0]), leaf(ws[1])
        gx, = grad(((x @ w1).relu() @ w2).relu(), [x], up, create_graph=True)
        return [gx, *grad(gx, [x, w1, w2], v)]

    ours = run(tg, lambda a: Tensor(a, requires_grad=True),
               lambda y, xs, g, **kw: tg.grad(y, xs, grad_outputs=Tensor(g), **kw))
    theirs = run(torch, lambda a: torch.tensor(a, requires_grad=True),
                 lambda y, xs, g, **kw: torch.autograd.grad(y, xs, torch.tensor(g), **kw))
    for mine, ref in zip(ours, theirs):
        np.testing.assert_allclose(mine.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert not ours[1].numpy().any()  # zeros, and not a NaN from the NaN input either


def _hvp_orders(lib, make, f, a, orders, seed=4):
    """Derivatives of order 1..orders of ``sum(f(x) * v)`` with respect to x, each projected on
    a random direction for the next: a list of arrays, shortened where ``lib`` raises."""
    rng = np.random.default_rng(seed)
    grad = tg.grad if lib is tg else lib.autograd.grad
    x = make(a)
    y = f(x)
    s = (y * make(rng.standard_normal(y.shape), False)).sum()
    out = []
    for _ in range(orders):
        try:
            g, = grad(s, [x], create_graph=True)
        except RuntimeError:
            break
        out.append(g.detach().numpy() if lib is not tg else g.numpy())
        s = (g * make(rng.standard_normal(a.shape), False)).sum()
    return out


_T = np.array([1, 3])
_POOL_IN = (np.arange(32.0) % 5).reshape(1, 2, 4, 4) + np.linspace(0, 0.1, 32).reshape(1, 2, 4, 4)


@pytest.mark.parametrize("name, ours, theirs, a, orders", [
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.1),
     lambda t, x: t.nn.functional.leaky_relu(x, 0.1),
     np.array([[-1.0, 0.5, 0.0, np.nan], [2.0, -0.3, 1e-3, -4.0]]), 2),
    ("relu", lambda x: x.relu(), lambda t, x: x.relu(),
     np.array([[-1.0, 0.5, 0.0, np.nan], [2.0, -0.3, 1e-3, -4.0]]), 4),
    ("nll_loss", lambda x: F.nll_loss(x, Tensor(_T)),
     lambda t, x: t.nn.functional.nll_loss(x, t.tensor(_T)),
     np.linspace(-2, 1, 8).reshape(2, 4), 2),
    ("nll_loss weighted", lambda x: F.nll_loss(x, Tensor(_T), weight=Tensor(np.arange(1.0, 5))),
     lambda t, x: t.nn.functional.nll_loss(x, t.tensor(_T), weight=t.arange(1.0, 5).double()),
     np.linspace(-2, 1, 8).reshape(2, 4), 2),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), lambda t, x: t.nn.functional.max_pool2d(x, 2),
     _POOL_IN, 2),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 2), lambda t, x: t.nn.functional.avg_pool2d(x, 2),
     _POOL_IN, 2),
    ("square by pow", lambda x: x ** 2, lambda t, x: x ** 2, np.array([1.0, -2.0, 0.5]), 3),
    ("abs at NaN", lambda x: x.abs() * x, lambda t, x: x.abs() * x,
     np.array([np.nan, 1.0, -2.0]), 2)])
def test_higher_derivatives_that_torch_has_are_not_missing(torch, name, ours, theirs, a, orders):
    """Where PyTorch's op is one primitive whose backward takes its input, its higher
    derivatives exist (zeros for the piecewise-linear ones): ours raised "not used in the
    graph" (leaky_relu and nll_loss, the pools at second order; relu and x ** 2 at third), or
    gave NaN for abs' gradient at NaN (PyTorch's sgn(NaN) is 0)."""
    got = _hvp_orders(tg, lambda v, g=True: Tensor(v, requires_grad=g), ours, a, orders)
    want = _hvp_orders(torch, lambda v, g=True: torch.tensor(v, requires_grad=g),
                       lambda x: theirs(torch, x), a, orders)
    assert len(want) == orders and len(got) == orders, name
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_abs_and_sign_at_zero(torch):
    a = np.array([-1.0, 0.0, 2.0])
    parity(torch, lambda x: x.abs(), lambda t: t.abs(), [a], np.float64, 0)
    parity(torch, lambda x: x.sign(), lambda t: t.sign(), [a], np.float64, 0)


def test_clip_at_its_bounds(torch):
    a = np.array([-1.0, -0.5, 0.0, 0.7, 2.0])
    parity(torch, lambda x: x.clip(-0.5, 0.7), lambda t: t.clamp(-0.5, 0.7), [a], np.float64, 0)


def test_clip_needs_a_bound():
    with pytest.raises(ValueError, match="clip"):
        Tensor([1.0]).clip()


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_ties_split_like_torch(torch, name):
    a = np.array([1.0, 2.0, 3.0, -1.0])
    b = np.array([1.0, 0.0, 3.0, 5.0])
    fn, tfn = BINARY[name][:2]
    parity(torch, fn, tfn, [a, b], np.float64, 0)
    parity(torch, lambda x: fn(x, x), lambda t: tfn(t, t), [a], np.float64, 1)
    parity(torch, lambda x: fn(x, 1.0), lambda t: tfn(t, torch.tensor(1.0, dtype=t.dtype)), [a],
           np.float64, 2)


def _nth_derivative(grad, ones, y, x, n):
    for _ in range(n):
        y, = grad(y, x, ones(y), create_graph=True)
    return y


@pytest.mark.parametrize("name,fn,order,points", [
    ("reciprocal", lambda x: 1 / x, 2, [0.0, -0.0, np.inf, -np.inf, 2.0, -3.0]),
    ("log", lambda x: x.log(), 3, [0.0, np.inf, 2.0]),
    ("sqrt", lambda x: x.sqrt(), 3, [0.0, np.inf, 2.0]),
    ("log1p", lambda x: x.log1p(), 3, [-1.0, np.inf, -np.inf, 2.0])])
def test_higher_derivatives_at_poles_and_infinities_as_torch(torch, name, fn, order, points):
    # div's VJP took b * b, whose own VJP met 0 * inf: NaN from the second derivative on
    a = np.array(points)
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = _nth_derivative(lambda y, x, g, **kw: tg.grad(y, x, grad_outputs=g, **kw),
                               lambda y: Tensor(np.ones(y.shape)), fn(x), x, order)
    theirs = _nth_derivative(torch.autograd.grad, torch.ones_like, fn(t), t, order)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12)


def test_pow_exponent_gradient_at_base_zero_as_torch(torch):
    # 0 ** b for b < 0 is inf, and its derivative in b is inf * log 0 = -inf (was NaN: the
    # "0 at base 0" limit was taken for every exponent)
    b = np.array([-2.0, -0.5, 2.0, 0.0])
    for base in (0.0, 2.0, -2.0):
        x, t = Tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (Tensor(np.full(4, base)) ** x).backward(np.ones(4))
        (torch.full((4,), base, dtype=torch.float64) ** t).backward(torch.ones(4))
        np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    x = Tensor(b.astype(np.float32), requires_grad=True)
    (2.0 ** x).backward(np.ones(4, np.float32))  # a Python base keeps a float32 graph float32
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_with_nan_and_inf_route_the_gradient_as_torch(torch, name):
    # NaN makes every comparison false: torch gives both sides the gradient (here the first
    # side got none); the losing side gets exactly 0 even for an inf upstream (g * 0 was NaN)
    a = np.array([np.nan, 1.0, 2.0, 2.0, -np.inf, np.inf, 3.0, np.nan])
    b = np.array([1.0, np.nan, 2.0, 5.0, -np.inf, 1.0, -1.0, np.nan])
    up = np.array([1.0, 2.0, 3.0, np.inf, 5.0, 6.0, -np.inf, 8.0])
    x, y = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    getattr(tg, name)(x, y).backward(up)
    getattr(torch, name)(tx, ty).backward(torch.tensor(up))
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_array_equal(y.grad.numpy(), ty.grad.numpy())


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_ties_share_the_gradient_like_amax(torch, name):
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [-1.0, 0.0, -1.0]])
    fn, tfn = REDUCTIONS[name][:2]
    for axis in [None, 0, 1, (0, 1)]:
        for k in [False, True]:
            parity(torch, lambda x: fn(x, axis, k), lambda t: tfn(t, _tdim(axis, 2), k), [a],
                   np.float64, 0)


def test_pow_at_zero_like_torch(torch):
    a = np.array([0.0, 0.0, 1.0, 2.0])
    b = np.array([0.0, 2.0, 0.0, 3.0])
    parity(torch, lambda x, y: x ** y, lambda x, y: x ** y, [a, b], np.float64, 0)
    for p in [0, 0.0, 1, 2, 3, 0.5, -1]:
        with np.errstate(all="ignore"):
            ref = torch.tensor(a, requires_grad=True) ** p
        if not np.isfinite(ref.detach().numpy()).all():
            continue
        with np.errstate(divide="ignore"):  # d/da a^0.5 at 0 is inf, in torch as well
            parity(torch, lambda x: x ** p, lambda t: t ** p, [a], np.float64, 1)


def test_pow_negative_base_integer_exponent(torch):
    a = np.array([-2.0, -0.5, 1.5])
    for p in [2, 3, -2, 3.0]:
        parity(torch, lambda x: x ** p, lambda t: t ** p, [a], np.float64, 0)
    parity(torch, lambda x, y: x ** y, lambda x, y: x ** y, [a, np.array([2.0, 3.0, 2.0])],
           np.float64, 1, diff=[True, False])


# ---- movement ------------------------------------------------------------------------------------

@st.composite
def reshape_case(draw):
    shape = draw(shapes)
    sides = [s for s in shape if s != 1]
    sides = list(draw(st.permutations(sides))) if sides else []
    target = sides + [1] * draw(st.integers(0, 2))
    target = list(draw(st.permutations(target))) if target else []
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return shape, tuple(target)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(case=reshape_case(), seed=seeds)
def test_reshape_parity(torch, dtype, case, seed):
    shape, target = case
    parity(torch, lambda x: x.reshape(target), lambda t: t.reshape(target), [values(seed, shape)],
           dtype, seed, np_fn=lambda a: a.reshape(target))
    parity(torch, lambda x: x.reshape(*target), lambda t: t.reshape(target), [values(seed, shape)],
           dtype, seed)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(shape=shapes, seed=seeds, data=st.data())
def test_flatten_parity(torch, dtype, shape, seed, data):
    nd = max(len(shape), 1)
    s = data.draw(st.integers(-nd, nd - 1))
    e = data.draw(st.integers(-nd, nd - 1))
    if len(shape) and s % nd > e % nd:
        s, e = e, s
    parity(torch, lambda x: x.flatten(s, e), lambda t: t.flatten(s, e), [values(seed, shape)],
           dtype, seed)
    parity(torch, lambda x: x.flatten(), lambda t: t.flatten(), [values(seed, shape)], dtype, seed,
           np_fn=lambda a: a.reshape(-1))


def test_flatten_of_nothing_returns_the_tensor_itself_as_torch(torch):
    # nn.Flatten on an already flat batch: no reshape node on the tape
    a = values(0, (4, 3))
    x, t = Tensor(a, requires_grad=True), torch.tensor(a)
    assert (x.flatten(1) is x) == (torch.flatten(t, 1) is t) == True  # noqa: E712
    assert x.flatten(-1, -1) is x and x.flatten(0, 0) is x
    assert x.flatten(0) is not x and x.flatten(0).shape == (12,)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(shape=shapes, seed=seeds, data=st.data())
def test_transpose_permute_T_parity(torch, dtype, shape, seed, data):
    nd = len(shape)
    perm = tuple(data.draw(st.permutations(range(nd))))
    a = values(seed, shape)
    parity(torch, lambda x: x.transpose(perm), lambda t: t.permute(perm), [a], dtype, seed,
           np_fn=lambda v: np.transpose(v, perm))
    parity(torch, lambda x: x.permute(*perm), lambda t: t.permute(perm), [a], dtype, seed)
    rev = tuple(range(nd))[::-1]
    parity(torch, lambda x: x.T, lambda t: t.permute(rev), [a], dtype, seed, np_fn=lambda v: v.T)
    parity(torch, lambda x: x.transpose(), lambda t: t.permute(rev), [a], dtype, seed)
    if nd >= 2:
        parity(torch, lambda x: x.mT, lambda t: t.mT, [a], dtype, seed)
        i, j = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
        parity(torch, lambda x: x.swapaxes(i, j), lambda t: t.transpose(i, j), [a], dtype, seed)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3), seed=seeds,
       data=st.data())
def test_squeeze_unsqueeze_parity(torch, dtype, shape, seed, data):
    nd = len(shape)
    a = values(seed, shape)
    parity(torch, lambda x: x.squeeze(), lambda t: t.squeeze(), [a], dtype, seed,
           np_fn=np.squeeze)
    ones = [i for i, s in enumerate(shape) if s == 1]
    if ones:
        axes = tuple(data.draw(st.lists(st.sampled_from(ones), min_size=1, unique=True)))
        parity(torch, lambda x: x.squeeze(axes), lambda t: t.squeeze(axes), [a], dtype, seed,
               np_fn=lambda v: np.squeeze(v, axes))
    ax = data.draw(st.integers(-nd - 1, nd))
    parity(torch, lambda x: x.unsqueeze(ax), lambda t: t.unsqueeze(ax), [a], dtype, seed,
           np_fn=lambda v: np.expand_dims(v, ax))


def test_squeeze_of_a_non_unit_axis_is_an_error():
    with pytest.raises(ValueError, match="squeeze"):
        Tensor(np.ones((2, 3))).squeeze(0)


@st.composite
def expand_case(draw):
    target = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4))
    keep = draw(st.integers(0, len(target)))
    src = tuple(draw(st.sampled_from([1, s])) for s in target[len(target) - keep:])
    return src, target


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(case=expand_case(), seed=seeds)
def test_broadcast_to_expand_parity(torch, dtype, case, seed):
    src, target = case
    a = values(seed, src)
    parity(torch, lambda x: x.broadcast_to(target), lambda t: t.broadcast_to(target), [a], dtype,
           seed, np_fn=lambda v: np.broadcast_to(v, target))
    parity(torch, lambda x: x.expand(*target), lambda t: t.expand(target), [a], dtype, seed)
    if src:  # -1 keeps an axis as it is, as in torch
        keep = (-1,) * len(src)
        lead = target[:len(target) - len(src)]
        parity(torch, lambda x: x.expand(lead + keep), lambda t: t.expand(lead + keep), [a], dtype,
               seed)


def test_broadcast_to_bad_shape():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 3\)|\(4, 3\).*\(2, 3\)"):
        Tensor(np.ones((2, 3))).broadcast_to((4, 3))
    with pytest.raises(ValueError):
        Tensor(np.ones((2, 3))).broadcast_to((3,))


@st.composite
def index_case(draw, torch_compatible=True):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    kind = draw(st.sampled_from(["basic", "int_array", "bool_full", "bool_lead", "list"]))
    rng = np.random.default_rng(draw(seeds))
    if kind == "bool_full":
        return shape, rng.random(shape) > 0.4
    if kind == "bool_lead":
        mask = rng.random(shape[:1]) > 0.4
        return shape, (mask,) + ((Ellipsis,) if draw(st.booleans()) else ())
    items = []
    k = draw(st.integers(0, len(shape)))
    ellipsis_first = draw(st.booleans())  # then the items index the last k axes
    for s in (shape[len(shape) - k:] if ellipsis_first else shape[:k]):
        choice = draw(st.sampled_from(["int", "slice", "none", "full"]))
        if choice == "int":
            items.append(draw(st.integers(-s, s - 1)))
        elif choice == "slice":
            start = draw(st.one_of(st.none(), st.integers(-s, s)))
            stop = draw(st.one_of(st.none(), st.integers(-s, s)))
            step = draw(st.sampled_from([None, 1, 2] if torch_compatible else [None, 1, 2, -1, -2]))
            items.append(slice(start, stop, step))
        elif choice == "none":
            items.extend([None, slice(None)])
        else:
            items.append(slice(None))
    if ellipsis_first:
        items.insert(0, Ellipsis)
    elif draw(st.booleans()):
        items.append(Ellipsis)
    if kind in ("int_array", "list"):
        # one advanced index, with repeats and negatives: its gradient must add up
        axis = draw(st.integers(0, len(shape) - 1))
        s = shape[axis]
        idx = rng.integers(-s, s, size=draw(st.sampled_from([(3,), (2, 2), (5,)])))
        items = [slice(None)] * axis + [idx.tolist() if kind == "list" else idx]
    return shape, tuple(items) if len(items) != 1 or draw(st.booleans()) else items[0]


def _torch_index(torch, index):
    def conv(i):  # a list index is an integer array, as in NumPy (torch reads a bare nested
        if isinstance(i, np.ndarray):  # list as a tuple of indices: a legacy it deprecates)
            return torch.from_numpy(i)
        if isinstance(i, list):
            return torch.tensor(i)
        return i
    return tuple(conv(i) for i in index) if isinstance(index, tuple) else conv(index)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(case=index_case(), seed=seeds)
def test_getitem_parity(torch, dtype, case, seed):
    shape, index = case
    parity(torch, lambda x: x[index], lambda t: t[_torch_index(torch, index)],
           [values(seed, shape)], dtype, seed, np_fn=lambda a: a[index])


@given(case=index_case(torch_compatible=False), seed=seeds)
def test_getitem_numpy_parity_and_scatter_adjoint(case, seed):
    """Negative steps (which torch lacks) against NumPy; the gradient is the exact adjoint:
    <x[i], g> == <x, scatter(g)> for every x, g."""
    shape, index = case
    a = values(seed, shape)
    x = Tensor(a, requires_grad=True)
    y = x[index]
    np.testing.assert_array_equal(y.numpy(), a[index])
    g = np.random.default_rng(seed + 1).standard_normal(y.shape)
    y.backward(g)
    expected = np.zeros(shape)
    np.add.at(expected, index, g)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_getitem_repeated_indices_sum(torch):
    a = values(0, (4, 3))
    idx = np.array([0, 2, 0, 0, -1])
    parity(torch, lambda x: x[idx], lambda t: t[torch.from_numpy(idx)], [a], np.float64, 0)
    parity(torch, lambda x: x[:, [1, 1]], lambda t: t[:, [1, 1]], [a], np.float64, 1)
    parity(torch, lambda x: x[idx, idx[::-1] % 3], lambda t: t[idx, idx[::-1] % 3], [a],
           np.float64, 2)
    x = Tensor(a, requires_grad=True)
    x[np.array([1, 1, 1])].backward(np.ones((3, 3)))
    np.testing.assert_array_equal(x.grad.numpy()[1], [3.0, 3.0, 3.0])


def test_getitem_with_tensor_indices_and_masks(torch):
    a = values(0, (3, 4))
    x = Tensor(a, requires_grad=True)
    y = x[x > 0]  # a boolean Tensor mask
    np.testing.assert_array_equal(y.numpy(), a[a > 0])
    y.backward(np.arange(float(y.size)))
    expected = np.zeros_like(a)
    expected[a > 0] = np.arange(float(y.size))
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    parity(torch, lambda v: v[Tensor(np.array([2, 0, 2]))], lambda t: t[torch.tensor([2, 0, 2])],
           [a], np.float64, 1)
    parity(torch, lambda v: v[np.int64(1), 2], lambda t: t[1, 2], [a], np.float64, 2)


def test_getitem_out_of_range_is_an_index_error():
    with pytest.raises(IndexError, match=r"\(2, 3\)"):
        Tensor(np.ones((2, 3)))[5]


@st.composite
def concat_case(draw):
    base = list(draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3)))
    nd = len(base)
    axis = draw(st.integers(-nd, nd - 1))
    shapes_ = []
    for _ in range(draw(st.integers(1, 4))):
        s = list(base)
        s[axis] = draw(st.integers(1, 3))
        shapes_.append(tuple(s))
    return shapes_, axis


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(case=concat_case(), seed=seeds, data=st.data())
def test_concatenate_parity(torch, dtype, case, seed, data):
    shapes_, axis = case
    arrays = [values(seed + i, s) for i, s in enumerate(shapes_)]
    diff = data.draw(st.lists(st.booleans(), min_size=len(arrays), max_size=len(arrays)))
    diff[0] = True
    parity(torch, lambda *xs: tg.concatenate(xs, axis=axis),
           lambda *ts: torch.cat(ts, dim=axis), arrays, dtype, seed,
           np_fn=lambda *a: np.concatenate(a, axis=axis), diff=diff)
    parity(torch, lambda *xs: tg.cat(list(xs), axis), lambda *ts: torch.cat(ts, dim=axis), arrays,
           dtype, seed)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(shape=shapes, n=st.integers(1, 4), seed=seeds, data=st.data())
def test_stack_parity(torch, dtype, shape, n, seed, data):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    arrays = [values(seed + i, shape) for i in range(n)]
    parity(torch, lambda *xs: tg.stack(xs, axis=axis), lambda *ts: torch.stack(ts, dim=axis),
           arrays, dtype, seed, np_fn=lambda *a: np.stack(a, axis=axis))


def test_concatenate_stack_errors():
    with pytest.raises(ValueError, match="concatenate"):
        tg.concatenate([Tensor(np.ones((2, 3))), Tensor(np.ones((3, 2)))], axis=0)
    with pytest.raises(ValueError, match="stack"):
        tg.stack([Tensor(np.ones(2)), Tensor(np.ones(3))])
    with pytest.raises(ValueError):
        tg.concatenate([])
    with pytest.raises(ValueError, match="axis"):
        tg.concatenate([Tensor(np.ones(2))], axis=1)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3), seed=seeds,
       data=st.data(), value=st.sampled_from([0.0, 1.5]))
def test_pad_parity(torch, dtype, shape, seed, data, value):
    pw = tuple((data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in shape)
    flat = [p for pair in reversed(pw) for p in pair]  # torch: last axis first
    parity(torch, lambda x: x.pad(pw, value=value),
           lambda t: torch.nn.functional.pad(t, flat, value=value), [values(seed, shape)], dtype,
           seed, np_fn=lambda a: np.pad(a, pw, constant_values=value))


def test_pad_width_forms_and_errors():
    a = values(0, (2, 3))
    x = Tensor(a)
    np.testing.assert_array_equal(x.pad(1).numpy(), np.pad(a, 1))
    np.testing.assert_array_equal(x.pad((1, 2)).numpy(), np.pad(a, (1, 2)))
    with pytest.raises(ValueError, match="pad"):
        x.pad(((1, 1), (1, 1), (1, 1)))
    with pytest.raises(ValueError, match="non-negative"):
        x.pad(-1)


def test_pad_of_a_0d_tensor_is_a_copy_as_numpy():
    # np.pad of a 0-d array returns it; ours used to fail inside NumPy on the empty pad_width
    x = Tensor(np.float64(2.0), requires_grad=True)
    y = x.pad(1)
    np.testing.assert_array_equal(y.numpy(), np.pad(np.array(2.0), 1))
    (y * 3).backward()
    assert x.grad.item() == 3.0


# ---- finite differences: gradcheck and gradgradcheck of every primitive, in float64 ----------------

def _r(shape, seed=0, domain="real"):
    return values(seed, shape, domain)


_IDX = np.array([2, 0, 2, 1])
_MASK = np.array([[True, False, True], [False, True, True]])
_UNIT = np.array([-0.7, -0.2, 0.1, 0.45, 0.8])  # inside (-1, 1): asin, acos, atanh, tan
_OFF_GRID = np.array([2.33, -1.71, 0.42, -0.12, 3.06])  # far from the jumps of floor, fmod, ...
_DW = dict(stride=(2, 1), padding=((1, 0), (0, 1)), dilation=(1, 2))
GRADCHECK = {
    # name: (function, inputs); every function uses its inputs nonlinearly where it can, so the
    # second derivative is not trivially zero.
    "add": (lambda a, b: (a + b) * (a + b), [_r((2, 3)), _r((3,), 1)]),
    "sub": (lambda a, b: (a - b) * a, [_r((2, 1)), _r((1, 3), 1)]),
    "mul": (lambda a, b: a * b, [_r((2, 3)), _r((2, 1), 1)]),
    "div": (lambda a, b: a / b, [_r((2, 3)), _r((3,), 1, "nonzero")]),
    "pow": (lambda a, b: a ** b, [_r((2, 3), 0, "pos"), _r((3,), 1)]),
    "pow_scalar": (lambda a: a ** 3 + a ** 2 + a ** -0.5 * a ** 0.0,
                   [_r((2, 3), 0, "pos")]),
    "rpow": (lambda a: 1.7 ** a, [_r((2, 3))]),
    "scalar_ops": (lambda a: (2 - a) * (3 / (a * a + 1)) + 0.5 * a - 1, [_r((4,))]),
    "neg": (lambda a: -(a * a), [_r((2, 3))]),
    "maximum": (lambda a, b: tg.maximum(a, b) ** 2, [_r((2, 3)), _r((3,), 1)]),
    "minimum": (lambda a, b: tg.minimum(a, b) ** 2, [_r((2, 3)), _r((2, 1), 1)]),
    "where": (lambda a, b: tg.where(_MASK, a * a, b * b), [_r((2, 3)), _r((3,), 1)]),
    "addcmul": (lambda c, a, b: tg.addcmul(c * c, a, b * a), [_r((3,)), _r((2, 3), 1),
                                                              _r((2, 1), 2)]),
    "exp": (lambda a: a.exp(), [_r((2, 3))]),
    "log": (lambda a: a.log(), [_r((2, 3), 0, "pos")]),
    "log1p": (lambda a: a.log1p(), [_r((2, 3), 0, "pos")]),
    "expm1": (lambda a: a.expm1(), [_r((2, 3))]),
    "sqrt": (lambda a: a.sqrt(), [_r((2, 3), 0, "pos")]),
    "rsqrt": (lambda a: a.rsqrt(), [_r((2, 3), 0, "pos")]),
    "abs": (lambda a: a.abs() * a, [_r((2, 3), 0, "nonzero")]),
    "sign": (lambda a: a.sign() * a * a, [_r((2, 3), 0, "nonzero")]),
    "relu": (lambda a: a.relu() * a, [_r((2, 3), 0, "nonzero")]),
    "leaky_relu": (lambda a: F.leaky_relu(a, 0.2) * a, [_r((2, 3), 0, "nonzero")]),
    # the three that keep a piecewise-linear op's gradient on the graph (derivative 0)
    "connect": (lambda a: _apply(tg.ops.Connect, a) * a, [_r((2, 3))]),
    "attach": (lambda a, b: _apply(tg.ops.Attach, a, b) * a * b,
               [_r((2, 3)), _r((2, 3), 1)]),
    "zeros_like": (lambda a: _apply(tg.ops.ZerosLike, a) + a * a, [_r((2, 3))]),
    "sigmoid": (lambda a: a.sigmoid(), [_r((2, 3))]),
    "tanh": (lambda a: a.tanh(), [_r((2, 3))]),
    "clip": (lambda a: a.clip(-0.5, 0.5) * a, [np.array([-1.3, -0.2, 0.1, 0.9, 0.3])]),
    # torch's elementwise math (test_math_ops.py holds their torch parity)
    "sin": (lambda a: a.sin() * a, [_r((2, 3))]),
    "cos": (lambda a: a.cos() * a, [_r((2, 3))]),
    "tan": (lambda a: a.tan(), [_UNIT]),
    "asin": (lambda a: a.asin(), [_UNIT]),
    "acos": (lambda a: a.acos(), [_UNIT]),
    "atan": (lambda a: a.atan() * a, [_r((2, 3))]),
    "sinh": (lambda a: a.sinh(), [_r((2, 3))]),
    "cosh": (lambda a: a.cosh(), [_r((2, 3))]),
    "asinh": (lambda a: a.asinh(), [_r((2, 3))]),
    "acosh": (lambda a: a.acosh(), [_r((2, 3), 0, "pos") + 1]),
    "atanh": (lambda a: a.atanh(), [_UNIT]),
    "log2": (lambda a: a.log2(), [_r((2, 3), 0, "pos")]),
    "log10": (lambda a: a.log10(), [_r((2, 3), 0, "pos")]),
    "exp2": (lambda a: a.exp2(), [_r((2, 3))]),
    "reciprocal": (lambda a: a.reciprocal(), [_r((2, 3), 0, "nonzero")]),
    # away from the jumps: the derivative there is 0, as everywhere
    "floor": (lambda a: a.floor() * a + a * a, [_OFF_GRID]),
    "ceil": (lambda a: a.ceil() * a + a * a, [_OFF_GRID]),
    "trunc": (lambda a: a.trunc() * a + a * a, [_OFF_GRID]),
    "round": (lambda a: (a.round() + a.round(decimals=1)) * a + a * a, [_OFF_GRID]),
    "atan2": (lambda a, b: a.atan2(b * b + a), [_r((2, 3)), _r((3,), 1)]),
    "hypot": (lambda a, b: a.hypot(b) * a, [_r((2, 3)), _r((3,), 1)]),
    "logaddexp": (lambda a, b: a.logaddexp(b * a), [_r((2, 3)), _r((3,), 1)]),
    "fmod": (lambda a, b: a.fmod(b) * a * b, [_OFF_GRID, np.array([0.9, 0.7, -1.3, -0.4, 1.1])]),
    "remainder": (lambda a, b: a.remainder(b) * a * b,
                  [_OFF_GRID, np.array([0.9, 0.7, -1.3, -0.4, 1.1])]),
    # float32 rounding inside: a step far above float32's epsilon, exact for a quadratic
    "astype": (lambda a: a.astype(np.float32).astype(np.float64) ** 2,
               [np.array([0.5, -1.25, 2.0])], dict(eps=1e-2)),
    "matmul": (lambda a, b: (a @ b) ** 2, [_r((2, 3)), _r((3, 2), 1)]),
    "vecdot": (lambda a, b: a.vecdot(b * a, axis=(0, 2), keepdims=True) * a,
               [_r((2, 3, 4)), _r((3, 1), 1)]),
    "vecdot_same": (lambda a: a.vecdot(a, axis=1) * a.sum(axis=1), [_r((3, 4))]),
    "center": (lambda a: _apply(tg.ops.Center, a, axis=(0, 2), keepdims=False) ** 3,
               [_r((3, 2, 4))]),
    "matmul_batched": (lambda a, b: (a @ b) ** 2, [_r((2, 1, 2, 3)), _r((2, 3, 2), 1)]),
    "matmul_1d": (lambda a, b: (a @ b) ** 2, [_r((3,)), _r((3,), 1)]),
    "matvec": (lambda a, b: (a @ b) ** 2, [_r((2, 3)), _r((3,), 1)]),
    "vecmat": (lambda a, b: (a @ b) ** 2, [_r((3,)), _r((2, 3, 2), 1)]),
    "sum": (lambda a: a.sum(axis=1) ** 2, [_r((2, 3))]),
    "sum_keep": (lambda a: a.sum(axis=(0, 2), keepdims=True) ** 2, [_r((2, 2, 2))]),
    "mean": (lambda a: a.mean(axis=-1) ** 2, [_r((2, 3))]),
    "mean_all": (lambda a: a.mean() * a, [_r((2, 3))]),
    "max": (lambda a: a.max(axis=0) ** 2, [_r((3, 3))]),
    "min": (lambda a: a.min(axis=(0, 1), keepdims=True) * a, [_r((2, 3))]),
    "var": (lambda a: a.var(axis=1), [_r((2, 4))]),
    "var0": (lambda a: a.var(axis=(0, 1), correction=0, keepdims=True), [_r((2, 3))]),
    "std": (lambda a: a.std(axis=0), [_r((3, 2))]),
    "logsumexp": (lambda a: a.logsumexp(axis=1), [_r((2, 3))]),
    "cumsum": (lambda a: a.cumsum(axis=1) * a, [_r((2, 4))]),
    "cumsum_flat": (lambda a: a.cumsum() ** 2, [_r((2, 3))]),
    "prod": (lambda a: a.prod(axis=1) * a.sum(axis=1), [_r((2, 3))]),
    "cumprod": (lambda a: a.cumprod(1) * a, [_r((2, 4))]),
    # zeros first, last, one and two in a slice: the zero-aware VJP and its recorded form
    "cumprod_zeros": (lambda a: a.cumprod(0) * a,
                      [np.array([[0.0, 1.5, 0.7], [2.0, 0.0, 0.0], [0.5, -1.0, 1.2],
                                 [1.3, 0.0, 0.0]])]),
    # one zero in a column, two in another: the product-of-the-others branch
    "prod_zeros": (lambda a: a.prod(axis=0) ** 2,
                   [np.array([[0.0, 1.5, 0.0], [2.0, 0.0, 0.7], [0.5, -1.0, 0.0]])]),
    "einsum": (lambda a, b: tg.einsum("ij,jk->ik", a, b) ** 2, [_r((2, 3)), _r((3, 2), 1)]),
    "einsum_summed_label": (lambda a, b: tg.einsum("ij,j->i", a * a, b), [_r((2, 3)),
                                                                          _r((3,), 1)]),
    "softmax": (lambda a: a.softmax(axis=0), [_r((3, 2))]),
    "log_softmax": (lambda a: a.log_softmax(axis=-1), [_r((2, 3))]),
    "reshape": (lambda a: a.reshape(3, 2) ** 2, [_r((2, 3))]),
    "flatten": (lambda a: a.flatten(1) ** 2, [_r((2, 1, 2))]),
    "transpose": (lambda a: a.transpose(2, 0, 1) ** 2, [_r((2, 1, 3))]),
    "T": (lambda a: a.T * a.T, [_r((2, 3))]),
    "squeeze": (lambda a: a.squeeze(1) ** 2, [_r((2, 1, 2))]),
    "unsqueeze": (lambda a: a.unsqueeze(0) ** 2, [_r((2, 3))]),
    "broadcast_to": (lambda a: a.broadcast_to((2, 2, 3)) ** 2, [_r((2, 1))]),
    "expand": (lambda a: a.expand(3, -1) ** 2, [_r((1, 2))]),
    "getitem_basic": (lambda a: a[1:, None, ::-1, 0] ** 2, [_r((3, 2, 2))]),
    "getitem_int_array": (lambda a: a[_IDX] ** 2, [_r((3, 2))]),
    "getitem_mask": (lambda a: a[_MASK] ** 2, [_r((2, 3))]),
    "getitem_two_arrays": (lambda a: a[_IDX, _IDX % 2] ** 2, [_r((3, 2))]),
    "concatenate": (lambda a, b: tg.concatenate([a, b * b, a], axis=1) ** 2,
                    [_r((2, 1)), _r((2, 2), 1)]),
    "stack": (lambda a, b: tg.stack([a, b], axis=-1) ** 2, [_r((2,)), _r((2,), 1)]),
    "pad": (lambda a: a.pad(((1, 0), (0, 2)), value=0.5) ** 2, [_r((2, 2))]),
    # the squares make the second derivative non-zero; plain targets take the primitive
    "nll_loss_mean": (lambda a: F.nll_loss(a * a, Tensor(np.array([1, 0, 1, 2]))),
                      [_r((4, 3))]),
    "nll_loss_sum": (lambda a: F.nll_loss(a * a, Tensor(np.array([2, 2, 0])), reduction="sum"),
                     [_r((3, 3))]),
    # depthwise convolution's three ops, each bilinear (its cross terms: a non-zero second
    # derivative); multiplier 2, stride, dilation and uneven zero padding
    "depthwise_conv2d": (lambda x, w: _apply(tg.ops.DepthwiseConv2d, x, w, **_DW),
                         [_r((2, 2, 5, 4)), _r((4, 2, 2), 1)]),
    "depthwise_conv2d_input": (lambda g, w: _apply(tg.ops.DepthwiseConv2dInput, g, w,
                                                   size=(2, 5, 4), **_DW),
                               [_r((2, 4, 3, 3)), _r((4, 2, 2), 1)]),
    "depthwise_conv2d_weight": (lambda x, g: _apply(tg.ops.DepthwiseConv2dWeight, x, g,
                                                    kernel=(2, 2), **_DW),
                                [_r((2, 2, 5, 4)), _r((2, 4, 3, 3), 1)]),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck_every_primitive(name):
    fn, inputs, *kw = GRADCHECK[name]
    xs = [Tensor(a, requires_grad=True) for a in inputs]
    assert tg.gradcheck(fn, xs, **(kw[0] if kw else {})) is True


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradgradcheck_every_primitive(name):
    fn, inputs, *kw = GRADCHECK[name]
    xs = [Tensor(a, requires_grad=True) for a in inputs]
    assert tg.gradgradcheck(fn, xs, **(kw[0] if kw else {})) is True


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("name", ["tanh", "sigmoid", "exp", "log", "log1p", "expm1", "rsqrt",
                                  "softmax", "var",
                                  "std", "logsumexp", "div", "pow", "matmul", "vecdot", "max",
                                  "getitem", "nll_loss", "cumsum", "prod", "einsum"])
def test_second_derivative_parity_with_torch(torch, name, dtype):
    """Hessian-vector products, recorded backward against torch's double backward."""
    fns = {
        "tanh": (lambda x: x.tanh(), lambda t: t.tanh(), "real"),
        "sigmoid": (lambda x: x.sigmoid(), lambda t: t.sigmoid(), "real"),
        "exp": (lambda x: x.exp(), lambda t: t.exp(), "real"),
        "log": (lambda x: x.log(), lambda t: t.log(), "pos"),
        "log1p": (lambda x: x.log1p(), lambda t: t.log1p(), "pos"),
        "expm1": (lambda x: x.expm1(), lambda t: t.expm1(), "real"),
        "rsqrt": (lambda x: x.rsqrt(), lambda t: t.rsqrt(), "pos"),
        "softmax": (lambda x: x.softmax(axis=0), lambda t: t.softmax(dim=0), "real"),
        "var": (lambda x: x.var(axis=1, keepdims=True), lambda t: t.var(dim=1, keepdim=True), "real"),
        "std": (lambda x: x.std(axis=0), lambda t: t.std(dim=0), "real"),
        "logsumexp": (lambda x: x.logsumexp(axis=1), lambda t: t.logsumexp(dim=1), "real"),
        "cumsum": (lambda x: x.cumsum(axis=1) ** 2, lambda t: t.cumsum(dim=1) ** 2, "real"),
        "prod": (lambda x: x.prod(axis=1, keepdims=True) * x, lambda t: t.prod(dim=1, keepdim=True) * t,
                 "real"),
        "einsum": (lambda x: tg.einsum("ij,kj->ik", x, x * x),
                   lambda t: torch.einsum("ij,kj->ik", t, t * t), "real"),
        "div": (lambda x: 1.5 / x, lambda t: 1.5 / t, "nonzero"),
        "pow": (lambda x: x ** x, lambda t: t ** t, "pos"),
        "matmul": (lambda x: x @ x.T, lambda t: t @ t.T, "real"),
        "vecdot": (lambda x: x.vecdot(x, axis=0) * x, lambda t: (t * t).sum(dim=0) * t, "real"),
        "max": (lambda x: x.max(axis=1) * x.sum(axis=1), lambda t: t.amax(dim=1) * t.sum(dim=1),
                "real"),
        "getitem": (lambda x: x[[0, 0, 2]] ** 3, lambda t: t[[0, 0, 2]] ** 3, "real"),
        "nll_loss": (lambda x: F.nll_loss(x * x, Tensor(np.array([3, 0, 3]))),
                     lambda t: torch.nn.functional.nll_loss(t * t, torch.tensor([3, 0, 3])),
                     "real"),
    }
    fn, tfn, domain = fns[name]
    rng = np.random.default_rng(5)
    a = values(5, (3, 4), domain).astype(dtype)
    x = Tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    out, ref = fn(x), tfn(t)
    g = rng.standard_normal(out.shape).astype(dtype)
    v = rng.standard_normal(a.shape).astype(dtype)
    gx, = tg.grad(out, x, grad_outputs=g, create_graph=True)
    gt, = torch.autograd.grad(ref, t, torch.from_numpy(g), create_graph=True)
    hv, = tg.grad(gx, x, grad_outputs=v)
    hvt, = torch.autograd.grad(gt, t, torch.from_numpy(v))
    assert hv.dtype == dtype
    _close(gx.numpy(), gt.detach().numpy(), RTOL[dtype] * 10, "first derivative")
    _close(hv.numpy(), hvt.numpy(), RTOL[dtype] * 10, "Hessian-vector product")


# Primitives whose finite-difference checks live with the composites built on them.
_TESTED_ELSEWHERE = {"im2col": "test_conv_pool.py", "col2im": "test_conv_pool.py",
                     "take": "test_take_addat.py", "add_at": "test_take_addat.py",
                     "window_logsumexp": "test_window_logsumexp.py",
                     "setitem": "test_inplace_recorded.py",
                     "erf": "test_activation_losses.py",
                     # (refuse: no derivative by design; its error is tested there)
                     "scatter_reduce": "test_scatter_reduce.py", "refuse": "test_scatter_reduce.py",
                     # tinygrad_norm.linalg's (test_linalg.py checks that each has a case there)
                     **{name: "test_linalg.py" for name in (
                         "inv", "solve", "det", "slogdet", "cholesky", "qr", "eigh", "eigvalsh",
                         "svd", "svdvals", "pinv")},
                     # the solvers' (test_linalg_solvers.py checks that each has a case there)
                     **dict.fromkeys(["solve_triangular", "matrix_exp", "lu_factor"],
                                     "test_linalg_solvers.py"),
                     **dict.fromkeys(["lgamma", "digamma", "polygamma", "erfc", "erfcx", "erfinv",
                                      "ndtri", "i0", "i0e", "i1", "i1e", "zeta"],
                                     "test_special.py"),
                     "igamma": "test_special_gammainc.py",
                     **dict.fromkeys(["gelu", "gelu_grad", "softplus", "softplus_grad",
                                      "lstm_cell", "lstm_hidden", "gru_cell", "lstm_sequence",
                                      "stack", "smooth_l1", "bce_with_logits", "ctc_alpha"],
                                     "test_speed6.py"),
                     **dict.fromkeys(["logit", "lerp", "addcdiv"], "test_hunt5_regressions.py")}


def _op_names(roots):
    names, seen, stack = set(), set(), [r for r in roots if r is not None]
    while stack:  # the graph, walked without recursion
        t = stack.pop()
        node = t._node
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(node.op.name)
        stack.extend(i for i in node.inputs if isinstance(i, Tensor))
    return names


def test_every_primitive_has_a_gradcheck_case():
    """A new primitive in ops.py must get a case in GRADCHECK (or name where it is tested)."""
    prims = set()
    todo = list(tg.ops.Op.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__ == tg.ops.__name__ and not cls.__name__.startswith("_"):
            prims.add(cls.name)
    covered = set()
    for fn, inputs, *_ in GRADCHECK.values():
        xs = [Tensor(a, requires_grad=True) for a in inputs]
        out = fn(*xs)
        grads = tg.grad(out, xs, grad_outputs=np.ones(out.shape), create_graph=True,
                        allow_unused=True)
        covered |= _op_names([out, *grads])
    missing = prims - covered - set(_TESTED_ELSEWHERE)
    assert not missing, f"primitives without a gradcheck/gradgradcheck case: {sorted(missing)}"


# ---- float32 reductions over many terms ----------------------------------------------------------

@pytest.mark.parametrize("shape,axis", [((1 << 20, 4), (0,)), ((8, 1 << 18), (1,)),
                                        ((16, 64, 32, 32), (0, 2, 3)), ((100003, 3), (0,))],
                         ids=["rows", "columns", "nchw-channels", "odd-length"])
def test_float32_reductions_stay_accurate_over_many_terms(shape, axis):
    # A float32 running sum drifts by ~n ulps: over 1M rows of mean 100 the variance was 50%
    # off. Sums are accumulated in float32 runs of bounded length, added in float64.
    a = (np.random.default_rng(7).random(shape) + 100).astype(np.float32)
    a64 = a.astype(np.float64)
    t = Tensor(a)
    for ours, exact in ((t.sum(axis=axis), a64.sum(axis=axis)),
                        (t.mean(axis=axis), a64.mean(axis=axis)),
                        (t.var(axis=axis), a64.var(axis=axis, ddof=1)),
                        (t.vecdot(t, axis=axis), (a64 * a64).sum(axis=axis))):
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours.numpy(), exact, rtol=2e-6)


def test_float32_broadcast_gradient_sums_stay_accurate():
    rng = np.random.default_rng(8)
    x = Tensor(rng.random((1 << 17, 8)).astype(np.float32), requires_grad=True)
    b = Tensor(np.zeros(8, np.float32), requires_grad=True)
    w = Tensor(np.ones(8, np.float32), requires_grad=True)
    g = (rng.random((1 << 17, 8)) + 100).astype(np.float32)
    (x * w + b).backward(g)
    np.testing.assert_allclose(b.grad.numpy(), g.astype(np.float64).sum(0), rtol=2e-6)
    np.testing.assert_allclose(w.grad.numpy(), (g.astype(np.float64) * x.numpy()).sum(0),
                               rtol=2e-6)


def test_leaky_relu_of_slope_zero_keeps_its_nan_rule_as_torch(torch):
    # slope 0 took relu's rule (g passes at NaN); leaky_relu's gives g * slope = 0 there
    a, up = np.array([np.nan, -1.0, 2.0]), np.array([5.0, 6.0, 7.0])
    for create_graph in (False, True):
        x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        g, = tg.grad(F.leaky_relu(x, 0.0), [x], grad_outputs=Tensor(up),
                     create_graph=create_graph)
        want, = torch.autograd.grad(torch.nn.functional.leaky_relu(t, 0.0), [t],
                                    torch.tensor(up))
        np.testing.assert_array_equal(g.numpy(), want.numpy())


def test_maximum_of_numbers_does_not_depend_on_their_order():
    assert tg.maximum(2.0, np.float64(1.0)).dtype == tg.maximum(np.float64(1.0), 2.0).dtype
    with pytest.raises(ValueError, match="does not fit dtype int64"):
        Tensor([float("nan")], dtype=np.int64)


# ---- float16, as PyTorch's CPU kernels: accumulated in float32, rounded once ---------------------

def test_float16_reductions_accumulate_in_float32(torch):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(1000) * 10).astype(np.float16)
    b = rng.uniform(0, 1, 100_000).astype(np.float16)
    c = rng.uniform(0, 1, (20_000, 2)).astype(np.float16)
    exact = lambda v, f: np.float16(f(v.astype(np.float64)))  # noqa: E731
    # var of a: its sum of squares passes 65504 (was inf); of b: n passes 65504 (was 0)
    ulp = lambda v: float(np.spacing(np.float16(v)))  # noqa: E731
    for v, f, ours in ((a, np.var, Tensor(a).var()), (b, np.var, Tensor(b).var()),
                       (b, np.std, Tensor(b).std())):
        want = exact(v, f)
        assert abs(float(ours.item()) - float(want)) <= ulp(want)  # within one float16 ulp
    # a leading axis: NumPy adds float16 in float16 there (each column stalled at 2048)
    np.testing.assert_allclose(Tensor(c).sum(axis=0).numpy(), c.astype(np.float64).sum(0),
                               rtol=1e-3)
    np.testing.assert_allclose(Tensor(c).logsumexp(axis=0).numpy(),
                               np.log(np.exp(c.astype(np.float64)).sum(0)), rtol=1e-3)
    x = rng.standard_normal((3000, 3)).astype(np.float16)
    for f in (lambda t: t.softmax(0), lambda t: t.log_softmax(0).exp()):
        np.testing.assert_allclose(f(Tensor(x)).numpy().astype(np.float64).sum(0), 1.0,
                                   atol=2e-3)
    from tinygrad_norm import nn
    lin = nn.Linear(4, 2, dtype=np.float16)
    lin(Tensor(rng.standard_normal((8192, 4)).astype(np.float16))).sum().backward()
    np.testing.assert_array_equal(lin.bias.grad.numpy(), 8192.0)  # was 2048


def test_float16_with_a_python_number_as_torch(torch):
    """Multiply and divide compute in float32 and round once, as PyTorch (NumPy rounds the
    number to float16 first: x * 65536.0, the usual loss scale, was inf); add and subtract round
    the number first in both. Forward and gradient bit for bit against torch."""
    x = np.random.default_rng(0).standard_normal(10_000).astype(np.float16)
    for f in (lambda t: t * 65536.0, lambda t: t * 0.1, lambda t: t / 3.0, lambda t: t / 65536.0,
              lambda t: 0.1 - t, lambda t: t + 1 / 3, lambda t: 2049 - t, lambda t: t * 2049):
        t, tt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, yt = f(t), f(tt)
        np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
        y.backward(Tensor(np.ones_like(x)))
        yt.backward(torch.ones_like(tt))
        np.testing.assert_array_equal(t.grad.numpy(), tt.grad.numpy())  # x / 65536: was 0
        assert y.dtype == t.grad.dtype == np.float16


def test_float16_gelu_is_computed_in_float32_as_torch(torch):
    x = np.linspace(-12, 12, 97).astype(np.float16)
    for approximate in ("none", "tanh"):
        t, tt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y = F.gelu(t, approximate=approximate)
        yt = torch.nn.functional.gelu(tt, approximate=approximate)
        y.backward(Tensor(np.ones_like(x)))
        yt.backward(torch.ones_like(tt))
        want = torch.nn.functional.gelu(torch.tensor(x.astype(np.float64)), approximate=approximate)
        np.testing.assert_allclose(y.numpy(), want.numpy().astype(np.float16), atol=1e-4, rtol=2e-3)
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), atol=1e-3, rtol=5e-3)
        assert y.dtype == t.grad.dtype == np.float16


def test_values_that_do_not_fit_float16_are_refused():
    with pytest.raises(ValueError, match="does not fit dtype float16"):
        Tensor.full((2,), 1e5, dtype=np.float16)
    assert np.isinf(Tensor([1e5], dtype=np.float16).numpy()).all()  # as torch.tensor
    assert np.isinf(Tensor.full((1,), np.inf, dtype=np.float16).numpy()).all()
    x = Tensor(np.ones(3, np.float16), requires_grad=True)
    with pytest.raises(TypeError, match="dtype float32 to a tensor of dtype float16"):
        x.grad = Tensor(np.ones(3, np.float32))  # as torch


def test_float16_softmax_gradients_accumulate_in_float32(torch):
    x = np.random.default_rng(1).standard_normal((20_000, 2)).astype(np.float16)
    up = np.random.default_rng(2).uniform(0, 1, (20_000, 2)).astype(np.float16)  # sums ~1e4
    for name in ("softmax", "log_softmax"):
        t = Tensor(x, requires_grad=True)
        getattr(F, name)(t, 0).backward(Tensor(up))
        t64 = torch.tensor(x.astype(np.float64), requires_grad=True)
        getattr(torch.nn.functional, name)(t64, 0).backward(torch.tensor(up.astype(np.float64)))
        want = t64.grad.numpy()
        # the column sums of the upstream gradient stalled in float16 (error 1.18 for log_softmax)
        np.testing.assert_allclose(t.grad.numpy(), want, atol=2e-3 * np.abs(want).max() + 1e-3)



@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@given(sak=shape_axis(), seed=seeds)
def test_cumsum_parity(torch, dtype, sak, seed):
    shape, axis, _ = sak
    nd = len(shape)
    ax = axis if isinstance(axis, int) else None
    if ax is None:  # torch's cumsum takes one dim: the flattened tensor stands for None
        parity(torch, lambda x: x.cumsum(), lambda t: t.reshape(-1).cumsum(dim=0),
               [values(seed, shape)], dtype, seed)
        return
    parity(torch, lambda x: x.cumsum(axis=ax), lambda t: t.cumsum(dim=ax if nd else 0),
           [values(seed, shape)], dtype, seed,
           np_fn=lambda a: np.cumsum(a, axis=ax) if nd else a)


def test_cumsum_integers_and_float16_as_torch(torch):
    for dt in (np.int8, np.uint8, np.int32, np.bool_):
        a = (np.arange(6) % 3).astype(dt).reshape(2, 3)
        ours, theirs = Tensor(a).cumsum(axis=1), torch.tensor(a).cumsum(dim=1)
        assert ours.dtype == np.int64 == theirs.numpy().dtype
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    h = np.full(5000, 0.1, np.float16)  # float16 running sums stall without a float32 total
    np.testing.assert_array_equal(Tensor(h).cumsum().data, torch.tensor(h).cumsum(0).numpy())
    with pytest.raises(TypeError, match="one int or None"):
        Tensor(np.ones((2, 2))).cumsum((0, 1))


def test_float16_matmul_computes_in_float32_and_rounds_once_as_torch(torch):
    # NumPy has no float16 BLAS kernel: its own loop took ~1 s for a (256, 512) @ (512, 512)
    # Linear step (a bug hunter's finding); torch's CPU kernel accumulates in float32
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((2, 8, 40)).astype(np.float16),
            rng.standard_normal((40, 16)).astype(np.float16))
    x, w = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    y = x @ w
    exact = np.matmul(a.astype(np.float32), b.astype(np.float32)).astype(np.float16)
    assert y.dtype == np.float16
    np.testing.assert_array_equal(y.numpy(), exact)
    g = rng.standard_normal(y.shape).astype(np.float16)
    y.backward(Tensor(g))
    t, tw = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (t @ tw).backward(torch.tensor(g))
    assert x.grad.dtype == w.grad.dtype == np.float16
    for ours, theirs in ((y.numpy(), (t @ tw).detach().numpy()), (x.grad.numpy(), t.grad.numpy()),
                         (w.grad.numpy(), tw.grad.numpy())):
        np.testing.assert_allclose(ours.astype(np.float32), theirs.astype(np.float32),
                                   rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("pattern", ["unique", "consecutive", "few", "many", "negative", "empty"])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_one_axis_gather_gradient_adds_repeats_as_add_at(pattern, axis):
    # the VJP of x[:, idx] (interpolate, pad, index_select) avoids np.add.at, 5-15x torch's
    # time (a bug hunter's finding): its places and sums must be add.at's
    from tinygrad_norm.ops import _scatter_np
    rng = np.random.default_rng(axis)
    shape = (4, 5, 6)
    n = shape[axis]
    idx = {"unique": rng.permutation(n), "consecutive": np.arange(n).repeat(3),
           "few": rng.integers(0, n, 2 * n), "many": rng.integers(0, 2, 40),
           "negative": rng.integers(-n, n, 9), "empty": np.zeros(0, np.int64)}[pattern]
    index = (slice(None),) * axis + (idx,)
    g = rng.standard_normal(np.zeros(shape)[index].shape)
    expected = np.zeros(shape)
    np.add.at(expected, index, g)
    np.testing.assert_allclose(_scatter_np(g, index, shape, False), expected, rtol=1e-14,
                               atol=1e-14)
    x = Tensor(rng.standard_normal(shape), requires_grad=True)
    x[index].backward(Tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-14, atol=1e-14)
