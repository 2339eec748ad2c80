"""PyTorch's elementwise math (sin ... atan2, hypot, fmod, remainder, round, nan_to_num, lerp,
cumprod, diff, the in-place forms) and the top-level functions, against torch 2.13: values at
the special points (+-0, +-inf, NaN, huge, tiny, out of domain) with NaN compared to NaN,
dtypes, gradients under a random upstream gradient in float64 and float32, broadcasting over
hypothesis shapes for the two-input ones, second derivatives, and the errors. The finite-
difference checks of the new primitives are in test_primitives.py's GRADCHECK."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import tinygrad_norm as tg  # noqa: E402
from tinygrad_norm import Tensor  # noqa: E402

INF, NAN = np.inf, np.nan
SPECIAL = np.array([0.0, -0.0, INF, -INF, NAN, 1e-30, -1e-30, 1e30, -1e30, 0.5, -0.5, 1.0,
                    -1.0, 2.5, -2.5, 0.999, -0.999, 1.5, 3.7, -3.7, 7e2, -7e2])
RTOL = {np.float64: 1e-12, np.float32: 2e-6}


def _same(ours, theirs, rtol, what, signed_zero=False):
    """Equal within ``rtol``, NaN exactly where torch has NaN, infinities equal."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape, what
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype} != torch {theirs.dtype}"
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=what + " (NaN)")
    ok = ~np.isnan(theirs)
    np.testing.assert_allclose(ours[ok], theirs[ok], rtol=rtol, atol=0, err_msg=what)
    if signed_zero:
        np.testing.assert_array_equal(np.signbit(ours[ok]), np.signbit(theirs[ok]),
                                      err_msg=what + " (sign of zero)")


UNARY = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
         "atanh", "log2", "log10", "exp2", "reciprocal", "floor", "ceil", "trunc", "round",
         "frac", "neg", "erf"]


def _unary_case(torch, name, a, dtype, seed):
    x = Tensor(a.astype(dtype), requires_grad=True)
    t = torch.tensor(a.astype(dtype), requires_grad=True)
    with np.errstate(all="ignore"):
        out = getattr(x, name)()
    ref = getattr(t, name)()
    exact = name in ("floor", "ceil", "trunc", "round", "frac", "neg")
    _same(out.numpy(), ref.detach().numpy(), 0 if exact else RTOL[dtype], f"{name} forward",
          signed_zero=exact)
    g = np.random.default_rng(seed).standard_normal(a.shape).astype(dtype)
    with np.errstate(all="ignore"):
        out.backward(g)
    ref.backward(torch.from_numpy(g))
    assert x.grad.dtype == dtype
    _same(x.grad.numpy(), t.grad.numpy(), RTOL[dtype] * 4, f"{name} gradient")


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", UNARY)
def test_unary_at_special_points_as_torch(torch, name, dtype):
    """Values and gradients at 0, -0, +-inf, NaN, the domain edges (+-1 for asin/atanh) and
    outside them, huge and tiny inputs."""
    _unary_case(torch, name, SPECIAL, dtype, seed=UNARY.index(name))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", UNARY)
def test_unary_on_random_values_as_torch(torch, name, dtype):
    a = np.random.default_rng(7).standard_normal((3, 4)) * 3
    _unary_case(torch, name, a, dtype, seed=11)


@pytest.mark.parametrize("name", ["sin", "exp2", "log2", "reciprocal", "atan", "floor"])
@pytest.mark.parametrize("dt", [np.int64, np.int32, np.uint8, np.bool_])
def test_integer_and_bool_inputs(torch, name, dt):
    """Integers and bools are computed as float32, torch's default dtype, as torch does; floor
    of an integer is itself, same dtype, as torch's; floor of a bool is an error, as in torch."""
    a = np.array([0, 1, 2, 5]).astype(dt)
    x, t = Tensor(a), torch.tensor(a)
    if name == "floor":
        if dt == np.bool_:
            with pytest.raises(TypeError, match="bool"):
                x.floor()
            return
        out = x.floor()
        assert out.dtype == dt
        np.testing.assert_array_equal(out.numpy(), t.floor().numpy())
        return
    with np.errstate(divide="ignore"):
        out = getattr(x, name)()
    assert out.dtype == np.float32 and str(getattr(t, name)().dtype) == "torch.float32"
    np.testing.assert_allclose(out.numpy(), getattr(t, name)().double().numpy(), rtol=1e-6)


