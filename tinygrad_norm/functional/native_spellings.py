"""``torch.nn.functional``'s native spellings: ``conv_tbc`` (a 1-D convolution over (time,
batch, channels) input, as ``F.conv1d`` on permuted axes), ``native_channel_shuffle`` (the
kernel behind ``channel_shuffle``: the same values) and the ATen form of ``embedding_bag``
(``torch.embedding_bag``'s 4-tuple). Composites; no derivative here."""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd import scope
from ..tensor import Tensor
from .channel_shuffle import channel_shuffle
from .conv1d import conv1d
from .embedding_bag import _MODES, embedding_bag
from .encoding import _padding_idx

__all__ = ["conv_tbc", "native_channel_shuffle"]


def native_channel_shuffle(input, groups):
    """``channel_shuffle``'s values and checks, as torch's native kernel; differentiable
    (torch 2.13 has no derivative for it)."""
    return channel_shuffle(input, groups)


def conv_tbc(input, weight, bias, pad=0):
    """input (T, B, C_in), weight (K, C_in, C_out), bias (C_out,) -> (T + 2 pad - K + 1, B,
    C_out): out[t] = bias + sum_k input[t + k - pad] @ weight[k], zeros outside the input."""
    fn = "conv_tbc"
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if isinstance(pad, bool) or not isinstance(pad, numbers.Integral):
        raise TypeError(f"{fn}(): argument 'pad' must be int, not {type(pad).__name__}")
    if input.ndim != 3:
        raise ValueError(f"Input must have 3 dims: time, batch, in_channel, got {input.ndim}")
    if weight.ndim != 3:
        raise ValueError(f"Weight tensor must have 3 dims: kernel_width, in_channels, "
                         f"out_channels, got {weight.ndim}")
    if bias.ndim != 1:
        raise ValueError(f"Bias must be 1-D, got {bias.ndim}")
    if input.shape[2] != weight.shape[1]:
        raise ValueError(f"Input dim 2 (input channels) is not == dim 1 in the weight tensor: "
                         f"{input.shape[2]} != {weight.shape[1]}")
    if weight.shape[2] != bias.shape[0]:
        raise ValueError(f"Bias size must equal dim 2 in the weight tensor (output channels): "
                         f"{bias.shape[0]} != {weight.shape[2]}")
    with scope(fn, pad=int(pad)):
        out = conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=int(pad))
        return out.permute(2, 0, 1)


def _aten_embedding_bag(weight, indices, offsets, scale_grad_by_freq=False, mode=0,
                        sparse=False, per_sample_weights=None, include_last_offset=False,
                        padding_idx=None):
    """``torch.embedding_bag``: (output, offset2bag, bag_size, max_indices), ``mode`` ATen's int
    (0 sum, 1 mean, 2 max), 1-D ``indices`` with ``offsets``. The three index outputs are
    those of torch's CPU kernel: each index's bag; each bag's count of indices other than
    ``padding_idx`` (zeros for sum); the row holding each feature's maximum (max), the counts
    again (mean), zeros (sum)."""
    fn = "embedding_bag"
    if isinstance(mode, bool) or not isinstance(mode, numbers.Integral) or not 0 <= mode <= 2:
        raise ValueError(f"{fn}(): mode must be 0 (sum), 1 (mean) or 2 (max), got {mode!r}")
    idx = np.asarray(getattr(indices, "data", indices))
    if idx.ndim != 1:
        raise ValueError(f"{fn}(): indices must be 1-D (with offsets), got {idx.ndim}-D")
    out = embedding_bag(indices, weight, offsets, scale_grad_by_freq=scale_grad_by_freq,
                        mode=_MODES[mode], sparse=sparse, per_sample_weights=per_sample_weights,
                        include_last_offset=include_last_offset, padding_idx=padding_idx)
    off = np.asarray(getattr(offsets, "data", offsets), dtype=np.int64)
    starts = off[:-1] if include_last_offset else off
    n_bags = len(starts)
    bag = np.searchsorted(starts, np.arange(idx.size), side="right") - 1
    if include_last_offset and off.size:  # past the last offset: in no bag (embedding_bag's)
        bag[int(off[-1]):] = -1
    offset2bag = np.maximum(bag, 0)
    counted = bag >= 0
    padding_idx = _padding_idx(padding_idx, weight.shape[0], fn)
    if padding_idx is not None:
        counted &= idx != padding_idx
    counts = np.bincount(bag[counted], minlength=n_bags)[:n_bags].astype(np.int64)
    if mode == 0:
        # torch's CPU kernel skips offset2bag on its fast sum path: float32 rows, no padding
        fast = weight.dtype == np.float32 and padding_idx is None
        return (out, Tensor(offset2bag[:0] if fast else offset2bag), Tensor(np.zeros(n_bags, np.int64)),
                Tensor(np.zeros(n_bags, np.int64)))
    if mode == 1:
        return out, Tensor(offset2bag), Tensor(counts), Tensor(counts.copy())
    return out, Tensor(offset2bag), Tensor(counts), Tensor(_max_rows(
        weight.data, idx, bag, counted, n_bags))


def _max_rows(w, idx, bag, counted, n_bags):
    """(n_bags, D): the index whose row holds each bag's first maximum per feature, 0 when
    the bag is empty."""
    best = np.zeros((n_bags, w.shape[1]), np.int64)
    top = np.full((n_bags, w.shape[1]), -np.inf, w.dtype)
    for i in np.nonzero(counted)[0]:  # in index order: a later equal row does not win
        b = bag[i]
        row = w[idx[i]]
        win = row > top[b]
        top[b] = np.where(win, row, top[b])
        best[b] = np.where(win, idx[i], best[b])
    return best
