"""The 3-D pools torch 2.13 has and this library lacked: ``F.lp_pool3d`` / ``nn.LPPool3d``,
``F.max_unpool3d`` / ``nn.MaxUnpool3d`` and the ``*3d_with_indices`` spellings, against torch in
float64 under random upstream gradients; and the unpooling error's size, which now reads as
PyTorch's for 3-D (``DxHxW``) as for 1-D (``Lx1``)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import functional as F, nn


def _backward_both(torch, t_out, o_out, rng):
    up = rng.standard_normal(t_out.shape)
    (t_out * torch.tensor(up)).sum().backward()
    (o_out * tg.Tensor(up)).sum().backward()


@pytest.mark.parametrize("norm_type", [1, 2, 3.5, math.inf, -math.inf])
@pytest.mark.parametrize("kernel,stride,ceil", [
    (2, None, False), ((2, 3, 1), (1, 2, 1), True), (3, 2, True)])
@pytest.mark.parametrize("shape", [(2, 3, 5, 6, 4), (3, 5, 6, 4)])
def test_lp_pool3d_matches_torch(torch, norm_type, kernel, stride, ceil, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    if norm_type == 3.5:  # a fractional power of a negative value is NaN (in both)
        x = np.abs(x) + 0.1
    tx = torch.tensor(x, requires_grad=True)
    ox = tg.Tensor(x, requires_grad=True)
    theirs = torch.nn.LPPool3d(norm_type, kernel, stride, ceil)
    ours = nn.LPPool3d(norm_type, kernel, stride, ceil)
    assert repr(ours) == repr(theirs)
    t_out, o_out = theirs(tx), ours(ox)
    np.testing.assert_allclose(o_out.data, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    _backward_both(torch, t_out, o_out, rng)
    np.testing.assert_allclose(ox.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_lp_pool3d_window_of_zeros_has_zero_gradient(torch):
    x = np.zeros((1, 1, 4, 4, 4))
    x[0, 0, 0, 0, 0] = 1.0
    ox = tg.Tensor(x, requires_grad=True)
    F.lp_pool3d(ox, 2, 2).sum().backward()
    assert np.isfinite(ox.grad.data).all()
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.functional.lp_pool3d(tx, 2, 2).sum().backward()
    np.testing.assert_array_equal(ox.grad.data, tx.grad.numpy())


@pytest.mark.parametrize("kernel,stride,padding", [
    (2, None, 0), ((2, 3, 2), (2, 3, 2), (1, 1, 0))])
def test_max_unpool3d_inverts_max_pool3d_as_torch(torch, kernel, stride, padding):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 6, 7, 5))
    t_pool, t_idx = torch.nn.functional.max_pool3d(torch.tensor(x), kernel, stride, padding,
                                                   return_indices=True)
    o_pool, o_idx = F.max_pool3d_with_indices(tg.Tensor(x), kernel, stride, padding)
    np.testing.assert_array_equal(o_idx.data, t_idx.numpy())
    theirs, ours = torch.nn.MaxUnpool3d(kernel, stride, padding), nn.MaxUnpool3d(kernel, stride,
                                                                                  padding)
    assert repr(ours) == repr(theirs)
    for size in (list(x.shape), x.shape[2:]):
        tp = t_pool.detach().clone().requires_grad_(True)
        op = tg.Tensor(o_pool.data.copy(), requires_grad=True)
        t_out, o_out = theirs(tp, t_idx, size), ours(op, o_idx, size)
        np.testing.assert_array_equal(o_out.data, t_out.detach().numpy())
        _backward_both(torch, t_out, o_out, rng)
        np.testing.assert_array_equal(op.grad.data, tp.grad.numpy())
    unbatched = ours(tg.Tensor(o_pool.data[0]), o_idx[0], x.shape[2:])
    np.testing.assert_array_equal(unbatched.data, theirs(t_pool[0], t_idx[0],
                                                         x.shape[2:]).numpy())


def test_adaptive_max_pool3d_with_indices_matches_torch(torch):
    x = np.random.default_rng(2).standard_normal((2, 3, 6, 7, 5))
    t_out, t_idx = torch.nn.functional.adaptive_max_pool3d_with_indices(torch.tensor(x),
                                                                        (2, 3, 1))
    o_out, o_idx = F.adaptive_max_pool3d_with_indices(tg.Tensor(x), (2, 3, 1))
    np.testing.assert_array_equal(o_out.data, t_out.numpy())
    np.testing.assert_array_equal(o_idx.data, t_idx.numpy())


@pytest.mark.parametrize("fn,shape,size", [
    ("max_unpool1d", (1, 1, 2), "4x1"), ("max_unpool2d", (1, 1, 2, 2), "4x4"),
    ("max_unpool3d", (1, 1, 2, 2, 2), "4x4x4")])
def test_an_index_out_of_range_names_torchs_size(torch, fn, shape, size):
    with pytest.raises(RuntimeError) as theirs:
        getattr(torch.nn.functional, fn)(torch.zeros(shape), torch.full(shape, 99), 2)
    with pytest.raises(ValueError) as ours:
        getattr(F, fn)(tg.Tensor(np.zeros(shape)), tg.Tensor(np.full(shape, 99)), 2)
    assert str(ours.value) == str(theirs.value)
    assert f"of size {size})" in str(ours.value)
