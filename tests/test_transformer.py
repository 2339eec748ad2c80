"""nn.TransformerEncoderLayer/DecoderLayer, the stacks and nn.Transformer against torch 2.13:
torch's state dict (perturbed, so no LayerNorm weight is 1 and no bias 0) loaded by key, then the
output and the gradients of the inputs and of every parameter under a random upstream gradient,
in float64 (rtol 1e-10) and float32 (rtol 1e-5); norm_first and batch_first both ways, bool and
float masks, key padding masks, causal masks (detected and hinted), unbatched input, gelu and
callable activations, bias=False. Also gradcheck, the initialization, the deep copies, dropout,
torch's eval fast path (documented differences) and the errors. Tiny sizes (d_model 8, nhead 2)."""
from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest

import tinygrad_norm as tg
from tinygrad_norm import Tensor, nn

from conftest import assert_scaled_close  # noqa: E402

RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}
E, H, FF = 8, 2, 16


def _close(actual, expected, what):
    assert_scaled_close(actual, expected, RTOL[np.asarray(actual).dtype], what)


def _pair(torch, name, args, kwargs, dtype, rng, stack=0):
    """(ours, torch's) with torch's state dict, perturbed, loaded into both by key."""
    ours_kw, torch_kw = dict(kwargs), dict(kwargs)
    if callable(kwargs.get("activation")):
        ours_kw["activation"] = tg.functional.gelu
        torch_kw["activation"] = torch.nn.functional.gelu
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's enable_nested_tensor notice
        theirs = getattr(torch.nn, name)(*args, **torch_kw)
        ours = getattr(nn, name)(*args, **ours_kw, dtype=dtype)
        if stack:
            theirs = getattr(torch.nn, name.replace("Layer", ""))(
                theirs, stack, torch.nn.LayerNorm(E))
            ours = getattr(nn, name.replace("Layer", ""))(ours, stack, nn.LayerNorm(E, dtype=dtype))
    theirs = theirs.to(torch.float64 if dtype == np.float64 else torch.float32)
    state = {k: (v.numpy() + 0.3 * rng.standard_normal(v.shape)).astype(dtype)
             for k, v in theirs.state_dict().items()}
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    ours.load_state_dict(state)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    return ours, theirs


def _run(torch, ours, theirs, arrays, masks, kwargs, dtype, rng, what):
    """Forward both with the same inputs and masks, backward a random upstream gradient, compare
    the output and every gradient."""
    mine = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    want = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours_kw, torch_kw = dict(kwargs), dict(kwargs)
    for k, m in masks.items():
        m = m.astype(dtype) if m.dtype != bool else m
        ours_kw[k], torch_kw[k] = Tensor(m), torch.from_numpy(m)
    out, tout = ours(*mine, **ours_kw), theirs(*want, **torch_kw)
    _close(out.data, tout.detach().numpy(), f"{what}: output")
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    for i, (a, b) in enumerate(zip(mine, want)):
        _close(a.grad.data, b.grad.numpy(), f"{what}: gradient of input {i}")
    tparams = dict(theirs.named_parameters())
    assert [k for k, _ in ours.named_parameters()] == list(tparams)
    for k, p in ours.named_parameters():
        _close(p.grad.data, tparams[k].grad.numpy(), f"{what}: gradient of {k}")


def _shape(n, batch_first, unbatched=False, N=2):
    return (n, E) if unbatched else (N, n, E) if batch_first else (n, N, E)


def _masks(S, T, N=2):
    kpm_s = np.zeros((N, S), bool)
    kpm_s[1, S - 2:] = True
    kpm_t = np.zeros((N, T), bool)
    kpm_t[0, T - 1] = True
    causal = np.triu(np.ones((T, T), bool), 1)
    some = np.zeros((T, S), bool)
    some[0, 1], some[2, 3] = True, True
    return kpm_s, kpm_t, causal, some


