"""The WindowLogsumexp primitive (ops.py, speed3 section): ``out[i] = log sum_k exp(x[i - K + 1
+ k] + w[k, i])`` along axis 0, ``fill`` before the start. Checked against torch (the same sum
built from torch.logsumexp over padded, shifted copies) in values and gradients under a random
upstream gradient, float64 tight and float32; by finite differences to the second order; and
at its edges (one-wide windows, -inf, empty)."""
import numpy as np
import pytest
import torch

import tinygrad_norm as tg
from tinygrad_norm import Tensor, ops
from tinygrad_norm.tensor import apply

NEG = -1e30


def _ours(x, w, size, fill=NEG):
    return apply(ops.WindowLogsumexp, x, w, size=size, fill=fill)


def _torch(x, w, size, fill=NEG):
    pad = torch.full((size - 1,) + tuple(x.shape[1:]), fill, dtype=x.dtype)
    padded = torch.cat([pad, x])
    n = x.shape[0]
    windows = torch.stack([padded[k:k + n] for k in range(size)])
    return torch.logsumexp(windows + w, dim=0)


SHAPES = [((7,), 3), ((6, 4), 3), ((5, 2, 3), 2), ((4, 3), 1), ((3, 2), 5)]


@pytest.mark.parametrize("shape, size", SHAPES)
@pytest.mark.parametrize("dt, tol", [(np.float64, 1e-12), (np.float32, 2e-6)])
def test_values_and_gradients_against_torch(shape, size, dt, tol):
    rng = np.random.default_rng(0)
    xa = rng.standard_normal(shape).astype(dt) * 3
    wa = rng.standard_normal((size,) + shape).astype(dt)
    wa[rng.random(wa.shape) < 0.3] = NEG  # ruled-out moves, as CTC's mask
    x, w = Tensor(xa, requires_grad=True), Tensor(wa, requires_grad=True)
    out = _ours(x, w, size)
    tx = torch.tensor(xa, requires_grad=True)
    tw = torch.tensor(wa, requires_grad=True)
    tout = _torch(tx, tw, size)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=tol, atol=tol)
    assert out.dtype == dt and out.shape == shape
    up = rng.standard_normal(shape).astype(dt)
    out.backward(Tensor(up))
    tout.backward(torch.tensor(up))
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("shape, size", SHAPES)
def test_gradcheck_first_and_second_order(shape, size):
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal(shape), requires_grad=True)
    w = Tensor(rng.standard_normal((size,) + shape), requires_grad=True)
    f = lambda a, b: _ours(a, b, size, fill=-2.0)  # noqa: E731  (a finite fill: it is read)
    assert tg.gradcheck(f, [x, w])
    assert tg.gradgradcheck(f, [x, w])


def test_constant_weights_and_create_graph_hessian_vector():
    """w as a plain array (CTC's mask); the gradient recorded with create_graph is the tape's
    own recomputation of the window's softmax and differentiates again to torch's values."""
    rng = np.random.default_rng(2)
    xa, wa = rng.standard_normal((6, 3)), rng.standard_normal((3, 6, 3))
    v = rng.standard_normal((6, 3))
    x = Tensor(xa, requires_grad=True)
    (gx,) = tg.grad(_ours(x, wa, 3), [x], grad_outputs=Tensor(v), create_graph=True)
    (hv,) = tg.grad((gx * Tensor(v)).sum(), [x])
    tx = torch.tensor(xa, requires_grad=True)
    (tgx,) = torch.autograd.grad(_torch(tx, torch.tensor(wa), 3), tx, torch.tensor(v),
                                 create_graph=True)
    (thv,) = torch.autograd.grad((tgx * torch.tensor(v)).sum(), tx)
    np.testing.assert_allclose(gx.data, tgx.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hv.data, thv.numpy(), rtol=1e-10, atol=1e-12)


def test_edges():
    # the first places read the fill: with fill -inf and weights 0, place 0 is x[0] itself
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    out = _ours(x, np.zeros((2, 3)), 2, fill=-np.inf)
    np.testing.assert_allclose(out.data, [1.0, np.logaddexp(1.0, 2.0), np.logaddexp(2.0, 3.0)])
    # a window of -infs only: -inf, as logsumexp (no warning)
    w = np.zeros((2, 3))
    w[:, 1] = -np.inf
    with np.errstate(all="raise"):
        out = _ours(Tensor(np.zeros(3)), w, 2, fill=-np.inf)
    assert out.data[1] == -np.inf
    # empty along the window axis
    e = _ours(Tensor(np.zeros((0, 4)), requires_grad=True), np.zeros((3, 0, 4)), 3)
    assert e.shape == (0, 4)
    # +inf and NaN propagate as torch's logsumexp
    xa = np.array([0.0, np.inf, np.nan, 1.0])
    ours = _ours(Tensor(xa), np.zeros((2, 4)), 2, fill=NEG).data
    theirs = _torch(torch.tensor(xa), torch.zeros(2, 4, dtype=torch.float64), 2).numpy()
    np.testing.assert_array_equal(ours, theirs)
