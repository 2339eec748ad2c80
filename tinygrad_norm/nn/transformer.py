"""Transformer encoder/decoder layers, their stacks and the full Transformer, as ``torch.nn``:
composites of MultiheadAttention, Linear, LayerNorm, Dropout and an activation, with PyTorch's
parameter names and nesting (``layers.0.self_attn.in_proj_weight`` ...), so PyTorch's state
dict loads by key and gives the same outputs and gradients.

A stack holds deep copies of the layer it is given (PyTorch's ``_get_clones``), so all its
layers start equal; ``Transformer`` then redraws every parameter of more than one dimension with
``xavier_uniform_``, as PyTorch. There is one computation path: PyTorch's eval-mode fast paths
(fused kernels, nested tensors) are absent, and so are the numbers they give at padded
positions."""
from __future__ import annotations

import copy
import math
import numbers

import numpy as np

from .. import devices as _devices
from .._memory_guard import check_affordable
from .. import functional as F
from ..functional._checks import _flag
from ..functional.dropout import _check_p
from ..tensor import Tensor
from . import init
from .activation import GELU, ReLU
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear, _count, _float_dtype
from .module import Module
from .normalization import LayerNorm, _real

__all__ = ["TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder",
           "TransformerDecoder", "Transformer"]

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def _activation(activation, cls):
    """A string ('relu'/'gelu') as the function; a callable as it is (PyTorch's legacy strings)."""
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:  # PyTorch: RuntimeError, same words
            raise ValueError(f"activation should be relu/gelu, not {activation}")
        return _ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError(f"{cls}: activation must be 'relu', 'gelu' or a callable, got "
                        f"{type(activation).__name__}")
    return activation


def _relu_or_gelu(activation):
    """PyTorch's ``activation_relu_or_gelu`` flag: 1 relu, 2 gelu (any GELU module, as
    PyTorch's test), 0 anything else. Kept for code that reads it; nothing here uses it."""
    if activation is F.relu or isinstance(activation, ReLU):
        return 1
    if activation is F.gelu or isinstance(activation, GELU):
        return 2
    return 0


def _check_layer_args(cls, d_model, dim_feedforward, dropout, layer_norm_eps, dtype,
                      activation):
    """Every argument the sublayers would check late, checked before any parameter is drawn
    (a feed-forward block too big for memory as well: its attention would be drawn first)."""
    _count(dim_feedforward, "dim_feedforward", cls)
    check_affordable(cls, f"dim_feedforward={dim_feedforward}",
                     2 * _MIN_ITEM * d_model * dim_feedforward)
    _check_p(dropout, cls)
    _real(layer_norm_eps, "layer_norm_eps", cls)
    _float_dtype(dtype, cls)
    return _activation(activation, cls)


# lower bounds of a request's size (a refusal must never be wrong): 2 bytes a parameter
# (float16), 64 bytes a Python object
_MIN_ITEM, _MIN_OBJECT = 2, 64


def _check_model_args(cls, d_model, nhead):
    """MultiheadAttention's checks of d_model and nhead, made first (it is built first)."""
    for name, v in (("d_model", d_model), ("nhead", nhead)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{cls}: {name} must be an int, got {v!r}")
    if d_model <= 0 or nhead <= 0 or d_model % nhead:
        MultiheadAttention(d_model, nhead)  # raises PyTorch's message


def _causal_mask(sz, dtype):
    return np.triu(np.full((sz, sz), -math.inf, dtype=dtype), 1)


def _detect_is_causal_mask(mask, is_causal, size):
    """PyTorch's rule: a given hint wins; with none, a mask equal to the (size, size) causal mask
    (-inf above the diagonal; True there for a bool mask) counts as causal."""
    if is_causal is not None or mask is None:
        return is_causal is True  # PyTorch's test (a non-bool hint is refused before this)
    data = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    sz = size if size is not None else data.shape[-2]
    want = _causal_mask(sz, np.float64).astype(data.dtype)
    return data.shape == want.shape and bool((data == want).all())


def _seq_len(x, batch_first, who="Transformer"):
    if x.ndim not in (2, 3):  # a 0-d or 1-D input: "tuple index out of range" below
        raise ValueError(f"{who}: expected an unbatched 2-D or a batched 3-D input, got "
                         f"{x.ndim}-D")
    if x.ndim == 2:  # unbatched (S, E)
        return x.shape[0]
    return x.shape[1 if batch_first else 0]


def _batch_first(layer):
    return bool(getattr(getattr(layer, "self_attn", None), "batch_first", False))


class _Layer(Module):
    """What the encoder and decoder layers share: the feed-forward and self-attention blocks."""

    def _feed_forward(self, d_model, dim_feedforward, dropout, bias, dtype):
        # PyTorch's registration order (state-dict order): linear1, dropout, linear2
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x, last_dropout):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return last_dropout(x)


