"""F.scaled_dot_product_attention and nn.MultiheadAttention against torch: outputs, attention
weights, and the gradients of query, key, value, a float mask and every parameter (torch's state
dict loaded by key) under random upstream gradients, in float64 (rtol 1e-10) and float32 (rtol
1e-5); bool and float masks, causal, fully masked rows, grouped-query heads, key padding,
add_bias_kv/add_zero_attn, kdim/vdim, batch_first, unbatched input. Also gradcheck in float64,
dropout by its statistics and train/eval behaviour (its masks cannot be torch's), the
initialization, and the errors."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn

from conftest import assert_scaled_close  # noqa: E402

RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}


def _close(actual, expected, what):
    assert_scaled_close(actual, expected, RTOL[np.asarray(actual).dtype], what)


def _masks(rng):
    some = rng.random((3, 5)) > 0.5
    some[:, 0] = True
    dead = some.copy()
    dead[1] = False  # query 1 may attend to nothing
    return some, dead


# ---- scaled_dot_product_attention -----------------------------------------------------------------
def _sdpa_cases(rng):
    some, dead = _masks(rng)
    return {
        "plain": ((2, 3, 4), (2, 5, 4), (2, 5, 6), {}),
        "heads, scale": ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3), {"scale": 0.3}),
        "broadcast batch": ((2, 3, 4), (1, 5, 4), (1, 5, 6), {}),
        "bool mask": ((2, 3, 4), (2, 5, 4), (2, 5, 6), {"attn_mask": some}),
        "bool mask, a dead row": ((2, 3, 4), (2, 5, 4), (2, 5, 6), {"attn_mask": dead}),
        "float mask": ((2, 3, 4), (2, 5, 4), (2, 5, 6),
                       {"attn_mask": rng.standard_normal((2, 1, 5))}),
        "-inf mask, a dead row": ((2, 3, 4), (2, 5, 4), (2, 5, 6),
                                  {"attn_mask": np.where(dead, 0.0, -np.inf)}),
        "causal L < S": ((2, 3, 4), (2, 5, 4), (2, 5, 6), {"is_causal": True}),
        "causal L > S": ((2, 5, 4), (2, 3, 4), (2, 3, 6), {"is_causal": True}),
        "gqa": ((2, 4, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3), {"enable_gqa": True}),
    }


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", list(_sdpa_cases(np.random.default_rng(0))))
def test_sdpa_matches_torch(torch, case, dtype):
    rng = np.random.default_rng(0)
    qs, ks, vs, kwargs = _sdpa_cases(rng)[case]
    arrays = [rng.standard_normal(s).astype(dtype) for s in (qs, ks, vs)]
    mask = kwargs.get("attn_mask")
    float_mask = mask is not None and mask.dtype != bool
    if float_mask:
        arrays.append(mask.astype(dtype))
    mine = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    want = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours_kw, torch_kw = dict(kwargs), dict(kwargs)
    if mask is not None:
        ours_kw["attn_mask"] = mine[3] if float_mask else Tensor(mask)
        torch_kw["attn_mask"] = want[3] if float_mask else torch.tensor(mask)
    out = F.scaled_dot_product_attention(*mine[:3], **ours_kw)
    tout = torch.nn.functional.scaled_dot_product_attention(*want[:3], **torch_kw)
    _close(out.data, tout.detach().numpy(), f"{case}: output")
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    for name, a, b in zip(("query", "key", "value", "attn_mask"), mine, want):
        _close(a.grad.data, b.grad.numpy(), f"{case}: gradient of {name}")


def test_sdpa_dead_row_is_zero_in_output_and_gradient():
    rng = np.random.default_rng(1)
    q, k, v = (Tensor(rng.standard_normal(s), requires_grad=True)
               for s in ((3, 4), (5, 4), (5, 2)))
    mask = np.ones((3, 5), bool)
    mask[1] = False
    out = F.scaled_dot_product_attention(q, k, v, Tensor(mask))
    out.backward(rng.standard_normal(out.shape))
    assert np.array_equal(out.data[1], np.zeros(2)) and np.array_equal(q.grad.data[1], np.zeros(4))
    assert np.isfinite(k.grad.data).all() and np.isfinite(v.grad.data).all()


@pytest.mark.parametrize("kwargs", [{"is_causal": True}, {"attn_mask": "float"},
                                    {"attn_mask": "bool", "scale": 0.7}])
def test_sdpa_gradcheck(kwargs):
    rng = np.random.default_rng(2)
    inputs = [Tensor(rng.standard_normal(s), requires_grad=True)
              for s in ((2, 3, 2), (2, 4, 2), (2, 4, 3))]
    kw = dict(kwargs)
    if kw.get("attn_mask") == "float":
        inputs.append(Tensor(rng.standard_normal((3, 4)), requires_grad=True))
        del kw["attn_mask"]
    elif kw.get("attn_mask") == "bool":
        kw["attn_mask"] = Tensor(_masks(rng)[1][:, :4])
    assert tg.gradcheck(lambda q, k, v, *m: F.scaled_dot_product_attention(
        q, k, v, *m, **kw), inputs)


def test_sdpa_dropout_rate_scale_and_float32():
    # q = k = 0: every weight is 1/S; value = I: the output is the dropped weights themselves
    S, p = 8, 0.25
    tg.manual_seed(0)
    q = Tensor(np.zeros((400, 6, 3), np.float32))
    k = Tensor(np.zeros((400, S, 3), np.float32))
    v = Tensor(np.broadcast_to(np.eye(S, dtype=np.float32), (400, S, S)).copy())
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=p).data
    assert out.dtype == np.float32
    kept = out[out != 0]
    np.testing.assert_allclose(kept, 1 / (S * (1 - p)), rtol=1e-6)
    n, dropped = out.size, int((out == 0).sum())
    assert abs(dropped - p * n) < 5 * math.sqrt(n * p * (1 - p)), dropped
    assert np.array_equal(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).data,
                          np.zeros_like(out))
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v).data, 1 / S, rtol=1e-6)


def _t(shape, dtype=np.float64):
    return Tensor(np.ones(shape, dtype))


@pytest.mark.parametrize("call, exc, match", [
    (lambda: F.scaled_dot_product_attention(_t((3, 4)), _t((5, 4)), _t((5, 2)),
                                            Tensor(np.ones((3, 5), bool)), is_causal=True),
     ValueError, "Explicit attn_mask should not be set when is_causal=True"),
    (lambda: F.scaled_dot_product_attention(_t(4), _t((5, 4)), _t((5, 2))), ValueError,
     "at least 2 dimensional"),
    (lambda: F.scaled_dot_product_attention(_t((3, 4)), _t((5, 4), np.float32), _t((5, 2))),
     TypeError, "same floating-point dtype"),
    (lambda: F.scaled_dot_product_attention(_t((3, 4)), _t((5, 3)), _t((5, 2))), ValueError,
     "key's last dimension"),
    (lambda: F.scaled_dot_product_attention(_t((3, 4)), _t((5, 4)), _t((4, 2))), ValueError,
     "same sequence length"),
    (lambda: F.scaled_dot_product_attention(_t((2, 3, 4)), _t((3, 5, 4)), _t((3, 5, 2))),
     ValueError, "do not broadcast"),
    (lambda: F.scaled_dot_product_attention(_t((3, 4)), _t((5, 4)), _t((5, 2)),
                                            Tensor(np.ones((3, 5), np.int64))), TypeError,
     "Expected attn_mask dtype to be bool or float"),
    (lambda: F.scaled_dot_product_attention(_t((3, 4)), _t((5, 4)), _t((5, 2)),
                                            Tensor(np.ones((4, 5), bool))), ValueError,
     "does not broadcast"),
    (lambda: F.scaled_dot_product_attention(_t((3, 4)), _t((5, 4)), _t((5, 2)), [[True]]),
     TypeError, "attn_mask must be a Tensor"),
    (lambda: F.scaled_dot_product_attention(_t((3, 4)), _t((5, 4)), _t((5, 2)), dropout_p=1.5),
     ValueError, "dropout probability has to be between 0 and 1"),
    (lambda: F.scaled_dot_product_attention(_t((3, 4)), _t((5, 4)), _t((5, 2)), scale="1"),
     TypeError, "argument 'scale' must be float, not str"),
    (lambda: F.scaled_dot_product_attention(_t((3, 3, 4)), _t((2, 5, 4)), _t((2, 5, 2)),
                                            enable_gqa=True), ValueError,
     "Number of heads in key and value must divide"),
    (lambda: F.scaled_dot_product_attention(np.ones((3, 4)), _t((5, 4)), _t((5, 2))), TypeError,
     "query must be a Tensor"),
])
def test_sdpa_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def _sdpa_both(torch, arrays, mask=None, grad_seed=0, **kwargs):
    """(ours, torch's): the output and the gradients of query, key and value under one random
    upstream gradient, with ``mask`` (an ndarray) as attn_mask."""
    results = []
    for lib, make, fn in ((tg, Tensor, F.scaled_dot_product_attention),
                          (torch, torch.tensor,
                           torch.nn.functional.scaled_dot_product_attention)):
        q, k, v = (make(a, requires_grad=True) for a in arrays)
        m = None if mask is None else make(mask)
        out = fn(q, k, v, attn_mask=m, **kwargs)
        g = np.random.default_rng(grad_seed).standard_normal(out.shape).astype(arrays[0].dtype)
        out.backward(make(g))
        results.append([np.asarray(t.detach().numpy() if lib is torch else t.data)
                        for t in (out, q.grad, k.grad, v.grad)])
    return results


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", [{}, {"scale": 2.0}, {"is_causal": True}, {"mask": "bool"},
                                    {"mask": "float"}])
def test_sdpa_head_size_zero_averages_values_as_torch(torch, dtype, kwargs):
    # E = 0: every score is 0, so each query averages the values it may see; the default
    # scale 1/sqrt(0) = inf used to make 0 * inf = NaN everywhere
    rng = np.random.default_rng(3)
    arrays = [np.zeros((2, 3, 0), dtype), np.zeros((2, 4, 0), dtype),
              rng.standard_normal((2, 4, 2)).astype(dtype)]
    kw = dict(kwargs)
    mask = kw.pop("mask", None)
    if mask == "bool":
        mask = _masks(rng)[1][:, :4]  # query 1 sees nothing: zeros
    elif mask == "float":
        mask = rng.standard_normal((3, 4)).astype(dtype)
    ours, theirs = _sdpa_both(torch, arrays, mask, **kw)
    for what, a, b in zip(("output", "dq", "dk", "dv"), ours, theirs):
        _close(a, b, what)
    assert np.isfinite(ours[0]).all()


@pytest.mark.parametrize("how", ["bool", "float -inf", "causal"])
def test_sdpa_nan_in_a_masked_key_is_nan_as_torch(torch, how):
    # A NaN in a key that a mask excludes: torch adds the mask, so the NaN score stays NaN and
    # the query's output and gradients are NaN. Ours used to select it away: a finite output
    # with a NaN gradient (query @ key^T's backward multiplied the select's zero by the NaN).
    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal(s) for s in ((1, 2, 3), (1, 3, 3), (1, 3, 2)))
    k[0, 2] = np.nan
    k[0, 1, 0] = np.inf  # +inf under the mask too: inf + -inf is NaN in torch as well
    allowed = np.array([[True, False, False], [True, True, False]])
    kwargs, mask = {}, None
    if how == "bool":
        mask = allowed
    elif how == "float -inf":
        mask = np.where(allowed, 0.0, -np.inf)
    else:
        kwargs = {"is_causal": True}
    ours, theirs = _sdpa_both(torch, (q, k, v), mask, **kwargs)
    for what, a, b in zip(("output", "dq", "dk", "dv"), ours, theirs):
        assert np.array_equal(np.isnan(a), np.isnan(b)), what
        assert np.allclose(a, b, rtol=1e-10, atol=1e-12, equal_nan=True), what
    assert np.isnan(ours[0]).all() and np.isnan(ours[1]).all()  # no finite output, NaN grad


def test_sdpa_scale_and_dropout_p_take_what_torch_takes(torch):
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 3))]
    want = _sdpa_both(torch, arrays, scale=0.5)[1][0]
    for scale in (Tensor(np.float32(0.5)), np.float32(0.5), np.float64(0.5),
                  Tensor(np.array(0.5))):  # a 0-d Tensor or a NumPy scalar, as torch
        out = F.scaled_dot_product_attention(*(Tensor(a) for a in arrays), scale=scale)
        _close(out.data, want, f"scale={scale!r}")  # float32 stays float32
    q = Tensor(arrays[0])
    out = F.scaled_dot_product_attention(q, Tensor(arrays[1]), Tensor(arrays[2]),
                                         dropout_p=Tensor(np.array(0.0)))
    assert out.dtype == np.float32
    tq = torch.tensor(arrays[0])
    for name, bad, torch_bad in (("dropout_p", "0.1", "0.1"), ("dropout_p", None, None),
                                 ("scale", "0.5", "0.5"),
                                 ("scale", Tensor(np.array([0.5])), torch.tensor([0.5]))):
        with pytest.raises(TypeError) as theirs:
            torch.nn.functional.scaled_dot_product_attention(tq, tq, tq, **{name: torch_bad})
        with pytest.raises(TypeError) as ours:
            F.scaled_dot_product_attention(q, q, q, **{name: bad})
        assert str(ours.value).startswith(str(theirs.value)), (str(ours.value), str(theirs.value))


# ---- MultiheadAttention --------------------------------------------------------------------------
def _mha_pair(torch, args, kwargs, dtype, rng):
    theirs = torch.nn.MultiheadAttention(*args, **kwargs).to(
        torch.float64 if dtype == np.float64 else torch.float32)
    ours = nn.MultiheadAttention(*args, **kwargs, dtype=dtype)
    state = {k: (v.numpy() + 0.3 * rng.standard_normal(v.shape)).astype(dtype)  # biases not 0
             for k, v in theirs.state_dict().items()}
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    ours.load_state_dict(state)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    return ours, theirs


def _mha_cases():
    kpm = np.array([[False, False, True, False], [False, True, True, False]])
    am = np.array([[False, True, False, False], [False, False, True, True],
                   [False, False, False, True]])  # every query keeps a key
    causal = ~np.tril(np.ones((3, 3), bool))
    return {
        "plain": ((4, 2), {}, {}, 4),
        "batch_first, masks": ((4, 2), {"batch_first": True},
                               {"key_padding_mask": kpm, "attn_mask": am}, 4),
        "kdim/vdim, bias_kv, zero_attn, float 3-D mask, per head": (
            (4, 2), {"kdim": 3, "vdim": 5, "add_bias_kv": True, "add_zero_attn": True},
            {"key_padding_mask": kpm, "attn_mask": "float (4, 3, 4)",
             "average_attn_weights": False}, 4),
        "no bias, unbatched": ((4, 2), {"bias": False},
                               {"key_padding_mask": kpm[0], "attn_mask": am}, 4),
        "causal hint": ((4, 2), {}, {"attn_mask": causal, "is_causal": True}, 3),
        "float key padding": ((6, 3), {}, {"key_padding_mask": "float (2, 4)"}, 4),
    }


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", list(_mha_cases()))
def test_mha_matches_torch(torch, case, dtype, need_weights):
    rng = np.random.default_rng(4)
    args, kwargs, call_kw, S = _mha_cases()[case]
    ours, theirs = _mha_pair(torch, args, kwargs, dtype, rng)
    E, N, L = args[0], 2, 3
    unbatched = "unbatched" in case
    dims = (E, kwargs.get("kdim", E), kwargs.get("vdim", E))
    shapes = [((n, d) if unbatched else (N, n, d) if kwargs.get("batch_first") else (n, N, d))
              for n, d in zip((L, S, S), dims)]
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    mine = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    want = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours_kw, torch_kw = {"need_weights": need_weights}, {"need_weights": need_weights}
    for k, v in call_kw.items():
        if isinstance(v, str) and v.startswith("float"):
            v = rng.standard_normal(eval(v[6:])).astype(dtype)
        ours_kw[k] = Tensor(v) if isinstance(v, np.ndarray) else v
        torch_kw[k] = torch.from_numpy(v) if isinstance(v, np.ndarray) else v
    (out, w), (tout, tw) = ours(*mine, **ours_kw), theirs(*want, **torch_kw)
    _close(out.data, tout.detach().numpy(), f"{case}: output")
    g = rng.standard_normal(out.shape).astype(dtype)
    loss, tloss = (out * g).sum(), (tout * torch.from_numpy(g)).sum()
    if need_weights:
        _close(w.data, tw.detach().numpy(), f"{case}: weights")
        gw = rng.standard_normal(w.shape).astype(dtype)
        loss, tloss = loss + (w * gw).sum(), tloss + (tw * torch.from_numpy(gw)).sum()
    else:
        assert w is None and tw is None
    loss.backward()
    tloss.backward()
    for name, a, b in zip(("query", "key", "value"), mine, want):
        _close(a.grad.data, b.grad.numpy(), f"{case}: gradient of {name}")
    tparams = dict(theirs.named_parameters())
    for k, p in ours.named_parameters():
        _close(p.grad.data, tparams[k].grad.numpy(), f"{case}: gradient of {k}")


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_mha_fully_masked_query_as_torch(torch):
    # need_weights=True: a plain softmax gives NaN; need_weights=False: the safe one gives 0
    rng = np.random.default_rng(5)
    ours, theirs = _mha_pair(torch, (4, 2), {}, np.float64, rng)
    x = rng.standard_normal((3, 2, 4))
    kpm = np.array([[False, False, False], [True, True, True]])
    for need in (True, False):
        out = ours(*(Tensor(x),) * 3, key_padding_mask=Tensor(kpm), need_weights=need)[0].data
        tout = theirs(*(torch.tensor(x),) * 3, key_padding_mask=torch.tensor(kpm),
                      need_weights=need)[0].detach().numpy()
        np.testing.assert_array_equal(np.isnan(out), np.isnan(tout))
        assert np.isnan(out[:, 1]).all() == need
        np.testing.assert_allclose(out[:, 0], tout[:, 0], rtol=1e-10)


def test_mha_gradcheck():
    rng = np.random.default_rng(6)
    module = nn.MultiheadAttention(4, 2, add_bias_kv=True, dtype=np.float64)
    names = [k for k, _ in module.named_parameters()]
    x = [rng.standard_normal((3, 2, 4)) for _ in range(3)]
    kpm = Tensor(np.array([[False, True, False], [False, False, True]]))
    inputs = [Tensor(a, requires_grad=True) for a in x]
    inputs += [Tensor(p.data + 0.1 * rng.standard_normal(p.shape), requires_grad=True)
               for p in module.parameters()]

    def fn(q, k, v, *params):
        for name, p in zip(names, params):  # gradcheck's float64 copies stand in for them
            owner, _, leaf = name.rpartition(".")
            (module.out_proj if owner else module)._parameters[leaf] = p
        return module(q, k, v, key_padding_mask=kpm)

    assert tg.gradcheck(fn, inputs)


def test_mha_initialization_and_repr(torch):
    tg.manual_seed(0)
    m = nn.MultiheadAttention(64, 4, add_bias_kv=True)
    bound = math.sqrt(6 / (64 + 3 * 64))  # xavier_uniform_ of (3E, E)
    w = m.in_proj_weight.data
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.var() / (bound * bound / 3) - 1) < 0.05
    assert not m.in_proj_bias.data.any() and not m.out_proj.bias.data.any()
    assert np.abs(m.out_proj.weight.data).max() <= 1 / math.sqrt(64)
    both = np.concatenate([m.bias_k.data.ravel(), m.bias_v.data.ravel()])  # xavier_normal_
    assert abs(both.std() / math.sqrt(2 / 128) - 1) < 0.25
    theirs = torch.nn.MultiheadAttention(4, 2, kdim=3, vdim=5)
    ours = nn.MultiheadAttention(4, 2, kdim=3, vdim=5)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert ours.in_proj_weight is None and ours.head_dim == 2 and ours._qkv_same_embed_dim is False
    assert repr(ours) == repr(theirs).replace("NonDynamicallyQuantizableLinear", "Linear")


def test_mha_dropout_train_and_eval(torch):
    rng = np.random.default_rng(7)
    ours, theirs = _mha_pair(torch, (4, 2), {"dropout": 0.5}, np.float64, rng)
    x = rng.standard_normal((6, 50, 4))
    tg.manual_seed(0)
    _, w = ours(*(Tensor(x),) * 3, average_attn_weights=False)
    wd = w.data  # training: weights are the dropped ones, 0 or 2x a softmax
    n, dropped = wd.size, int((wd == 0).sum())
    assert abs(dropped - 0.5 * n) < 5 * math.sqrt(n * 0.25)
    np.testing.assert_allclose(wd.sum(-1).mean(), 1.0, rtol=0.05)
    ours.eval(), theirs.eval()
    out, w = ours(*(Tensor(x),) * 3)
    tout, tw = theirs(*(torch.tensor(x),) * 3)
    _close(out.data, tout.detach().numpy(), "eval output")
    _close(w.data, tw.detach().numpy(), "eval weights")


def _x(*shape):
    return Tensor(np.ones(shape, np.float32))


@pytest.mark.parametrize("call, exc, match", [
    (lambda: nn.MultiheadAttention(5, 2), ValueError, "embed_dim must be divisible by num_heads"),
    (lambda: nn.MultiheadAttention(0, 2), ValueError,
     "embed_dim and num_heads must be greater than 0"),
    (lambda: nn.MultiheadAttention(4.0, 2), TypeError, "embed_dim must be an int"),
    (lambda: nn.MultiheadAttention(4, 2, dropout=2.0), ValueError, "dropout probability"),
    (lambda: nn.MultiheadAttention(4, 2)(_x(3, 2, 4), _x(3, 2, 4), _x(3, 2, 4), is_causal=True),
     ValueError, r"Need attn_mask if specifying the is_causal hint. You may use the "
                 r"Transformer module method `generate_square_subsequent_mask`"),
    (lambda: nn.MultiheadAttention(4, 2)(_x(3, 2, 4), _x(3, 2, 4), _x(3, 2, 4),
                                         attn_mask=Tensor(np.zeros((4, 3), np.float32))),
     ValueError, r"The shape of the 2D attn_mask is \(4, 3\), but should be \(3, 3\)"),
    (lambda: nn.MultiheadAttention(4, 2)(_x(3, 2, 4), _x(3, 2, 4), _x(3, 2, 4),
                                         attn_mask=Tensor(np.zeros((2, 3, 3), np.float32))),
     ValueError, r"The shape of the 3D attn_mask is \(2, 3, 3\), but should be \(4, 3, 3\)"),
    (lambda: nn.MultiheadAttention(4, 2)(_x(3, 2, 4), _x(3, 2, 4), _x(3, 2, 4),
                                         attn_mask=Tensor(np.zeros((3, 3), np.int64))),
     TypeError, "only bool and floating types of attn_mask"),
    (lambda: nn.MultiheadAttention(4, 2)(_x(3, 2, 4), _x(3, 2, 4), _x(3, 2, 4),
                                         key_padding_mask=Tensor(np.zeros((2, 4), bool))),
     ValueError, r"key_padding_mask must have shape \(2, 3\)"),
    (lambda: nn.MultiheadAttention(4, 2)(_x(3, 4), _x(3, 2, 4), _x(3, 2, 4)), ValueError,
     "For unbatched"),
    (lambda: nn.MultiheadAttention(4, 2)(_x(3, 2, 4), _x(2, 2, 4), _x(3, 2, 4)), ValueError,
     "key shape"),
    (lambda: nn.MultiheadAttention(4, 2)(_x(3, 2, 5), _x(3, 2, 4), _x(3, 2, 4)), ValueError,
     "was expecting embedding dimension of 4 for query"),
    (lambda: nn.MultiheadAttention(4, 2)(_x(3, 2, 4), _x(3, 1, 4), _x(3, 1, 4)), ValueError,
     "batch size"),
    (lambda: nn.MultiheadAttention(4, 2)(_x(3, 2, 4).double(), _x(3, 2, 4), _x(3, 2, 4)),
     TypeError, "float64"),
    (lambda: nn.MultiheadAttention(4, 2)(_x(3, 2, 2, 4), _x(3, 2, 4), _x(3, 2, 4)), ValueError,
     "query should be unbatched 2D or batched 3D"),
])
def test_mha_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_mha_causal_hint_message_is_torchs_and_its_mask_exists(torch):
    # the is_causal error is torch's word for word; the method it names exists here and makes
    # torch's mask
    msgs = []
    for lib, x in ((torch.nn, torch.ones(5, 2, 4)), (nn, _x(5, 2, 4))):
        with pytest.raises((RuntimeError, AssertionError, ValueError)) as info:
            lib.MultiheadAttention(4, 2)(x, x, x, is_causal=True)
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]
    want = torch.nn.Transformer.generate_square_subsequent_mask(5).numpy()
    np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(5).numpy(), want)
