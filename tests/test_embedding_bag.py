"""Embedding's max_norm / scale_grad_by_freq / sparse, and embedding_bag / nn.EmbeddingBag,
against torch 2.13: values, the weight's (and per-sample weights') gradients under random
upstream gradients, the renormalised table; finite differences; PyTorch's errors."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional
TOL = {np.float64: 1e-12, np.float32: 1e-5}
IDX = np.array([1, 2, 4, 5, 4, 3, 2, 9])


def _pair(w, dtype):
    return (Tensor(w.astype(dtype), requires_grad=True),
            torch.tensor(w.astype(dtype), requires_grad=True))


def _check(o, t, ours, theirs, dtype, rng):
    up = rng.standard_normal(t.shape)
    o.backward(Tensor(up.astype(dtype)))
    t.backward(torch.tensor(up.astype(dtype)))
    tol = TOL[dtype]
    np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=tol, atol=tol)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=tol, atol=tol)  # renorm
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kw", [dict(max_norm=0.8), dict(max_norm=1.5, norm_type=1.0),
                                dict(scale_grad_by_freq=True), dict(sparse=True),
                                dict(max_norm=1.0, scale_grad_by_freq=True, padding_idx=4)])
def test_embedding_options_as_torch(dtype, kw):
    rng = np.random.default_rng(0)
    w, tw = _pair(rng.standard_normal((10, 3)), dtype)
    idx = IDX.reshape(2, 4)
    o = F.embedding(Tensor(idx), w, **kw)
    t = TF.embedding(torch.tensor(idx), tw, **kw)
    if kw.get("sparse"):
        t.backward(torch.ones_like(t))
        o.backward(Tensor(np.ones(o.shape, dtype)))
        np.testing.assert_array_equal(w.grad.data, tw.grad.to_dense().numpy())
        return
    _check(o, t, [w], [tw], dtype, rng)


def test_max_norm_write_refuses_an_earlier_reader_as_torch():
    w = Tensor(np.random.default_rng(1).standard_normal((5, 3)), requires_grad=True)
    y = (w * w).sum()
    F.embedding(Tensor(np.array([1])), w, max_norm=0.1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def _bag_cases():
    off = np.array([0, 0, 4, 4, 6])  # two empty bags
    for mode in ("sum", "mean", "max"):
        yield dict(input=IDX.reshape(2, 4), mode=mode)
        yield dict(input=IDX, offsets=off, mode=mode)
        yield dict(input=IDX, offsets=off, mode=mode, padding_idx=4)
        yield dict(input=IDX, offsets=np.array([0, 3, 6]), mode=mode, include_last_offset=True)
        yield dict(input=IDX, offsets=np.array([0, 3]), mode=mode, max_norm=0.9)
        yield dict(input=np.array([4, 4]), offsets=np.array([0, 1]), mode=mode, padding_idx=-6)
    yield dict(input=IDX, offsets=np.array([0, 3]), mode="sum", per_sample_weights=True)
    yield dict(input=IDX.reshape(4, 2), mode="sum", per_sample_weights=True, padding_idx=2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", list(_bag_cases()), ids=str)
def test_embedding_bag_as_torch(dtype, case):
    rng = np.random.default_rng(2)
    case = dict(case)
    w, tw = _pair(rng.standard_normal((10, 3)), dtype)
    idx, off = case.pop("input"), case.pop("offsets", None)
    ours, theirs = [w], [tw]
    if case.pop("per_sample_weights", False):
        p, tp = _pair(rng.random(idx.shape), dtype)
        case["per_sample_weights"] = p
        ours.append(p)
        theirs.append(tp)
    o = F.embedding_bag(Tensor(idx), w, None if off is None else Tensor(off), **case)
    if "per_sample_weights" in case:
        case["per_sample_weights"] = tp
    if case.get("include_last_offset"):  # torch's float64 kernel reads past the last offset
        idx = idx[:off[-1]]
    t = TF.embedding_bag(torch.tensor(idx), tw, None if off is None else torch.tensor(off), **case)
    _check(o, t, ours, theirs, dtype, rng)


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_scales_by_each_index_frequency(mode):
    # torch 2.13's own embedding_bag divides some rows by the wrong count (with IDX, index 4,
    # used twice, gets no scaling and indices used once get half); the reference is its
    # embedding with scale_grad_by_freq, reduced per bag by hand
    rng = np.random.default_rng(3)
    w, tw = _pair(rng.standard_normal((10, 3)), np.float64)
    o = F.embedding_bag(Tensor(IDX), w, Tensor(np.array([0, 3])), mode=mode,
                        scale_grad_by_freq=True)
    rows = TF.embedding(torch.tensor(IDX), tw, scale_grad_by_freq=True)
    t = torch.stack([getattr(rows[:3], mode)(0), getattr(rows[3:], mode)(0)])
    _check(o, t, [w], [tw], np.float64, rng)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_gradcheck(mode):
    rng = np.random.default_rng(4)
    w = Tensor(rng.standard_normal((6, 3)), requires_grad=True)
    idx, off = Tensor(np.array([0, 2, 2, 5, 1, 3])), Tensor(np.array([0, 2, 2]))
    assert tg.gradcheck(lambda t: F.embedding_bag(idx, t, off, mode=mode), (w,))
    assert tg.gradgradcheck(lambda t: F.embedding_bag(idx, t, off, mode=mode) ** 2, (w,))


def test_no_index_at_all_gives_zeros_on_the_graph():
    w = Tensor(np.ones((5, 2)), requires_grad=True)
    for off, last in ((np.array([], np.int64), False), (np.array([0]), True)):
        out = F.embedding_bag(Tensor(IDX[:4] % 5), w, Tensor(off), include_last_offset=last)
        assert out.shape == (0, 2)
    out = F.embedding_bag(Tensor(np.array([[4, 4]])), w, mode="max", padding_idx=4)
    out.sum().backward()
    assert np.array_equal(out.data, np.zeros((1, 2))) and np.array_equal(w.grad.data, 0 * w.data)


W = Tensor(np.zeros((10, 3)))


@pytest.mark.parametrize("call,err,match", [
    (lambda: F.embedding_bag(Tensor(IDX.reshape(2, 4)), W, Tensor(np.array([0, 1]))),
     ValueError, "if input is 2D, then offsets has to be None"),
    (lambda: F.embedding_bag(Tensor(IDX), W), ValueError,
     "offsets has to be a 1D Tensor but got None"),
    (lambda: F.embedding_bag(Tensor(IDX), W, Tensor(np.array([1, 4]))), ValueError,
     "offsets\\[0\\] has to be 0"),
    (lambda: F.embedding_bag(Tensor(IDX), W, Tensor(np.array([0, 9]))), ValueError,
     "offsets\\[-1\\] can not be greater than input's length 8 but got offsets\\[-1\\] of 9"),
    (lambda: F.embedding_bag(Tensor(IDX), W, Tensor(np.array([0, 5, 3]))), ValueError,
     "offsets must be non-decreasing"),
    (lambda: F.embedding_bag(Tensor(IDX), W, Tensor(np.array([[0, 4]]))), ValueError,
     "offsets has to be a 1D Tensor"),
    (lambda: F.embedding_bag(Tensor(IDX), W, Tensor(np.array([0, 4])),
                             per_sample_weights=Tensor(np.ones(8))), ValueError,
     "per_sample_weights is only supported for mode='sum' \\(got mode='mean'\\)"),
    (lambda: F.embedding_bag(Tensor(IDX), W, Tensor(np.array([0, 4])), mode="sum",
                             per_sample_weights=Tensor(np.ones(7))), ValueError,
     "must have the same shape as the input"),
    (lambda: F.embedding_bag(Tensor(IDX), W, Tensor(np.array([0, 4])), mode="min"), ValueError,
     "mode has to be one of sum, mean or max"),
    (lambda: F.embedding_bag(Tensor(IDX), W, Tensor(np.array([0, 4])), mode="max",
                             scale_grad_by_freq=True), ValueError,
     "max mode does not support scaling the gradient by the frequency"),
    (lambda: F.embedding_bag(Tensor(IDX), W, Tensor(np.array([0, 4])), mode="max", sparse=True),
     ValueError, "max mode does not support sparse weights"),
    (lambda: F.embedding_bag(Tensor(np.array([1, 10])), W, Tensor(np.array([0]))), IndexError,
     "out of range"),
    (lambda: F.embedding_bag(Tensor(IDX.reshape(2, 2, 2)), W), ValueError,
     "input has to be 1D or 2D Tensor, but got Tensor of dimension 3"),
    (lambda: F.embedding_bag(Tensor(IDX), Tensor(np.zeros(3)), Tensor(np.array([0]))), ValueError,
     "weight has to be a 2D Tensor, but got Tensor of dimension 1"),
    (lambda: F.embedding_bag(Tensor(IDX), W, Tensor(np.array([0.0, 4]))), TypeError,
     "offsets must hold integers"),
    (lambda: F.embedding(Tensor(IDX), W, max_norm=-1.0), ValueError,
     "max_norm must be a positive number"),
    (lambda: nn.Embedding(5, 3, max_norm=0), ValueError, "max_norm must be a positive number"),
    (lambda: nn.EmbeddingBag(5, 3, mode="median"), ValueError, "mode has to be one of"),
])
def test_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_layers_as_torch():
    tg.manual_seed(0)
    assert repr(nn.Embedding(5, 3, padding_idx=1, max_norm=2.0, norm_type=1.0,
                             scale_grad_by_freq=True, sparse=True)) == repr(torch.nn.Embedding(
        5, 3, padding_idx=1, max_norm=2.0, norm_type=1.0, scale_grad_by_freq=True, sparse=True))
    for kw in (dict(), dict(max_norm=2.0, mode="max", padding_idx=0, include_last_offset=True),
               dict(mode="sum", scale_grad_by_freq=True, norm_type=3.0)):
        ours, theirs = nn.EmbeddingBag(5, 3, **kw), torch.nn.EmbeddingBag(5, 3, **kw)
        assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
        if "padding_idx" in kw:
            assert not ours.weight.data[0].any()
    table = np.random.default_rng(5).standard_normal((6, 4))
    ours = nn.EmbeddingBag.from_pretrained(Tensor(table), mode="max")
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(table), mode="max")
    assert not ours.weight.requires_grad and ours.weight.data is not None
    idx, off = np.array([1, 5, 0, 2, 2]), np.array([0, 2])
    np.testing.assert_array_equal(ours(Tensor(idx), Tensor(off)).data,
                                  theirs(torch.tensor(idx), torch.tensor(off)).numpy())
    thawed = nn.EmbeddingBag.from_pretrained(Tensor(table), freeze=False)
    assert thawed.weight.requires_grad