def test_float16_stays_float16(torch):
    a = np.array([0.1, -2.0, 3.5, 0.5], np.float16)
    for name in ["sin", "cos", "exp2", "reciprocal", "floor", "round"]:
        out = getattr(Tensor(a), name)()
        assert out.dtype == np.float16, name
        np.testing.assert_allclose(out.numpy().astype(np.float64),
                                   getattr(torch.tensor(a), name)().double().numpy(),
                                   rtol=2e-3, err_msg=name)


# ---- round --------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16], ids=["f64", "f32", "f16"])
@pytest.mark.parametrize("decimals", [0, 1, 2, 3, -1, -2])
def test_round_half_to_even_and_decimals_as_torch(torch, dtype, decimals):
    with np.errstate(over="ignore"):  # 1e5 is inf in float16
        a = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 2.675, 0.125, 1234.5678, -1250.0, 15.0, 0.0,
                      -0.0, INF, -INF, NAN, 1e5 + 0.5]).astype(dtype)
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    with np.errstate(all="ignore"):
        out = x.round(decimals=decimals)
    ref = torch.round(t, decimals=decimals)
    _same(out.numpy(), ref.detach().numpy(), 0, "round", signed_zero=True)
    g = np.ones(a.shape, dtype)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    _same(x.grad.numpy(), t.grad.numpy(), 0, "round gradient (zeros)")


# ---- two-input functions ---------------------------------------------------------------------

BINARY = ["atan2", "fmod", "hypot", "logaddexp", "remainder"]


def _binary_case(torch, name, a, b, dtype, seed, rtol):
    x = Tensor(a.astype(dtype), requires_grad=True)
    y = Tensor(b.astype(dtype), requires_grad=True)
    s = torch.tensor(a.astype(dtype), requires_grad=True)
    t = torch.tensor(b.astype(dtype), requires_grad=True)
    with np.errstate(all="ignore"):
        out = getattr(x, name)(y)
    ref = getattr(torch, name)(s, t)
    _same(out.numpy(), ref.detach().numpy(), rtol, f"{name} forward",
          signed_zero=name in ("fmod", "remainder"))
    g = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    with np.errstate(all="ignore"):
        out.backward(g)
    ref.backward(torch.from_numpy(g))
    for ours, theirs, which in ((x, s, "first"), (y, t, "second")):
        assert ours.grad.dtype == dtype
        _same(ours.grad.numpy(), theirs.grad.numpy(), rtol * 4, f"{name} gradient ({which})")


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", BINARY)
def test_binary_at_special_points_as_torch(torch, name, dtype):
    """Every pair of special values: atan2 and hypot at the origin (gradients 0 and -0 for
    atan2, NaN for hypot, as torch), logaddexp of two infinities, fmod/remainder by 0, by inf,
    of -0, and the divisor's gradient (-trunc(a/b) and -floor(a/b))."""
    pts = np.array([0.0, -0.0, INF, -INF, NAN, 1e-300, 2.5, -2.5, 1.0, -7.0, 3.0])
    a, b = np.meshgrid(pts, pts, indexing="ij")
    _binary_case(torch, name, a.ravel(), b.ravel(), dtype, seed=3, rtol=RTOL[dtype])