class TransformerEncoderLayer(_Layer):
    """Self-attention then a feed-forward block (``linear2(dropout(activation(linear1(x))))``),
    each added to its input; LayerNorm after each sum (``norm_first=False``, the original
    Transformer) or before each block (``norm_first=True``, pre-LN)."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__()
        cls = type(self).__name__
        _check_model_args(cls, d_model, nhead)
        act = _check_layer_args(cls, d_model, dim_feedforward, dropout, layer_norm_eps, dtype, activation)
        batch_first, norm_first, bias = _check_flags(cls, batch_first, norm_first, bias)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self._feed_forward(d_model, dim_feedforward, dropout, bias, dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation_relu_or_gelu = _relu_or_gelu(act)
        self.activation = act  # a Module registers as a child, as in PyTorch

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """src (S, N, E), (N, S, E) with ``batch_first``, or (S, E); masks as
        ``MultiheadAttention``'s (bool True = not allowed; float added)."""
        is_causal = _flag(is_causal, "is_causal", type(self).__name__)
        self._check_input(src, f"{type(self).__name__}: src")
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x), self.dropout2)
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x, self.dropout2))


class TransformerDecoderLayer(_Layer):
    """Self-attention over the target, attention to the encoder's output (``memory``) and a
    feed-forward block, each added to its input, with LayerNorm after each sum or before each
    block (``norm_first``)."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__()
        cls = type(self).__name__
        _check_model_args(cls, d_model, nhead)
        act = _check_layer_args(cls, d_model, dim_feedforward, dropout, layer_norm_eps, dtype, activation)
        batch_first, norm_first, bias = _check_flags(cls, batch_first, norm_first, bias)
        for name in ("self_attn", "multihead_attn"):
            setattr(self, name, MultiheadAttention(d_model, nhead, dropout=dropout,
                                                   batch_first=batch_first, bias=bias,
                                                   dtype=dtype))
        self._feed_forward(d_model, dim_feedforward, dropout, bias, dtype)
        self.norm_first = norm_first
        for name in ("norm1", "norm2", "norm3"):
            setattr(self, name, LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        for name in ("dropout1", "dropout2", "dropout3"):
            setattr(self, name, Dropout(dropout))
        self.activation = act  # PyTorch's decoder layer keeps no activation_relu_or_gelu

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        """tgt (T, N, E), memory (S, N, E) ((N, ., E) with ``batch_first``; unbatched (T, E),
        (S, E)); returns the shape of tgt."""
        cls = type(self).__name__
        tgt_is_causal = _flag(tgt_is_causal, "tgt_is_causal", cls)
        memory_is_causal = _flag(memory_is_causal, "memory_is_causal", cls)
        self._check_input(tgt, f"{cls}: tgt")
        self._check_input(memory, f"{cls}: memory")
        # the cross-attention's checks, before the self-attention block draws dropout masks: a
        # memory it refuses must not move the generator first
        self.multihead_attn._check_inputs(tgt, memory, memory)
        x = tgt
        sa = (tgt_mask, tgt_key_padding_mask, tgt_is_causal)
        mha = (memory, memory_mask, memory_key_padding_mask, memory_is_causal)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), *sa)
            x = x + self._mha_block(self.norm2(x), *mha)
            return x + self._ff_block(self.norm3(x), self.dropout3)
        x = self.norm1(x + self._sa_block(x, *sa))
        x = self.norm2(x + self._mha_block(x, *mha))
        return self.norm3(x + self._ff_block(x, self.dropout3))

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)


def _check_flags(cls, batch_first, norm_first, bias):
    """The layers' flags, checked before any parameter is made (``norm_first="no"`` was pre-LN)."""
    return (_flag(batch_first, "batch_first", cls), _flag(norm_first, "norm_first", cls),
            _flag(bias, "bias", cls))


