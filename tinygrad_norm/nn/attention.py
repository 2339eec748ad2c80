"""MultiheadAttention, as ``torch.nn``: PyTorch's parameters, initialization, masks and both of
its computation paths, as composites of Tensor operations.

The path follows PyTorch's ``multi_head_attention_forward``: with ``need_weights=True`` the
weights are computed explicitly (a plain softmax: a query whose keys are all masked gives NaN,
as in PyTorch); with ``need_weights=False`` the heads go through
``F.scaled_dot_product_attention`` (such a query gives zeros, as in PyTorch). Masks follow
``nn.MultiheadAttention``'s convention, the opposite of ``F.scaled_dot_product_attention``'s: a
bool ``attn_mask`` or ``key_padding_mask`` is True where attention is *not* allowed."""
from __future__ import annotations

import numbers

import numpy as np

from .. import _argname
from .. import devices as _devices
from .. import functional as F
from ..autograd import scope
from ..functional._checks import _flag
from ..functional import multi_head_attention as _mha
from ..functional.dropout import _check_p
from ..tensor import Tensor
from . import init
from .linear import Linear, _count, _float_dtype
from .module import Module, Parameter

__all__ = ["MultiheadAttention"]

_CLS = "MultiheadAttention"


def _head():
    """``"MultiheadAttention: "``, or ``"TransformerEncoderLayer.forward(): MultiheadAttention: "``
    when the attention is a part of what the user called (error path only)."""
    fn, _ = _argname.caller()
    return f"{_CLS}: " if fn is None or fn.startswith(_CLS) else f"{fn}(): {_CLS}: "


