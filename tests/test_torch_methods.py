"""PyTorch's movement and selection methods (split, chunk, flip, repeat, gather, masked_fill,
sort, topk) and retain_grad, against torch 2.13: values, indices, and gradients under a random
upstream gradient, in float64; composites, so gradcheck holds through the primitives."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor

A = np.random.default_rng(3).standard_normal((3, 4, 5))


def _both(torch, a=A):
    return Tensor(a.copy(), requires_grad=True), torch.tensor(a.copy(), requires_grad=True)


def _check(torch, ours, theirs, t, x, rng):
    """Outputs equal, and the input gradients under one random upstream gradient each."""
    ours = list(ours) if isinstance(ours, tuple) else [ours]
    theirs = list(theirs) if isinstance(theirs, tuple) else [theirs]
    assert len(ours) == len(theirs)
    total_o, total_t = 0.0, 0.0
    for o, th in zip(ours, theirs):
        assert o.shape == tuple(th.shape)
        np.testing.assert_array_equal(o.data, th.detach().numpy())
        g = rng.standard_normal(o.shape)
        total_o = total_o + (o * Tensor(g)).sum()
        total_t = total_t + (th * torch.tensor(g)).sum()
    total_o.backward()
    total_t.backward()
    np.testing.assert_allclose(t.grad.data, x.grad.numpy(), rtol=1e-12, atol=1e-12)


CASES = {
    "split_size": (lambda t: t.split(2, 1), lambda x: x.split(2, 1)),
    "split_sizes": (lambda t: t.split([1, 0, 4], -1), lambda x: x.split([1, 0, 4], -1)),
    "split_big": (lambda t: t.split(10, 0), lambda x: x.split(10, 0)),
    "chunk": (lambda t: t.chunk(3, 2), lambda x: x.chunk(3, 2)),
    "chunk_more_than_len": (lambda t: t.chunk(7, 0), lambda x: x.chunk(7, 0)),
    "flip": (lambda t: t.flip((0, 2)), lambda x: x.flip((0, 2))),
    "flip_neg": (lambda t: t.flip(-1), lambda x: x.flip(-1)),
    "repeat": (lambda t: t.repeat(2, 1, 3), lambda x: x.repeat(2, 1, 3)),
    "repeat_new_axes": (lambda t: t.repeat(2, 1, 1, 2), lambda x: x.repeat(2, 1, 1, 2)),
    "masked_fill": (lambda t: t.masked_fill(Tensor(A > 0.3), -2.0),
                    lambda x: x.masked_fill(x.new_tensor(A > 0.3).bool(), -2.0)),
    "sort": (lambda t: t.sort(1)[0], lambda x: x.sort(dim=1, stable=True)[0]),
    "sort_desc": (lambda t: t.sort(-1, descending=True)[0],
                  lambda x: x.sort(dim=-1, descending=True, stable=True)[0]),
    "topk": (lambda t: t.topk(3)[0], lambda x: x.topk(3)[0]),
    "topk_smallest_dim0": (lambda t: t.topk(2, 0, largest=False)[0],
                           lambda x: x.topk(2, 0, largest=False)[0]),
}


@pytest.mark.parametrize("case", CASES)
def test_matches_torch_forward_and_backward(torch, rng, case):
    ours, theirs = CASES[case]
    t, x = _both(torch)
    _check(torch, ours(t), theirs(x), t, x, rng)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_gather_matches_torch_with_repeated_indices(torch, rng, dim):
    shape = list(A.shape)
    shape[dim] = 6  # more picks than the axis holds: indices repeat, gradients add up
    index = rng.integers(0, A.shape[dim], shape)
    index = index[tuple(slice(0, 2) if i != dim % 3 else slice(None) for i in range(3))]
    t, x = _both(torch)
    _check(torch, t.gather(dim, index), x.gather(dim, torch.tensor(index)), t, x, rng)


def test_sort_and_topk_indices_match_torch_with_ties_and_nan(torch):
    a = np.array([[3.0, 1.0, np.nan, 2.0, 1.0], [0.0, 5.0, 5.0, -1.0, 2.0]])
    t, x = Tensor(a), torch.tensor(a)
    for desc in (False, True):
        v, i = t.sort(1, descending=desc)
        tv, ti = x.sort(dim=1, descending=desc, stable=True)
        np.testing.assert_array_equal(v.data, tv.numpy())
        np.testing.assert_array_equal(i.data, ti.numpy())
        assert i.dtype == np.int64
    res = t.topk(2, largest=False)
    assert res.values.shape == (2, 2) and res.indices.dtype == np.int64
    np.testing.assert_array_equal(res.indices.data, x.topk(2, largest=False).indices.numpy())


def test_composites_pass_gradcheck():
    x = Tensor(A[:2, :3, :4].copy(), requires_grad=True)
    idx = np.array([[[0, 1, 1, 0]], [[1, 1, 0, 0]]])
    fns = [lambda t: t.repeat(2, 1, 1), lambda t: t.gather(1, idx) * t[:, :1, :],
           lambda t: t.sort(2)[0] * t, lambda t: t.flip(1).chunk(2, 2)[1]]
    for f in fns:
        assert tg.gradcheck(f, (x,))


def test_retain_grad_matches_torch(torch, rng):
    t, x = _both(torch)
    h, xh = t * 2.0, x * 2.0
    h.retain_grad()
    xh.retain_grad()
    h.retain_grad()  # twice: once
    h.register_hook(lambda g: g * 3.0)  # registered after: still runs before the retained grad
    xh.register_hook(lambda g: g * 3.0)
    g = rng.standard_normal(A.shape)
    for _ in range(2):  # accumulated over backward calls, as .grad is
        (h.tanh() * Tensor(g)).sum().backward(retain_graph=True)
        (xh.tanh() * torch.tensor(g)).sum().backward(retain_graph=True)
    np.testing.assert_allclose(h.grad.data, xh.grad.numpy(), rtol=1e-10)  # tanh' rounding
    np.testing.assert_allclose(t.grad.data, x.grad.numpy(), rtol=1e-10)
    leaf = Tensor(np.ones(2), requires_grad=True)
    leaf.retain_grad()  # a no-op on a leaf
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        Tensor(np.ones(2)).retain_grad()


def test_small_helpers():
    t = Tensor(A)
    assert t.numel() == A.size and t.dim() == 3
    assert t[:, :1].expand_as(t).shape == A.shape


@pytest.mark.parametrize("call, error, match", [
    (lambda t: t.split(0), ValueError, "split_size must be positive"),
    (lambda t: t.split([1, 1], 0), ValueError, "add up to 3"),
    (lambda t: t.split(1.5), TypeError, "an int or a list of ints, got float"),
    (lambda t: t.chunk(0), ValueError, "chunks must be a positive int"),
    (lambda t: t.split(1, dim=3), ValueError, "dim 3 is out of range"),
    (lambda t: t.split(1, dim=1.0), TypeError, "dim must be an int"),
    (lambda t: t.repeat(2, 2), ValueError, "at least one per dimension"),
    (lambda t: t.repeat(2, -1, 1), ValueError, "non-negative"),
    (lambda t: t.gather(0, np.zeros((3, 4, 5))), TypeError, "must hold integers"),
    (lambda t: t.gather(0, np.zeros((3, 4), np.int64)), ValueError, "does not fit"),
    (lambda t: t.gather(1, np.full((3, 1, 5), 4)), IndexError, "out of range"),
    (lambda t: t.masked_fill(A > 0, Tensor(np.ones(2))), TypeError, "must be a number"),
    (lambda t: t.masked_fill(np.ones(A.shape), 0.0), TypeError, "mask must be boolean"),
    (lambda t: t.topk(6), ValueError, "k must be an int in \\[0, 5\\]"),
    (lambda t: Tensor(np.float64(1.0)).sort(), ValueError, "0-d tensor has no dim"),
])
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call(Tensor(A))


def test_flip_and_repeat_are_copies_as_in_torch(torch):
    for make in (lambda t: t.flip(0), lambda t: t.flip(()), lambda t: t.repeat(1, 1),
                 lambda t: t.repeat(2, 1)):
        x = Tensor(np.arange(6.0).reshape(2, 3))
        y = make(x)
        y += 100.0
        np.testing.assert_array_equal(x.data, np.arange(6.0).reshape(2, 3))


def test_gather_refuses_negative_indices_and_chunk_of_nothing(torch):
    with pytest.raises(IndexError, match="out of range"):
        Tensor(A).gather(1, np.full((3, 1, 5), -1))
    assert len(Tensor(np.zeros(0)).chunk(3)) == len(torch.zeros(0).chunk(3)) == 3
