"""``multi_head_attention_forward``, as ``torch.nn.functional``'s: the whole of multi-head
attention (projections, extra key/value rows, masks, heads, attention, output projection) as a
composite of Tensor operations; ``nn.MultiheadAttention`` runs the same ``_attend`` after its own
checks, so the module and the function cannot drift apart.

Masks follow ``nn.MultiheadAttention``'s convention: a bool mask is True where attention is *not*
allowed (added as -inf), a float mask is added. With ``need_weights=True`` the weights come from a
plain softmax (a query whose keys are all masked gives NaN, as PyTorch); with
``need_weights=False`` the heads go through ``F.scaled_dot_product_attention`` (zeros there).
PyTorch raises ``AssertionError``/``RuntimeError`` for bad shapes; here they are ``ValueError``
(``TypeError`` for a wrong type) with its words."""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ..autograd import scope
from ..tensor import Tensor, concatenate
from ._checks import _flag
from .activation import linear
from .attention import scaled_dot_product_attention
from .dropout import _check_p, dropout

__all__ = ["multi_head_attention_forward"]

_FN = "multi_head_attention_forward"


def _tensor(t, name, optional=True):
    if t is None and optional:
        return None
    if isinstance(t, np.ndarray):  # the package's functions take arrays where a Tensor goes
        return Tensor(t)
    if not isinstance(t, Tensor):
        raise TypeError(f"{_FN}(): {name} must be a Tensor{' or None' if optional else ''}, "
                        f"got {type(t).__name__}")
    return t


def _shape_check(query, key, value, kpm, attn_mask):
    """True for batched (3-D) input, False for unbatched (2-D), as PyTorch's checks."""
    if query.ndim not in (2, 3):
        raise ValueError(f"query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.ndim}-D query tensor")
    kind = "batched (3-D)" if query.ndim == 3 else "unbatched (2-D)"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise ValueError(f"For {kind} `query`, expected `key` and `value` to be {query.ndim}-D "
                         f"but found {key.ndim}-D and {value.ndim}-D tensors respectively")
    if kpm is not None and kpm.ndim != query.ndim - 1:
        raise ValueError(f"For {kind} `query`, expected `key_padding_mask` to be `None` or "
                         f"{query.ndim - 1}-D but found {kpm.ndim}-D tensor instead")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise ValueError(f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                         f"found {attn_mask.ndim}-D tensor instead")
    return query.ndim == 3


def _canonical_mask(mask, name, dtype):
    """A bool mask (True = masked out) as 0/-inf in ``dtype``; a float mask as it is (cast to
    ``dtype``, so that a float32 mask does not turn a float64 attention float32)."""
    if mask is None:
        return None
    if mask.dtype == np.bool_:
        return Tensor(np.where(mask.data, -np.inf, 0.0).astype(dtype))
    if mask.dtype.kind != "f":
        raise TypeError(f"only bool and floating types of {name} are supported")
    return mask if mask.dtype == dtype else mask.astype(dtype)


def _check_dims(query, embed_dim_to_check, num_heads):
    if isinstance(num_heads, bool) or not isinstance(num_heads, numbers.Integral):
        raise TypeError(f"{_FN}(): argument 'num_heads' must be int, not "
                        f"{type(num_heads).__name__}")
    E = query.shape[-1]
    if E != embed_dim_to_check:
        raise ValueError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {E}")
    if num_heads <= 0 or E % num_heads:
        raise ValueError(f"embed_dim {E} not divisible by num_heads {num_heads}")
    return E // num_heads


def _in_projection(query, key, value, separate, in_w, in_b, qkv_w):
    """The three projections, each (seq, N, E); PyTorch's checks of the weights' shapes."""
    E = query.shape[-1]
    if in_b is not None and in_b.shape != (3 * E,):
        raise ValueError(f"expecting in_proj_bias shape of {(3 * E,)}, but got {in_b.shape}")
    bs = (None,) * 3 if in_b is None else (in_b[:E], in_b[E:2 * E], in_b[2 * E:])
    if not separate:
        if in_w is None:
            raise ValueError("use_separate_proj_weight is False but in_proj_weight is None")
        if in_w.shape != (3 * E, E):
            raise ValueError(f"expecting in_proj_weight shape of {(3 * E, E)}, but got "
                             f"{in_w.shape}")
        ws = (in_w[:E], in_w[E:2 * E], in_w[2 * E:])
    else:
        for name, w in zip("qkv", qkv_w):
            if w is None:
                raise ValueError(f"use_separate_proj_weight is True but {name}_proj_weight is "
                                 f"None")
        ws = qkv_w
        for what, w, x in (("query", ws[0], query), ("key", ws[1], key), ("value", ws[2], value)):
            if w.shape != (E, x.shape[-1]):
                raise ValueError(f"expecting {what} weights shape of {(E, x.shape[-1])}, but got "
                                 f"{w.shape}")
    return [linear(x, w, b) for x, w, b in zip((query, key, value), ws, bs)]