def _enc_cases():
    kpm, _, causal, _ = _masks(5, 5)
    return {
        "plain": ({}, {}, {}),
        "norm_first, batch_first, key padding": (
            {"norm_first": True, "batch_first": True}, {"src_key_padding_mask": kpm}, {}),
        "bool causal mask hinted, gelu": ({"activation": "gelu"}, {"src_mask": causal},
                                          {"is_causal": True}),
        "float mask and float key padding, no bias": (
            {"bias": False}, {"src_mask": "float (5, 5)", "src_key_padding_mask": "float (2, 5)"},
            {}),
        "unbatched, callable activation, per-head mask": (
            {"activation": callable}, {"src_mask": "float (2, 5, 5)"}, {}),
    }


def _materialize(masks, rng):
    return {k: (rng.standard_normal(eval(v[6:])) if isinstance(v, str) else v)
            for k, v in masks.items()}


@pytest.mark.filterwarnings("ignore:Support for mismatched")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", list(_enc_cases()))
def test_encoder_layer_matches_torch(torch, case, dtype):
    rng = np.random.default_rng(0)
    kwargs, masks, call_kw = _enc_cases()[case]
    ours, theirs = _pair(torch, "TransformerEncoderLayer", (E, H, FF, 0.0), kwargs, dtype, rng)
    unbatched = "unbatched" in case
    x = rng.standard_normal(_shape(5, kwargs.get("batch_first"), unbatched)).astype(dtype)
    masks = _materialize(masks, rng)
    if unbatched:  # per-head mask of an unbatched input: (nhead, S, S)
        masks = {"src_mask": masks["src_mask"]}
    _run(torch, ours, theirs, [x], masks, call_kw, dtype, rng, case)


def _dec_cases():
    kpm_s, kpm_t, causal, some = _masks(5, 4)
    return {
        "plain": ({}, {}, {}),
        "all masks, batch_first": ({"batch_first": True},
                                   {"tgt_mask": causal, "memory_mask": some,
                                    "tgt_key_padding_mask": kpm_t,
                                    "memory_key_padding_mask": kpm_s}, {}),
        "norm_first, float masks, causal hints": (
            {"norm_first": True},
            {"tgt_mask": np.where(causal, -np.inf, 0.0), "memory_mask": "float (4, 5)"},
            {"tgt_is_causal": True}),
        "memory_is_causal, gelu, no bias": (
            {"activation": "gelu", "bias": False},
            {"memory_mask": np.triu(np.ones((4, 5), bool), 1)}, {"memory_is_causal": True}),
    }


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", list(_dec_cases()))
def test_decoder_layer_matches_torch(torch, case, dtype):
    rng = np.random.default_rng(1)
    kwargs, masks, call_kw = _dec_cases()[case]
    ours, theirs = _pair(torch, "TransformerDecoderLayer", (E, H, FF, 0.0), kwargs, dtype, rng)
    bf = kwargs.get("batch_first", False)
    arrays = [rng.standard_normal(_shape(n, bf)).astype(dtype) for n in (4, 5)]
    _run(torch, ours, theirs, arrays, _materialize(masks, rng), call_kw, dtype, rng, case)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, norm_first", [("TransformerEncoderLayer", False),
                                              ("TransformerEncoderLayer", True),
                                              ("TransformerDecoderLayer", False)])
def test_stacks_match_torch(torch, name, norm_first, dtype):
    rng = np.random.default_rng(2)
    ours, theirs = _pair(torch, name, (E, H, FF, 0.0), {"norm_first": norm_first}, dtype, rng,
                         stack=2)
    assert "layers.1.linear2.weight" in ours.state_dict()
    kpm_s, _, causal, _ = _masks(5, 5)
    if "Encoder" in name:  # a causal mask that the stack detects (is_causal=None)
        arrays, masks = [rng.standard_normal((5, 2, E)).astype(dtype)], {
            "mask": causal, "src_key_padding_mask": kpm_s}
    else:
        arrays = [rng.standard_normal((4, 2, E)).astype(dtype),
                  rng.standard_normal((5, 2, E)).astype(dtype)]
        masks = {"tgt_mask": causal[:4, :4], "memory_key_padding_mask": kpm_s}
    _run(torch, ours, theirs, arrays, masks, {}, dtype, rng, name)


