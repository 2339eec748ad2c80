"""Scaled dot-product attention as a composite, as ``torch.nn.functional``: two batched matmuls,
a scale, a mask (added), a softmax and dropout, inside one named scope. The
gradient comes from the tape; nothing is written here.

Every mask is *added* to the scores, a bool or causal one as 0 / -inf, as in PyTorch: a NaN (or
+inf) score stays NaN under a mask, so a NaN in a masked-out key makes that query's output NaN,
and its gradient NaN, exactly as PyTorch 2.13 does. (A select would hide the NaN from the output
but not from the gradient: query @ key^T's backward multiplies the select's zero by the NaN.)

A row whose keys are all masked out (every score -inf) gives zeros, output and gradient, as
PyTorch 2.13's safe softmax does: the row is replaced by zeros *before* the softmax, by a select,
so no NaN is ever made (a NaN times the select's zero gradient would still be NaN).

With head size E = 0 the scores are all 0 whatever the scale, so each query averages the values
uniformly, as PyTorch (the default scale 1/sqrt(0) = inf would make 0 * inf = NaN)."""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd import scope
from ..tensor import Tensor, where
from ._checks import _flag
from .dropout import _check_p, dropout

__all__ = ["scaled_dot_product_attention"]

_FN = "scaled_dot_product_attention"


def _check_qkv(query, key, value):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{_FN}: {name} must be a Tensor, got {type(t).__name__}")
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ValueError(f"{_FN}: Expected query, key, and value to all be at least 2 "
                         f"dimensional, but got query.dim: {query.ndim} key.dim: {key.ndim} and "
                         f"value.dim: {value.ndim} instead.")
    if not query.dtype == key.dtype == value.dtype or query.dtype.kind != "f":
        raise TypeError(f"{_FN}: Expected query, key, and value to have the same floating-point "
                        f"dtype, but got query.dtype: {query.dtype} key.dtype: {key.dtype} and "
                        f"value.dtype: {value.dtype} instead.")
    if key.shape[-1] != query.shape[-1]:
        raise ValueError(f"{_FN}: key's last dimension ({key.shape[-1]}) must equal query's "
                         f"embedding size ({query.shape[-1]}); shapes {query.shape} and "
                         f"{key.shape}")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"{_FN}: key and value must have the same sequence length (dim -2), got "
                         f"shapes {key.shape} and {value.shape}")


def _batch_shape(query, key, value):
    try:
        return np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise ValueError(f"{_FN}: the batch dimensions of query {query.shape}, key {key.shape} "
                         f"and value {value.shape} do not broadcast together") from None


def _repeat_heads(t, groups):
    """Each of the Hk heads (dim -3) repeated ``groups`` times in place, as ``repeat_interleave``:
    query head j reads key/value head j // groups."""
    if groups == 1:
        return t
    shape = t.shape
    wide = t.unsqueeze(-3).expand(*shape[:-2], groups, *shape[-2:])
    return wide.reshape(*shape[:-3], shape[-3] * groups, *shape[-2:])


def _gqa(query, key, value):
    if query.ndim < 3 or key.ndim < 3 or value.ndim < 3:
        raise ValueError(f"{_FN}: enable_gqa=True needs a heads dimension (dim -3) in query, key "
                         f"and value, got shapes {query.shape}, {key.shape} and {value.shape}")
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hk == 0 or hv == 0 or hq % hk or hq % hv:
        raise ValueError(f"{_FN}: Number of heads in key and value must divide the number of "
                         f"heads in query, got {hk}, {hv} and {hq}")
    return _repeat_heads(key, hq // hk), _repeat_heads(value, hq // hv)


def _mask(attn_mask, query, scores_shape):
    """The mask as a Tensor to add to the scores (query's dtype), shape checked."""
    if isinstance(attn_mask, np.ndarray):
        attn_mask = Tensor(attn_mask)
    if not isinstance(attn_mask, Tensor):
        raise TypeError(f"{_FN}: attn_mask must be a Tensor or None, got "
                        f"{type(attn_mask).__name__}")
    dt = attn_mask.dtype
    if dt != np.bool_ and dt != query.dtype and dt != np.float32:
        raise TypeError(f"{_FN}: Expected attn_mask dtype to be bool or float or to match query "
                        f"dtype, but got attn_mask.dtype: {dt} and query.dtype: {query.dtype} "
                        f"instead.")
    try:
        fits = np.broadcast_shapes(attn_mask.shape, scores_shape) == scores_shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{_FN}: attn_mask of shape {attn_mask.shape} does not broadcast to the "
                         f"attention scores' shape {scores_shape} (..., L, S)")
    if dt == np.bool_:
        return _bias(attn_mask.data, query.dtype)
    return attn_mask.astype(query.dtype)