def _check_attn_mask(mask, L, S, NH):
    if mask is None:
        return
    want = (L, S) if mask.ndim == 2 else (NH, L, S)
    if mask.shape != want:
        raise ValueError(f"The shape of the {mask.ndim}D attn_mask is {mask.shape}, but should "
                         f"be {want}.")


def _check_static(static, name, NH, hd):
    if static is None:
        return
    if static.ndim != 3:
        raise ValueError(f"expecting {name} to be 3-D (bsz * num_heads, src_len, head_dim), got "
                         f"shape {static.shape}")
    if static.shape[0] != NH:
        raise ValueError(f"expecting {name}.size(0) of {NH}, but got {static.shape[0]}")
    if static.shape[2] != hd:
        raise ValueError(f"expecting {name}.size(2) of {hd}, but got {static.shape[2]}")


def _check_extras(bias_k, bias_v, static_k, static_v, NH, hd):
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise ValueError("bias cannot be added to static key.")
        if static_v is not None:
            raise ValueError("bias cannot be added to static value.")
    elif bias_k is not None:
        raise ValueError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise ValueError("bias_v is set but bias_k is None")
    _check_static(static_k, "static_k", NH, hd)
    _check_static(static_v, "static_v", NH, hd)


def _pad_key(mask):
    """One more key column (value 0: allowed) on the last axis of a mask, or None."""
    return None if mask is None else mask.pad(((0, 0),) * (mask.ndim - 1) + ((0, 1),))