@pytest.mark.filterwarnings("ignore:Support for mismatched")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_first, norm_first", [(False, False), (True, True)])
def test_transformer_matches_torch(torch, batch_first, norm_first, dtype):
    rng = np.random.default_rng(3)
    kw = {"d_model": E, "nhead": H, "num_encoder_layers": 2, "num_decoder_layers": 2,
          "dim_feedforward": FF, "dropout": 0.0, "batch_first": batch_first,
          "norm_first": norm_first}
    ours, theirs = _pair(torch, "Transformer", (), kw, dtype, rng)
    arrays = [rng.standard_normal(_shape(n, batch_first)).astype(dtype) for n in (5, 4)]
    kpm_s, kpm_t, _, some = _masks(5, 4)
    mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=dtype).data
    masks = {"tgt_mask": mask, "src_key_padding_mask": kpm_s, "memory_key_padding_mask": kpm_s,
             "tgt_key_padding_mask": kpm_t, "memory_mask": some}
    _run(torch, ours, theirs, arrays, masks, {}, dtype, rng, "Transformer")


def test_generate_square_subsequent_mask_is_torchs(torch):
    for sz in (0, 1, 4):
        ours = nn.Transformer.generate_square_subsequent_mask(sz)
        want = torch.nn.Transformer.generate_square_subsequent_mask(sz).numpy()
        assert ours.dtype == np.float32
        np.testing.assert_array_equal(ours.data, want)
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=np.float64).dtype == np.float64


def test_is_causal_hint_replaces_the_mask_as_torch(torch):
    # torch's hint is trusted: with no key padding, the causal triangle is used, not the mask
    rng = np.random.default_rng(4)
    ours, theirs = _pair(torch, "TransformerEncoderLayer", (E, H, FF, 0.0), {}, np.float64, rng)
    x = rng.standard_normal((5, 2, E))
    wrong = rng.standard_normal((5, 5))
    out = ours(Tensor(x), src_mask=Tensor(wrong), is_causal=True).data
    tout = theirs(torch.tensor(x), src_mask=torch.tensor(wrong), is_causal=True).detach().numpy()
    causal = ours(Tensor(x), src_mask=nn.Transformer.generate_square_subsequent_mask(
        5, dtype=np.float64)).data
    _close(out, tout, "hinted")
    _close(out, causal, "hinted = causal")


def test_gradcheck_encoder_and_decoder_layers():
    rng = np.random.default_rng(5)
    enc = nn.TransformerEncoderLayer(4, 2, 6, 0.0, norm_first=True, dtype=np.float64)
    dec = nn.TransformerDecoderLayer(4, 2, 6, 0.0, activation="gelu", dtype=np.float64)
    kpm = Tensor(np.array([[False, False, True], [False, False, False]]))
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=np.float64)
    x, m = (Tensor(rng.standard_normal((3, 2, 4)), requires_grad=True) for _ in range(2))
    assert tg.gradcheck(lambda a: enc(a, src_key_padding_mask=kpm), [x])
    assert tg.gradcheck(lambda a, b: dec(a, b, tgt_mask=mask, memory_key_padding_mask=kpm),
                        [x, m])


def test_initialization_and_clones(torch):
    tg.manual_seed(0)
    layer = nn.TransformerEncoderLayer(64, 4, 128)
    assert np.abs(layer.linear1.weight.data).max() <= 1 / math.sqrt(64)  # Linear's kaiming
    assert np.abs(layer.linear2.bias.data).max() <= 1 / math.sqrt(128)
    assert not layer.self_attn.in_proj_bias.data.any()
    assert (layer.norm1.weight.data == 1).all() and not layer.norm1.bias.data.any()
    enc = nn.TransformerEncoder(layer, 3)
    w = [enc.layers[i].linear1.weight for i in range(3)]
    assert w[0] is not w[1] and np.array_equal(w[0].data, w[1].data)  # deep copies, equal
    assert not any(p is layer.linear1.weight for p in enc.parameters())
    enc.layers[0].linear1.weight.data[:] = 0
    assert enc.layers[1].linear1.weight.data.any()
    # Transformer: xavier_uniform_ on every > 1-D parameter, drawn per layer
    model = nn.Transformer(64, 4, 2, 2, 128)
    for name, p in model.named_parameters():
        if p.ndim > 1:
            bound = math.sqrt(6 / sum(p.shape))
            assert np.abs(p.data).max() <= bound, name
            assert abs(p.data.var() / (bound * bound / 3) - 1) < 0.2, name
    a, b = (model.encoder.layers[i].linear1.weight.data for i in range(2))
    assert not np.array_equal(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.Transformer(8, 2, 2, 1, 16)
    ours = nn.Transformer(8, 2, 2, 1, 16)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()}