@given(st.data())
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", BINARY)
def test_binary_broadcasting_as_torch(torch, name, dtype, data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    seed = data.draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shapes.input_shapes[0]) * 4
    b = rng.standard_normal(shapes.input_shapes[1]) * 2
    # away from the jumps of fmod/remainder, where one rounding may land on either side
    b = np.where(np.abs(b) < 0.1, 0.5, b)
    _binary_case(torch, name, np.asarray(a), np.asarray(b), dtype, seed, rtol=RTOL[dtype] * 10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_logaddexp_gradient_of_far_apart_operands_is_torchs_without_a_warning(torch, dtype):
    """The gradient 1 / (1 + exp(b - a)) is 0 for the smaller operand once the two are more
    than 709 apart (88 in float32): right, but exp of the difference overflowed, and NumPy
    warned about it on every backward of a wide logcumsumexp."""
    import warnings
    a = np.array([1000.0, -1000.0, 90.0, -90.0, 0.0, 3.0])
    b = np.array([-1000.0, 1000.0, -90.0, 90.0, 0.0, 2.0])
    x = Tensor(a.astype(dtype), requires_grad=True)
    y = Tensor(b.astype(dtype), requires_grad=True)
    s = torch.tensor(a.astype(dtype), requires_grad=True)
    t = torch.tensor(b.astype(dtype), requires_grad=True)
    g = np.random.default_rng(4).standard_normal(a.shape).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x.logaddexp(y).backward(g)
    torch.logaddexp(s, t).backward(torch.from_numpy(g))
    for ours, theirs in ((x, s), (y, t)):
        _same(ours.grad.numpy(), theirs.grad.numpy(), RTOL[dtype] * 4, "logaddexp gradient")


@pytest.mark.parametrize("name", ["fmod", "remainder", "atan2"])
def test_binary_with_a_python_number_keeps_float32(torch, name):
    a = np.array([-3.5, 2.25, 7.0], np.float32)
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = getattr(x, name)(2.5), getattr(torch, name)(t, torch.tensor(2.5))
    assert out.dtype == np.float32
    _same(out.numpy(), ref.detach().numpy(), RTOL[np.float32], name)
    out.backward(np.ones(3, np.float32))
    ref.backward(torch.ones(3))
    assert x.grad.dtype == np.float32
    _same(x.grad.numpy(), t.grad.numpy(), RTOL[np.float32], name + " gradient")


def test_mod_and_floordiv_operators_are_remainder_and_floor_divide(torch):
    a = np.array([-7.0, -6.5, 0.0, -0.0, 5.5, 7.0, INF, 3.0])
    b = np.array([2.0, -2.0, -3.0, 3.0, 0.0, INF, 2.0, -INF])
    x, y = Tensor(a), Tensor(b)
    s, t = torch.tensor(a), torch.tensor(b)
    with np.errstate(all="ignore"):
        _same((x % y).numpy(), (s % t).numpy(), 0, "%", signed_zero=True)
        _same((x // y).numpy(), (s // t).numpy(), 0, "//", signed_zero=True)
        _same(tg.floor_divide(x, y).numpy(), torch.floor_divide(s, t).numpy(), 0, "floor_divide")
        _same((7.5 % y).numpy(), (7.5 % t).numpy(), 0, "rmod", signed_zero=True)
    i, j = Tensor(np.array([-7, 7, 5])), torch.tensor([-7, 7, 5])
    for ours, theirs in ((i % 3, j % 3), (i // -2, j // -2), (i.fmod(3), j.fmod(3))):
        assert ours.dtype == np.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert not (Tensor(a, requires_grad=True) // 2.0).requires_grad  # torch: no derivative


@pytest.mark.parametrize("fn", ["fmod", "remainder", "floor_divide"])
def test_integer_division_by_zero_is_an_error_as_torch(fn):
    with pytest.raises(ZeroDivisionError, match=fn):
        getattr(Tensor(np.array([3, 4])), fn)(Tensor(np.array([1, 0])))
    with pytest.raises(ZeroDivisionError):
        getattr(Tensor(np.array([3, 4])), fn)(0)


def test_atan2_of_integers_makes_floats(torch):
    out = Tensor(np.array([3, -1], np.int32)).atan2(Tensor(np.array([4.0, 0.0], np.float32)))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(),
                               torch.atan2(torch.tensor([3, -1]), torch.tensor([4.0, 0.0])),
                               rtol=1e-6)


@pytest.mark.parametrize("name,make", [
    ("sin", lambda m, x: m.sin(x) * x), ("tan", lambda m, x: m.tan(x)),
    ("reciprocal", lambda m, x: m.reciprocal(x) * x), ("asin", lambda m, x: m.asin(x * 0.3)),
    ("atan2", lambda m, x: m.atan2(x, x * x + 1)), ("hypot", lambda m, x: m.hypot(x, x * x)),
    ("logaddexp", lambda m, x: m.logaddexp(x, x * 2)),
    ("fmod", lambda m, x: m.fmod(x * 3, x * x + 0.7)),
    ("remainder", lambda m, x: m.remainder(x * 3, x * x + 0.7)),
    ("cumprod", lambda m, x: m.cumprod(x, 1) * x)])
def test_second_derivatives_as_torch(torch, name, make):
    """Hessian-vector products of ``sum(f(x) * g)``, recorded backward against torch's."""
    a = np.random.default_rng(2).standard_normal((3, 4))
    a[0, 1] = 0.0  # a zero factor for cumprod
    rng = np.random.default_rng(4)
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    with np.errstate(all="ignore"):  # the zero is a pole of reciprocal, hypot's NaN point
        out, ref = make(tg, x), make(torch, t)
        g, v = rng.standard_normal(out.shape), rng.standard_normal(a.shape)
        gx, = tg.grad(out, x, grad_outputs=g, create_graph=True)
        hv, = tg.grad(gx, x, grad_outputs=v)
    gt, = torch.autograd.grad(ref, t, torch.from_numpy(g), create_graph=True)
    hvt, = torch.autograd.grad(gt, t, torch.from_numpy(v))
    np.testing.assert_allclose(gx.numpy(), gt.detach().numpy(), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(hv.numpy(), hvt.numpy(), rtol=1e-10, atol=1e-12)


# ---- composites: lerp, nan_to_num, cumprod, diff -------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("weight", [0.3, -0.7, 1.0, 0.5, "tensor"])
def test_lerp_as_torch(torch, dtype, weight):
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((2, 3)).astype(dtype), rng.standard_normal((3,)).astype(dtype)
    a[0, 0], b[0] = 0.1, 0.3  # 0.1 + (0.3 - 0.1) is not 0.3
    x, e = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    s, t = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    if weight == "tensor":
        w = np.array([[0.2, 0.5, 1.3], [-0.4, 0.49, 0.9]], dtype)
        wt, tt = Tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    else:
        wt, tt = weight, weight
    out, ref = x.lerp(e, wt), torch.lerp(s, t, tt)
    _same(out.numpy(), ref.detach().numpy(), RTOL[dtype], "lerp")
    if weight == 1.0:  # torch's second formula: exactly ``end``, where x + (end - x) is not
        _same(out.numpy(), ref.detach().numpy(), 0, "lerp at weight 1")
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    pairs = [(x, s), (e, t)] + ([(wt, tt)] if weight == "tensor" else [])
    for ours, theirs in pairs:
        assert ours.grad.dtype == dtype
        _same(ours.grad.numpy(), theirs.grad.numpy(), RTOL[dtype] * 4, "lerp gradient")


@given(st.data())
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_lerp_broadcasting_with_a_tensor_weight_as_torch(torch, dtype, data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes.input_shapes]
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = ours[0].lerp(ours[1], ours[2]), torch.lerp(*theirs)
    _same(out.numpy(), ref.detach().numpy(), RTOL[dtype] * 4, "lerp")
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    for o, t in zip(ours, theirs):
        assert o.grad.dtype == dtype
        _same(o.grad.numpy(), t.grad.numpy(), RTOL[dtype] * 10, "lerp gradient")


@pytest.mark.parametrize("kw", [{}, dict(nan=1.5), dict(posinf=9.0, neginf=-8.0),
                                dict(nan=-1.0, posinf=2.0)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16], ids=["f64", "f32", "f16"])
def test_nan_to_num_values_and_gradient_as_torch(torch, kw, dtype):
    """The gradient passes where x is finite and is 0 where a value was replaced."""
    a = np.array([NAN, 1.5, INF, -INF, -0.0, 3.0]).astype(dtype)
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = x.nan_to_num(**kw), torch.nan_to_num(t, **kw)
    _same(out.numpy(), ref.detach().numpy(), 0, "nan_to_num", signed_zero=True)
    g = np.arange(1.0, 7.0).astype(dtype)
    out.backward(g)
    ref.backward(torch.from_numpy(g))
    _same(x.grad.numpy(), t.grad.numpy(), 0, "nan_to_num gradient")


def test_isnan_isinf_isfinite_and_logical_ops(torch):
    for a in (SPECIAL, SPECIAL.astype(np.float32), np.array([0, -3, 7]), np.array([True, False])):
        x, t = Tensor(a), torch.tensor(a)
        for name in ("isnan", "isinf", "isfinite", "logical_not"):
            out = getattr(x, name)()
            assert out.dtype == np.bool_ and not out.requires_grad
            np.testing.assert_array_equal(out.numpy(), getattr(torch, name)(t).numpy(), name)
            np.testing.assert_array_equal(getattr(tg, name)(x).numpy(), out.numpy())
    a, b = np.array([0.0, 2.0, -1.0, 0.0, NAN]), np.array([[1], [0]])
    for name in ("logical_and", "logical_or", "logical_xor"):
        out = getattr(Tensor(a), name)(Tensor(b))
        np.testing.assert_array_equal(
            out.numpy(), getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy(), name)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod_with_zeros_as_torch(torch, dim):
    """Zeros in a slice: one (its gradient the product of the others), two, and none."""
    a = np.array([[0.0, 2.0, 0.0, 3.0], [1.5, -2.0, 0.5, 0.0], [1.1, 0.9, -1.2, 2.0]])
    for dtype in (np.float64, np.float32):
        x = Tensor(a.astype(dtype), requires_grad=True)
        t = torch.tensor(a.astype(dtype), requires_grad=True)
        out, ref = x.cumprod(dim), torch.cumprod(t, dim)
        _same(out.numpy(), ref.detach().numpy(), RTOL[dtype], "cumprod")
        g = np.random.default_rng(dim + 5).standard_normal(a.shape).astype(dtype)
        out.backward(g)
        ref.backward(torch.from_numpy(g))
        _same(x.grad.numpy(), t.grad.numpy(), RTOL[dtype] * 4, "cumprod gradient")
    ints = Tensor(np.array([[1, 2, 3], [0, 4, 5]], np.int32)).cumprod(1)
    assert ints.dtype == np.int64
    np.testing.assert_array_equal(ints.numpy(), [[1, 2, 6], [0, 0, 0]])
    np.testing.assert_array_equal(Tensor(np.float64(2.5)).cumprod(0).numpy(), 2.5)


@pytest.mark.parametrize("case", [dict(), dict(n=2), dict(n=3, dim=0), dict(dim=0, n=0),
                                  dict(prepend="p"), dict(append="a", n=2),
                                  dict(prepend="p", append="a", dim=1), dict(n=9)])
def test_diff_as_torch(torch, case):
    rng = np.random.default_rng(6)
    a = rng.standard_normal((3, 4))
    if case.get("dim") == 0:
        extra = {"p": rng.standard_normal((2, 4)), "a": rng.standard_normal((1, 4))}
    else:
        extra = {"p": rng.standard_normal((3, 2)), "a": rng.standard_normal((3, 1))}
    ours_kw = {k: Tensor(extra[v]) if k in ("prepend", "append") else v for k, v in case.items()}
    theirs_kw = {k: torch.tensor(extra[v]) if k in ("prepend", "append") else v
                 for k, v in case.items()}
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = x.diff(**ours_kw), torch.diff(t, **theirs_kw)
    _same(out.numpy(), ref.detach().numpy(), 1e-13, "diff")
    if out.data.size:
        g = rng.standard_normal(out.shape)
        out.backward(g)
        ref.backward(torch.from_numpy(g))
        _same(x.grad.numpy(), t.grad.numpy(), 1e-13, "diff gradient")
    b = np.array([True, True, False, True])
    np.testing.assert_array_equal(Tensor(b).diff().numpy(), torch.diff(torch.tensor(b)).numpy())


# ---- in-place forms ----------------------------------------------------------------------------

@pytest.mark.parametrize("name,args", [("exp_", ()), ("neg_", ()), ("abs_", ()), ("sqrt_", ()),
                                       ("relu_", ()), ("sigmoid_", ()), ("tanh_", ()),
                                       ("clamp_", (-0.5, 0.5)), ("clamp_min_", (0.1,)),
                                       ("clamp_max_", (0.1,)), ("floor_", ()), ("sin_", ()),
                                       ("reciprocal_", ()), ("round_", ()), ("pow_", (2,))])
def test_in_place_forms_as_torch(torch, name, args):
    a = np.array([0.3, -1.2, 2.5, 0.0, 4.0], np.float32)
    x, t = Tensor(a.copy()), torch.tensor(a.copy())
    view = x.detach()  # shares the array: it sees the write, as torch's views do
    with np.errstate(invalid="ignore", divide="ignore"):
        r = getattr(x, name)(*args)
    getattr(t, name)(*args)
    assert r is x and x.dtype == np.float32
    _same(x.numpy(), t.numpy(), RTOL[np.float32], name)
    np.testing.assert_array_equal(view.numpy(), x.numpy())
    leaf = Tensor(a.copy(), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad is being used in an "
                                           "in-place operation"):
        getattr(leaf, name)(*args)
    np.testing.assert_array_equal(leaf.numpy(), a)  # refused before any write
    with tg.no_grad(), np.errstate(invalid="ignore", divide="ignore"):  # allowed: an update
        getattr(leaf, name)(*args)


def test_in_place_write_refuses_a_graph_that_saved_the_array():
    c = Tensor(np.array([0.5, 1.5]))
    w = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    y = (w * c).sum()
    c.exp_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_in_place_float_result_into_an_integer_tensor_is_an_error():
    x = Tensor(np.array([1, 2]))
    with pytest.raises(TypeError, match="can't be cast to the desired output type int64"):
        x.exp_()
    np.testing.assert_array_equal(x.numpy(), [1, 2])
    assert x.neg_().tolist() == [-1, -2]


# ---- top-level functions -------------------------------------------------------------------------

def test_top_level_functions_match_the_methods_and_torch(torch):
    a = np.random.default_rng(9).standard_normal((2, 3, 4))
    x, t = Tensor(a), torch.tensor(a)
    for name in ["exp", "sin", "cos", "floor", "ceil", "trunc", "abs", "sqrt", "isnan",
                 "sigmoid", "tanh", "relu", "reciprocal", "neg", "log2", "atan", "frac"]:
        with np.errstate(invalid="ignore"):
            ours = getattr(tg, name)(x).numpy()
        _same(ours, getattr(torch, name)(t).numpy(), 1e-12, name)
    cases = [
        ("sum", dict(dim=1, keepdim=True)), ("sum", {}), ("mean", dict(dim=(0, 2))),
        ("std", dict(dim=1)), ("var", dict(dim=2, correction=0, keepdim=True)),
        ("logsumexp", dict(dim=-1)), ("softmax", dict(dim=1)), ("log_softmax", dict(dim=0)),
        ("cumsum", dict(dim=2)), ("cumprod", dict(dim=1)), ("argmax", dict(dim=1)),
        ("argmin", {}), ("amax_as_max", None), ("round", dict(decimals=2)),
        ("clamp", dict(min=-0.5, max=0.2)), ("clamp_min", dict(min=0.1)),
        ("pow", dict(exponent=3)), ("diff", dict(n=2, dim=0)),
    ]
    for name, kw in cases:
        if kw is None:
            assert float(tg.max(x)) == float(torch.max(t))
            continue
        _same(getattr(tg, name)(x, **kw).numpy(), getattr(torch, name)(t, **kw).numpy(),
              1e-12, f"{name}({kw})")
    _same(tg.sum(x, axis=1, keepdims=True).numpy(), t.sum(1, keepdim=True).numpy(), 1e-12, "axis")
    _same(tg.std(x, 1, False).numpy(), torch.std(t, 1, False).numpy(), 1e-12, "unbiased")
    _same(tg.pow(2.0, x).numpy(), torch.pow(2.0, t).numpy(), 1e-12, "number ** tensor")
    _same(tg.max(x, Tensor(a[::-1].copy())).numpy(), torch.max(t, t.flip(0)).numpy(), 0, "max")


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_along_a_dim_gives_values_and_indices_with_the_gradient_at_the_index(torch, name):
    """torch.max(x, dim): a named tuple; the gradient goes to the one element picked (the first
    of a tie), not shared between ties as amax shares it."""
    a = np.array([[1.0, 3.0, 3.0], [2.0, -1.0, 2.0]])
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for keepdim in (False, True):
        ours, theirs = getattr(tg, name)(x, 1, keepdim), getattr(torch, name)(t, 1, keepdim)
        assert ours._fields == ("values", "indices") and type(ours).__name__ == name
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        _same(ours.values.numpy(), theirs.values.detach().numpy(), 0, name)
        (ours.values * 2.5).sum().backward()
        (theirs.values * 2.5).sum().backward()
        _same(x.grad.numpy(), t.grad.numpy(), 0, name + " gradient")
        x.grad, t.grad = None, None


# ---- errors --------------------------------------------------------------------------------------

def test_bad_input_errors():
    x, i = Tensor(np.array([1.5, -2.0])), Tensor(np.array([1, 2]))
    with pytest.raises(TypeError, match="round.*not implemented for int64 tensors with decimals"):
        i.round(decimals=1)
    with pytest.raises(TypeError, match="round.*not implemented for bool"):
        (i > 1).round()
    with pytest.raises(TypeError, match="decimals.*must be int"):
        x.round(decimals=1.5)
    with pytest.raises(TypeError, match="frac.*not implemented"):
        i.frac()
    with pytest.raises(ValueError, match="order must be non-negative"):
        x.diff(n=-1)
    with pytest.raises(ValueError, match="at least one-dimensional"):
        Tensor(1.0).diff()
    with pytest.raises(ValueError, match="same dimension as input"):
        x.diff(prepend=Tensor(np.zeros((1, 1))))
    with pytest.raises(TypeError, match="'end' must be Tensor"):
        x.lerp(1.0, 0.5)
    with pytest.raises(TypeError, match="'nan' must be a number"):
        x.nan_to_num(nan="0")
    with pytest.raises(TypeError, match="dim.*must be int"):
        x.cumprod(None)
    with pytest.raises(ValueError, match="dim"):
        x.cumprod(2)
    with pytest.raises(TypeError, match="min must be a number"):
        x.clamp_min("0")
    with pytest.raises(TypeError, match="give dim or axis"):
        tg.sum(x, dim=0, axis=0)
    with pytest.raises(TypeError, match="missing required argument 'dim'"):
        tg.softmax(x)
    with pytest.raises(TypeError, match="argument 'input' must be Tensor"):
        tg.sin([1.0, 2.0])
    with pytest.raises(ValueError, match="cannot be broadcast"):
        x.atan2(Tensor(np.zeros(3)))
