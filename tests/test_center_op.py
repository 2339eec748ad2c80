"""The ``center`` primitive (``x - mean(x, axis)``) that the normalizations start with.

It replaced a ``mean`` and a ``sub`` node: checked here against torch's ``x - x.mean(dim,
keepdim=True)`` (values, gradients under a random upstream gradient, second derivatives),
by finite differences, bit for bit against the two primitives it replaced, through the tape's
in-place VJP (a gradient of 4096 elements or more) and the plain one, and for the node count
of a batch norm.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, gradcheck, gradgradcheck, ops
from tinygrad_norm.tensor import apply

torch = pytest.importorskip("torch")

# (shape, axes): leading axes (2-D batch norm), batch and spatial axes (4-D), trailing (layer
# norm), middle, all, and a big one whose gradient the tape owns (the in-place VJP)
CASES = [((6, 5), (0,)), ((4, 3, 5, 2), (0, 2, 3)), ((3, 4, 6), (2,)), ((3, 4, 6), (1,)),
         ((7,), (0,)), ((2, 3), (0, 1)), ((64, 128), (0,)), ((16, 32, 9), (0, 2))]


def _center(x, axes, keepdims=False):
    return apply(ops.Center, x, axis=axes, keepdims=keepdims)


def _rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("shape,axes", CASES)
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_values_and_gradients_match_torch(shape, axes, dtype, tol):
    rng = _rng(1)
    xv = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
    gv = rng.standard_normal(shape).astype(dtype)  # random upstream: a sum() would hide errors
    x = Tensor(xv, requires_grad=True)
    y = _center(x, axes)
    y.backward(Tensor(gv))
    tx = torch.tensor(xv, requires_grad=True)
    ty = tx - tx.mean(dim=axes, keepdim=True)
    ty.backward(torch.tensor(gv))
    assert y.dtype == dtype and x.grad.dtype == dtype
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("shape,axes", CASES[:6])
def test_gradcheck_and_gradgradcheck(shape, axes):
    x = Tensor(_rng(2).standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda t: _center(t, axes), [x])
    # the VJP is a recorded center under create_graph: square it so the second derivative is
    # not zero
    assert gradgradcheck(lambda t: _center(t, axes) * _center(t, axes), [x])


@pytest.mark.parametrize("shape,axes", [((6, 5), (0,)), ((3, 4, 6), (2,))])
def test_second_derivatives_match_torch(shape, axes):
    rng = _rng(3)
    xv, gv = rng.standard_normal(shape), rng.standard_normal(shape)
    x = Tensor(xv, requires_grad=True)
    y = _center(x, axes)
    gx, = tg.grad([(y * y * y).sum()], [x], create_graph=True)
    (gx * Tensor(gv)).sum().backward()
    tx = torch.tensor(xv, requires_grad=True)
    ty = tx - tx.mean(dim=axes, keepdim=True)
    tgx, = torch.autograd.grad((ty ** 3).sum(), tx, create_graph=True)
    (tgx * torch.tensor(gv)).sum().backward()
    np.testing.assert_allclose(gx.numpy(), tgx.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape,axes", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bit_for_bit_as_mean_then_sub(shape, axes, dtype):
    """The primitive replaced ``x - x.mean(axis)``: the same values and gradient, every bit."""
    rng = _rng(4)
    xv = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    gv = rng.standard_normal(shape).astype(dtype)
    x1, x2 = Tensor(xv, requires_grad=True), Tensor(xv, requires_grad=True)
    y1 = _center(x1, axes)
    y2 = x2 - x2.mean(axis=axes, keepdims=True)
    y1.backward(Tensor(gv))
    y2.backward(Tensor(gv))
    assert np.array_equal(y1.numpy(), y2.numpy())
    assert np.array_equal(x1.grad.numpy(), x2.grad.numpy())


def test_keeps_the_mean_in_the_shape_asked_for():
    xv = _rng(5).standard_normal((4, 3, 2))
    out, mean = ops.Center.forward(xv, (0, 2), False)
    assert mean.shape == (3,)
    np.testing.assert_allclose(mean, xv.mean(axis=(0, 2)), rtol=1e-15)
    out, mean = ops.Center.forward(xv, (0, 2), True)
    assert mean.shape == (1, 3, 1)
    np.testing.assert_allclose(out, xv - xv.mean(axis=(0, 2), keepdims=True), rtol=1e-15)


def test_empty_input():
    x = Tensor(np.zeros((0, 4)), requires_grad=True)
    with warnings.catch_warnings():  # an empty mean is NaN without NumPy's warning (ops._mean)
        warnings.simplefilter("error")
        y = _center(x, (0,))
    assert y.shape == (0, 4)
    y.backward(Tensor(np.zeros((0, 4))))  # no warning from the backward
    assert x.grad.shape == (0, 4)


def test_non_finite_gradient_stays_where_it_was():
    """A NaN in g spreads over its set (its mean is NaN), as torch's gives."""
    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    g = np.ones((3, 2))
    g[0, 0] = np.nan
    _center(x, (0,)).backward(Tensor(g))
    assert np.isnan(x.grad.numpy()[:, 0]).all() and np.all(x.grad.numpy()[:, 1] == 0)


def test_forward_mode():
    import tinygrad_norm.forward_ad as fwAD
    rng = _rng(6)
    xv, tv = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    with fwAD.dual_level():
        y = _center(fwAD.make_dual(Tensor(xv), Tensor(tv)), (0,))
        tangent = fwAD.unpack_dual(y).tangent
    np.testing.assert_allclose(np.asarray(tangent.numpy() if hasattr(tangent, "numpy")
                                          else tangent), tv - tv.mean(0), rtol=1e-12)


@pytest.mark.parametrize("shape", [(64, 128), (4, 6)])
def test_batch_norm_records_six_primitives(shape):
    """center, vecdot, addcmul (var + eps), rsqrt, mul (the folded weight), addcmul (scale and
    shift): one node less than with mean and sub."""
    x = Tensor(_rng(7).standard_normal(shape), requires_grad=True)
    w = Tensor(np.ones(shape[1]), requires_grad=True)
    b = Tensor(np.zeros(shape[1]), requires_grad=True)
    y = F.batch_norm(x, None, None, w, b, training=True)
    names, seen, stack = [], set(), [y._node]
    while stack:
        node = stack.pop()
        if node is None or node.seq in seen:
            continue
        seen.add(node.seq)
        names.append(node.op.name)
        stack += [t._node for t in node.inputs if isinstance(t, Tensor)]
    assert sorted(names) == sorted(["center", "vecdot", "addcmul", "rsqrt", "mul", "addcmul"])
