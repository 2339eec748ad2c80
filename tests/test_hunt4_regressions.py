"""Silent wrong results and crashes on VALID calls, found by the value fuzzer against torch
(tests/fuzz_values.py): each test compares with torch 2.13 on the call that failed."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.linalg as TL


def _vjp(fn, arrays, g):
    """Our output and gradients of `fn` under the upstream gradient `g` (float64)."""
    ts = [tg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts)
    return out, tg.grad(out, ts, [tg.tensor(g)])


def _torch_vjp(torch, fn, arrays, g):
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts)
    return out, torch.autograd.grad(out, ts, torch.tensor(g))


def test_erf_gradient_of_a_0d_tensor(torch):
    # the in-place VJP made a NumPy scalar of a 0-d input and failed writing into it
    x = np.array(0.8546)
    _, (ours,) = _vjp(tg.erf, [x], np.array(-1.3))
    _, (theirs,) = _torch_vjp(torch, torch.erf, [x], np.array(-1.3))
    assert ours.shape == () and ours.data == pytest.approx(theirs.item(), rel=1e-14)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dim,keepdim", [(0, False), (-1, True)])
def test_argmax_of_a_0d_tensor_along_dim_0(torch, name, dim, keepdim):
    ours = getattr(tg, name)(tg.tensor(np.array(0.5)), dim=dim, keepdim=keepdim)
    theirs = getattr(torch, name)(torch.tensor(0.5), dim=dim, keepdim=keepdim)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == np.int64 and ours.item() == 0
    assert getattr(tg.tensor(np.array(2.0)), name)(dim=0).item() == 0
    with pytest.raises((ValueError, IndexError)):
        getattr(tg, name)(tg.tensor(np.array(0.5)), dim=1)


def test_mode_of_a_slice_holding_nan_does_not_crash():
    x = np.array([[np.nan, np.nan, 1.0], [2.0, np.nan, 2.0], [3.0, 1.0, 1.0]])
    values, indices = tg.mode(tg.tensor(x), dim=1)
    # NaNs counted as one value (torch's own answer with NaN depends on their positions)
    np.testing.assert_array_equal(values.data, [np.nan, 2.0, 1.0])
    np.testing.assert_array_equal(indices.data, [1, 2, 2])


@pytest.mark.parametrize("ord", [-np.inf, np.inf, -1, 0, 0.5, 2])
@pytest.mark.parametrize("dim", [0, -1, (0,)])
def test_vector_norm_of_a_0d_tensor_along_dim_0(torch, ord, dim):
    ours = TL.vector_norm(tg.tensor(np.array(-2.5)), ord=ord, dim=dim, keepdim=True)
    theirs = torch.linalg.vector_norm(torch.tensor(-2.5, dtype=torch.float64), ord=ord, dim=dim,
                                      keepdim=True)
    assert ours.shape == tuple(theirs.shape)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-15)


@pytest.mark.parametrize("ord", [-1, -2, -0.5])
def test_negative_order_norm_of_infinities_is_inf(torch, ord):
    x = np.array([[np.inf, 3.0], [-np.inf, 0.5]], np.float32)
    ours = TL.vector_norm(tg.tensor(x), ord=ord, dim=0)
    theirs = torch.linalg.vector_norm(torch.tensor(x), ord=ord, dim=0)
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)
    assert np.isinf(ours.data[0])


def test_integer_power_with_negative_tensor_exponents(torch):
    base = np.array([0, 1, -1, -1, 2, -3, 5, 0])
    exp = np.array([-1, -7, -2, -3, -1, -2, 2, 0])
    ours = tg.pow(tg.tensor(base), tg.tensor(exp))
    theirs = torch.pow(torch.tensor(base), torch.tensor(exp))
    assert ours.dtype == np.int64
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    # broadcast, another integer type, a number base
    b32 = np.array([[2], [-1]], np.int32)
    np.testing.assert_array_equal(
        tg.pow(tg.tensor(b32), tg.tensor(np.array([-1, 3], np.int8))).data,
        torch.pow(torch.tensor(b32), torch.tensor([-1, 3], dtype=torch.int8)).numpy())
    np.testing.assert_array_equal((2 ** tg.tensor(np.array([-1, 2]))).data, [0, 4])
    # a negative Python int exponent is still refused, as torch
    with pytest.raises(ValueError, match="Integers to negative integer powers"):
        tg.tensor(np.array([2])) ** -1


@pytest.mark.parametrize("fn", ["quantile", "nanquantile"])
def test_quantile_gradient_reaches_q(torch, fn):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5))
    x[1, 2] = np.nan  # a pinned row: no gradient to q from it (torch's), not NaN
    q = np.array([0.1, 0.55, 0.9])
    g = rng.standard_normal((3, 3))
    ours, (gx, gq) = _vjp(lambda a, b: getattr(tg, fn)(a, b, dim=1), [x, q], g)
    theirs, (hx, hq) = _torch_vjp(torch, lambda a, b: getattr(torch, fn)(a, b, dim=1), [x, q], g)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(gx.data, hx.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gq.data, hq.numpy(), rtol=1e-12, atol=1e-14)
    assert tg.gradcheck(lambda b: getattr(tg, fn)(tg.tensor(x[[0, 2]]), b, dim=1),
                        [tg.tensor(q, requires_grad=True)])


def test_quantile_gradient_to_a_0d_q(torch):
    x, q = np.array([0.3, 1.0, -2.0, 5.0]), np.array(0.3)
    _, (_, gq) = _vjp(tg.quantile, [x, q], np.array(1.7))
    _, (_, hq) = _torch_vjp(torch, torch.quantile, [x, q], np.array(1.7))
    assert gq.shape == () and gq.item() == pytest.approx(hq.item(), rel=1e-12)


@pytest.mark.parametrize("shape", [(1, 4), (1, 1), (1, 0)])
@pytest.mark.parametrize("fn", ["cov", "corrcoef"])
def test_cov_of_one_row_is_0d(torch, fn, shape):
    x = np.arange(float(np.prod(shape))).reshape(shape) ** 1.5
    ours = getattr(tg, fn)(tg.tensor(x))
    theirs = getattr(torch, fn)(torch.tensor(x))
    assert ours.shape == tuple(theirs.shape) == ()
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("x,p,dim,maxnorm", [
    ([[-0.0]], 2.0, -1, 1.0),                    # a zero slice within maxnorm
    ([[-3.3], [1e-300], [np.nan], [5e-324]], 2.0, 0, 5.0),  # tiny and NaN slices
    ([[0.0, 0.0, 1.0], [3.0, -4.0, 0.0]], 0.5, 0, 1.0),  # p below 1 with zeros
    ([[0.0, 2.0], [3.0, -4.0]], 3.0, 1, 2.0)])
def test_renorm_gradient_in_slices_within_maxnorm(torch, x, p, dim, maxnorm):
    x = np.array(x)
    g = np.random.default_rng(1).standard_normal(x.shape)
    ours, (gx,) = _vjp(lambda a: tg.renorm(a, p, dim, maxnorm), [x], g)
    theirs, (hx,) = _torch_vjp(torch, lambda a: torch.renorm(a, p, dim, maxnorm), [x], g)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(gx.data, hx.numpy(), rtol=1e-10, atol=1e-14)


def test_renorm_gradients_twice():
    x = tg.tensor(np.random.default_rng(2).standard_normal((3, 4)), requires_grad=True)
    assert tg.gradcheck(lambda a: tg.renorm(a, 2.0, 0, 1.0), [x])
    assert tg.gradgradcheck(lambda a: tg.renorm(a, 2.0, 0, 1.0), [x])


@pytest.mark.parametrize("call", [
    lambda m, e, z: m.remainder(e, z), lambda m, e, z: m.fmod(e, z),
    lambda m, e, z: m.floor_divide(e, z),
    lambda m, e, z: m.div(e, z, rounding_mode="floor"),
    lambda m, e, z: m.div(e, z, rounding_mode="trunc")])
def test_integer_division_of_an_empty_result_by_zero(torch, call):
    ours = call(tg, tg.tensor(np.zeros((1, 0), np.int64)), tg.tensor(np.array(0)))
    theirs = call(torch, torch.zeros((1, 0), dtype=torch.int64), torch.tensor(0))
    assert ours.shape == tuple(theirs.shape) and ours.dtype == np.int64
    with pytest.raises(ZeroDivisionError):  # a non-empty one still raises, as torch
        call(tg, tg.tensor(np.array([3])), tg.tensor(np.array(0)))


def test_copysign_result_is_on_the_graph_of_other(torch):
    # torch's result requires grad through `other` alone (a zero gradient): a loss that reaches
    # a parameter only as a sign source must still backward
    x = np.array([-0.3431, 0.0, -0.0, 2.0], np.float32)
    y = np.array([[0.284, -0.2, 0.5, -0.0], [1.0, 1.0, -1.0, np.inf]])
    ty = tg.tensor(y, requires_grad=True)
    ours = tg.copysign(tg.tensor(x), ty)
    theirs = torch.copysign(torch.tensor(x), torch.tensor(y, requires_grad=True))
    assert ours.requires_grad and theirs.requires_grad and ours.dtype == np.float64
    np.testing.assert_array_equal(ours.data, theirs.detach().numpy())
    np.testing.assert_array_equal(np.signbit(ours.data), np.signbit(theirs.detach().numpy()))
    ours.sum().backward()
    np.testing.assert_array_equal(ty.grad.data, np.zeros_like(y))
