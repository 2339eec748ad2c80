"""The Take / AddAt primitives (ops.py, speed3 section): a gather along one axis by an integer
index of any shape and its adjoint, each the other's VJP. Checked against NumPy (np.take,
np.add.at), torch (index_select / index_add on the flattened index) under random upstream
gradients, by finite differences to the second order, and through grid_sample, their user."""
import numpy as np
import pytest
import torch

import tinygrad_norm as tg
from tinygrad_norm import Tensor, ops
from tinygrad_norm.tensor import apply

CASES = [  # (shape of a, axis, shape of the index)
    ((7,), 0, (5,)),
    ((6, 3), 0, (2, 4)),
    ((3, 6), 1, (9,)),
    ((2, 5, 4), 1, (3, 2)),
    ((2, 3, 4), 2, (2, 2, 2)),
    ((4, 3), 0, (0,)),  # empty index
    ((4, 0), 0, (3,)),  # empty rows
    ((3, 50), 1, (90, 50)),  # a few long rows: one add.at per row (4500 values each)
    ((2, 2, 70, 3), 2, (1500,)),  # the same, rows of 4500 values three wide
]


def _index(rng, n, shape):
    # many repeats (as grid_sample's zero column): the adds must all land
    idx = rng.integers(0, n, shape) if n else np.zeros(shape, np.intp)
    if idx.size > 2:
        idx.reshape(-1)[::2] = n - 1
    return idx


@pytest.mark.parametrize("shape, axis, ishape", CASES)
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_take_and_add_at_against_numpy_and_torch(shape, axis, ishape, dt):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape).astype(dt)
    idx = _index(rng, shape[axis], ishape)
    x = Tensor(a, requires_grad=True)
    out = apply(ops.Take, x, index=idx, axis=axis)
    np.testing.assert_array_equal(out.data, np.take(a, idx, axis=axis))
    up = rng.standard_normal(out.shape).astype(dt)
    out.backward(Tensor(up))
    # np.add.at's result, bit for bit: the same adds in the same order and dtype
    want = np.zeros_like(a)
    np.add.at(want, (slice(None),) * axis + (idx,), up)
    np.testing.assert_array_equal(x.grad.data, want)
    # torch: index_select's gradient along the flattened index
    t = torch.tensor(a, requires_grad=True)
    flat = torch.tensor(idx.reshape(-1), dtype=torch.int64)
    tout = t.index_select(axis, flat)
    tout.backward(torch.tensor(up.reshape(tout.shape)))
    tol = dict(rtol=1e-12, atol=1e-12) if dt == np.float64 else dict(rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), **tol)
    assert x.grad.dtype == dt


@pytest.mark.parametrize("shape, axis, ishape", CASES[:5])
def test_add_at_against_torch_index_add(shape, axis, ishape):
    rng = np.random.default_rng(1)
    idx = _index(rng, shape[axis], ishape)
    gshape = shape[:axis] + ishape + shape[axis + 1:]
    g = rng.standard_normal(gshape)
    s = Tensor(g, requires_grad=True)
    out = apply(ops.AddAt, s, index=idx, axis=axis, size=shape[axis])
    flat_shape = shape[:axis] + (idx.size,) + shape[axis + 1:]
    want = torch.zeros(shape, dtype=torch.float64).index_add(
        axis, torch.tensor(idx.reshape(-1)), torch.tensor(g.reshape(flat_shape)))
    np.testing.assert_allclose(out.data, want.numpy(), rtol=1e-12, atol=1e-12)
    up = rng.standard_normal(shape)
    out.backward(Tensor(up))
    np.testing.assert_array_equal(s.grad.data, np.take(up, idx, axis=axis))


@pytest.mark.parametrize("shape, axis, ishape", CASES[:5])
def test_gradcheck_both_orders(shape, axis, ishape):
    rng = np.random.default_rng(2)
    idx = _index(rng, shape[axis], ishape)
    x = Tensor(rng.standard_normal(shape), requires_grad=True)

    def take(a):
        return apply(ops.Take, a, index=idx, axis=axis)

    # squared, so that the second derivative is not zero and AddAt's VJP (Take) is exercised
    assert tg.gradcheck(lambda a: take(a) ** 2, [x])
    assert tg.gradgradcheck(lambda a: take(a) ** 2, [x])
    gshape = shape[:axis] + ishape + shape[axis + 1:]
    s = Tensor(rng.standard_normal(gshape), requires_grad=True)

    def add_at(v):
        return apply(ops.AddAt, v, index=idx, axis=axis, size=shape[axis]) ** 2

    assert tg.gradcheck(add_at, [s])
    assert tg.gradgradcheck(add_at, [s])


def test_adjoint_identity():
    """<take(x), y> == <x, add_at(y)>: what makes each the other's VJP."""
    rng = np.random.default_rng(3)
    idx = _index(rng, 6, (4, 5))
    x = rng.standard_normal((3, 6, 2))
    cols = ops.Take.forward(x, index=idx, axis=1)
    y = rng.standard_normal(cols.shape)
    back = ops.AddAt.forward(y, index=idx, axis=1, size=6)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.vdot(cols, y), np.vdot(x, back), rtol=1e-12)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_second_order_through_take(padding_mode):
    """grid_sample reads through Take: its double backward goes through AddAt's VJP."""
    import tinygrad_norm.functional as F
    rng = np.random.default_rng(4)
    x = Tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
    g = Tensor(rng.uniform(-1.2, 1.2, (1, 2, 3, 2)), requires_grad=True)

    def fn(a, b):
        return F.grid_sample(a, b, padding_mode=padding_mode, align_corners=False)

    assert tg.gradgradcheck(fn, [x, g])
