"""missing5's views and copies against torch: the *_copy variants, split_with_sizes and the
unsafe_ spellings, ger/adjoint/H/mH, put/put_, and the Tensor methods of existing top-level
functions: values and the gradients under a random upstream gradient (float64 tight, float32),
gradcheck/gradgradcheck, torch's errors, and that a copy never shares the input's memory."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_norm as tg

from conftest import gradchecks, torch_parity

R = np.random.default_rng(5)
X = R.standard_normal((3, 4, 5))
SQ = R.standard_normal((2, 4, 4))

COPIES = {
    "view": (X, lambda m, x: m.view_copy(x, [12, 5])),
    "permute": (X, lambda m, x: m.permute_copy(x, [2, 0, 1])),
    "expand": (R.standard_normal((3, 1)), lambda m, x: m.expand_copy(x, [2, 3, 4])),
    "diagonal": (X, lambda m, x: m.diagonal_copy(x, 1, 1, 2)),
    "select": (X, lambda m, x: m.select_copy(x, -1, 2)),
    "slice": (X, lambda m, x: m.slice_copy(x, 1, 1, None, 2)),
    "slice-neg": (X, lambda m, x: m.slice_copy(x, -1, -4, -1)),
    "squeeze": (R.standard_normal((1, 3, 1)), lambda m, x: m.squeeze_copy(x, [0, 2])),
    "squeeze-all": (R.standard_normal((1, 3, 1)), lambda m, x: m.squeeze_copy(x)),
    "unsqueeze": (X, lambda m, x: m.unsqueeze_copy(x, -2)),
    "t": (R.standard_normal((3, 4)), lambda m, x: m.t_copy(x)),
    "transpose": (X, lambda m, x: m.transpose_copy(x, 0, 2)),
    "unfold": (X, lambda m, x: m.unfold_copy(x, 2, 2, 1)),
    "alias": (X, lambda m, x: m.alias_copy(x)),
    "narrow": (X, lambda m, x: m.narrow_copy(x, 1, 1, 2)),
    "narrow-method": (X, lambda m, x: x.narrow_copy(2, 0, 3)),
    "empty": (np.zeros((0, 3)), lambda m, x: m.t_copy(x)),
}


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 1e-6)])
@pytest.mark.parametrize("name", list(COPIES))
def test_copies_match_torch(torch, name, dtype, rtol):
    x, call = COPIES[name]
    torch_parity(torch, lambda a: call(tg, a), lambda a: call(torch, a), [x], dtype, rtol)


@pytest.mark.parametrize("name", ["split", "split_with_sizes", "unbind"])
def test_list_copies_match_torch(torch, name):
    calls = {"split": lambda m, x: m.split_copy(x, 2, 1),
             "split_with_sizes": lambda m, x: m.split_with_sizes_copy(x, [1, 3], 1),
             "unbind": lambda m, x: m.unbind_copy(x, 2)}
    call = calls[name]
    # the pieces joined, so one upstream gradient covers them all
    torch_parity(torch, lambda a: tg.cat([p.reshape(-1) for p in call(tg, a)]),
                 lambda a: torch.cat([p.reshape(-1) for p in call(torch, a)]), [X],
                 np.float64, 1e-12)


@pytest.mark.parametrize("name", ["view", "transpose", "diagonal", "slice", "alias", "expand"])
def test_copy_owns_its_memory(name):
    x, call = COPIES[name]
    t = tg.tensor(x)
    out = call(tg, t)
    assert not np.shares_memory(out.numpy(), t.numpy())


def test_detach_copy_and_view_copy_dtype(torch):
    a = tg.tensor(X, requires_grad=True)
    d = tg.detach_copy(a)
    assert not d.requires_grad and not np.shares_memory(d.numpy(), a.detach().numpy())
    ours = tg.view_copy(tg.tensor(X.astype(np.float32)), np.int32)
    theirs = torch.view_copy(torch.tensor(X.astype(np.float32)), torch.int32)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_copies_gradcheck():
    gradchecks(lambda a: tg.slice_copy(a, 1, 0, 3, 2) ** 2, [X[:2, :3, :2]])
    gradchecks(lambda a: tg.diagonal_copy(a, 0, 1, 2) ** 2, [X[:2, :3, :3]])


def test_slice_copy_errors(torch):
    t = tg.tensor(X)
    with pytest.raises(ValueError, match="slice step must be positive"):
        tg.slice_copy(t, 0, step=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        tg.slice_copy(t, 3)
    with pytest.raises(IndexError, match="index 5 out of range"):
        tg.select_copy(tg.tensor(X[0]), 0, 5)


# ---- split_with_sizes and the unsafe_ spellings

SPLITS = {
    "sizes": lambda m, x: m.split_with_sizes(x, [1, 3], 1),
    "sizes-method": lambda m, x: x.split_with_sizes([2, 0, 3], dim=-1),
    "unsafe_split": lambda m, x: m.unsafe_split(x, 2, 1),
    "unsafe_split-method": lambda m, x: x.unsafe_split(2),
    "unsafe_chunk": lambda m, x: x.unsafe_chunk(2, 2),
    "unsafe_sizes": lambda m, x: m.unsafe_split_with_sizes(x, [2, 1]),
    "unsafe_sizes-method": lambda m, x: x.unsafe_split_with_sizes([4, 1], 2),
}


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 1e-6)])
@pytest.mark.parametrize("name", list(SPLITS))
def test_splits_match_torch(torch, name, dtype, rtol):
    call = SPLITS[name]
    ours = [p.shape for p in call(tg, tg.tensor(X.astype(dtype)))]
    assert ours == [tuple(p.shape) for p in call(torch, torch.tensor(X.astype(dtype)))]
    # the pieces scaled differently and joined, so each piece's gradient is checked
    torch_parity(torch, lambda a: tg.cat([p.reshape(-1) * (i + 1)
                                          for i, p in enumerate(call(tg, a))]),
                 lambda a: torch.cat([p.reshape(-1) * (i + 1)
                                      for i, p in enumerate(call(torch, a))]),
                 [X], dtype, rtol)


@pytest.mark.parametrize("sizes,words", [
    ([1, 1], r"split_with_sizes expects split_sizes to sum exactly to 3 \(input tensor's size "
             r"at dimension 0\), but got split_sizes=\[1, 1\]"),
    ([1, -1, 3], r"split_with_sizes expects split_sizes have only non-negative entries, but got "
                 r"split_sizes=\[1, -1, 3\]")])
def test_split_with_sizes_errors(torch, sizes, words):
    with pytest.raises(ValueError, match=words):
        tg.tensor(X).split_with_sizes(sizes)
    with pytest.raises(RuntimeError, match=words):
        torch.tensor(X).split_with_sizes(sizes)


def test_split_with_sizes_bad_types():
    with pytest.raises(TypeError, match="must be tuple of ints, not int"):
        tg.split_with_sizes(tg.tensor(X), 3)
    with pytest.raises(TypeError, match="argument 'input' must be Tensor"):
        tg.split_with_sizes(X, [3])
    with pytest.raises(ValueError, match="out of range"):
        tg.split_with_sizes(tg.tensor(X), [3], dim=3)


# ---- ger, adjoint, H, mH

def test_ger_matches_torch(torch):
    v, w = R.standard_normal(3), R.standard_normal(4)
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 1e-6)):
        torch_parity(torch, tg.ger, torch.ger, [v, w], dtype, rtol)
        torch_parity(torch, lambda a, b: a.ger(b), lambda a, b: a.ger(b), [v, w], dtype, rtol)
    with pytest.raises(ValueError, match="Expected 1-D argument self, but got 2-D"):
        tg.ger(tg.tensor(SQ[0]), tg.tensor(v))


@pytest.mark.parametrize("call", [lambda m, x: m.adjoint(x), lambda m, x: x.adjoint(),
                                  lambda m, x: x.mH, lambda m, x: x[0].H])
def test_conjugate_transposes_match_torch(torch, call):
    torch_parity(torch, lambda a: call(tg, a), lambda a: call(torch, a), [SQ[:, :3]],
                 np.float64, 0.0)


def test_conjugate_transposes_are_views_and_errors(torch):
    t = tg.tensor(SQ)
    assert np.shares_memory(t.mH.numpy(), t.numpy())
    assert np.shares_memory(t[0].H.numpy(), t.numpy())
    with pytest.raises(ValueError, match=r"tensor.H is only supported on matrices \(2-D "
                                         r"tensors\). Got 1-D tensor"):
        tg.tensor(X[0, 0]).H
    with pytest.raises(ValueError, match="For batches of matrices, consider using tensor.mH"):
        t.H
    with pytest.raises(ValueError, match=r"tensor.mH is only supported on matrices or batches "
                                         r"of matrices. Got 1-D tensor."):
        tg.tensor(X[0, 0]).mH
    with pytest.raises(ValueError, match=r"tensor.adjoint\(\) is only supported"):
        tg.adjoint(tg.tensor(X[0, 0]))
    with pytest.warns(UserWarning, match="Tensor.H is deprecated on 0-D tensors"):
        s = tg.tensor(2.0).H
    assert s.item() == 2.0


# ---- put / put_

PUTS = {
    "plain": (lambda m: m.tensor([0, 5, -1, 7]), R.standard_normal(4), False),
    "accumulate": (lambda m: m.tensor([0, 0, 3, -12]), R.standard_normal(4), True),
    "2d-index": (lambda m: m.tensor([[1, 2], [3, 4]]), R.standard_normal((2, 2)), False),
    "empty": (lambda m: m.zeros(0, dtype=m.int64), np.zeros(0), True),
}


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 1e-6)])
@pytest.mark.parametrize("name", list(PUTS))
def test_put_matches_torch(torch, name, dtype, rtol):
    index, src, acc = PUTS[name]
    torch_parity(torch, lambda a, s: tg.put(a, index(tg), s, acc),
                 lambda a, s: torch.put(a, index(torch), s, acc), [X[0], src], dtype, rtol)
    torch_parity(torch, lambda a, s: (a * 1).put_(index(tg), s, accumulate=acc),
                 lambda a, s: (a * 1).put_(index(torch), s, accumulate=acc), [X[0], src],
                 dtype, rtol)


def test_put_gradcheck():
    gradchecks(lambda a, s: tg.put(a, tg.tensor([0, 3, -1]), s, True) ** 2,
               [X[0, :2], R.standard_normal(3)])


@pytest.mark.parametrize("index,source,exc,words", [
    ([6], [1.0], IndexError, "out of range: tried to access index 6 on a tensor of 20 "),
    ([-21], [1.0], IndexError, "out of range: tried to access index -21 on a tensor of 20"),
    ([1, 2], [1.0], IndexError, "Expected source and index to have the same number of "
                                "elements, but got source.numel\\(\\) = 1, index.numel\\(\\) = 2"),
])
def test_put_errors(index, source, exc, words):
    t = tg.tensor(X[0])
    idx = tg.tensor(index) if index != [6] else tg.tensor([26])
    if index == [6]:
        words = words.replace("6", "26")
    with pytest.raises(exc, match=words):
        tg.put(t, idx, tg.tensor(source, dtype=np.float64))
    before = t.numpy().copy()
    with pytest.raises(exc):
        t.put_(idx, tg.tensor(source, dtype=np.float64))
    np.testing.assert_array_equal(t.numpy(), before)  # nothing written


def test_put_dtype_errors():
    t = tg.tensor(X[0])
    with pytest.raises(TypeError, match="put_\\(\\): Expected a long tensor for index"):
        tg.put(t, tg.tensor([1.0]), tg.tensor([1.0], dtype=np.float64))
    with pytest.raises(TypeError, match="self and source expected to have the same dtype"):
        tg.put(t, tg.tensor([1]), tg.tensor([1]))
    with pytest.raises(RuntimeError, match="leaf"):
        tg.tensor(X[0], requires_grad=True).put_(tg.tensor([1]),
                                                 tg.tensor([1.0], dtype=np.float64))


# ---- the Tensor methods of existing top-level functions

POS = R.standard_normal((3, 3))
SPD = POS @ POS.T + 3 * np.eye(3)
METHODS = {
    "hardshrink": ([X], lambda m, x: x.hardshrink(0.3)),
    "prelu": ([X, np.array([0.25])], lambda m, x, w: x.prelu(w)),
    # (tril: the upper half is never read, and torch's gradient there is not ours)
    "cholesky_inverse": ([np.linalg.cholesky(SPD)], lambda m, x: x.tril().cholesky_inverse()),
    "cholesky_solve": ([R.standard_normal((3, 2)), np.linalg.cholesky(SPD)],
                       lambda m, b, L: b.cholesky_solve(L.tril())),
    "select_scatter": ([X, R.standard_normal((3, 5))],
                       lambda m, x, s: x.select_scatter(s, 1, 2)),
    "slice_scatter": ([X, R.standard_normal((3, 2, 5))],
                      lambda m, x, s: x.slice_scatter(s, 1, 0, None, 2)),
    "diagonal_scatter": ([SPD, R.standard_normal(3)],
                         lambda m, x, s: x.diagonal_scatter(s)),
}


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-10), (np.float32, 1e-5)])
@pytest.mark.parametrize("name", list(METHODS))
def test_methods_match_torch(torch, name, dtype, rtol):
    arrays, call = METHODS[name]
    torch_parity(torch, lambda *a: call(tg, *a), lambda *a: call(torch, *a), arrays, dtype,
                 rtol)


def test_decomposition_methods_match_torch(torch):
    a = R.standard_normal((4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q, r = tg.tensor(a).qr()
        tq, tr = torch.tensor(a).qr()
        np.testing.assert_allclose(np.abs(q.numpy()), np.abs(tq.numpy()), atol=1e-12)
        np.testing.assert_allclose(np.abs(r.numpy()), np.abs(tr.numpy()), atol=1e-12)
        lu, piv = tg.tensor(SPD).lu()
        tlu, tpiv = torch.tensor(SPD).lu()
        np.testing.assert_allclose(lu.numpy(), tlu.numpy(), atol=1e-12)
        b = R.standard_normal((3, 2))
        np.testing.assert_allclose(tg.tensor(b).lu_solve(lu, piv).numpy(),
                                   torch.tensor(b).lu_solve(tlu, tpiv).numpy(), atol=1e-12)
    h, e = tg.tensor(X).histogram(4)
    th, te = torch.tensor(X).histogram(4)
    np.testing.assert_array_equal(h.numpy(), th.numpy())
    np.testing.assert_allclose(e.numpy(), te.numpy(), atol=1e-12)
