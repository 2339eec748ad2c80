"""missing5's linear algebra and grouping: nuclear_norm/frobenius_norm against torch (values,
gradients under a random upstream gradient, float64 tight and float32, gradcheck), the removed
matrix_rank/lstsq messages, svd_lowrank/pca_lowrank (exact where the rank is at most q:
singular values, subspaces and the reconstruction, not signs; gradients of S against torch's
exact SVD), histogramdd against torch, and segment_reduce's values and gradients against
torch for every reduction."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_norm as tg

from conftest import gradchecks, torch_parity

R = np.random.default_rng(13)
X = R.standard_normal((2, 3, 4))


def _quiet(fn):
    def run(*a):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*a)
    return run


NORMS = {
    "nuc": lambda m, x: m.nuclear_norm(x),
    "nuc-dim": lambda m, x: m.nuclear_norm(x, [0, 2]),
    "nuc-keep": lambda m, x: m.nuclear_norm(x, [1, 2], keepdim=True),
    "nuc-keep-overload": lambda m, x: m.nuclear_norm(x[0], True),
    "fro-2": lambda m, x: m.frobenius_norm(x, [1, 2]),
    "fro-1": lambda m, x: m.frobenius_norm(x, [1]),
    "fro-int": lambda m, x: m.frobenius_norm(x, 2, True),
}


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-10), (np.float32, 1e-5)])
@pytest.mark.parametrize("name", list(NORMS))
def test_deprecated_norms_match_torch(torch, name, dtype, rtol):
    call = NORMS[name]
    torch_parity(torch, _quiet(lambda a: call(tg, a)), _quiet(lambda a: call(torch, a)), [X],
                 dtype, rtol)


def test_deprecated_norms_warn_and_check(torch):
    with pytest.warns(UserWarning, match="nuclear_norm is deprecated"):
        tg.nuclear_norm(tg.tensor(X))
    with pytest.warns(UserWarning, match="frobenius_norm is deprecated"):
        tg.frobenius_norm(tg.tensor(X), [0])
    with pytest.raises(ValueError, match="Expected at most 2 dimensions, but got 3 dimensions "
                                         "instead."):
        tg.frobenius_norm(tg.tensor(X), [0, 1, 2])
    with pytest.raises(TypeError):
        tg.frobenius_norm(tg.tensor(X))  # dim is required, as torch's
    with pytest.raises(ValueError, match="at least 2"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tg.nuclear_norm(tg.tensor(X[0, 0]))
    gradchecks(_quiet(lambda a: tg.frobenius_norm(a, [0, 2])), [X])


@pytest.mark.parametrize("name,args", [("matrix_rank", (np.eye(3),)),
                                       ("lstsq", (np.eye(3), np.eye(3)))])
def test_removed_functions_raise_torchs_message(torch, name, args):
    with pytest.raises(RuntimeError, match="This function was deprecated since version 1.9 "
                                           "and is now removed") as ours:
        getattr(tg, name)(*map(tg.tensor, args))
    with pytest.raises(RuntimeError) as theirs:
        getattr(torch, name)(*map(torch.tensor, args))
    assert str(ours.value).split("\n")[0] == str(theirs.value).split("\n")[0].replace(
        "torch.linalg", "tg.linalg")


# ---- svd_lowrank, pca_lowrank

def _low_rank(shape, rank, rng):
    return rng.standard_normal(shape[:-1] + (rank,)) @ rng.standard_normal(
        shape[:-2] + (rank, shape[-1]))


def _same_subspace(a, b, tol):
    """The column spaces of a and b (orthonormal columns) agree: projections equal."""
    np.testing.assert_allclose(a @ np.swapaxes(a, -1, -2), b @ np.swapaxes(b, -1, -2),
                               atol=tol)


@pytest.mark.parametrize("shape,rank,q", [((20, 10), 3, 4), ((8, 30), 2, 6), ((3, 12, 9), 4, 4),
                                          ((6, 6), 6, 6)])
def test_svd_lowrank_is_exact_within_its_rank(torch, shape, rank, q):
    A = _low_rank(shape, rank, R)
    tg.manual_seed(0)
    U, S, V = tg.svd_lowrank(tg.tensor(A), q=q)
    tU, tS, tV = torch.svd_lowrank(torch.tensor(A), q=q)
    assert U.shape == tuple(tU.shape) and S.shape == tuple(tS.shape) and V.shape == tuple(
        tV.shape)
    np.testing.assert_allclose(S.numpy()[..., :rank], tS.numpy()[..., :rank], rtol=1e-10)
    np.testing.assert_allclose(S.numpy()[..., rank:], 0, atol=1e-10 * S.numpy().max())
    _same_subspace(U.numpy()[..., :rank], tU.numpy()[..., :rank], 1e-9)
    _same_subspace(V.numpy()[..., :rank], tV.numpy()[..., :rank], 1e-9)
    rebuilt = (U * S.unsqueeze(-2)) @ V.mT
    np.testing.assert_allclose(rebuilt.numpy(), A, atol=1e-10 * np.abs(A).max())


def test_svd_lowrank_with_M_and_float32(torch):
    A, M = _low_rank((15, 7), 2, R), R.standard_normal((1, 7))
    U, S, V = tg.svd_lowrank(tg.tensor(A + M), q=3, M=tg.tensor(M))
    np.testing.assert_allclose(S.numpy()[:2], np.linalg.svd(A, compute_uv=False)[:2],
                               rtol=1e-10)
    U, S, V = tg.svd_lowrank(tg.tensor(A.astype(np.float32)), q=3, niter=3)
    assert S.dtype == np.float32
    np.testing.assert_allclose(S.numpy()[:2], np.linalg.svd(A, compute_uv=False)[:2],
                               rtol=1e-5)


def test_svd_lowrank_approximates_a_full_rank_matrix():
    A = R.standard_normal((60, 40)) * np.exp(-np.arange(40) / 3.0)  # a fast-decaying spectrum
    exact = np.linalg.svd(A, compute_uv=False)
    S = tg.svd_lowrank(tg.tensor(A), q=10, niter=4)[1].numpy()
    np.testing.assert_allclose(S[:5], exact[:5], rtol=1e-3)


def test_svd_lowrank_gradient_of_S_matches_torch(torch):
    """Where the rank is at most q the factorization is exact, so the singular values'
    gradient is the exact SVD's, whatever the random test matrix: torch's."""
    A = _low_rank((10, 6), 3, R)
    x = tg.tensor(A, requires_grad=True)
    S = tg.svd_lowrank(x, q=3)[1]
    g = R.standard_normal(3)
    S.backward(tg.tensor(g))
    t = torch.tensor(A, requires_grad=True)
    (tS,) = [torch.svd_lowrank(t, q=3)[1]]
    (tg_,) = torch.autograd.grad(tS, t, torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tg_.numpy(), rtol=1e-8, atol=1e-10)


def test_svd_lowrank_gradcheck():
    A = _low_rank((6, 4), 2, R)

    def singular_values(a):
        tg.manual_seed(5)  # one test matrix for every finite-difference evaluation
        return tg.svd_lowrank(a, q=2)[1]

    assert tg.gradcheck(singular_values, [tg.tensor(A, requires_grad=True)])


@pytest.mark.parametrize("center", [True, False])
def test_pca_lowrank_matches_torch(torch, center):
    A = _low_rank((30, 8), 3, R) + (R.standard_normal(8) if center else 0)
    U, S, V = tg.pca_lowrank(tg.tensor(A), q=3, center=center)
    tU, tS, tV = torch.pca_lowrank(torch.tensor(A), q=3, center=center)
    if center:
        np.testing.assert_allclose(S.numpy(), tS.numpy(), rtol=1e-9)
        _same_subspace(V.numpy(), tV.numpy(), 1e-8)
    assert [t.shape for t in (U, S, V)] == [tuple(t.shape) for t in (tU, tS, tV)]
    assert tg.pca_lowrank(tg.tensor(A))[1].shape == (6,)  # q = min(6, m, n) by default


def test_lowrank_errors(torch):
    A = tg.tensor(R.standard_normal((5, 8)))
    for q in (7, -1):
        with pytest.raises(ValueError, match=rf"q\(={q}\) must be non-negative integer and not "
                                             rf"greater than min\(m, n\)=5"):
            tg.pca_lowrank(A, q=q)
    with pytest.raises(ValueError, match=r"niter\(=-1\) must be non-negative integer"):
        tg.pca_lowrank(A, niter=-1)
    with pytest.raises(ValueError, match="matrix or a batch"):
        tg.svd_lowrank(tg.tensor(R.standard_normal(5)))
    with pytest.raises(TypeError, match="floating point"):
        tg.svd_lowrank(tg.tensor([[1, 2], [3, 4]]))
    assert [t.shape for t in tg.svd_lowrank(A, q=0)] == [(5, 0), (0,), (8, 0)]


# ---- histogramdd

HISTS = [dict(bins=[3, 4]), dict(bins=5), dict(bins=[3, 4], range=[-1.0, 1.0, -2.0, 2.0]),
         dict(bins=[3, 4], density=True), dict(bins=[2, 3], weight="w")]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kw", HISTS)
def test_histogramdd_matches_torch(torch, kw, dtype):
    pts = R.standard_normal((200, 2)).astype(dtype)
    w = R.uniform(size=200).astype(dtype)
    ours = tg.histogramdd(tg.tensor(pts), **{k: tg.tensor(w) if v == "w" else v
                                             for k, v in kw.items()})
    theirs = torch.histogramdd(torch.tensor(pts), **{k: torch.tensor(w) if v == "w" else v
                                                     for k, v in kw.items()})
    assert ours.hist.dtype == dtype
    np.testing.assert_allclose(ours.hist.numpy(), theirs.hist.numpy(), rtol=1e-5)
    for a, b in zip(ours.bin_edges, theirs.bin_edges):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)


def test_histogramdd_edges_tensors_and_batches(torch):
    pts = R.standard_normal((4, 5, 3))
    edges = [np.array([-1.0, 0, 1]), np.array([-3.0, 3]), np.array([-2.0, -1, 0, 2])]
    ours = tg.histogramdd(tg.tensor(pts), [tg.tensor(e) for e in edges])
    theirs = torch.histogramdd(torch.tensor(pts), [torch.tensor(e) for e in edges])
    np.testing.assert_array_equal(ours.hist.numpy(), theirs.hist.numpy())


@pytest.mark.parametrize("call,words", [
    (lambda m, x: m.histogramdd(x, bins=[3]), "The size of bins must be equal to the innermost "
                                              "dimension of the input."),
    (lambda m, x: m.histogramdd(x, bins=[3, 4], range=[1.0, 0, 0, 1]),
     "min should not exceed max, but got min 1 max 0 for dimension 0"),
    (lambda m, x: m.histogramdd(x, bins=[3, 4], range=[1.0, 0]),
     "for a 2-dimensional histogram range should have 4 elements, but got 2"),
    (lambda m, x: m.histogramdd(x[:, 0], bins=3), "input tensor should have at least 2 "
                                                  "dimensions"),
])
def test_histogramdd_errors_are_torchs(torch, call, words):
    pts = R.standard_normal((10, 2))
    with pytest.raises(ValueError, match=words):
        call(tg, tg.tensor(pts))
    with pytest.raises(RuntimeError, match=words):
        call(torch, torch.tensor(pts))


# ---- segment_reduce

DATA = np.array([1.0, 5, 3, 2.5, 2, 6, -1, 4])  # no ties: see test_segment_reduce_ties


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 1e-6)])
@pytest.mark.parametrize("initial", [None, 0.5])
@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "prod", "amax", "amin"])
def test_segment_reduce_matches_torch(torch, reduce, initial, dtype, rtol):
    lengths = [2, 0, 3, 1, 2]
    if reduce in ("amax", "amin"):  # torch's spelling check accepts only max/min here
        reduce = reduce[1:]
    x = tg.tensor(DATA.astype(dtype), requires_grad=True)
    t = torch.tensor(DATA.astype(dtype), requires_grad=True)
    out = tg.segment_reduce(x, reduce, lengths=tg.tensor(lengths), initial=initial)
    ref = torch.segment_reduce(t, reduce, lengths=torch.tensor(lengths), initial=initial)
    assert out.dtype == dtype
    # (an empty segment's -inf/inf/NaN compared as such: no tolerance scaled by them)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=rtol)
    g = R.standard_normal(5).astype(dtype)
    out.backward(tg.tensor(g))
    (expected,) = torch.autograd.grad(ref, t, torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), expected.numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "prod"])
def test_segment_reduce_axis_and_offsets_match_torch(torch, reduce):
    data = R.standard_normal((3, 7, 2))
    torch_parity(torch, lambda d: tg.segment_reduce(d, reduce, lengths=tg.tensor([3, 4]),
                                                    axis=1),
                 lambda d: torch.segment_reduce(d, reduce, lengths=torch.tensor([[3, 4]] * 3),
                                                axis=1), [data], np.float64, 1e-12)
    torch_parity(torch, lambda d: tg.segment_reduce(d, reduce, offsets=tg.tensor([0, 2, 5, 7])),
                 lambda d: torch.segment_reduce(d, reduce, offsets=torch.tensor([0, 2, 5, 7])),
                 [data[0]], np.float64, 1e-12)


def test_segment_reduce_ties(torch):
    """Tied maxima share the gradient equally, as torch's for a positive upstream gradient
    (torch's gives each tied element the whole of a negative one: not followed)."""
    d = tg.tensor([1.0, 3, 3, 2], requires_grad=True)
    t = torch.tensor([1.0, 3, 3, 2], requires_grad=True)
    tg.segment_reduce(d, "max", lengths=tg.tensor([1, 3])).backward(tg.tensor([1.0, 3.0]))
    (expected,) = torch.autograd.grad(torch.segment_reduce(t, "max",
                                                           lengths=torch.tensor([1, 3])),
                                      t, torch.tensor([1.0, 3.0]))
    np.testing.assert_array_equal(d.grad.numpy(), expected.numpy())
    np.testing.assert_array_equal(d.grad.numpy(), [1.0, 1.5, 1.5, 0.0])


def test_segment_reduce_gradcheck():
    gradchecks(lambda d: tg.segment_reduce(d, "mean", lengths=tg.tensor([2, 0, 3]),
                                           initial=0.5), [DATA[:5]])
    gradchecks(lambda d: tg.segment_reduce(d, "prod", lengths=tg.tensor([2, 3])),
               [R.standard_normal(5)])


def test_segment_reduce_errors_are_torchs(torch):
    d = tg.tensor(DATA)
    cases = [
        (lambda m, x: m.segment_reduce(x, "bad", lengths=m.tensor([8])),
         "reduce argument must be either sum, prod, mean, amax or amin, got bad"),
        (lambda m, x: m.segment_reduce(x, "sum"), "Either lengths or offsets must be defined."),
        (lambda m, x: m.segment_reduce(x, "sum", lengths=m.tensor([2, 2])),
         "Expected all rows of lengths along axis to sum to"),
        (lambda m, x: m.segment_reduce(x, "sum", lengths=m.tensor([2, -1, 7])),
         "lengths contains negative value!"),
        (lambda m, x: m.segment_reduce(x, "sum", indices=m.tensor([0, 0, 1, 1, 1, 2, 2, 2])),
         "indices based reduction is not supported yet."),
    ]
    for call, words in cases:
        with pytest.raises(ValueError, match=words):
            call(tg, d)
        with pytest.raises(RuntimeError, match=words):
            call(torch, torch.tensor(DATA))
    out = tg.segment_reduce(d, "sum", lengths=tg.tensor([2, 2]), unsafe=True)
    np.testing.assert_array_equal(out.numpy(), [6.0, 5.5])  # the first 4 elements only