def _float_mask(mask, name, dtype):
    """A bool mask (True = masked out) as -inf/0 in ``dtype``; a float mask as it is."""
    if mask is None:
        return None
    if isinstance(mask, np.ndarray):
        mask = Tensor(mask)
    if not isinstance(mask, Tensor):
        raise TypeError(f"{_CLS}: {name} must be a Tensor or None, got {type(mask).__name__}")
    if mask.dtype == np.bool_:
        return Tensor(np.where(mask.data, -np.inf, 0.0).astype(dtype))
    if mask.dtype.kind != "f":
        raise TypeError(f"{_CLS}: only bool and floating types of {name} are supported, got "
                        f"{mask.dtype}")
    return mask.astype(dtype)


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al. 2017), as ``torch.nn.MultiheadAttention``.

    Parameters: ``in_proj_weight`` (3E, E) when key and value have the embedding size E, else
    ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim); then
    ``in_proj_bias`` (3E), ``bias_k``, ``bias_v`` (1, 1, E) with ``add_bias_kv``, and
    ``out_proj`` (a Linear). Initialization as PyTorch: the projections xavier_uniform_, the
    biases 0, ``bias_k``/``bias_v`` xavier_normal_, ``out_proj.weight`` Linear's."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False,
                 device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__()
        for name, v in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"{_CLS}: {name} must be an int, got {v!r}")
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise ValueError(f"{_CLS}: embed_dim must be divisible by num_heads, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads}")
        bias, add_bias_kv = _flag(bias, "bias", _CLS), _flag(add_bias_kv, "add_bias_kv", _CLS)
        add_zero_attn = _flag(add_zero_attn, "add_zero_attn", _CLS)
        batch_first = _flag(batch_first, "batch_first", _CLS)
        dtype = _float_dtype(dtype, _CLS)
        E = self.embed_dim = int(embed_dim)
        self.kdim = E if kdim is None else _count(kdim, "kdim", _CLS)
        self.vdim = E if vdim is None else _count(vdim, "vdim", _CLS)
        self._qkv_same_embed_dim = self.kdim == E and self.vdim == E
        self.num_heads, self.head_dim = int(num_heads), E // int(num_heads)
        self.dropout = _check_p(dropout, _CLS)
        self.batch_first = batch_first
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * E, E), dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = Parameter(np.empty((E, E), dtype))
            self.k_proj_weight = Parameter(np.empty((E, self.kdim), dtype))
            self.v_proj_weight = Parameter(np.empty((E, self.vdim), dtype))
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * E, dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, E), dtype))
            self.bias_v = Parameter(np.empty((1, 1, E), dtype))
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self.add_zero_attn = add_zero_attn
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    # ---- checks -----------------------------------------------------------------------------------
    def _check_inputs(self, query, key, value):
        for name, t in (("query", query), ("key", key), ("value", value)):
            self._check_input(t, f"{_CLS}: {name}")
        if query.ndim not in (2, 3):
            raise ValueError(f"{_head()}query should be unbatched 2D or batched 3D tensor but "
                             f"received {query.ndim}-D query tensor")
        if key.ndim != query.ndim or value.ndim != query.ndim:
            kind = "batched (3-D)" if query.ndim == 3 else "unbatched (2-D)"
            raise ValueError(f"{_head()}For {kind} `query`, expected `key` and `value` to be "
                             f"{query.ndim}-D but found {key.ndim}-D and {value.ndim}-D tensors "
                             f"respectively")
        for name, t, want in (("query", query, self.embed_dim), ("key", key, self.kdim),
                              ("value", value, self.vdim)):
            if t.shape[-1] != want:
                raise ValueError(f"{_head()}was expecting embedding dimension of {want} for "
                                 f"{name}, but got {t.shape[-1]}")
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(f"{_head()}key shape {key.shape} does not match value shape "
                             f"{value.shape}")

    def _check_masks(self, key_padding_mask, attn_mask, L, N, S, batched):
        if key_padding_mask is not None:
            want = (N, S) if batched else (S,)
            if tuple(key_padding_mask.shape) != want:
                raise ValueError(f"{_CLS}: key_padding_mask must have shape {want}, got "
                                 f"{tuple(key_padding_mask.shape)}")
        if attn_mask is not None:
            shape = tuple(attn_mask.shape)
            heads = self.num_heads * (N if batched else 1)
            if len(shape) == 2 and shape != (L, S):
                raise ValueError(f"{_CLS}: The shape of the 2D attn_mask is {shape}, but should "
                                 f"be {(L, S)}.")
            if len(shape) == 3 and shape != (heads, L, S):
                raise ValueError(f"{_CLS}: The shape of the 3D attn_mask is {shape}, but should "
                                 f"be {(heads, L, S)}.")
            if len(shape) not in (2, 3):
                raise ValueError(f"{_CLS}: attn_mask's dimension {len(shape)} is not supported")

    def merge_masks(self, attn_mask, key_padding_mask, query):
        """``(merged_mask, mask_type)``, as PyTorch's: ``key_padding_mask`` alone is returned as
        it is, type 1; an ``attn_mask`` is expanded to (N, num_heads, L, L) (a 3-D one read as
        (N, -1, L, L)), type 2, and a ``key_padding_mask`` with it, read as (N, 1, 1, L), is
        added (for bool masks: or); neither gives ``(None, None)``. ``query`` is read as
        (N, L, E) whatever ``batch_first`` says, and the masks as square (L, L), as
        PyTorch's."""
        for name, m in (("attn_mask", attn_mask), ("key_padding_mask", key_padding_mask)):
            if m is not None and not isinstance(m, Tensor):
                raise TypeError(f"merge_masks(): {name} must be a Tensor or None, got "
                                f"{type(m).__name__}")
        if attn_mask is None:
            return key_padding_mask, (None if key_padding_mask is None else 1)
        if not isinstance(query, Tensor) or query.ndim != 3:
            raise ValueError(f"merge_masks(): query must be a 3-D Tensor (batch_size, seq_len, "
                             f"embed_dim), got {getattr(query, 'shape', type(query).__name__)}")
        N, L, _ = query.shape
        H = self.num_heads
        # PyTorch's views: only the number of elements has to fit
        if attn_mask.ndim == 3:
            _check_view(attn_mask, "attn_mask", (N, -1, L, L), N * L * L)
            merged = attn_mask.reshape(N, -1, L, L)
        else:
            _check_view(attn_mask, "attn_mask", (1, 1, L, L), L * L)
            merged = attn_mask.reshape(1, 1, L, L).expand(N, H, -1, -1)
        if key_padding_mask is not None:
            _check_view(key_padding_mask, "key_padding_mask", (N, 1, 1, L), N * L)
            merged = merged + key_padding_mask.reshape(N, 1, 1, L).expand(-1, H, -1, -1)
        return merged, 2

    # ---- forward ----------------------------------------------------------------------------------
    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """(attn_output, attn_weights or None): output (L, N, E) ((N, L, E) with
        ``batch_first``; (L, E) unbatched), weights (N, L, S) averaged over heads or
        (N, num_heads, L, S)."""
        need_weights = _flag(need_weights, "need_weights", _CLS)
        average_attn_weights = _flag(average_attn_weights, "average_attn_weights", _CLS)
        is_causal = _flag(is_causal, "is_causal", _CLS)
        self._check_inputs(query, key, value)
        batched = query.ndim == 3
        if batched and self.batch_first:
            query, key, value = (t.swapaxes(0, 1) for t in (query, key, value))
        if not batched:
            query, key, value = (t.unsqueeze(1) for t in (query, key, value))
        L, N, _ = query.shape
        S = key.shape[0]
        if key.shape[1] != N:
            raise ValueError(f"{_CLS}: key and value batch size {key.shape[1]} does not match "
                             f"query's {N}")
        dt = self.dtype
        kpm = _float_mask(key_padding_mask, "key_padding_mask", dt)
        if is_causal and attn_mask is None:
            raise ValueError("Need attn_mask if specifying the is_causal hint. You may use the "
                             "Transformer module method `generate_square_subsequent_mask` to "
                             "create this mask.")
        mask = _float_mask(attn_mask, "attn_mask", dt)
        self._check_masks(kpm, mask, L, N, S, batched)
        if not batched:
            kpm = kpm.unsqueeze(0) if kpm is not None else None
        # PyTorch's use of the hint: with no padding mask and no weights wanted, the given mask
        # is dropped and the causal triangle used instead
        causal = is_causal and kpm is None and not need_weights
        if causal:
            mask = None
        with scope("multi_head_attention", num_heads=self.num_heads, dropout=self.dropout,
                   need_weights=need_weights):
            out, weights = self._attend(query, key, value, kpm, mask, causal, need_weights,
                                        average_attn_weights, L, N, S)
        if not batched:
            out = out.squeeze(1)
            weights = weights.squeeze(0) if weights is not None else None
        elif self.batch_first:
            out = out.swapaxes(0, 1)
        return out, weights

    def _projections(self, query, key, value):
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            ws = (w[:E], w[E:2 * E], w[2 * E:])
        else:
            ws = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        b = self.in_proj_bias
        bs = (b[:E], b[E:2 * E], b[2 * E:]) if b is not None else (None, None, None)
        return [F.linear(x, w, bb) for x, w, bb in zip((query, key, value), ws, bs)]

    def _attend(self, query, key, value, kpm, mask, causal, need_weights, average, L, N, S):
        # the functional's core: the module and F.multi_head_attention_forward compute alike
        q, k, v = self._projections(query, key, value)
        return _mha._attend(q, k, v, self.num_heads, self.bias_k, self.bias_v, None, None,
                            self.add_zero_attn, kpm, mask,
                            self.dropout if self.training else 0.0, causal, need_weights,
                            average, self.out_proj.weight, self.out_proj.bias)


def _check_view(mask, name, shape, size):
    """``mask`` can be read as ``shape`` (``size`` elements, one -1 axis as many as fit), or
    the ValueError PyTorch's ``view`` would raise (its RuntimeError)."""
    fits = mask.size % size == 0 and mask.size > 0 if -1 in shape else mask.size == size
    if not fits:
        raise ValueError(f"merge_masks(): {name} of shape {tuple(mask.shape)} cannot be viewed "
                         f"as {shape}")
