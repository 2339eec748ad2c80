"""gradcheck and gradgradcheck themselves: they pass correct gradients, catch wrong ones (also the
ones a ``.sum()`` upstream hides), name the worst element, and honour eps/atol/rtol."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import GradcheckError, Tensor, ops
from tinygrad_norm.tensor import apply


def _op(name, vjp):
    """A primitive computing a*a with the given (possibly wrong) VJP."""
    return type(name, (ops.Op,), {"name": name, "forward": staticmethod(lambda a: a * a),
                                  "vjp": staticmethod(vjp)})


_WRONG_AT_2 = np.array([1.0, 1.0, 1.5, 1.0, 1.0001])
BadSquare = _op("bad_square", lambda g, args, out, extra, kw, needs, xp:
                (g * 2 * args[0] * _WRONG_AT_2,))
SlightlyOff = _op("slightly_off", lambda g, args, out, extra, kw, needs, xp:
                  (g * 2.02 * args[0],))
# Right first derivative, wrong second: the recorded VJP treats its input as a constant.
FlatSecond = _op("flat_second", lambda g, args, out, extra, kw, needs, xp:
                 (g * 2 * (args[0].detach() if xp is ops.TG else args[0]),))


def test_gradcheck_passes_correct_gradients_and_returns_true(rng):
    a, b = rng.standard_normal((3, 2)), rng.standard_normal(2)
    assert tg.gradcheck(lambda x, y: (x * y).tanh() @ y, [Tensor(a, requires_grad=True),
                                                           Tensor(b, requires_grad=True)]) is True
    assert tg.gradgradcheck(lambda x, y: (x * y).tanh() @ y,
                            [Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)]) is True


def test_gradcheck_takes_a_single_tensor_and_several_outputs(rng):
    x = Tensor(rng.standard_normal(4), requires_grad=True)
    assert tg.gradcheck(lambda v: v.exp(), x)
    assert tg.gradcheck(lambda v: (v.exp(), v.sum(), None), [x])
    assert tg.gradgradcheck(lambda v: (v.exp(), v.sum() * v), [x])


def test_gradcheck_checks_only_inputs_that_require_grad(rng):
    x = Tensor(rng.standard_normal(3), requires_grad=True)
    c = Tensor(rng.standard_normal(3))
    # the constant's gradient would be wrong (it is detached), but nobody asked for it
    assert tg.gradcheck(lambda v, k: v * k.detach(), [x, c])
    with pytest.raises(ValueError, match="requires grad"):
        tg.gradcheck(lambda v: v * 2, [Tensor(np.ones(2))])


def test_gradcheck_runs_in_float64_and_leaves_inputs_alone(rng):
    a = rng.standard_normal(3).astype(np.float32)
    x = Tensor(a.copy(), requires_grad=True)
    seen = []

    def fn(v):
        seen.append(v.dtype)
        return v.sigmoid()

    assert tg.gradcheck(fn, [x])
    assert seen and all(d == np.float64 for d in seen)
    np.testing.assert_array_equal(x.numpy(), a)
    assert x.grad is None


def test_gradcheck_names_the_worst_element():
    x = Tensor(np.array([0.5, -1.0, 2.0, 1.5, 3.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 0 at index \(2,\)") as info:
        tg.gradcheck(lambda v: apply(BadSquare, v), [x])
    msg = str(info.value)
    assert "analytic" in msg and "numeric" in msg and "1 of 5" in msg
    assert isinstance(info.value, AssertionError)


def test_gradcheck_names_the_input():
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    y = Tensor(np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 1 at index \(0, 2\)"):
        tg.gradcheck(lambda a, b: a.sum() * apply(BadSquare, b), [x, y])


def test_gradcheck_honours_its_tolerances():
    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    fn = lambda v: apply(SlightlyOff, v)  # noqa: E731 -- 1% off
    with pytest.raises(GradcheckError):
        tg.gradcheck(fn, [x])
    assert tg.gradcheck(fn, [x], rtol=0.05, atol=1e-5)
    assert tg.gradcheck(fn, [x], atol=0.1, rtol=0)
    # A huge step breaks the central difference of a cubic; a sane one does not.
    assert tg.gradcheck(lambda v: v ** 3, [x], eps=1e-4)
    with pytest.raises(GradcheckError):
        tg.gradcheck(lambda v: v ** 3, [x], eps=0.5)


def test_gradcheck_catches_what_a_sum_upstream_hides(rng):
    """A layer norm whose std is (wrongly) detached: under a .sum() upstream both the right and the
    wrong gradient are 0, so only a random upstream gradient tells them apart."""
    def good(v):
        c = v - v.mean(axis=-1, keepdims=True)
        return c / (c * c).mean(axis=-1, keepdims=True).sqrt()

    def bad(v):
        c = v - v.mean(axis=-1, keepdims=True)
        return c / (c * c).mean(axis=-1, keepdims=True).sqrt().detach()

    a = rng.standard_normal((2, 5))
    x = Tensor(a, requires_grad=True)
    gs = tg.grad(bad(x).sum(), x)[0].numpy()
    assert np.abs(gs).max() < 1e-12  # the blind spot: the wrong gradient looks right under sum
    assert tg.gradcheck(good, [Tensor(a, requires_grad=True)])
    with pytest.raises(GradcheckError):
        tg.gradcheck(bad, [Tensor(a, requires_grad=True)])


def test_gradcheck_fails_on_nan():
    x = Tensor(np.array([1.0, 4.0]), requires_grad=True)
    nan_vjp = _op("nan_vjp", lambda g, args, out, extra, kw, needs, xp: (g * np.nan,))
    with pytest.raises(GradcheckError, match="nan"):
        tg.gradcheck(lambda v: apply(nan_vjp, v), [x])


def test_gradcheck_of_a_function_that_ignores_its_input():
    x = Tensor(np.ones(3), requires_grad=True)
    assert tg.gradcheck(lambda v: Tensor(np.arange(3.0)), [x])
    with pytest.raises(GradcheckError):  # detach hides a real dependence: analytic 0, numeric 2
        tg.gradcheck(lambda v: v.detach() * 2, [x])


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    fn = lambda v: apply(FlatSecond, v)  # noqa: E731
    assert tg.gradcheck(fn, [x])  # the first derivative is right
    with pytest.raises(GradcheckError):
        tg.gradgradcheck(fn, [x])
    assert tg.gradgradcheck(lambda v: v * v, [x])


def test_gradgradcheck_of_a_linear_function():
    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    assert tg.gradgradcheck(lambda v: v * 3.0 + 1.0, [x])  # the first derivative is constant


def test_gradcheck_of_non_contiguous_inputs():
    a = np.arange(6.0).reshape(2, 3).T  # Fortran order: a flat reshape of it is a copy
    assert tg.gradcheck(lambda v: v * v, [Tensor(a, requires_grad=True)])
    assert tg.gradcheck(lambda v: v * v, [np.asfortranarray(np.ones((2, 2)))])
    assert tg.gradgradcheck(lambda v: v * v, [Tensor(a[::2], requires_grad=True)])


def test_gradcheck_of_a_function_that_differentiates_inside(rng, torch):
    # a gradient penalty or a hand-written first derivative: the output-shape probe ran under
    # no_grad, where the inner grad() found nothing to differentiate and raised
    x = Tensor(rng.standard_normal(4), requires_grad=True)

    def input_gradient(x):
        return tg.grad((x * x * x).sum(), [x], create_graph=True)[0]

    assert tg.gradcheck(input_gradient, [x])
    assert tg.gradgradcheck(input_gradient, [x])
    t = torch.tensor(x.numpy(), requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda t: torch.autograd.grad((t * t * t).sum(), [t], create_graph=True)[0], [t])
    with pytest.raises(GradcheckError):  # and still catches a wrong one: a flat second order
        tg.gradcheck(lambda x: tg.grad(apply(FlatSecond, x).sum(), [x], create_graph=True)[0],
                     [x])


# ---- from a gradcheck bug hunt -------------------------------------------------------------------

class _ScaledMul(ops.Op):
    """a * b with a VJP scaled by 1.5, one element of each gradient NaN (on purpose)."""
    name = "scaled_mul"
    nan_in = 0

    @staticmethod
    def forward(a, b):
        return a * b

    @classmethod
    def vjp(cls, g, args, out, extra, kw, needs, xp):
        ga, gb = g * args[1] * 1.5, g * args[0] * 1.5
        (ga if cls.nan_in == 0 else gb).reshape(-1)[0] = np.nan
        return ga, gb


@pytest.mark.parametrize("nan_in", [0, 1])
def test_gradcheck_names_a_nan_as_the_worst_element_whatever_input_holds_it(nan_in):
    _ScaledMul.nan_in = nan_in
    a, b = Tensor(np.arange(1.0, 4.0), requires_grad=True), Tensor(np.arange(2.0, 5.0),
                                                                    requires_grad=True)
    with pytest.raises(GradcheckError, match=rf"input {nan_in} at index \(0,\): analytic nan"):
        tg.gradcheck(lambda x, y: apply(_ScaledMul, x, y), [a, b])


def test_gradcheck_passes_none_inputs_through_as_torch():
    import tinygrad_norm.functional as F
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    assert tg.gradcheck(lambda a, w: F.layer_norm(a, (3,), w), [x, None])  # None was NaN
    assert tg.gradgradcheck(lambda a, w: F.layer_norm(a, (3,), w), [x, None])
