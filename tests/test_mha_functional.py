"""F.multi_head_attention_forward against torch 2.13's: values, the weights, and the gradient of
every tensor argument (inputs, projections, biases, static key/value, float masks) under a random
upstream gradient, in float64 (1e-10) and float32; masks of each kind, the causal hint, dropout
off with training=False and structural with training=True, torch's errors; gradcheck."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_norm as tg
import tinygrad_norm.functional as F
from tinygrad_norm import Tensor, nn

from conftest import assert_scaled_close  # noqa: E402

RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 2e-5}
E, H, L, S, N = 6, 2, 3, 4, 2
KPM = np.array([[False, False, True, False], [False, True, True, False]])
AM = np.array([[False, True, False, False], [False, False, True, True],
               [False, False, False, True]])  # every query keeps a key


def _close(actual, expected, what):
    assert_scaled_close(actual, expected, RTOL[np.asarray(actual).dtype], what)


def _case(name, rng, dtype):
    """(positional-ish arrays by name, flags): what the call gets, arrays drawn in ``dtype``."""
    r = lambda *s: rng.standard_normal(s).astype(dtype)  # noqa: E731
    kd, vd = (3, 5) if "separate" in name else (E, E)
    a = {"query": r(L, N, E), "key": r(S, N, kd), "value": r(S, N, vd),
         "in_proj_bias": r(3 * E), "out_proj_weight": r(E, E), "out_proj_bias": r(E)}
    kw = {}
    if "separate" in name:
        a.update(q_proj_weight=r(E, E), k_proj_weight=r(E, kd), v_proj_weight=r(E, vd))
        kw["use_separate_proj_weight"] = True
    else:
        a["in_proj_weight"] = r(3 * E, E)
    if "bias_kv" in name:
        a.update(bias_k=r(1, 1, E), bias_v=r(1, 1, E))
    if "static" in name:
        a.update(static_k=r(N * H, 5, E // H), static_v=r(N * H, 5, E // H))
    if "bool masks" in name:
        kw.update(key_padding_mask=KPM, attn_mask=AM)
    if "float masks" in name:
        a.update(key_padding_mask=r(N, S), attn_mask=r(N * H, L, S))
    if "static" in name and "masks" not in name:
        kw["key_padding_mask"] = np.zeros((N, 5), bool)
    if "zero_attn" in name:
        kw["add_zero_attn"] = True
    if "per head" in name:
        kw["average_attn_weights"] = False
    if "causal" in name:
        kw.update(attn_mask=~np.tril(np.ones((L, S), bool)), is_causal=True)
    if "no bias" in name:
        del a["in_proj_bias"], a["out_proj_bias"]
    return a, kw


CASES = ["packed", "packed, bool masks", "separate, float masks, per head",
         "packed, bias_kv, zero_attn, bool masks", "separate, static, zero_attn",
         "packed, causal", "packed, no bias, float masks"]


def _call(mod, arrays, kw, need_weights, wrap):
    args = {k: wrap(v) for k, v in arrays.items()}
    flags = {k: (wrap(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    return mod.multi_head_attention_forward(
        args["query"], args["key"], args["value"], E, H, args.get("in_proj_weight"),
        args.get("in_proj_bias"), args.get("bias_k"), args.get("bias_v"),
        flags.pop("add_zero_attn", False), 0.5, args["out_proj_weight"],
        args.get("out_proj_bias"), training=False, need_weights=need_weights,
        q_proj_weight=args.get("q_proj_weight"), k_proj_weight=args.get("k_proj_weight"),
        v_proj_weight=args.get("v_proj_weight"), static_k=args.get("static_k"),
        static_v=args.get("static_v"), key_padding_mask=args.get("key_padding_mask",
                                                                 flags.pop("key_padding_mask", None)),
        attn_mask=args.get("attn_mask", flags.pop("attn_mask", None)), **flags)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES)
def test_matches_torch(torch, case, dtype, need_weights):
    rng = np.random.default_rng(7)
    arrays, kw = _case(case, rng, dtype)
    mine = {k: Tensor(v.copy(), requires_grad=True) for k, v in arrays.items()}
    want = {k: torch.tensor(v, requires_grad=True) for k, v in arrays.items()}
    out, w = _call(F, mine, kw, need_weights, lambda v: v if isinstance(v, Tensor) else Tensor(v))
    tout, tw = _call(torch.nn.functional, want, kw, need_weights,
                     lambda v: v if isinstance(v, torch.Tensor) else torch.from_numpy(v))
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
    for k in arrays:
        tg_ = want[k].grad
        expected = np.zeros_like(arrays[k]) if tg_ is None else tg_.numpy()
        got = np.zeros_like(arrays[k]) if mine[k].grad is None else mine[k].grad.data
        _close(got, expected, f"{case}: gradient of {k}")


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("need_weights", [True, False])
def test_unbatched_matches_torch(torch, need_weights):
    rng = np.random.default_rng(8)
    a = [rng.standard_normal(s) for s in ((L, E), (S, E), (S, E), (3 * E, E), (3 * E,), (E, E),
                                          (E,), (H, L, S))]
    mine = [Tensor(x.copy(), requires_grad=True) for x in a]
    want = [torch.tensor(x, requires_grad=True) for x in a]
    kpm = KPM[0]

    def run(mod, t, wrap):
        return mod.multi_head_attention_forward(
            t[0], t[1], t[2], E, H, t[3], t[4], None, None, False, 0.0, t[5], t[6],
            key_padding_mask=wrap(kpm), attn_mask=t[7], need_weights=need_weights)
    out, w = run(F, mine, Tensor)
    tout, tw = run(torch.nn.functional, want, torch.from_numpy)
    _close(out.data, tout.detach().numpy(), "output")
    assert (w is None) == (tw is None) and out.shape == (L, E)
    if w is not None:
        _close(w.data, tw.detach().numpy(), "weights")
    g = rng.standard_normal(out.shape)
    (out * Tensor(g)).sum().backward()
    (tout * torch.from_numpy(g)).sum().backward()
    for x, y in zip(mine, want):
        _close(x.grad.data, y.grad.numpy(), "gradient")


def test_module_and_function_agree():
    # the module runs the functional's core: its parameters passed by hand give the same numbers
    tg.manual_seed(0)
    m = nn.MultiheadAttention(E, H, add_bias_kv=True, dtype=np.float64)
    x = Tensor(np.random.default_rng(0).standard_normal((L, N, E)))
    out, w = m(x, x, x, key_padding_mask=Tensor(np.zeros((N, L), bool)))
    fout, fw = F.multi_head_attention_forward(
        x, x, x, E, H, m.in_proj_weight, m.in_proj_bias, m.bias_k, m.bias_v, False, 0.0,
        m.out_proj.weight, m.out_proj.bias, key_padding_mask=Tensor(np.zeros((N, L), bool)))
    np.testing.assert_array_equal(out.data, fout.data)
    np.testing.assert_array_equal(w.data, fw.data)


def _small(seed=0):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.standard_normal(s), requires_grad=True)
            for s in ((L, N, 4), (S, N, 4), (S, N, 4), (12, 4), (12,), (4, 4), (4,))]


@pytest.mark.parametrize("need_weights", [True, False])
def test_gradcheck(need_weights):
    def fn(q, k, v, w, b, ow, ob):
        out, wt = F.multi_head_attention_forward(q, k, v, 4, 2, w, b, None, None, True, 0.0, ow,
                                                 ob, need_weights=need_weights,
                                                 attn_mask=Tensor(AM))
        return out if wt is None else out + wt.sum()
    assert tg.gradcheck(fn, _small())
    assert tg.gradgradcheck(fn, _small(1))


def test_dropout_training_true_and_false():
    args = _small()

    def call(p, training, need_weights=True):
        return F.multi_head_attention_forward(
            *args[:3], 4, 2, args[3], args[4], None, None, False, p, args[5], args[6],
            training=training, need_weights=need_weights, average_attn_weights=False)
    ref, w_ref = call(0.0, True)
    off, w_off = call(0.5, False)  # training=False: no dropout, whatever dropout_p says
    np.testing.assert_array_equal(off.data, ref.data)
    np.testing.assert_array_equal(w_off.data, w_ref.data)
    tg.manual_seed(3)
    on, w_on = call(0.5, True)
    kept = w_on.data != 0
    assert 0 < kept.mean() < 1  # some weights dropped, the rest scaled by 1 / (1 - p)
    np.testing.assert_allclose(w_on.data[kept], 2 * w_ref.data[kept], rtol=1e-12)
    assert not np.allclose(on.data, ref.data)
    tg.manual_seed(3)
    sdpa, none = call(0.5, True, False)  # the other path drops too
    assert none is None and not np.allclose(sdpa.data, ref.data)


def _errs():
    q, k, v, w, b, ow, ob = _small()

    def call(**kw):
        base = dict(query=q, key=k, value=v, embed_dim_to_check=4, num_heads=2,
                    in_proj_weight=w, in_proj_bias=b, bias_k=None, bias_v=None,
                    add_zero_attn=False, dropout_p=0.0, out_proj_weight=ow, out_proj_bias=ob)
        base.update(kw)
        return lambda: F.multi_head_attention_forward(**base)
    x4 = Tensor(np.zeros((1, 3, 2, 4)))
    return [
        (call(query=x4), ValueError, "query should be unbatched 2D or batched 3D tensor but "
                                     "received 4-D query tensor"),
        (call(key=Tensor(np.zeros((4, 4)))), ValueError,
         "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found 2-D and 3-D"),
        (call(key_padding_mask=Tensor(np.zeros(4, bool))), ValueError,
         "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D"),
        (call(attn_mask=x4), ValueError, "expected `attn_mask` to be `None`, 2-D or 3-D"),
        (call(attn_mask=Tensor(np.zeros((3, 4), np.int64))), TypeError,
         "only bool and floating types of attn_mask are supported"),
        (call(key_padding_mask=Tensor(np.zeros((2, 4), np.int64))), TypeError,
         "only bool and floating types of key_padding_mask are supported"),
        (call(is_causal=True), ValueError, "Need attn_mask if specifying the is_causal hint"),
        (call(embed_dim_to_check=5), ValueError,
         "was expecting embedding dimension of 5, but got 4"),
        (call(num_heads=3), ValueError, "embed_dim 4 not divisible by num_heads 3"),
        (call(value=Tensor(np.zeros((3, 2, 4)))), ValueError,
         "key shape (4, 2, 4) does not match value shape (3, 2, 4)"),
        (call(in_proj_weight=None), ValueError,
         "use_separate_proj_weight is False but in_proj_weight is None"),
        (call(use_separate_proj_weight=True), ValueError,
         "use_separate_proj_weight is True but q_proj_weight is None"),
        (call(attn_mask=Tensor(np.zeros((3, 3)))), ValueError,
         "The shape of the 2D attn_mask is (3, 3), but should be (3, 4)."),
        (call(attn_mask=Tensor(np.zeros((2, 3, 4)))), ValueError,
         "The shape of the 3D attn_mask is (2, 3, 4), but should be (4, 3, 4)."),
        (call(bias_k=Tensor(np.zeros((1, 1, 4)))), ValueError, "bias_k is set but bias_v is None"),
        (call(bias_k=Tensor(np.zeros((1, 1, 4))), bias_v=Tensor(np.zeros((1, 1, 4))),
              static_k=Tensor(np.zeros((4, 4, 2)))), ValueError,
         "bias cannot be added to static key."),
        (call(static_k=Tensor(np.zeros((3, 4, 2)))), ValueError,
         "expecting static_k.size(0) of 4, but got 3"),
        (call(static_v=Tensor(np.zeros((4, 4, 3)))), ValueError,
         "expecting static_v.size(2) of 2, but got 3"),
        (call(key_padding_mask=Tensor(np.zeros((2, 3), bool))), ValueError,
         "Expected key_padded_mask.shape[1] to be 4, but got 3"),
        (call(dropout_p=1.5), ValueError, "dropout probability has to be between 0 and 1"),
        (call(need_weights="yes"), TypeError, "argument 'need_weights' must be bool"),
        (call(query=[1.0]), TypeError, "query must be a Tensor"),
    ]


@pytest.mark.parametrize("i", range(len(_errs())))
def test_errors(i):
    fn, exc, match = _errs()[i]
    with pytest.raises(exc) as e:
        fn()
    assert match in str(e.value)


def test_error_wording_is_torchs(torch):
    # the same bad calls to torch raise its AssertionError/RuntimeError with these words
    q, k = torch.zeros(3, 2, 4), torch.zeros(4, 2, 4)
    w, b, ow = torch.zeros(12, 4), torch.zeros(12), torch.zeros(4, 4)
    for kw, words in (({"attn_mask": torch.zeros(3, 3)},
                       "The shape of the 2D attn_mask is torch.Size([3, 3]), but should be (3, 4)."),
                      ({"is_causal": True}, "Need attn_mask if specifying the is_causal hint"),
                      ({"bias_k": torch.zeros(1, 1, 4)}, "bias_k is set but bias_v is None")):
        with pytest.raises((AssertionError, RuntimeError)) as e:
            torch.nn.functional.multi_head_attention_forward(
                q, k, k, 4, 2, w, b, kw.pop("bias_k", None), None, False, 0.0, ow, None, **kw)
        assert words.split(" is ")[0] in str(e.value)


def test_mismatched_mask_types_warn_as_torch():
    q, k, v, w, b, ow, ob = _small()
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask"):
        F.multi_head_attention_forward(q, k, v, 4, 2, w, b, None, None, False, 0.0, ow, ob,
                                       key_padding_mask=Tensor(KPM), attn_mask=Tensor(np.zeros((3, 4))))
