"""The blocked paths of lu_factor and solve_triangular (ops.py's numspeed section): sizes past
the leaves (the recursion's matmuls and triangular solves run), one matrix (its plain 2-D
panel, LAPACK leaves) and batches (the vectorised panel, substitution leaves). Against torch
2.13: getrf's pivots exactly (random, tie-heavy and singular integer matrices, tall and wide),
LU values, gradients under a random upstream gradient; gradcheck and gradgradcheck through the
recursion; and the backward error of the triangular solve on ill-conditioned triangles, no
worse than LAPACK's general solver (the route it replaces) and torch's trsm."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.linalg as LA
from tinygrad_norm import Tensor, ops

# past every leaf: _LU_LEAF columns, _TRSM_LEAF rows (batches), _TRSM_SOLVE_LEAF (one matrix)
LU_SHAPES = [(40, 40), (70, 70), (3, 40, 40), (6, 37, 37), (1, 50, 23), (2, 23, 50), (90, 20),
             (20, 90), (5, 17, 17)]
TRI_SHAPES = [((150, 150), (150, 7)), ((2, 130, 130), (130, 3)), ((6, 40, 40), (6, 40, 5)),
              ((9, 1, 33, 33), (4, 33, 2)), ((5, 20, 20), (20, 20))]


def _ints(shape, seed):
    """Small integers: exact arithmetic, so many exact ties between pivot candidates."""
    return np.random.default_rng(seed).integers(-2, 3, shape).astype(np.float64)


def _singular(shape, seed):
    a = _ints(shape, seed)
    a[..., :, 3] = 2 * a[..., :, 1]  # a column twice another
    a[..., 5, :] = 0  # and a zero row
    return a


@pytest.mark.parametrize("shape", LU_SHAPES, ids=str)
@pytest.mark.parametrize("kind", ["normal", "ties", "singular"])
def test_lu_pivots_and_factors_as_torch(torch, shape, kind):
    a = {"normal": lambda: np.random.default_rng(1).standard_normal(shape),
         "ties": lambda: _ints(shape, 2), "singular": lambda: _singular(shape, 3)}[kind]()
    lu, piv, info = LA.lu_factor_ex(Tensor(a))
    tlu, tpiv, tinfo = torch.linalg.lu_factor_ex(torch.tensor(a))
    np.testing.assert_array_equal(piv.data, tpiv.numpy())
    np.testing.assert_array_equal(info.data, tinfo.numpy())
    np.testing.assert_allclose(lu.data, tlu.numpy(), rtol=1e-10, atol=1e-10)
    # and the unblocked elimination (the route before) picks the same pivots
    np.testing.assert_array_equal(piv.data, ops.lu_np(a)[1])


@pytest.mark.parametrize("shape", LU_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_lu_gradient_under_random_upstream_as_torch(torch, shape, dtype):
    a = np.random.default_rng(4).standard_normal(shape).astype(dtype)
    g = np.random.default_rng(5).standard_normal(shape).astype(dtype)
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    lu = LA.lu_factor(x)[0]
    (lu * Tensor(g)).sum().backward()
    tlu = torch.linalg.lu_factor(tx)[0]
    (tlu * torch.tensor(g)).sum().backward()
    tol = 1e-9 if dtype == np.float64 else 2e-3
    scale = np.abs(tx.grad.numpy()).max()
    assert x.grad.dtype == dtype
    np.testing.assert_allclose(lu.data, tlu.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=tol, atol=tol * scale)


def test_lu_gradcheck_and_gradgradcheck_through_the_recursion():
    a = np.random.default_rng(6).standard_normal((2, 18, 18))
    assert tg.gradcheck(lambda t: LA.lu_factor(t)[0], [Tensor(a, requires_grad=True)])
    b = np.random.default_rng(7).standard_normal((18, 18))
    assert tg.gradgradcheck(lambda t: LA.lu_factor(t)[0], [Tensor(b, requires_grad=True)])


def test_lu_of_a_large_batch_and_empty_ones(torch):
    a = np.random.default_rng(8).standard_normal((300, 5, 5))
    np.testing.assert_array_equal(LA.lu_factor(Tensor(a))[1].data,
                                  torch.linalg.lu_factor(torch.tensor(a))[1].numpy())
    for shape in [(0, 20, 20), (3, 0, 20), (3, 20, 0)]:
        lu, piv, info = LA.lu_factor_ex(Tensor(np.zeros(shape)))
        tlu, tpiv, tinfo = torch.linalg.lu_factor_ex(torch.zeros(shape, dtype=torch.float64))
        assert lu.shape == tuple(tlu.shape) and piv.shape == tuple(tpiv.shape)
        np.testing.assert_array_equal(piv.data, tpiv.numpy())


def test_lu_unpack_and_lu_solve_use_the_pivots_as_torch(torch):
    a = np.random.default_rng(9).standard_normal((3, 30, 30))
    b = np.random.default_rng(10).standard_normal((3, 30, 4))
    p, low, up = LA.lu(Tensor(a))
    tp, tl, tu = torch.linalg.lu(torch.tensor(a))
    np.testing.assert_array_equal(p.data, tp.numpy())
    lu, piv = LA.lu_factor(Tensor(a))
    x = LA.lu_solve(lu, piv, Tensor(b))
    np.testing.assert_allclose(x.data, np.linalg.solve(a, b), rtol=1e-9, atol=1e-9)


def _triangle(shape, upper, seed):
    n = shape[-1]
    t = np.random.default_rng(seed).standard_normal(shape) / np.sqrt(n) + 2 * np.eye(n)
    return np.triu(t) if upper else np.tril(t)


@pytest.mark.parametrize("shapes", TRI_SHAPES, ids=str)
@pytest.mark.parametrize("upper", [True, False], ids=["U", "L"])
@pytest.mark.parametrize("left", [True, False], ids=["left", "right"])
@pytest.mark.parametrize("unit", [False, True], ids=["", "unit"])
def test_solve_triangular_values_and_gradients_as_torch(torch, shapes, upper, left, unit):
    sa, sb = shapes
    n = sa[-1]  # both triangles filled; off-diagonals small enough for a tame condition number
    a = np.random.default_rng(11).standard_normal(sa) / np.sqrt(n) + 2 * np.eye(n)
    b = np.random.default_rng(12).standard_normal(sb)
    if not left:
        b = np.swapaxes(b, -1, -2)
    x = LA.solve_triangular(A := Tensor(a, requires_grad=True), B := Tensor(b, requires_grad=True),
                            upper=upper, left=left, unitriangular=unit)
    tA, tB = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    tx = torch.linalg.solve_triangular(tA, tB, upper=upper, left=left, unitriangular=unit)
    g = np.random.default_rng(13).standard_normal(tx.shape)
    (x * Tensor(g)).sum().backward()
    (tx * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(x.data, tx.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(A.grad.data, tA.grad.numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(B.grad.data, tB.grad.numpy(), rtol=1e-9, atol=1e-9)


def test_solve_triangular_float32_as_torch(torch):
    a = _triangle((7, 40, 40), False, 14).astype(np.float32)
    b = np.random.default_rng(15).standard_normal((7, 40, 3)).astype(np.float32)
    x = LA.solve_triangular(Tensor(a), Tensor(b), upper=False)
    tx = torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b), upper=False)
    assert x.dtype == np.float32
    np.testing.assert_allclose(x.data, tx.numpy(), rtol=1e-4, atol=1e-4)


def test_solve_triangular_gradcheck_through_the_recursion():
    a = _triangle((5, 20, 20), True, 16)
    b = np.random.default_rng(17).standard_normal((5, 20, 2))
    assert tg.gradcheck(lambda s, t: LA.solve_triangular(s, t, upper=True),
                        [Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)])
    assert tg.gradgradcheck(lambda s, t: LA.solve_triangular(s, t, upper=True),
                            [Tensor(a[:2], requires_grad=True), Tensor(b[:2], requires_grad=True)])


def _ill(n, batch, upper, seed):
    """Badly conditioned triangles (condition numbers past 1e16) whose solutions stay finite:
    off-diagonals of both signs, every tenth diagonal entry 1e-6 (the others near 1)."""
    rng = np.random.default_rng(seed)
    t = rng.standard_normal((batch, n, n)) / np.sqrt(n)
    d = np.where(np.arange(n) % 10 == 3, 1e-6, 1.0 + rng.random(n))
    t[:, range(n), range(n)] = d * rng.choice([-1, 1], (batch, n))
    return np.triu(t) if upper else np.tril(t)


def _backward_error(t, x, b):
    """max over columns of |b - T x| / (|T| |x| + |b|): componentwise, as LAPACK's berr."""
    r = np.abs(b - t @ x)
    return float((r / (np.abs(t) @ np.abs(x) + np.abs(b))).max())