def _attend(q, k, v, num_heads, bias_k, bias_v, static_k, static_v, add_zero_attn, kpm, mask,
            p, causal, need_weights, average, out_w, out_b):
    """Attention over projected q (L, N, E), k and v (S, N, E), as PyTorch's: masks already
    float, (L, S) or (N * H, L, S), ``kpm`` (N, S); returns (out (L, N, E), weights or None)."""
    L, N, E = q.shape
    H = num_heads
    hd = E // H
    if mask is not None and mask.ndim == 2:
        mask = mask.unsqueeze(0)
    if bias_k is not None:  # one learned key/value row appended to every sequence
        k = concatenate([k, bias_k.expand(1, N, E)], axis=0)
        v = concatenate([v, bias_v.expand(1, N, E)], axis=0)
        mask, kpm = _pad_key(mask), _pad_key(kpm)
    # heads: (seq, N, E) -> (N * H, seq, hd); a static key/value is already in that layout
    q = q.reshape(L, N * H, hd).swapaxes(0, 1)
    k = static_k if static_k is not None else k.reshape(k.shape[0], N * H, hd).swapaxes(0, 1)
    v = static_v if static_v is not None else v.reshape(v.shape[0], N * H, hd).swapaxes(0, 1)
    if add_zero_attn:
        zeros = Tensor(np.zeros((N * H, 1, hd), q.dtype))
        k, v = concatenate([k, zeros], axis=1), concatenate([v, zeros], axis=1)
        mask, kpm = _pad_key(mask), _pad_key(kpm)
    S = k.shape[1]
    if kpm is not None:
        if kpm.shape != (N, S):
            bad = 0 if kpm.shape[0] != N else 1
            raise ValueError(f"Expected key_padded_mask.shape[{bad}] to be {(N, S)[bad]}, but "
                             f"got {kpm.shape[bad]}")
        kpm = kpm.reshape(N, 1, 1, S).expand(N, H, 1, S).reshape(N * H, 1, S)
        mask = kpm if mask is None else mask + kpm
    if need_weights:
        scores = (q * math.sqrt(1.0 / hd)) @ k.mT
        if mask is not None:
            scores = scores + mask
        weights = scores.softmax(-1)
        if p > 0.0:
            weights = dropout(weights, p, True)
        out = (weights @ v).swapaxes(0, 1).reshape(L * N, E)
        out = linear(out, out_w, out_b).reshape(L, N, -1)
        weights = weights.reshape(N, H, L, S)
        return out, (weights.mean(axis=1) if average else weights)
    if mask is not None:  # to SDPA's (N, H, L, S) layout
        mask = mask.unsqueeze(0) if mask.shape[0] == 1 else mask.reshape(N, H, -1, S)
    q, k, v = (t.reshape(N, H, t.shape[1], hd) for t in (q, k, v))
    out = scaled_dot_product_attention(q, k, v, mask, p, causal)
    out = out.permute(2, 0, 1, 3).reshape(L * N, E)
    return linear(out, out_w, out_b).reshape(L, N, -1), None


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """``(attn_output, attn_weights or None)``, as ``torch.nn.functional``'s: query (L, N, E) or
    (L, E), key and value (S, N, E_k) or (S, E_k); ``static_k``/``static_v``
    (N * num_heads, S', E / num_heads) replace the projected key/value. Dropout only when
    ``training``."""
    query, key, value = (_tensor(t, n, False) for t, n in ((query, "query"), (key, "key"),
                                                          (value, "value")))
    kpm, attn_mask = _tensor(key_padding_mask, "key_padding_mask"), _tensor(attn_mask, "attn_mask")
    flags = {n: _flag(v, n, _FN) for n, v in (
        ("add_zero_attn", add_zero_attn), ("training", training), ("need_weights", need_weights),
        ("use_separate_proj_weight", use_separate_proj_weight),
        ("average_attn_weights", average_attn_weights), ("is_causal", is_causal))}
    p = _check_p(dropout_p, _FN)
    ws = {n: _tensor(t, n) for n, t in (
        ("in_proj_weight", in_proj_weight), ("in_proj_bias", in_proj_bias), ("bias_k", bias_k),
        ("bias_v", bias_v), ("out_proj_bias", out_proj_bias), ("q_proj_weight", q_proj_weight),
        ("k_proj_weight", k_proj_weight), ("v_proj_weight", v_proj_weight),
        ("static_k", static_k), ("static_v", static_v))}
    out_w = _tensor(out_proj_weight, "out_proj_weight", False)
    batched = _shape_check(query, key, value, kpm, attn_mask)
    if not batched:
        if attn_mask is not None and attn_mask.ndim == 3:
            want = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.shape != want:
                raise ValueError(f"Expected `attn_mask` shape to be {want} but got "
                                 f"{attn_mask.shape}")
        query, key, value = (t.unsqueeze(1) for t in (query, key, value))
        kpm = None if kpm is None else kpm.unsqueeze(0)
    L, N, _ = query.shape
    dt = query.dtype
    if kpm is not None and attn_mask is not None and kpm.dtype != attn_mask.dtype:
        warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. Use "
                      "same type for both instead.", stacklevel=2)
    kpm = _canonical_mask(kpm, "key_padding_mask", dt)
    causal = flags["is_causal"]
    if causal and attn_mask is None:
        raise ValueError("Need attn_mask if specifying the is_causal hint. You may use the "
                         "Transformer module method `generate_square_subsequent_mask` to create "
                         "this mask.")
    # PyTorch's use of the hint: with no padding mask and no weights wanted, the given mask is
    # dropped and the causal triangle used instead; with a padding mask the hint is dropped
    if causal and kpm is None and not flags["need_weights"]:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", dt)
        causal = causal and kpm is None
    hd = _check_dims(query, embed_dim_to_check, num_heads)
    separate = flags["use_separate_proj_weight"]
    if (key.shape[:2] != value.shape[:2]) if separate else (key.shape != value.shape):
        raise ValueError(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                         f"{value.shape[:2]}" if separate else
                         f"key shape {key.shape} does not match value shape {value.shape}")
    q, k, v = _in_projection(query, key, value, separate, ws["in_proj_weight"],
                             ws["in_proj_bias"], (ws["q_proj_weight"], ws["k_proj_weight"],
                                                  ws["v_proj_weight"]))
    _check_attn_mask(attn_mask, L, key.shape[0], N * num_heads)
    _check_extras(ws["bias_k"], ws["bias_v"], ws["static_k"], ws["static_v"], N * num_heads, hd)
    with scope("multi_head_attention", num_heads=num_heads, dropout=p,
               need_weights=flags["need_weights"]):
        out, weights = _attend(q, k, v, num_heads, ws["bias_k"], ws["bias_v"], ws["static_k"],
                               ws["static_v"], flags["add_zero_attn"], kpm, attn_mask,
                               p if flags["training"] else 0.0, causal, flags["need_weights"],
                               flags["average_attn_weights"], out_w, ws["out_proj_bias"])
    if not batched:
        out = out.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return out, weights
