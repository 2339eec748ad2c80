"""native_batch_norm / native_layer_norm / native_group_norm / native_dropout and the
batch_norm_stats / elemt / update_stats pieces against torch 2.13: outputs, saved statistics,
running statistics and gradients under a random upstream gradient (float64 tight, float32),
gradcheck/gradgradcheck of the outputs, and torch's errors."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg

from conftest import gradchecks

R = np.random.default_rng(11)
X = R.standard_normal((4, 3, 5))
W, B = R.standard_normal(3), R.standard_normal(3)


def _both(arrays, dtype, torch):
    ours = [tg.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    return ours, theirs


def _compare(torch, outs, refs, ins, tins, dtype, rtol):
    """Every output's values; the first output's input gradients under a random upstream."""
    for o, r in zip(outs, refs):
        assert o.dtype == dtype and o.shape == tuple(r.shape)
        np.testing.assert_allclose(o.numpy(), r.detach().numpy(), rtol=rtol, atol=rtol)
        assert o is outs[0] or not o.requires_grad  # saved statistics are off the tape
    g = R.standard_normal(outs[0].shape).astype(dtype)
    outs[0].backward(tg.tensor(g))
    grads = torch.autograd.grad(refs[0], tins, torch.tensor(g))
    for x, gt in zip(ins, grads):
        np.testing.assert_allclose(x.grad.numpy(), gt.numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-10), (np.float32, 1e-4)])
@pytest.mark.parametrize("affine", [True, False])
def test_native_batch_norm_training(torch, dtype, rtol, affine):
    (x, w, b), (tx, tw, tb) = _both([X, W, B], dtype, torch)
    rm, rv = tg.zeros(3, dtype=dtype), tg.ones(3, dtype=dtype)
    trm, trv = torch.zeros(3, dtype=tx.dtype), torch.ones(3, dtype=tx.dtype)
    args = (w, b) if affine else (None, None)
    targs = (tw, tb) if affine else (None, None)
    outs = tg.native_batch_norm(x, *args, rm, rv, True, 0.2, 1e-5)
    refs = torch.native_batch_norm(tx, *targs, trm, trv, True, 0.2, 1e-5)
    ins, tins = ([x, w, b], [tx, tw, tb]) if affine else ([x], [tx])
    _compare(torch, outs, refs, ins, tins, dtype, rtol)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=rtol, atol=rtol)


def test_native_batch_norm_eval_and_no_running_stats(torch):
    x, tx = tg.tensor(X), torch.tensor(X)
    rm, rv = R.standard_normal(3), R.uniform(0.5, 2, 3)
    out, m, s = tg.native_batch_norm(x, None, None, tg.tensor(rm), tg.tensor(rv), False, 0.1,
                                     1e-5)
    tout, tm, ts = torch.native_batch_norm(tx, None, None, torch.tensor(rm), torch.tensor(rv),
                                           False, 0.1, 1e-5)
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-12, atol=1e-12)
    assert m.shape == tuple(tm.shape) == (0,) and s.shape == tuple(ts.shape) == (0,)
    assert m.dtype == np.float64
    out, m, s = tg.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5)
    tout, tm, ts = torch.native_batch_norm(tx, None, None, None, None, True, 0.1, 1e-5)
    for a, b in ((out, tout), (m, tm), (s, ts)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="running_mean must be defined in evaluation mode"):
        tg.native_batch_norm(x, None, None, None, None, False, 0.1, 1e-5)  # torch segfaults


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-10), (np.float32, 1e-4)])
@pytest.mark.parametrize("shape", [[5], [3, 5]])
def test_native_layer_norm(torch, dtype, rtol, shape):
    w, b = R.standard_normal(shape), R.standard_normal(shape)
    (x, tw_, tb_), (tx, tw, tb) = _both([X, w, b], dtype, torch)
    outs = tg.native_layer_norm(x, shape, tw_, tb_, 1e-5)
    refs = torch.native_layer_norm(tx, shape, tw, tb, 1e-5)
    _compare(torch, outs, refs, [x, tw_, tb_], [tx, tw, tb], dtype, rtol)


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-10), (np.float32, 1e-4)])
@pytest.mark.parametrize("groups", [1, 3])
def test_native_group_norm(torch, dtype, rtol, groups):
    (x, w, b), (tx, tw, tb) = _both([X, W, B], dtype, torch)
    outs = tg.native_group_norm(x, w, b, 4, 3, 5, groups, 1e-5)
    refs = torch.native_group_norm(tx, tw, tb, 4, 3, 5, groups, 1e-5)
    _compare(torch, outs, refs, [x, w, b], [tx, tw, tb], dtype, rtol)


def test_native_group_norm_errors(torch):
    x = tg.tensor(X)
    with pytest.raises(ValueError, match=r"Expected X.numel\(\) == N \* C \* HxW to be true"):
        tg.native_group_norm(x, None, None, 4, 3, 4, 3, 1e-5)
    with pytest.raises(ValueError, match=r"Expected number of channels in input to be divisible "
                                         r"by num_groups, but got input of shape \[4, 3, 5\] and "
                                         r"num_groups=2"):
        tg.native_group_norm(x, None, None, 4, 3, 5, 2, 1e-5)
    with pytest.raises(TypeError, match="argument 'N' must be int"):
        tg.native_group_norm(x, None, None, 4.0, 3, 5, 3, 1e-5)


def test_native_norms_gradcheck():
    gradchecks(lambda x, w, b: tg.native_layer_norm(x, [5], w, b, 1e-5)[0],
               [X[:2], R.standard_normal(5), R.standard_normal(5)])
    gradchecks(lambda x, w, b: tg.native_batch_norm(x, w, b, None, None, True, 0.1, 1e-5)[0],
               [X[:3, :, :2], W, B])
    gradchecks(lambda x: tg.native_group_norm(x, None, None, 4, 3, 5, 1, 1e-5)[0], [X])


def test_native_dropout(torch):
    tg.manual_seed(3)
    x = tg.tensor(X, requires_grad=True)
    out, mask = tg.native_dropout(x, 0.3, True)
    assert mask.dtype == np.bool_ and mask.shape == x.shape
    keep = mask.numpy()
    np.testing.assert_allclose(out.numpy(), np.where(keep, X * (1 / 0.7), 0.0), rtol=0)
    g = R.standard_normal(X.shape)
    g[~keep] = np.inf  # a dropped element's gradient is exactly 0, even for inf
    out.backward(tg.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), np.where(keep, g * (1 / 0.7), 0.0))
    tg.manual_seed(3)
    again = tg.native_dropout(tg.tensor(X), 0.3, None)[1]  # None trains, as torch's
    np.testing.assert_array_equal(again.numpy(), keep)
    big = tg.native_dropout(tg.ones(200000), 0.3, True)[1].numpy().mean()
    assert abs(big - 0.7) < 0.01


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_native_dropout_edges_match_torch(torch, p):
    out, mask = tg.native_dropout(tg.tensor(X), p, True)
    tout, tmask = torch.native_dropout(torch.tensor(X), p, True)
    np.testing.assert_array_equal(out.numpy(), tout.numpy())
    np.testing.assert_array_equal(mask.numpy(), tmask.numpy())
    out, mask = tg.native_dropout(tg.tensor(X), 0.5, False)
    tout, tmask = torch.native_dropout(torch.tensor(X), 0.5, False)
    np.testing.assert_array_equal(out.numpy(), tout.numpy())
    np.testing.assert_array_equal(mask.numpy(), tmask.numpy())
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but "
                                         "got 1.5"):
        tg.native_dropout(tg.tensor(X), 1.5, True)


def test_batch_norm_stats_and_elemt():
    """torch runs these two on CUDA only: against their definition and native_batch_norm."""
    x = tg.tensor(X, requires_grad=True)
    mean, invstd = tg.batch_norm_stats(x, 1e-5)
    np.testing.assert_allclose(mean.numpy(), X.mean((0, 2)), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(invstd.numpy(), 1 / np.sqrt(X.var((0, 2)) + 1e-5), rtol=1e-13)
    assert not mean.requires_grad and not invstd.requires_grad
    out = tg.batch_norm_elemt(x, tg.tensor(W), tg.tensor(B), mean, invstd, 1e-5)
    ref = tg.native_batch_norm(tg.tensor(X), tg.tensor(W), tg.tensor(B), None, None, True,
                               0.1, 1e-5)[0]
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)
    gradchecks(lambda x, m, s, w: tg.batch_norm_elemt(x, w, None, m, s, 1e-5),
               [X[:2, :, :2], R.standard_normal(3), R.uniform(0.5, 2, 3), W])


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_batch_norm_update_stats(torch, dtype, rtol):
    rm, rv = tg.tensor(W.astype(dtype)), tg.tensor(np.abs(B).astype(dtype))
    trm, trv = torch.tensor(W.astype(dtype)), torch.tensor(np.abs(B).astype(dtype))
    m, v = tg.batch_norm_update_stats(tg.tensor(X.astype(dtype)), rm, rv, 0.3)
    tm, tv = torch.batch_norm_update_stats(torch.tensor(X.astype(dtype)), trm, trv, 0.3)
    for a, b in ((m, tm), (v, tv), (rm, trm), (rv, trv)):
        assert a.dtype == dtype
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=rtol, atol=rtol)
    m2, v2 = tg.batch_norm_update_stats(tg.tensor(X), None, None, 0.3)
    np.testing.assert_allclose(v2.numpy(), X.var((0, 2)), rtol=1e-13)


def test_input_checks():
    with pytest.raises(TypeError, match="argument 'input' must be Tensor"):
        tg.native_layer_norm(X, [5], None, None, 1e-5)
    with pytest.raises(ValueError, match="at least 2 dims"):
        tg.batch_norm_stats(tg.tensor(X[0, 0]), 1e-5)
