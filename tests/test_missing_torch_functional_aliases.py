"""torch's top-level spellings of nn.functional's operations (``tg.conv2d``, ``tg.dropout``,
``tg.batch_norm``...) against the same torch functions called with the same (ATen) argument
lists: values and the gradients of every floating input under a random upstream gradient,
float64 to 1e-10 and float32 to 1e-5; the tuple-returning forms; the int reductions; gradcheck on
the ones whose argument order differs from F's; the argument-order traps (embedding, batch norm,
instance norm) checked against F."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor

from conftest import gradchecks, torch_parity

R = np.random.default_rng(0)


def _a(*shape, pos=False):
    x = R.standard_normal(shape)
    return np.abs(x) + 0.5 if pos else x


# name: (arrays, the call with the arrays in order[, which arrays get a gradient])
CASES = {
    "conv1d": ([_a(2, 4, 7), _a(4, 2, 3), _a(4)], lambda m, x, w, b: m.conv1d(x, w, b, 2, 1, 1, 2)),
    "conv2d": ([_a(2, 2, 5, 5), _a(3, 2, 3, 3)], lambda m, x, w: m.conv2d(x, w, None, 1, 1)),
    "conv3d": ([_a(1, 2, 4, 4, 4), _a(2, 2, 2, 2, 2)], lambda m, x, w: m.conv3d(x, w)),
    "conv_transpose1d": ([_a(2, 3, 5), _a(3, 2, 3)],
                         lambda m, x, w: m.conv_transpose1d(x, w, None, 2, 1, 1)),
    "conv_transpose2d": ([_a(1, 2, 3, 3), _a(2, 3, 2, 2), _a(3)],
                         lambda m, x, w, b: m.conv_transpose2d(x, w, b, 2)),
    "conv_transpose3d": ([_a(1, 2, 2, 2, 2), _a(2, 1, 2, 2, 2)],
                         lambda m, x, w: m.conv_transpose3d(x, w)),
    "avg_pool1d": ([_a(2, 3, 9)], lambda m, x: m.avg_pool1d(x, 3)),
    "avg_pool1d-stride": ([_a(2, 3, 9)], lambda m, x: m.avg_pool1d(x, 3, 2, 1, True, False)),
    "max_pool1d": ([_a(2, 3, 9)], lambda m, x: m.max_pool1d(x, 2)),
    "max_pool2d": ([_a(2, 3, 6, 6)], lambda m, x: m.max_pool2d(x, 3, 2, 1, 1, True)),
    "max_pool3d": ([_a(1, 2, 4, 4, 4)], lambda m, x: m.max_pool3d(x, 2)),
    "max_pool1d_with_indices": ([_a(2, 3, 8)],
                                lambda m, x: m.max_pool1d_with_indices(x, 2, (), 1)[0]),
    "adaptive_avg_pool1d": ([_a(2, 3, 7)], lambda m, x: m.adaptive_avg_pool1d(x, 3)),
    "adaptive_max_pool1d": ([_a(2, 3, 7)], lambda m, x: m.adaptive_max_pool1d(x, 3)[0]),
    "pixel_shuffle": ([_a(1, 8, 2, 3)], lambda m, x: m.pixel_shuffle(x, 2)),
    "pixel_unshuffle": ([_a(1, 2, 4, 6)], lambda m, x: m.pixel_unshuffle(x, 2)),
    "channel_shuffle": ([_a(2, 6, 2, 2)], lambda m, x: m.channel_shuffle(x, 3)),
    "cosine_similarity": ([_a(4, 5), _a(4, 5)], lambda m, a, b: m.cosine_similarity(a, b)),
    "pairwise_distance": ([_a(4, 5), _a(4, 5)],
                          lambda m, a, b: m.pairwise_distance(a, b, 3.0, 1e-6, True)),
    "pdist": ([_a(5, 3)], lambda m, x: m.pdist(x, 1.5)),
    "dist": ([_a(3, 4), _a(4)], lambda m, a, b: m.dist(a, b)),
    "dist-p1": ([_a(3, 4), _a(3, 4)], lambda m, a, b: m.dist(a, b, 1)),
    "dist-inf": ([_a(3, 4), _a(3, 4)], lambda m, a, b: m.dist(a, b, float("inf"))),
    # alpha 0.5: torch's celu gradient rounds 1/alpha to float32 (1e-8 off in float64 for 0.7)
    "celu": ([_a(3, 4)], lambda m, x: m.celu(x, 0.5)),
    "selu": ([_a(3, 4)], lambda m, x: m.selu(x)),
    "prelu": ([_a(2, 3, 4), _a(3)], lambda m, x, w: m.prelu(x, w)),
    "hardshrink": ([_a(3, 4)], lambda m, x: m.hardshrink(x, 0.3)),
    "threshold": ([_a(3, 4)], lambda m, x: m.threshold(x, 0.1, -2.0)),
    "rrelu-eval": ([_a(3, 4)], lambda m, x: m.rrelu(x, 0.1, 0.3)),
    "bilinear": ([_a(4, 3), _a(4, 2), _a(5, 3, 2), _a(5)],
                 lambda m, a, b, w, c: m.bilinear(a, b, w, c)),
    "dropout-eval": ([_a(3, 4)], lambda m, x: m.dropout(x, 0.5, False)),
    "alpha_dropout-eval": ([_a(3, 4)], lambda m, x: m.alpha_dropout(x, 0.5, False)),
    "feature_alpha_dropout-eval": ([_a(2, 3, 4)],
                                   lambda m, x: m.feature_alpha_dropout(x, 0.3, False)),
    "layer_norm": ([_a(2, 3, 4), _a(3, 4), _a(3, 4)],
                   lambda m, x, w, b: m.layer_norm(x, (3, 4), w, b, 1e-3, True)),
    "group_norm": ([_a(2, 6, 3), _a(6), _a(6)],
                   lambda m, x, w, b: m.group_norm(x, 3, w, b, 1e-5, False)),
    "rms_norm": ([_a(2, 3, 4), _a(4)], lambda m, x, w: m.rms_norm(x, (4,), w)),
    "batch_norm-train": ([_a(4, 3, 2), _a(3), _a(3)],
                         lambda m, x, w, b: m.batch_norm(x, w, b, None, None, True, 0.1, 1e-5,
                                                         False)),
    "instance_norm": ([_a(2, 3, 5), _a(3), _a(3)],
                      lambda m, x, w, b: m.instance_norm(x, w, b, None, None, True, 0.1, 1e-5,
                                                         False)),
    "constant_pad_nd": ([_a(2, 3, 4)], lambda m, x: m.constant_pad_nd(x, [1, 2, 0, 1], 1.5)),
    "binary_cross_entropy_with_logits": (
        [_a(3, 4), R.random((3, 4)), _a(4, pos=True), _a(4, pos=True)],
        lambda m, x, t, w, pw: m.binary_cross_entropy_with_logits(x, t, w, pw, 2),
        [True, True, False, False]),
    "cosine_embedding_loss": (
        [_a(4, 5), _a(4, 5), np.array([1.0, -1.0, 1.0, -1.0])],
        lambda m, a, b, t: m.cosine_embedding_loss(a, b, t, 0.2, 1), [True, True, False]),
    "hinge_embedding_loss": ([_a(3, 4), np.sign(_a(3, 4))],
                             lambda m, x, t: m.hinge_embedding_loss(x, t, 0.5),
                             [True, False]),
    "margin_ranking_loss": ([_a(5), _a(5), np.sign(_a(5))],
                            lambda m, a, b, t: m.margin_ranking_loss(a, b, t, 0.1, 2),
                            [True, True, False]),
    "triplet_margin_loss": ([_a(4, 3), _a(4, 3), _a(4, 3)],
                            lambda m, a, p, n: m.triplet_margin_loss(a, p, n, 0.5, 2, 1e-6, True)),
    "kl_div": ([_a(3, 4), R.random((3, 4))], lambda m, x, t: m.kl_div(x, t)),
    "kl_div-log_target": ([_a(3, 4), _a(3, 4)],
                          lambda m, x, t: m.kl_div(x, t, 0, log_target=True)),
    "poisson_nll_loss": ([_a(3, 4), R.random((3, 4)) * 3],
                         lambda m, x, t: m.poisson_nll_loss(x, t, True, True, 1e-8, 1)),
}


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-10), (np.float32, 1e-5)],
                         ids=["f64", "f32"])
@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(torch, name, dtype, rtol):
    arrays, call, *diff = CASES[name]
    torch_parity(torch, lambda *xs: call(tg, *xs), lambda *ts: call(torch, *ts), arrays, dtype,
                 rtol, diff=diff[0] if diff else None)


def test_tuple_forms_return_torchs_indices(torch):
    x = _a(2, 3, 8)
    for call in (lambda m, t: m.max_pool1d_with_indices(t, 3, (), 1),
                 lambda m, t: m.adaptive_max_pool1d(t, 3)):
        (v, i), (tv, ti) = call(tg, Tensor(x)), call(torch, torch.from_numpy(x.copy()))
        np.testing.assert_array_equal(v.numpy(), tv.numpy())
        np.testing.assert_array_equal(i.numpy(), ti.numpy())


def test_native_channel_shuffle_values_match_torch(torch):
    x = _a(2, 6, 2)  # (torch has no derivative for it; ours is channel_shuffle's)
    np.testing.assert_array_equal(tg.native_channel_shuffle(Tensor(x), 3).numpy(),
                                  torch.native_channel_shuffle(torch.from_numpy(x), 3).numpy())


def test_ctc_loss_matches_torch(torch):
    """Through a log_softmax, as CTC is used: torch's CTC backward assumes its input came from
    one (the gradient it returns for log_probs is the logits' gradient composed with it)."""
    T, N, C = 6, 2, 4
    logits = np.random.default_rng(1).standard_normal((T, N, C))
    targets = np.array([[1, 2, 1], [3, 1, 0]])
    il, tl = [6, 5], [3, 2]
    for red in (0, 1, 2):
        torch_parity(torch,
                     lambda x: tg.ctc_loss(F.log_softmax(x, 2), Tensor(targets), il, tl, 0, red),
                     lambda x: torch.ctc_loss(x.log_softmax(2), torch.from_numpy(targets), il,
                                              tl, 0, red),
                     [logits], np.float64, 1e-10)


def test_losses_left_unreduced_by_default_as_torchs_binding(torch):
    """torch's top-level losses apply reduction 0 when it is left out (their stubs say 1)."""
    x, t = _a(3, 4), np.sign(_a(3, 4))
    for fn in ("hinge_embedding_loss", "margin_ranking_loss", "kl_div"):
        args = (x, x[::-1], t) if fn == "margin_ranking_loss" else (x, np.abs(t))
        ours = getattr(tg, fn)(*map(Tensor, args))
        theirs = getattr(torch, fn)(*map(torch.from_numpy, (a.copy() for a in args)))
        assert ours.shape == tuple(theirs.shape) == (3, 4)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_embedding_takes_weight_first_and_padding_minus_one_is_none(torch):
    w = _a(6, 3)
    idx = np.array([[0, 2, 5], [2, 2, 1]])
    for pad in (-1, 2):
        torch_parity(torch, lambda ww: tg.embedding(ww, Tensor(idx), pad),
                     lambda ww: torch.embedding(ww, torch.from_numpy(idx), pad), [w],
                     np.float64, 1e-12)


def test_running_statistics_in_aten_order(torch):
    """batch_norm and instance_norm take (weight, bias, running_mean, running_var): a swapped
    order would normalise with the weight as the mean."""
    x, w, b = _a(4, 3, 2), _a(3), _a(3)
    rm, rv = _a(3), _a(3, pos=True)
    ours_rm, ours_rv = Tensor(rm.copy()), Tensor(rv.copy())
    theirs_rm, theirs_rv = torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy())
    for training in (True, False):
        out = tg.batch_norm(Tensor(x), Tensor(w), Tensor(b), ours_rm, ours_rv, training, 0.2,
                            1e-5, True)
        ref = torch.batch_norm(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                               theirs_rm, theirs_rv, training, 0.2, 1e-5, True)
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours_rm.numpy(), theirs_rm.numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours_rv.numpy(), theirs_rv.numpy(), rtol=1e-12)
    irm, irv = Tensor(rm.copy()), Tensor(rv.copy())
    trm, trv = torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy())
    out = tg.instance_norm(Tensor(x), Tensor(w), Tensor(b), irm, irv, True, 0.3, 1e-5, False)
    ref = torch.instance_norm(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                              trm, trv, True, 0.3, 1e-5, False)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(irm.numpy(), trm.numpy(), rtol=1e-12)