def test_repr_lists_torchs_children(torch):
    ours = nn.TransformerDecoderLayer(E, H, FF)
    theirs = torch.nn.TransformerDecoderLayer(E, H, FF)
    names = lambda m: re.findall(r"\((\w+)\): (\w+)", repr(m))  # noqa: E731
    assert names(ours) == [(n, c.replace("NonDynamicallyQuantizableLinear", "Linear"))
                           for n, c in names(theirs)]


def test_dropout_trains_and_eval_is_torchs(torch):
    rng = np.random.default_rng(6)
    ours, theirs = _pair(torch, "TransformerEncoderLayer", (E, H, FF, 0.5), {}, np.float64, rng)
    x = Tensor(rng.standard_normal((5, 2, E)))
    tg.manual_seed(0)
    a, b = ours(x).data, ours(x).data
    assert not np.allclose(a, b)  # training: two dropout masks
    ours.eval(), theirs.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tout = theirs(torch.tensor(x.data)).detach().numpy()  # batch_first=False: torch's slow path
    _close(ours(x).data, tout, "eval output")


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_eval_fast_path_differs_only_at_padded_positions(torch):
    # torch's eval fast path (no grad, batch_first): the encoder stack's nested tensors give 0 at
    # padded positions and a single layer gives NaN for a fully padded sequence; elsewhere it
    # agrees with the slow path, and we follow the slow path everywhere
    rng = np.random.default_rng(7)
    ours, theirs = _pair(torch, "TransformerEncoderLayer", (E, H, FF, 0.0),
                         {"batch_first": True}, np.float64, rng, stack=2)
    ours.eval(), theirs.eval()
    theirs.norm = ours.norm = None
    x = rng.standard_normal((3, 5, E))
    kpm = np.zeros((3, 5), bool)
    kpm[1, 3:], kpm[2] = True, True
    with torch.no_grad():
        fast = theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm)).numpy()
        layer_fast = theirs.layers[0](torch.tensor(x),
                                      src_key_padding_mask=torch.tensor(kpm)).numpy()
    slow = theirs(torch.tensor(x, requires_grad=True),
                  src_key_padding_mask=torch.tensor(kpm)).detach().numpy()
    out = ours(Tensor(x), src_key_padding_mask=Tensor(kpm)).data
    _close(out, slow, "slow path")
    _close(out[~kpm], fast[~kpm], "fast path, kept positions")
    assert (fast[kpm] == 0).all() and np.isfinite(out[kpm]).all() and out[kpm].any()
    assert np.isnan(layer_fast[2]).all() and np.isfinite(layer_fast[:2]).all()


def _t(*shape):
    return Tensor(np.ones(shape, np.float32))


