"""Bool flags of ``tinygrad_norm.functional`` and ``tinygrad_norm.nn``: a string, an int or None
is a TypeError naming the argument, in PyTorch's words where its bindings refuse it too
("max_pool2d(): argument 'ceil_mode' must be bool, not str"); they were read by their truth
value, so ``ceil_mode="False"`` turned ceil mode on (the API hunt's finding #11). A NumPy bool is
taken (PyTorch refuses it). And ``cosine_similarity``'s negative eps, refused as torch refuses it.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
import tinygrad_norm.nn as nn
from tinygrad_norm import Tensor

X4 = np.random.default_rng(0).standard_normal((1, 2, 5, 5)).astype(np.float32)
X3 = X4[:, :, 0]
A2 = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
Q = np.random.default_rng(2).standard_normal((1, 2, 3, 4)).astype(np.float32)
LP = np.log(np.full((2, 3), 1 / 3, np.float32))
IDX = np.array([0, 1])

# (name, flag, ours(value), PyTorch's(torch, value)): every functional flag that PyTorch's
# bindings check; each call runs with the flag's default as given
FUNCTIONAL = [
    ("max_pool2d", "ceil_mode", lambda v: F.max_pool2d(Tensor(X4), 2, ceil_mode=v),
     lambda t, v: t.nn.functional.max_pool2d(t.tensor(X4), 2, ceil_mode=v)),
    ("max_pool1d", "ceil_mode", lambda v: F.max_pool1d(Tensor(X3), 2, ceil_mode=v),
     lambda t, v: t.nn.functional.max_pool1d(t.tensor(X3), 2, ceil_mode=v)),
    ("avg_pool2d", "ceil_mode", lambda v: F.avg_pool2d(Tensor(X4), 2, ceil_mode=v),
     lambda t, v: t.nn.functional.avg_pool2d(t.tensor(X4), 2, ceil_mode=v)),
    ("avg_pool2d", "count_include_pad",
     lambda v: F.avg_pool2d(Tensor(X4), 2, padding=1, count_include_pad=v),
     lambda t, v: t.nn.functional.avg_pool2d(t.tensor(X4), 2, padding=1, count_include_pad=v)),
    ("avg_pool1d", "ceil_mode", lambda v: F.avg_pool1d(Tensor(X3), 2, ceil_mode=v),
     lambda t, v: t.nn.functional.avg_pool1d(t.tensor(X3), 2, ceil_mode=v)),
    ("avg_pool1d", "count_include_pad",
     lambda v: F.avg_pool1d(Tensor(X3), 2, padding=1, count_include_pad=v),
     lambda t, v: t.nn.functional.avg_pool1d(t.tensor(X3), 2, padding=1, count_include_pad=v)),
    ("pairwise_distance", "keepdim",
     lambda v: F.pairwise_distance(Tensor(A2), Tensor(A2), keepdim=v),
     lambda t, v: t.nn.functional.pairwise_distance(t.tensor(A2), t.tensor(A2), keepdim=v)),
    ("scaled_dot_product_attention", "is_causal",
     lambda v: F.scaled_dot_product_attention(Tensor(Q), Tensor(Q), Tensor(Q), is_causal=v),
     lambda t, v: t.nn.functional.scaled_dot_product_attention(t.tensor(Q), t.tensor(Q),
                                                               t.tensor(Q), is_causal=v)),
    ("scaled_dot_product_attention", "enable_gqa",
     lambda v: F.scaled_dot_product_attention(Tensor(Q), Tensor(Q), Tensor(Q), enable_gqa=v),
     lambda t, v: t.nn.functional.scaled_dot_product_attention(t.tensor(Q), t.tensor(Q),
                                                               t.tensor(Q), enable_gqa=v)),
    ("kl_div", "log_target",
     lambda v: F.kl_div(Tensor(LP), Tensor(LP), reduction="sum", log_target=v),
     lambda t, v: t.nn.functional.kl_div(t.tensor(LP), t.tensor(LP), reduction="sum",
                                         log_target=v)),
    ("triplet_margin_loss", "swap",
     lambda v: F.triplet_margin_loss(Tensor(A2), Tensor(A2), Tensor(A2), swap=v),
     lambda t, v: t.nn.functional.triplet_margin_loss(t.tensor(A2), t.tensor(A2), t.tensor(A2),
                                                      swap=v)),
    ("embedding", "scale_grad_by_freq",
     lambda v: F.embedding(Tensor(IDX), Tensor(A2), scale_grad_by_freq=v),
     lambda t, v: t.nn.functional.embedding(t.tensor(IDX), t.tensor(A2), scale_grad_by_freq=v)),
    ("embedding", "sparse", lambda v: F.embedding(Tensor(IDX), Tensor(A2), sparse=v),
     lambda t, v: t.nn.functional.embedding(t.tensor(IDX), t.tensor(A2), sparse=v)),
    ("dropout", "training", lambda v: F.dropout(Tensor(A2), 0.5, training=v),
     lambda t, v: t.nn.functional.dropout(t.tensor(A2), 0.5, training=v)),
    ("batch_norm", "training",
     lambda v: F.batch_norm(Tensor(A2), Tensor(np.zeros(4, np.float32)),
                            Tensor(np.ones(4, np.float32)), training=v),
     lambda t, v: t.nn.functional.batch_norm(t.tensor(A2), t.zeros(4), t.ones(4), training=v)),
]


def _torch_words(torch, theirs, value):
    with pytest.raises(TypeError) as err:
        theirs(torch, value)
    # "max_pool2d(): argument 'ceil_mode' (position 6) must be bool, not str": the position and
    # dropout's argument name ('train', ours and its Python signature's 'training') left out
    msg = re.sub(r" \(position \d+\)", "", str(err.value))
    return msg.replace("argument 'train' ", "argument 'training' ")


@pytest.mark.parametrize("value", ["False", "no", 1, 0, None, 0.0, [True]],
                         ids=["'False'", "'no'", "1", "0", "None", "0.0", "[True]"])
@pytest.mark.parametrize("fn, flag, ours, theirs", FUNCTIONAL,
                         ids=[f"{f[0]}-{f[1]}" for f in FUNCTIONAL])
def test_a_functional_flag_that_is_not_a_bool_is_refused_as_torch(torch, fn, flag, ours, theirs,
                                                                  value):
    words = _torch_words(torch, theirs, value)
    assert words == f"{fn}(): argument '{flag}' must be bool, not {type(value).__name__}"
    with pytest.raises(TypeError, match=f"^{re.escape(words)}$"):
        ours(value)


@pytest.mark.parametrize("fn, flag, ours, theirs", FUNCTIONAL,
                         ids=[f"{f[0]}-{f[1]}" for f in FUNCTIONAL])
def test_a_functional_flag_takes_a_bool_and_a_numpy_bool(torch, fn, flag, ours, theirs):
    if fn == "embedding":  # True is not supported here (NotImplementedError)
        values = (False, np.bool_(False))
    else:
        values = (False, True, np.bool_(True))
    for v in values:
        out = ours(v)
        ref = theirs(torch, bool(v))
        if fn in ("dropout",) and v:
            continue  # a random mask
        got = out.data if isinstance(out, Tensor) else out
        np.testing.assert_allclose(got, ref.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_string_flags_meant_true_silently_before():
    # the hunt's repro: ceil_mode="False" pooled with ceil mode on, count_include_pad="no"
    # counted the padding
    x = Tensor(X4[:, :1])
    with pytest.raises(TypeError, match="max_pool2d\\(\\): argument 'ceil_mode' must be bool"):
        F.max_pool2d(x, 2, ceil_mode="False")
    with pytest.raises(TypeError, match="avg_pool2d\\(\\): argument 'count_include_pad'"):
        F.avg_pool2d(x, 2, padding=1, count_include_pad="no")
    assert F.max_pool2d(x, 2, ceil_mode=False).shape == (1, 1, 2, 2)


@pytest.mark.parametrize("call, words", [
    # flags PyTorch takes by truth value (Python-level, or a module's constructor); refused
    # here all the same, with the same words
    (lambda v: F.max_pool2d(Tensor(X4), 2, return_indices=v), "max_pool2d(): argument "
                                                              "'return_indices'"),
    (lambda v: F.max_pool1d(Tensor(X3), 2, return_indices=v), "max_pool1d(): argument "
                                                              "'return_indices'"),
    (lambda v: F.interpolate(Tensor(X4), size=3, mode="bilinear", antialias=v),
     "interpolate(): argument 'antialias'"),
    (lambda v: nn.MaxPool2d(2, ceil_mode=v), "MaxPool2d(): argument 'ceil_mode'"),
    (lambda v: nn.MaxPool1d(2, return_indices=v), "MaxPool1d(): argument 'return_indices'"),
    (lambda v: nn.AvgPool2d(2, count_include_pad=v), "AvgPool2d(): argument "
                                                     "'count_include_pad'"),
    (lambda v: nn.AvgPool1d(2, ceil_mode=v), "AvgPool1d(): argument 'ceil_mode'"),
    (lambda v: nn.PairwiseDistance(keepdim=v), "PairwiseDistance(): argument 'keepdim'"),
    (lambda v: nn.Linear(2, 3, bias=v), "Linear(): argument 'bias'"),
    (lambda v: nn.Conv2d(2, 3, 2, bias=v), "Conv2d(): argument 'bias'"),
    (lambda v: nn.Conv1d(2, 3, 2, bias=v), "Conv1d(): argument 'bias'"),
    (lambda v: nn.ConvTranspose2d(2, 3, 2, bias=v), "ConvTranspose2d(): argument 'bias'"),
    (lambda v: nn.BatchNorm1d(3, affine=v), "BatchNorm1d(): argument 'affine'"),
    (lambda v: nn.BatchNorm2d(3, track_running_stats=v), "BatchNorm2d(): argument "
                                                         "'track_running_stats'"),
    (lambda v: nn.BatchNorm1d(3, bias=v), "BatchNorm1d(): argument 'bias'"),
    (lambda v: nn.InstanceNorm1d(3, affine=v), "InstanceNorm1d(): argument 'affine'"),
    (lambda v: nn.LayerNorm(3, elementwise_affine=v), "LayerNorm(): argument "
                                                      "'elementwise_affine'"),
    (lambda v: nn.LayerNorm(3, bias=v), "LayerNorm(): argument 'bias'"),
    (lambda v: nn.RMSNorm(3, elementwise_affine=v), "RMSNorm(): argument 'elementwise_affine'"),
    (lambda v: nn.GroupNorm(1, 3, affine=v), "GroupNorm(): argument 'affine'"),
    (lambda v: nn.RNN(2, 3, batch_first=v), "RNN(): argument 'batch_first'"),
    (lambda v: nn.LSTM(2, 3, bidirectional=v), "LSTM(): argument 'bidirectional'"),
    (lambda v: nn.GRU(2, 3, bias=v), "GRU(): argument 'bias'"),
    (lambda v: nn.GRUCell(2, 3, bias=v), "GRUCell(): argument 'bias'"),
    (lambda v: nn.ReLU(inplace=v), "ReLU(): argument 'inplace'"),
    (lambda v: nn.Embedding(3, 2, sparse=v), "Embedding(): argument 'sparse'"),
    (lambda v: nn.KLDivLoss(log_target=v), "KLDivLoss(): argument 'log_target'"),
    (lambda v: nn.TripletMarginLoss(swap=v), "TripletMarginLoss(): argument 'swap'"),
    (lambda v: nn.MultiheadAttention(4, 2, batch_first=v), "MultiheadAttention(): argument "
                                                           "'batch_first'"),
    (lambda v: nn.MultiheadAttention(4, 2, add_bias_kv=v), "MultiheadAttention(): argument "
                                                           "'add_bias_kv'"),
    (lambda v: nn.MultiheadAttention(4, 2)(Tensor(A2), Tensor(A2), Tensor(A2),
                                           need_weights=v),
     "MultiheadAttention(): argument 'need_weights'"),
    (lambda v: nn.MultiheadAttention(4, 2)(Tensor(A2), Tensor(A2), Tensor(A2),
                                           average_attn_weights=v),
     "MultiheadAttention(): argument 'average_attn_weights'"),
    (lambda v: nn.TransformerEncoderLayer(4, 2, 8, norm_first=v),
     "TransformerEncoderLayer(): argument 'norm_first'"),
    (lambda v: nn.TransformerDecoderLayer(4, 2, 8, batch_first=v),
     "TransformerDecoderLayer(): argument 'batch_first'"),
    (lambda v: nn.TransformerEncoderLayer(4, 2, 8)(Tensor(A2), is_causal=v),
     "TransformerEncoderLayer(): argument 'is_causal'"),
    (lambda v: nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8), 1, mask_check=v),
     "TransformerEncoder(): argument 'mask_check'"),
    (lambda v: nn.utils.clip_grad_norm_([], 1.0, error_if_nonfinite=v),
     "clip_grad_norm_(): argument 'error_if_nonfinite'"),
])
def test_other_flags_of_the_api_are_refused_too(call, words):
    for v in ("no", 1, None):
        with pytest.raises(TypeError, match=f"^{re.escape(words)} must be bool, not "
                                            f"{type(v).__name__}$"):
            call(v)
    call(np.bool_(False))  # a NumPy bool is a bool


def test_flags_that_may_be_none_take_none_and_bools_only(torch):
    x = Tensor(X4)
    for v in (None, False, True):
        F.interpolate(x, size=3, mode="bilinear", align_corners=v)
    with pytest.raises(TypeError) as ref:  # PyTorch: "upsample_bilinear2d() received an invalid
        torch.nn.functional.interpolate(torch.tensor(X4), size=3, mode="bilinear",  # combination"
                                        align_corners="no")
    with pytest.raises(TypeError, match="interpolate\\(\\): argument 'align_corners' must be "
                                        "bool or None, not str"):
        F.interpolate(x, size=3, mode="bilinear", align_corners="no")  # aligned the corners
    with pytest.raises(TypeError, match="argument 'recompute_scale_factor' must be bool or None"):
        F.interpolate(x, scale_factor=1.5, mode="bilinear", recompute_scale_factor=1)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8), 1)
    with pytest.raises(TypeError, match="TransformerEncoder\\(\\): argument 'is_causal' must be "
                                        "bool or None, not int"):
        enc(Tensor(A2), is_causal=1)  # PyTorch reads 1 as "no hint" silently
    enc(Tensor(A2), is_causal=None)


def test_a_flag_is_checked_before_any_state_changes():
    rm, rv = Tensor(np.zeros(4)), Tensor(np.ones(4))
    with pytest.raises(TypeError):
        F.batch_norm(Tensor(A2), rm, rv, training="yes")
    assert not rm.data.any() and (rv.data == 1).all()
    tg.manual_seed(5)
    state = tg.random.generator().bit_generator.state
    with pytest.raises(TypeError, match="argument 'bias'"):
        nn.Linear(2, 3, bias="no")  # refused before any parameter is drawn
    assert tg.random.generator().bit_generator.state == state


# ---- cosine_similarity's eps ---------------------------------------------------------------------

@pytest.mark.parametrize("eps", [-1.0, -1e-9, -2.5, float("nan"), float("-inf"), -3])
def test_cosine_similarity_refuses_a_negative_eps_as_torch(torch, eps):
    # it "clamped" every norm up to -1: NaN for a zero vector, a flipped sign, silently
    with pytest.raises(RuntimeError) as ref:
        torch.nn.functional.cosine_similarity(torch.zeros(1, 3), torch.ones(1, 3), eps=eps)
    assert str(ref.value).startswith("eps must be non-negative, got: ")
    with pytest.raises(ValueError, match=f"^cosine_similarity\\(\\): {re.escape(str(ref.value))}$"):
        F.cosine_similarity(Tensor(np.zeros((1, 3))), Tensor(np.ones((1, 3))), eps=eps)
    with pytest.raises(ValueError, match="eps must be non-negative"):
        nn.CosineSimilarity(eps=eps)(Tensor(np.zeros((1, 3))), Tensor(np.ones((1, 3))))


def test_cosine_similarity_of_a_zero_eps_is_torchs(torch):
    a, b = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]]), np.array([[1.0, 1.0, 1.0], [2.0, 0, 1]])
    for eps in (0.0, -0.0):
        with np.errstate(invalid="ignore"):  # 0 / 0 at the zero vector: NaN, as torch
            got = F.cosine_similarity(Tensor(a), Tensor(b), eps=eps).data
        ref = torch.nn.functional.cosine_similarity(torch.tensor(a), torch.tensor(b), eps=eps)
        np.testing.assert_allclose(got, ref.numpy(), rtol=1e-12, equal_nan=True)


def test_flags_of_the_later_layers_are_checked_too():
    import numpy as np
    import tinygrad_norm as tg
    import tinygrad_norm.functional as F
    from tinygrad_norm import nn
    x = tg.Tensor(np.ones((1, 2, 4, 4), np.float32))
    with pytest.raises(TypeError, match="argument 'return_indices' must be bool, not str"):
        F.adaptive_max_pool2d(x, 2, return_indices="yes")
    with pytest.raises(TypeError, match="argument 'return_indices' must be bool, not int"):
        F.adaptive_max_pool1d(x[0], 2, return_indices=1)
    with pytest.raises(TypeError, match="argument 'freeze' must be bool, not str"):
        nn.Embedding.from_pretrained(tg.Tensor(np.ones((3, 2), np.float32)), freeze="no")