def test_dropout_in_training_is_fs(torch):
    x = tg.ones(50, 4)
    tg.manual_seed(3)
    a = tg.dropout(x, 0.4, True).numpy()
    tg.manual_seed(3)
    b = F.dropout(x, 0.4, True).numpy()
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, np.float32(1 / 0.6)}
    with pytest.raises(TypeError):
        tg.dropout(x, 0.5)  # torch's top-level dropout has no defaults


def test_gradchecks_of_the_reordered_ones():
    gradchecks(lambda w: tg.embedding(w, Tensor(np.array([0, 2, 2])), 1), [_a(4, 3)])
    gradchecks(lambda x, w, b: tg.batch_norm(x, w, b, None, None, True, 0.1, 1e-5, False),
               [_a(4, 2, 3), _a(2), _a(2)])
    gradchecks(lambda a, b: tg.dist(a, b, 3), [_a(2, 3), _a(2, 3)])


def test_reduction_checks():
    x, t = tg.ones(2), tg.zeros(2)
    for bad in (3, -1, True, 1.0):
        with pytest.raises(ValueError, match="reduction must be 0 \\(none\\), 1 \\(mean\\) or 2"):
            tg.kl_div(x, t, bad)
    assert tg.kl_div(x, t, "sum").shape == ()
    with pytest.raises(TypeError, match="generator is not supported"):
        tg.rrelu(x, generator=object())