def _bias(allowed, dtype):
    """A bool mask (True = takes part) as the additive 0 / -inf that PyTorch adds."""
    return Tensor(np.where(allowed, 0.0, -math.inf).astype(dtype, copy=False))


def _real(value, name):
    """A float argument as PyTorch's binding takes it: a real number or a 0-d Tensor (a 0-d
    ndarray too; bools are refused here: True as a rate or a scale is a slip), else its
    TypeError, naming ``name``."""
    if isinstance(value, (Tensor, np.ndarray)) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        what = type(value).__name__
        if isinstance(value, np.ndarray):
            what = f"numpy.ndarray of shape {value.shape}"
        elif isinstance(value, Tensor):
            what = f"Tensor of shape {value.shape}"
        raise TypeError(f"{_FN}(): argument '{name}' must be float, not {what}")
    return float(value)  # a Python float: a NumPy float64 would turn float32 scores float64


def _scale(scale, query):
    if scale is None:  # E = 0: the scores are 0 whatever the scale; 1/sqrt(0) would make NaN
        return 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0
    return _real(scale, "scale")


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value over the last two dims, batch dims
    broadcast: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev).

    ``attn_mask``: bool (True = takes part) or float (added to the scores), broadcast to
    (..., L, S). ``is_causal``: query i attends to keys 0..i (the top-left triangle, as
    PyTorch, also when L != S); not together with ``attn_mask``. ``scale`` defaults to
    1/sqrt(E). ``dropout_p`` > 0 drops attention weights (always: this function has no training
    flag, as PyTorch's). ``enable_gqa``: key and value may have fewer heads (dim -3) than query,
    each repeated for its group of query heads."""
    is_causal = _flag(is_causal, "is_causal", _FN)  # is_causal="no" masked, silently
    enable_gqa = _flag(enable_gqa, "enable_gqa", _FN)
    _check_qkv(query, key, value)
    p = dropout_p if type(dropout_p) is float else _real(dropout_p, "dropout_p")
    p = _check_p(p, _FN)  # its range check and message
    if is_causal and attn_mask is not None:
        raise ValueError(f"{_FN}: Explicit attn_mask should not be set when is_causal=True")
    if enable_gqa:
        key, value = _gqa(query, key, value)
    batch = _batch_shape(query, key, value)
    L, S = query.shape[-2], key.shape[-2]
    scores_shape = tuple(batch) + (L, S)
    bias = None if attn_mask is None else _mask(attn_mask, query, scores_shape)
    s = _scale(scale, query)
    with scope(_FN, dropout_p=p, is_causal=is_causal, scale=s):
        scores = (query @ key.mT) * s
        if is_causal:
            bias = _bias(np.tril(np.ones((L, S), dtype=bool)), query.dtype)
        if bias is not None:
            scores = scores + bias
        # every key masked out: zeros, as PyTorch's safe softmax (no NaN is made on the way)
        dead = (scores.data == -math.inf).all(axis=-1, keepdims=True) if S else None
        if dead is not None and dead.any():
            attn = where(dead, 0.0, where(dead, 0.0, scores).softmax(-1))
        else:
            attn = scores.softmax(-1)
        if p > 0.0:
            attn = dropout(attn, p, True)
        return attn @ value