def _check_num_layers(n, name, cls):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{cls}: {name} must be a positive int, got {n!r}")
    if n < 1:  # PyTorch builds such a stack and fails at its first forward (layers[0])
        raise ValueError(f"{cls}: {name} must be a positive int, got {n}")


def _check_stack_args(cls, layer, num_layers, norm):
    if not isinstance(layer, Module):
        what = "encoder_layer" if "Encoder" in cls else "decoder_layer"
        raise TypeError(f"{cls}: {what} must be a Module, got {type(layer).__name__}")
    _check_num_layers(num_layers, "num_layers", cls)
    # each copy holds the layer's parameters and is a Python object besides
    per = sum(p._data.nbytes for p in layer.parameters()) + _MIN_OBJECT
    check_affordable(cls, f"num_layers={num_layers}", num_layers * per)
    if norm is not None and not isinstance(norm, Module):
        raise TypeError(f"{cls}: norm must be a Module or None, got {type(norm).__name__}")


def _clones(module, n):
    """n deep copies (PyTorch's ``_get_clones``): equal values, nothing shared."""
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


class TransformerEncoder(Module):
    """``num_layers`` deep copies of ``encoder_layer`` applied in turn, then ``norm`` (if any).

    ``enable_nested_tensor`` and ``mask_check`` are kept for PyTorch's signature; there are no
    nested tensors here, so ``use_nested_tensor`` is always False (and no warning says why)."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        cls = type(self).__name__
        _check_stack_args(cls, encoder_layer, num_layers, norm)
        enable_nested_tensor = _flag(enable_nested_tensor, "enable_nested_tensor", cls)
        mask_check = _flag(mask_check, "mask_check", cls)
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = int(num_layers)
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """``is_causal=None``: True when ``mask`` is the causal mask of src's length, as
        PyTorch detects it."""
        is_causal = _flag(is_causal, "is_causal", type(self).__name__, allow_none=True)
        if not isinstance(src, Tensor):
            raise TypeError(f"{type(self).__name__}: src must be a Tensor, got "
                            f"{type(src).__name__}")
        size = _seq_len(src, _batch_first(self.layers[0]), "TransformerEncoder: src")
        is_causal = _detect_is_causal_mask(mask, is_causal, size)
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, is_causal=is_causal,
                        src_key_padding_mask=src_key_padding_mask)
        return self.norm(out) if self.norm is not None else out


class TransformerDecoder(Module):
    """``num_layers`` deep copies of ``decoder_layer`` applied in turn (each attends to the same
    ``memory``), then ``norm`` (if any)."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        _check_stack_args(type(self).__name__, decoder_layer, num_layers, norm)
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = int(num_layers)
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        cls = type(self).__name__
        tgt_is_causal = _flag(tgt_is_causal, "tgt_is_causal", cls, allow_none=True)
        memory_is_causal = _flag(memory_is_causal, "memory_is_causal", cls)
        if not isinstance(tgt, Tensor):
            raise TypeError(f"{type(self).__name__}: tgt must be a Tensor, got "
                            f"{type(tgt).__name__}")
        size = _seq_len(tgt, _batch_first(self.layers[0]), "TransformerDecoder: tgt")
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, size)
        out = tgt
        for layer in self.layers:
            out = layer(out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                        tgt_key_padding_mask=tgt_key_padding_mask,
                        memory_key_padding_mask=memory_key_padding_mask,
                        tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        return self.norm(out) if self.norm is not None else out


class Transformer(Module):
    """The encoder-decoder Transformer (Vaswani et al. 2017): ``encoder`` (a TransformerEncoder
    with a final LayerNorm) over the source, ``decoder`` (a TransformerDecoder with a final
    LayerNorm) over the target attending to the encoder's output. Every parameter of more than
    one dimension is drawn again by ``xavier_uniform_``, as PyTorch (the custom encoder's and
    decoder's too)."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation=F.relu, custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        _devices.check_device(device, type(self).__name__)  # before any parameter is made or drawn
        super().__init__()
        cls = type(self).__name__
        _check_model_args(cls, d_model, nhead)
        _check_layer_args(cls, d_model, dim_feedforward, dropout, layer_norm_eps, dtype, activation)
        batch_first, norm_first, bias = _check_flags(cls, batch_first, norm_first, bias)
        for part, custom, n in (("encoder", custom_encoder, num_encoder_layers),
                                ("decoder", custom_decoder, num_decoder_layers)):
            if custom is not None and not isinstance(custom, Module):
                raise TypeError(f"{cls}: custom_{part} must be a Module or None, got "
                                f"{type(custom).__name__}")
            if custom is None:  # the stack's own check, before any parameter is drawn
                _check_num_layers(n, f"num_{part}_layers", cls)
                # a layer's attention (4 d_model^2) and feed-forward (2 d_model dim_feedforward)
                check_affordable(cls, f"num_{part}_layers={n}", n * (_MIN_OBJECT + _MIN_ITEM * (
                    4 * d_model * d_model + 2 * d_model * dim_feedforward)))
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                      batch_first, norm_first, bias, None, dtype)  # None: the device, checked
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(*layer_args), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(*layer_args), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        self._reset_parameters()
        self.d_model = int(d_model)
        self.nhead = int(nhead)
        self.batch_first = batch_first

    def _reset_parameters(self):
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        """src (S, N, E), tgt (T, N, E) ((N, ., E) with ``batch_first``; unbatched (S, E),
        (T, E)) -> (T, N, E). Masks: src_mask (S, S), tgt_mask (T, T), memory_mask (T, S) (or
        per head, (N * nhead, ., .)); key padding masks (N, S), (N, T), (N, S)."""
        src_is_causal = _flag(src_is_causal, "src_is_causal", "Transformer", allow_none=True)
        tgt_is_causal = _flag(tgt_is_causal, "tgt_is_causal", "Transformer", allow_none=True)
        memory_is_causal = _flag(memory_is_causal, "memory_is_causal", "Transformer")
        for name, t in (("src", src), ("tgt", tgt)):
            if not isinstance(t, Tensor):
                raise TypeError(f"Transformer: {name} must be a Tensor, got {type(t).__name__}")
            # the decoder's checks, before the encoder draws its dropout masks
            self._check_input(t, f"Transformer: {name}")
        if src.ndim != tgt.ndim:
            raise ValueError(f"Transformer: src and tgt must both be batched (3-D) or both "
                             f"unbatched (2-D), got {src.ndim}-D src and {tgt.ndim}-D tgt")
        axis = 0 if self.batch_first else 1
        if src.ndim == 3 and (tgt.ndim != 3 or src.shape[axis] != tgt.shape[axis]):
            raise ValueError("the batch number of src and tgt must be equal")  # PyTorch's words
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, dtype=None):
        """The (sz, sz) causal mask: -inf above the diagonal, 0 elsewhere (the default dtype
        unless ``dtype`` says otherwise), to pass as a float ``tgt_mask``/``src_mask``."""
        if isinstance(sz, bool) or not isinstance(sz, numbers.Integral):
            raise TypeError(f"generate_square_subsequent_mask: sz must be an int, got {sz!r}")
        if sz < 0:
            raise ValueError(f"generate_square_subsequent_mask: sz must be non-negative, got "
                             f"{sz}")
        dt = _float_dtype(dtype, "generate_square_subsequent_mask")
        return Tensor(_causal_mask(int(sz), dt))