@pytest.mark.parametrize("call, exc, match", [
    (lambda: nn.TransformerEncoderLayer(E, H, activation="tanh"), ValueError,
     "activation should be relu/gelu, not tanh"),
    (lambda: nn.TransformerDecoderLayer(E, H, activation=3), TypeError,
     "activation must be 'relu', 'gelu' or a callable"),
    (lambda: nn.TransformerEncoderLayer(E, 3), ValueError, "divisible by num_heads"),
    (lambda: nn.TransformerEncoderLayer(8.0, 2), TypeError, "d_model must be an int"),
    (lambda: nn.TransformerEncoderLayer(E, H, dim_feedforward=-1), ValueError,
     "dim_feedforward must be a non-negative int"),
    (lambda: nn.TransformerEncoderLayer(E, H, dropout=1.5), ValueError, "dropout probability"),
    (lambda: nn.TransformerEncoderLayer(E, H, layer_norm_eps="1"), TypeError, "layer_norm_eps"),
    (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H), 0), ValueError,
     "num_layers must be a positive int"),
    (lambda: nn.TransformerDecoder(nn.TransformerDecoderLayer(E, H), 2.0), TypeError,
     "num_layers must be a positive int"),
    (lambda: nn.TransformerEncoder("layer", 2), TypeError, "encoder_layer must be a Module"),
    (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H), 2, norm=3), TypeError,
     "norm must be a Module or None"),
    (lambda: nn.Transformer(E, H, num_decoder_layers=0), ValueError,
     "num_decoder_layers must be a positive int"),
    (lambda: nn.Transformer(E, H, custom_encoder="enc"), TypeError,
     "custom_encoder must be a Module"),
    (lambda: nn.Transformer(E, H, 1, 1, FF)(_t(5, 2, E), _t(4, 3, E)), ValueError,
     "the batch number of src and tgt must be equal"),
    (lambda: nn.Transformer(E, H, 1, 1, FF)(_t(5, 2, E), _t(4, 2, 4)), ValueError,
     "the feature number of src and tgt must be equal to d_model"),
    (lambda: nn.Transformer(E, H, 1, 1, FF)(np.ones((5, 2, E)), _t(4, 2, E)), TypeError,
     "src must be a Tensor"),
    (lambda: nn.TransformerEncoderLayer(E, H)(_t(5, 2, E).double()), TypeError,
     "src: input has dtype float64"),
    (lambda: nn.TransformerDecoderLayer(E, H)(_t(4, 2, E), _t(5, 2, E).double()), TypeError,
     "memory: input has dtype float64"),
    (lambda: nn.TransformerEncoderLayer(E, H)(_t(5, 2, E), is_causal=True), ValueError,
     "Need attn_mask if specifying the is_causal hint"),
    (lambda: nn.Transformer.generate_square_subsequent_mask(-1), ValueError,
     "sz must be non-negative"),
    (lambda: nn.Transformer.generate_square_subsequent_mask(2.0), TypeError, "sz must be an int"),
])
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_bad_arguments_draw_nothing():
    tg.manual_seed(0)
    with pytest.raises(ValueError):
        nn.Transformer(E, H, layer_norm_eps=1e-5, dropout=2.0)
    after = tg.rand(3).data
    tg.manual_seed(0)
    assert np.array_equal(after, tg.rand(3).data)


def test_causal_mask_detection_is_torchs(torch):
    from torch.nn.modules.transformer import _detect_is_causal_mask as theirs

    from tinygrad_norm.nn.transformer import _detect_is_causal_mask as ours
    causal = np.triu(np.full((4, 4), -np.inf), 1)
    for mask in (causal, causal.astype(np.float32), np.isinf(causal), causal[:3, :3],
                 np.zeros((4, 4)), np.stack([causal, causal]), None):
        for hint in (None, True, False):
            for size in (None, 4):
                want = theirs(None if mask is None else torch.from_numpy(mask), hint, size)
                got = ours(None if mask is None else Tensor(mask), hint, size)
                assert got is want, (mask, hint, size)


def test_custom_encoder_is_used_and_redrawn():
    tg.manual_seed(1)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, 64, 0.0), 1)
    before = enc.layers[0].linear2.weight.data.copy()  # (E, 64): Linear's bound 1/8
    model = nn.Transformer(E, H, 1, 1, 64, 0.0, custom_encoder=enc)
    assert model.encoder is enc and enc.norm is None
    w = enc.layers[0].linear2.weight.data
    assert not np.array_equal(w, before)  # xavier_uniform_ reached the custom encoder too
    assert np.abs(w).max() > 1 / math.sqrt(64)  # beyond Linear's bound, within xavier's
    assert np.abs(w).max() <= math.sqrt(6 / (E + 64))
    src, tgt = Tensor(np.ones((3, 2, E), np.float32)), Tensor(np.ones((2, 2, E), np.float32))
    assert model(src, tgt).shape == (2, 2, E)