@pytest.mark.parametrize("n,batch", [(100, 1), (100, 8), (40, 30)])
@pytest.mark.parametrize("upper", [True, False], ids=["U", "L"])
def test_solve_triangular_backward_error_on_ill_conditioned_triangles(torch, n, batch, upper):
    t = _ill(n, batch, upper, 18)
    b = np.random.default_rng(19).standard_normal((batch, n, 3))
    x = LA.solve_triangular(Tensor(t), Tensor(b), upper=upper).data
    general = np.linalg.solve(t, b)  # the route before: LAPACK's GEPP on the triangle
    tx = torch.linalg.solve_triangular(torch.tensor(t), torch.tensor(b), upper=upper).numpy()
    assert np.linalg.cond(t[0]) > 1e15 and np.isfinite(x).all()
    ours, before, theirs = (_backward_error(t, y, b) for y in (x, general, tx))
    # substitution is componentwise backward stable: a few ulps, as torch's trsm
    assert ours < 50 * np.finfo(np.float64).eps, (ours, before, theirs)
    assert ours <= max(10 * theirs, 50 * np.finfo(np.float64).eps)
    assert ours <= max(10 * before, 50 * np.finfo(np.float64).eps)


def test_solve_triangular_zero_diagonal_in_a_large_triangle_is_inf_nan_as_before(torch):
    t = _triangle((2, 40, 40), False, 20)
    t[1, 10, 10] = 0
    b = np.random.default_rng(21).standard_normal((2, 40, 2))
    x = LA.solve_triangular(Tensor(t), Tensor(b), upper=False).data
    tx = torch.linalg.solve_triangular(torch.tensor(t), torch.tensor(b), upper=False).numpy()
    np.testing.assert_allclose(x[0], tx[0], rtol=1e-10)
    assert np.array_equal(np.isfinite(x[1]), np.isfinite(tx[1]))
