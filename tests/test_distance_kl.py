"""cosine_similarity, pairwise_distance, kl_div and the margin losses (margin_ranking,
cosine_embedding, triplet_margin), and their nn modules, against torch 2.13:
values and gradients under a random upstream gradient in float64 (tight) and float32, at the
edges torch defines (zero and tiny vectors, equal vectors, zero targets), gradcheck and
gradgradcheck, torch's warning and errors."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn

from conftest import gradchecks, torch_parity  # noqa: E402

RTOL = {np.float64: 1e-10, np.float32: 2e-5}


def _r(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _parity(torch, ours, theirs, arrays, dtype=np.float64, diff=None):
    torch_parity(torch, ours, theirs, arrays, dtype, RTOL[dtype], diff=diff, seed=9)


# ---- cosine_similarity ---------------------------------------------------------------------

def _small_rows():
    a = _r((4, 5))
    a[1] = 0.0          # a zero vector: norm clamped to eps, norm's gradient 0
    a[2] *= 1e-10       # below eps: clamped value, gradient through the unclamped norm
    return a


COSINE = {
    "2d": ([_r((4, 5)), _r((4, 5), 1)], {}),
    "broadcast": ([_r((1, 5)), _r((4, 5), 1)], {}),
    "dim0": ([_r((3, 4)), _r((3, 4), 1)], dict(dim=0)),
    "3d_last": ([_r((2, 3, 4)), _r((3, 4), 1)], dict(dim=-1)),
    "small_and_zero": ([_small_rows(), _r((4, 5), 1)], {}),
    "both_small": ([_small_rows(), _small_rows()[::-1].copy()], {}),
    "eps_big": ([_r((4, 5)), _r((4, 5), 1)], dict(eps=3.0)),
}


# float32 leaves out the vectors below eps: gradients of 1e8 and more, where the two libraries'
# float32 roundings differ beyond any tight tolerance (float64 checks them)
@pytest.mark.parametrize("case,dtype", [(c, np.float64) for c in sorted(COSINE)] + [
    (c, np.float32) for c in sorted(COSINE) if c not in ("small_and_zero", "both_small")])
def test_cosine_similarity_matches_torch(torch, case, dtype):
    arrays, kw = COSINE[case]
    _parity(torch, lambda a, b: F.cosine_similarity(a, b, **kw),
            lambda a, b: torch.nn.functional.cosine_similarity(a, b, **kw), arrays, dtype)


def test_cosine_similarity_gradcheck_and_module(torch):
    gradchecks(lambda a, b: F.cosine_similarity(a, b * a, dim=0), [_r((3, 2)), _r((3, 1), 1)])
    a, b = _r((4, 5)), _r((4, 5), 1)
    m = nn.CosineSimilarity(dim=0, eps=1e-3)
    np.testing.assert_allclose(
        m(Tensor(a), Tensor(b)).data,
        torch.nn.CosineSimilarity(dim=0, eps=1e-3)(torch.tensor(a), torch.tensor(b)).numpy(),
        rtol=1e-12)
    assert repr(m) == repr(torch.nn.CosineSimilarity()) == "CosineSimilarity()"


def test_cosine_similarity_stays_within_one_for_parallel_vectors(torch):
    a = np.array([[1e-3, 3e-3, 7e-3]] * 2)
    out = F.cosine_similarity(Tensor(a), Tensor(a * 1e5))
    assert (np.abs(out.data) <= 1).all()


# ---- pairwise_distance ---------------------------------------------------------------------

PAIRWISE = {
    "p2": ([_r((4, 5)), _r((4, 5), 1)], {}),
    "p1": ([_r((4, 5)), _r((4, 5), 1)], dict(p=1.0)),
    "p3_keepdim": ([_r((4, 5)), _r((4, 5), 1)], dict(p=3, keepdim=True)),
    "p_half": ([_r((4, 5)), _r((4, 5), 1)], dict(p=0.5)),
    "p_inf": ([_r((4, 5)), _r((4, 5), 1)], dict(p=math.inf)),
    "p0": ([_r((4, 5)), _r((4, 5), 1)], dict(p=0)),
    "broadcast_1d": ([_r((4, 5)), _r((5,), 1)], {}),
    "equal_rows": ([_r((3, 4)), _r((3, 4))], {}),
    "equal_rows_no_eps": ([_r((3, 4)), _r((3, 4))], dict(eps=0.0)),
    "eps_big": ([_r((4, 5)), _r((4, 5), 1)], dict(eps=0.5, p=1.5)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", sorted(PAIRWISE))
def test_pairwise_distance_matches_torch(torch, case, dtype):
    arrays, kw = PAIRWISE[case]
    _parity(torch, lambda a, b: F.pairwise_distance(a, b, **kw),
            lambda a, b: torch.nn.functional.pairwise_distance(a, b, **kw), arrays, dtype)


def test_pairwise_distance_gradcheck_and_module(torch):
    for p in (2.0, 1.5, 3.0):
        gradchecks(lambda a, b: F.pairwise_distance(a, b * a, p=p), [_r((3, 4)), _r((1, 4), 1)])
    a, b = _r((4, 5)), _r((4, 5), 1)
    m = nn.PairwiseDistance(p=3.0, eps=1e-3, keepdim=True)
    theirs = torch.nn.PairwiseDistance(p=3.0, eps=1e-3, keepdim=True)
    assert (m.norm, m.eps, m.keepdim) == (theirs.norm, theirs.eps, theirs.keepdim)
    np.testing.assert_allclose(m(Tensor(a), Tensor(b)).data,
                               theirs(torch.tensor(a), torch.tensor(b)).numpy(), rtol=1e-12)
    assert repr(m) == "PairwiseDistance()"


# ---- kl_div ----------------------------------------------------------------------------------

def _log_probs(shape, seed=0):
    z = _r(shape, seed)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def _probs_with_zeros(shape, seed=1):
    p = np.exp(_log_probs(shape, seed))
    p[0, 1] = 0.0
    p[-1, :2] = 0.0
    return p


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(torch, reduction, log_target, dtype):
    inp = _log_probs((4, 5))
    target = _log_probs((4, 5), 1) if log_target else np.exp(_log_probs((4, 5), 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _parity(torch, lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
                lambda a, b: torch.nn.functional.kl_div(a, b, reduction=reduction,
                                                        log_target=log_target),
                [inp, target], dtype)


@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean"])
def test_kl_div_zero_targets_as_torch(torch, reduction):
    """0 * log 0 = 0 (torch's xlogy): the value and the input's gradient as torch's."""
    _parity(torch, lambda a, b: F.kl_div(a, b, reduction=reduction),
            lambda a, b: torch.nn.functional.kl_div(a, b, reduction=reduction),
            [_log_probs((3, 4)), _probs_with_zeros((3, 4))], diff=[True, False])
    out = F.kl_div(Tensor(_log_probs((3, 4))), Tensor(_probs_with_zeros((3, 4))), reduction="sum")
    assert np.isfinite(out.item())


def test_kl_div_target_gradient_at_a_zero_target_is_finite_where_torch_gives_nan(torch):
    """At a zero target the 0 * log 0 term adds 0 to the target's gradient (torch's xlogy adds
    0/0 = NaN), so the gradient there is -input; elsewhere it is torch's."""
    inp = _log_probs((3, 4))
    t = Tensor(_probs_with_zeros((3, 4)), requires_grad=True)
    F.kl_div(Tensor(inp), t, reduction="sum").backward()
    tt = torch.tensor(_probs_with_zeros((3, 4)), requires_grad=True)
    torch.nn.functional.kl_div(torch.tensor(inp), tt, reduction="sum").backward()
    zero = t.data == 0
    np.testing.assert_array_equal(t.grad.data[zero], -inp[zero])
    assert np.isnan(tt.grad.numpy()[zero]).all()
    np.testing.assert_allclose(t.grad.data[~zero], tt.grad.numpy()[~zero], rtol=1e-12)


def test_kl_div_negative_target_is_nan_as_torch(torch):
    a, t = _log_probs((1, 3)), np.array([[-1.0, 0.5, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and silently, as torch
        ours = F.kl_div(Tensor(a), Tensor(t), reduction="none").data
    theirs = torch.nn.functional.kl_div(torch.tensor(a), torch.tensor(t), reduction="none")
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs.numpy()))
    assert np.isnan(ours[0, 0])


def test_kl_div_mean_warns_as_torch(torch):
    a, t = _log_probs((2, 3)), np.exp(_log_probs((2, 3), 1))
    with pytest.warns(UserWarning) as ours:
        F.kl_div(Tensor(a), Tensor(t))
    with pytest.warns(UserWarning) as theirs:
        torch.nn.functional.kl_div(torch.tensor(a), torch.tensor(t))
    assert str(ours[0].message) == str(theirs[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(Tensor(a), Tensor(t), reduction="batchmean")


def test_kl_div_gradcheck_and_module(torch):
    t = np.exp(_log_probs((3, 4), 1))
    gradchecks(lambda a, b: F.kl_div(a * a, b, reduction="batchmean"), [_log_probs((3, 4)), t])
    gradchecks(lambda a, b: F.kl_div(a, b * a, reduction="sum", log_target=True),
            [_log_probs((3, 4)), _log_probs((3, 4), 1)])
    a = _log_probs((3, 4))
    m = nn.KLDivLoss(reduction="batchmean", log_target=False)
    theirs = torch.nn.KLDivLoss(reduction="batchmean")
    assert (m.reduction, m.log_target) == (theirs.reduction, theirs.log_target)
    np.testing.assert_allclose(m(Tensor(a), Tensor(t)).item(),
                               theirs(torch.tensor(a), torch.tensor(t)).item(), rtol=1e-12)


# ---- margin losses ---------------------------------------------------------------------------

_SIGNS = np.array([1.0, -1.0, 1.0, -1.0, 1.0])
_TIE = _r(5)  # input1 == input2 with margin 0: exactly at the hinge, where torch's gradient passes
MARGIN = {
    "ranking": (lambda a, b: F.margin_ranking_loss(a, b, Tensor(_SIGNS.astype(a.dtype)), 0.3),
                lambda torch, a, b: torch.nn.functional.margin_ranking_loss(
                    a, b, torch.tensor(_SIGNS, dtype=a.dtype), 0.3), [_r(5), _r(5, 1)]),
    "ranking_sum_tie": (lambda a, b: F.margin_ranking_loss(a, b, _SIGNS, reduction="sum"),
                        lambda torch, a, b: torch.nn.functional.margin_ranking_loss(
                            a, b, torch.tensor(_SIGNS, dtype=a.dtype), reduction="sum"),
                        [_TIE, _TIE]),
    "cosine_embedding": (lambda a, b: F.cosine_embedding_loss(a, b, Tensor(_SIGNS), 0.1),
                         lambda torch, a, b: torch.nn.functional.cosine_embedding_loss(
                             a, b, torch.tensor(_SIGNS), 0.1), [_r((5, 4)), _r((5, 4), 1)]),
    "cosine_embedding_none_int_target": (
        lambda a, b: F.cosine_embedding_loss(a, b, np.array([1, -1, 0, 1, -1]), -0.2,
                                             reduction="none"),
        lambda torch, a, b: torch.nn.functional.cosine_embedding_loss(
            a, b, torch.tensor([1, -1, 0, 1, -1]), -0.2, reduction="none"),
        [_r((5, 4)), _r((1, 4), 1)]),
    "cosine_embedding_1d": (lambda a, b: F.cosine_embedding_loss(a, b, Tensor(np.array(-1.0))),
                            lambda torch, a, b: torch.nn.functional.cosine_embedding_loss(
                                a, b, torch.tensor(-1.0)), [_r(4), _r(4, 1)]),
    "triplet": (lambda a, p, n: F.triplet_margin_loss(a, p, n),
                lambda torch, a, p, n: torch.nn.functional.triplet_margin_loss(a, p, n),
                [_r((5, 4)), _r((5, 4), 1), _r((5, 4), 2)]),
    "triplet_swap_p1": (lambda a, p, n: F.triplet_margin_loss(a, p, n, 2.0, 1, swap=True,
                                                              reduction="sum"),
                        lambda torch, a, p, n: torch.nn.functional.triplet_margin_loss(
                            a, p, n, 2.0, 1, swap=True, reduction="sum"),
                        [_r((5, 4)), _r((5, 4), 1), _r((5, 4), 2)]),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", sorted(MARGIN))
def test_margin_losses_match_torch(torch, case, dtype):
    ours, theirs, arrays = MARGIN[case]
    _parity(torch, ours, lambda *ts: theirs(torch, *ts), arrays, dtype)


def test_margin_losses_gradcheck_and_modules(torch):
    gradchecks(lambda a, b: F.margin_ranking_loss(a * a, b, Tensor(_SIGNS), 0.3), [_r(5), _r(5, 1)])
    gradchecks(lambda a, b: F.cosine_embedding_loss(a, b * a, Tensor(_SIGNS)),
            [_r((5, 3)), _r((5, 3), 1)])
    gradchecks(lambda a, p, n: F.triplet_margin_loss(a, p, n * a, swap=True),
            [_r((3, 4)), _r((3, 4), 1), _r((3, 4), 2)])
    a, b, c = _r((5, 4)), _r((5, 4), 1), _r((5, 4), 2)
    pairs = [
        (nn.MarginRankingLoss(0.5, "sum")(Tensor(a[:, 0]), Tensor(b[:, 0]), Tensor(_SIGNS)),
         torch.nn.MarginRankingLoss(0.5, reduction="sum")(
             torch.tensor(a[:, 0]), torch.tensor(b[:, 0]), torch.tensor(_SIGNS))),
        (nn.CosineEmbeddingLoss(0.2)(Tensor(a), Tensor(b), Tensor(_SIGNS)),
         torch.nn.CosineEmbeddingLoss(0.2)(torch.tensor(a), torch.tensor(b),
                                           torch.tensor(_SIGNS))),
        (nn.TripletMarginLoss(0.7, 3.0, 1e-3, True)(Tensor(a), Tensor(b), Tensor(c)),
         torch.nn.TripletMarginLoss(0.7, 3.0, 1e-3, True)(torch.tensor(a), torch.tensor(b),
                                                          torch.tensor(c))),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
    m, tm = nn.TripletMarginLoss(), torch.nn.TripletMarginLoss()
    assert (m.margin, m.p, m.eps, m.swap, m.reduction) == (tm.margin, tm.p, tm.eps, tm.swap,
                                                           tm.reduction)
    assert repr(m) == repr(tm) == "TripletMarginLoss()"


BAD = [
    (lambda: F.cosine_similarity(Tensor(_r((2, 3))), _r((2, 3))), TypeError,
     "x2 must be a floating-point Tensor"),
    (lambda: F.cosine_similarity(Tensor(np.ones((2, 3), np.int64)), Tensor(_r((2, 3)))),
     TypeError, "x1 must be a floating-point Tensor"),
    (lambda: F.cosine_similarity(Tensor(_r((2, 3))), Tensor(_r((4, 3)))), ValueError,
     "cannot be broadcast together"),
    (lambda: F.cosine_similarity(Tensor(_r((2, 3))), Tensor(_r((2, 3))), dim=2), ValueError,
     "out of range"),
    (lambda: F.cosine_similarity(Tensor(_r((2, 3))), Tensor(_r((2, 3))), dim=1.0), TypeError,
     "dim must be an int"),
    (lambda: F.pairwise_distance(Tensor(_r((2, 3))), Tensor(_r((2, 3))), p=-1), ValueError,
     "p must be a non-negative number"),
    (lambda: F.pairwise_distance(Tensor(_r((2, 3))), Tensor(_r((2, 3))), eps="1"), TypeError,
     "eps must be a number"),
    (lambda: F.kl_div(Tensor(_r((2, 3))), Tensor(_r((2, 3))), reduction="avg"), ValueError,
     "avg is not a valid value for reduction"),
    (lambda: F.kl_div(Tensor(_r((2, 3))), Tensor(_r((4, 3)))), ValueError, "does not broadcast"),
    (lambda: F.kl_div(Tensor(np.ones((2, 3), np.int64)), Tensor(_r((2, 3)))), TypeError,
     "input must be floating point"),
    (lambda: nn.KLDivLoss(reduction="avg"), ValueError, "avg is not a valid value"),
    (lambda: F.margin_ranking_loss(Tensor(_r(2)), Tensor(_r((2, 1))), Tensor(_r(2))), ValueError,
     "margin_ranking_loss : All input tensors should have same dimension but got sizes"),
    (lambda: F.margin_ranking_loss(Tensor(_r(2)), Tensor(_r(2)), Tensor(_r(2)), margin="1"),
     TypeError, "margin must be a real number"),
    (lambda: F.cosine_embedding_loss(Tensor(_r((2, 3))), Tensor(_r((2, 3))), _r((2, 1))),
     ValueError, "0D or 1D target tensor expected, multi-target not supported"),
    (lambda: F.cosine_embedding_loss(Tensor(_r((2, 3))), Tensor(_r(3)), _r(2)), ValueError,
     "1D target tensor expects 2D input tensors, but found inputs with sizes [2, 3] and [3]."),
    (lambda: F.cosine_embedding_loss(Tensor(_r((2, 3))), Tensor(_r((2, 3))), _r(3)), ValueError,
     "does not match the 2 pairs"),
    (lambda: F.triplet_margin_loss(Tensor(_r((2, 3))), Tensor(_r((2, 3))), Tensor(_r(3))),
     ValueError, "anchor 2D, positive 2D, and negative 1D inputs"),
    (lambda: F.triplet_margin_loss(*[Tensor(_r((2, 3)))] * 3, margin=0), ValueError,
     "margin must be greater than 0, got 0"),
    (lambda: nn.TripletMarginLoss(reduction="avg"), ValueError, "avg is not a valid value"),
]


@pytest.mark.parametrize("i", range(len(BAD)))
def test_bad_input(i):
    fn, err, msg = BAD[i]
    with pytest.raises(err) as info:
        fn()
    assert msg in str(info.value)


@pytest.mark.parametrize("dim,p", [((0, 1), 2.0), ((1, -1), 3.0), ((2,), float("inf")),
                                   ([0, 2], 1.5)])
def test_normalize_over_several_dims_as_torch(torch, dim, p):
    # torch 2.x takes a tuple of dims (a bug hunter's finding: ours took one int or None)
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = F.normalize(x, p=p, dim=dim), torch.nn.functional.normalize(t, p=p, dim=dim)
    g = np.random.default_rng(1).standard_normal(a.shape)
    y.backward(Tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="dim 2 appears multiple times"):
        F.normalize(x, dim=(0, 2, -1))
