"""F.pad, F.adaptive_avg_pool2d, F.normalize, F.smooth_l1_loss, F.huber_loss and their modules
against torch 2.13: values and gradients under random upstream gradients (float64), gradcheck,
and bad arguments."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn

RNG = np.random.default_rng(5)
X4 = RNG.standard_normal((2, 3, 7, 5))
V = RNG.standard_normal((3, 4, 5))
V[0, :, 1] = 0.0  # zero vectors along dim 1 and along the last dim
V[1, 2, :] = 0.0
A = RNG.standard_normal((4, 5)) * 2
B = RNG.standard_normal((4, 5))
B[0, 0] = A[0, 0]  # d = 0
B[0, 1] = A[0, 1] - 1.0  # |d| = beta exactly
W = RNG.uniform(0.0, 1.0, (4, 5))


def _compare(torch, ours, theirs, a, *others, rtol=1e-12):
    t, x = Tensor(a.copy(), requires_grad=True), torch.tensor(a.copy(), requires_grad=True)
    o = ours(t, *[Tensor(v) for v in others])
    r = theirs(x, *[torch.tensor(v) for v in others])
    assert o.shape == tuple(r.shape)
    np.testing.assert_allclose(o.data, r.detach().numpy(), rtol=rtol, atol=0)
    g = np.random.default_rng(9).standard_normal(o.shape)
    (o * Tensor(g)).sum().backward()
    (r * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(t.grad.data, x.grad.numpy(), rtol=1e-9, atol=1e-14)
    assert np.isfinite(t.grad.data).all()


@pytest.mark.parametrize("pad", [(1, 1), (1, 2, 0, 3), (-1, 2, 1, -2), (0, 0, 0, 0, 1, 1),
                                 (2, -1), ()])
def test_pad_matches_torch(torch, pad):
    _compare(torch, lambda t: F.pad(t, pad, value=0.5),
             lambda x: torch.nn.functional.pad(x, pad, value=0.5), X4)


@pytest.mark.parametrize("size", [1, (3, 2), (7, 5), (4, 3), (None, 2), (5, 1), 6])
def test_adaptive_avg_pool2d_matches_torch(torch, size):
    _compare(torch, lambda t: F.adaptive_avg_pool2d(t, size),
             lambda x: torch.nn.functional.adaptive_avg_pool2d(x, size), X4)
    _compare(torch, lambda t: nn.AdaptiveAvgPool2d(size)(t),
             lambda x: torch.nn.AdaptiveAvgPool2d(size)(x), X4[0])  # unbatched


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-6), (np.float16, 2e-3)])
def test_adaptive_avg_pool2d_unequal_windows_keep_the_dtype(torch, dtype, rtol):
    # overlapping windows (64 -> 33) and more cells than pixels (5 -> 7): two products with
    # window-weight matrices; float16 is summed in float32
    rng = np.random.default_rng(3)
    for shape, size in (((2, 3, 64, 40), (33, 17)), ((1, 2, 5, 5), (7, 8))):
        x = rng.standard_normal(shape).astype(dtype)
        g = rng.standard_normal(shape[:2] + size).astype(dtype)
        t = Tensor(x, requires_grad=True)
        y = F.adaptive_avg_pool2d(t, size)
        y.backward(g)
        assert y.dtype == dtype and t.grad.dtype == dtype
        xt = torch.tensor(x.astype(np.float64), requires_grad=True)
        yt = torch.nn.functional.adaptive_avg_pool2d(xt, size)
        yt.backward(torch.tensor(g.astype(np.float64)))
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=rtol, atol=rtol)
        np.testing.assert_allclose(t.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("dim", [1, -1])
def test_normalize_matches_torch_with_zero_vectors(torch, p, dim):
    _compare(torch, lambda t: F.normalize(t, p, dim), lambda x: torch.nn.functional.normalize(
        x, p, dim), V)


@pytest.mark.parametrize("kw", [{}, {"reduction": "sum", "beta": 0.5},
                                {"reduction": "none", "beta": 0.0}, {"beta": 1.0}])
def test_smooth_l1_loss_matches_torch(torch, kw):
    _compare(torch, lambda t, y: F.smooth_l1_loss(t, y, **kw),
             lambda x, y: torch.nn.functional.smooth_l1_loss(x, y, **kw), A, B)
    _compare(torch, lambda t, y: nn.SmoothL1Loss(**kw)(t, y),
             lambda x, y: torch.nn.SmoothL1Loss(**kw)(x, y), A, B)


@pytest.mark.parametrize("kw", [{}, {"reduction": "none", "delta": 1.5},
                                {"reduction": "sum", "delta": 0.3}])
def test_huber_loss_matches_torch(torch, kw):
    _compare(torch, lambda t, y: F.huber_loss(t, y, **kw),
             lambda x, y: torch.nn.functional.huber_loss(x, y, **kw), A, B)
    _compare(torch, lambda t, y: nn.HuberLoss(**kw)(t, y),
             lambda x, y: torch.nn.HuberLoss(**kw)(x, y), A, B)
    # a weight multiplies each element; mean is over the elements (not the weights' sum)
    _compare(torch, lambda t, y, w: F.huber_loss(t, y, weight=w, **kw),
             lambda x, y, w: torch.nn.functional.huber_loss(x, y, weight=w, **kw), A, B, W)


def test_gradcheck_through_the_composites():
    x = Tensor(X4[:1, :2, :5, :4].copy(), requires_grad=True)
    y = Tensor(B[:2].copy())
    fns = [lambda t: F.pad(t, (1, -1, 2, 0), value=0.3),
           lambda t: F.adaptive_avg_pool2d(t, (3, 3)),
           lambda t: F.normalize(t, 2.0, 1) * t,
           lambda t: F.normalize(t, 1.5, -1)]
    for f in fns:
        assert tg.gradcheck(f, (x,))
    z = Tensor(A[:2].copy() * 0.7, requires_grad=True)
    assert tg.gradcheck(lambda t: F.smooth_l1_loss(t, y, beta=0.8), (z,))
    assert tg.gradcheck(lambda t: F.huber_loss(t, y, delta=0.6), (z,))


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.pad(Tensor(X4), (1,)), ValueError, "even length"),
    (lambda: F.pad(Tensor(X4), (1, 1) * 5), ValueError, "at most twice"),
    (lambda: F.pad(Tensor(X4), (1.5, 1)), TypeError, "sequence of ints"),
    (lambda: F.pad(Tensor(X4), (1, 1), mode="reflect"), NotImplementedError,
     "Padding size 2 is not supported for 4D input tensor"),
    (lambda: F.pad(Tensor(X4), (1, 1), mode="mirror"), ValueError, "mode must be"),
    (lambda: F.pad(Tensor(X4), (-3, -3)), ValueError, "below nothing"),
    (lambda: F.pad(X4, (1, 1)), TypeError, "input must be a Tensor"),
    (lambda: F.adaptive_avg_pool2d(Tensor(X4), 0), ValueError, "positive ints"),
    (lambda: F.adaptive_avg_pool2d(Tensor(X4[0, 0]), 2), ValueError, "3-D or 4-D"),
    (lambda: nn.AdaptiveAvgPool2d((2, 2, 2)), ValueError, "output_size must be"),
    (lambda: F.normalize(Tensor(V), p=0), ValueError, "p must be a positive"),
    (lambda: F.normalize(Tensor(V), dim=3), ValueError, "dim 3 is out of range"),
    (lambda: F.normalize(Tensor(V), eps=-1.0), ValueError, "eps must be"),
    (lambda: F.smooth_l1_loss(Tensor(A), Tensor(B), beta=-1.0), ValueError, "beta must be"),
    (lambda: F.huber_loss(Tensor(A), Tensor(B), delta=0.0), ValueError, "delta must be positive"),
    (lambda: F.huber_loss(Tensor(A), Tensor(B), weight=Tensor(W[:2])), ValueError, "same size"),
    (lambda: nn.HuberLoss(delta=-2.0), ValueError, "delta must be"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_review_edges_match_torch(torch):
    """Found by a review against torch: results that shared the input's memory, float16
    overflow, NaN gradients at inf and at zero elements for p < 1."""
    x = Tensor(np.arange(6.0).reshape(2, 3))
    for y in (F.pad(x, (0, 0)), F.pad(x, (-1, 0))):
        y += 100.0
    np.testing.assert_array_equal(x.data, np.arange(6.0).reshape(2, 3))
    h = np.array([[300.0, 400.0], [1e-4, 2e-4]], np.float16)
    np.testing.assert_array_equal(F.normalize(Tensor(h)).data,
                                  torch.nn.functional.normalize(torch.tensor(h)).numpy())
    a = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 2.0]])
    _compare(torch, lambda t: F.normalize(t, 0.5, 1), lambda t: torch.nn.functional.normalize(
        t, 0.5, 1), a, rtol=1e-12)
    inf = np.array([np.inf, -np.inf, 3.0])
    for ours, theirs in ((lambda t, y: F.smooth_l1_loss(t, y), torch.nn.functional.smooth_l1_loss),
                         (lambda t, y: F.huber_loss(t, y), torch.nn.functional.huber_loss)):
        t, tt = Tensor(inf.copy(), requires_grad=True), torch.tensor(inf, requires_grad=True)
        ours(t, Tensor(np.zeros(3))).backward()
        theirs(tt, torch.zeros(3, dtype=torch.float64)).backward()
        np.testing.assert_array_equal(t.grad.data, tt.grad.numpy())
    big = np.array([300.0, -2.0], np.float16)
    for ours, theirs in ((lambda t: F.smooth_l1_loss(t, Tensor(np.zeros(2, np.float16)),
                                                     beta=1000.0),
                          lambda t: torch.nn.functional.smooth_l1_loss(
                              t, torch.zeros(2, dtype=torch.float16), beta=1000.0)),
                         (lambda t: F.huber_loss(t, Tensor(np.zeros(2, np.float16)), delta=1000.0),
                          lambda t: torch.nn.functional.huber_loss(
                              t, torch.zeros(2, dtype=torch.float16), delta=1000.0))):
        np.testing.assert_array_equal(ours(Tensor(big)).data, theirs(torch.tensor(big)).numpy())
    with pytest.raises(ValueError, match="an int or a pair"):
        F.adaptive_avg_pool2d(Tensor(X4), (1, 2, 3))
    with pytest.raises(TypeError, match="dim must be an int, a tuple of ints or None"):
        F.normalize(Tensor(V), dim=1.0)
    np.testing.assert_allclose(F.normalize(Tensor(V), dim=None).data,
                               V / np.sqrt((V * V).sum()), rtol=1e-12)


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(torch, padding_idx):
    tg.manual_seed(0)
    e = nn.Embedding(5, 3, padding_idx=padding_idx)
    te = torch.nn.Embedding(5, 3, padding_idx=padding_idx)
    assert repr(e) == repr(te) and e.state_dict().keys() == te.state_dict().keys()
    if padding_idx is not None:
        assert (e.weight.data[padding_idx] == 0).all()
    with torch.no_grad():
        te.weight.copy_(torch.tensor(e.weight.data))
    idx = np.array([[0, 4, 2], [2, 2, 1]])  # repeated indices add up
    o, r = e(Tensor(idx)), te(torch.tensor(idx))
    np.testing.assert_array_equal(o.data, r.detach().numpy())
    g = np.random.default_rng(0).standard_normal(o.shape).astype(np.float32)
    (o * Tensor(g)).sum().backward()
    (r * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(e.weight.grad.data, te.weight.grad.numpy(), rtol=1e-6)
    w = Tensor(RNG.standard_normal((5, 3)), requires_grad=True)
    other = np.array([[0, 1], [3, 3]])  # (the padding row's gradient is 0 on purpose)
    assert tg.gradcheck(lambda t: F.embedding(Tensor(other), t, padding_idx) ** 2, (w,))


@pytest.mark.parametrize("call, error, match", [
    (lambda w: F.embedding(Tensor(np.array([5])), w), IndexError, "out of range"),
    (lambda w: F.embedding(Tensor(np.array([-1])), w), IndexError, "out of range"),
    (lambda w: F.embedding(Tensor(np.array([1.0])), w), TypeError, "integer indices"),
    (lambda w: F.embedding(Tensor(np.array([1])), w, max_norm=0.0), ValueError,
     "max_norm must be a positive number"),
    (lambda w: nn.Embedding(5, 3, padding_idx=5), ValueError, "within num_embeddings"),
    (lambda w: nn.Embedding(0.5, 3), TypeError, "num_embeddings"),
])
def test_embedding_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call(Tensor(np.zeros((5, 3))))
