"""``embedding_bag``: sums, means or maxima of bags of embedding rows without materialising the
per-index rows as a padded batch, as ``torch.nn.functional.embedding_bag``. A composite: the
rows are an ``embedding`` lookup, a sum or mean is an ``index_add`` into the bags, a maximum a
``gather`` of each bag's first largest row per feature; the tape derives the gradients."""
from __future__ import annotations

import numbers

import numpy as np

from ..tensor import Tensor, where
from ._checks import _flag
from .encoding import _indices, _padding_idx, embedding

__all__ = ["embedding_bag"]

_MODES = ("sum", "mean", "max")


def _bags(idx, offsets, include_last_offset):
    """(flat indices, bag of each index, number of bags) from a 2-D input (one bag per row) or
    a 1-D input with ``offsets``, with PyTorch's checks."""
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated "
                             f"is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets).__name__}")
        b, n = idx.shape
        return idx.reshape(-1), np.repeat(np.arange(b), n), b
    if idx.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{idx.ndim}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    off = offsets._data if isinstance(offsets, Tensor) else np.asarray(offsets)
    if off.ndim != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    if off.dtype.kind not in "iu":
        raise TypeError(f"embedding_bag(): offsets must hold integers, got dtype {off.dtype}")
    n = idx.shape[0]
    if off.size and off[0] != 0:
        raise ValueError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has "
                         f"to start from position 0. However, got {int(off[0])}")
    if off.size and off[-1] > n:
        raise ValueError(f"offsets[-1] can not be greater than input's length {n} but got "
                         f"offsets[-1] of {int(off[-1])}")
    if (np.diff(off) < 0).any():  # PyTorch returns undefined values
        raise ValueError("embedding_bag(): offsets must be non-decreasing")
    # With include_last_offset the last offset ends the last bag, as PyTorch documents it and
    # its float32 kernel does (its float64 kernel runs the last bag to the input's end)
    starts = off[:-1] if include_last_offset else off
    bag = np.searchsorted(starts, np.arange(n), side="right") - 1
    if include_last_offset and off.size:
        bag[int(off[-1]):] = -1
    return idx, bag, len(starts)


def _check_mode(mode, per_sample_weights, scale_grad_by_freq, sparse):
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise ValueError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is "
                         f"only supported for mode='sum' (got mode='{mode}').")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")


def _sample_weights(psw, shape, dtype):
    if psw is None:
        return None
    w = psw if isinstance(psw, Tensor) else Tensor(np.asarray(psw, dtype=dtype))
    if w.shape != shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({w.shape}) is not None, then it "
                         f"must have the same shape as the input ({shape})")
    if w.dtype != dtype:
        raise TypeError(f"embedding_bag(): per_sample_weights has dtype {w.dtype} but weight "
                        f"has dtype {dtype}")
    return w


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Per bag, the sum, mean or maximum of the rows of ``weight`` its indices pick, as
    PyTorch: bags are the rows of a 2-D ``input``, or the runs of a 1-D ``input`` starting at
    ``offsets`` (with ``include_last_offset``, its last entry ends the last bag).
    ``per_sample_weights`` (mode ``sum``) weighs each index; indices equal to ``padding_idx``
    are left out (of the mean's count too); an empty bag gives zeros. ``max`` passes each
    feature's gradient to the first row holding the bag's maximum, as PyTorch's kernel."""
    fn = "embedding_bag"
    scale_grad_by_freq = _flag(scale_grad_by_freq, "scale_grad_by_freq", fn)
    sparse = _flag(sparse, "sparse", fn)
    include_last_offset = _flag(include_last_offset, "include_last_offset", fn)
    if isinstance(weight, Tensor) and weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.ndim}")
    _check_mode(mode, per_sample_weights, scale_grad_by_freq, sparse)
    idx = _indices(input, weight, fn)
    psw = _sample_weights(per_sample_weights, idx.shape, weight.dtype)
    padding_idx = _padding_idx(padding_idx, weight.shape[0], fn)
    flat, bag, n_bags = _bags(idx, offsets, include_last_offset)
    keep = bag >= 0  # no bag (an empty offsets list: PyTorch crashes) takes no index
    if padding_idx is not None:
        keep &= flat != padding_idx
    flat, bag = flat[keep], bag[keep]
    rows = embedding(Tensor(flat), weight, None, max_norm, norm_type, scale_grad_by_freq)
    if psw is not None:  # the weights of the indices kept
        rows = rows * psw.reshape(-1)[np.nonzero(keep)[0]].reshape(-1, 1)
    d = weight.shape[1]
    if mode == "max":
        return _bag_max(rows, bag, n_bags, d)
    if idx.ndim == 2 and len(bag) == idx.size and idx.shape[1] and mode in ("sum", "mean"):
        # bags of one length, none thinned by padding_idx: a sum over an axis (the rows added in
        # the same order) in place of the general index_add's scatter, ~2x quicker in all
        total = rows.reshape(idx.shape + (d,)).sum(axis=1)
        return total if mode == "sum" else total / idx.shape[1]
    zeros = Tensor(np.zeros((n_bags, d), weight.dtype))
    if len(bag) == 0:  # no row at all: zeros, still on the graph (the weight's gradient is 0)
        return rows.sum() * 0.0 + zeros
    total = zeros.index_add(0, Tensor(bag), rows)
    if mode == "sum":
        return total
    count = np.bincount(bag, minlength=n_bags).astype(weight.dtype)
    return total / Tensor(np.maximum(count, 1)[:, None])  # an empty bag: 0 / 1


def _bag_max(rows, bag, n_bags, d):
    """Each bag's maximum per feature, as a gather of the first row holding it (0 for an empty
    bag)."""
    counts = np.bincount(bag, minlength=n_bags)
    if len(bag) == 0:  # no row at all: zeros, still on the graph (the weight's gradient is 0)
        return rows.sum() * 0.0 + Tensor(np.zeros((n_bags, d), rows.dtype))
    order = np.argsort(bag, kind="stable")  # the rows bag by bag, each bag's in index order
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    dense = np.full((n_bags, int(counts.max()), d), -np.inf, rows.dtype)
    dense[bag[order], np.arange(len(bag)) - first[bag[order]]] = rows._data[order]
    at = np.argmax(dense, axis=1)  # the first largest, as PyTorch's kernel keeps it
    source = order[np.minimum(first[:, None] + at, len(bag) - 1)]  # (an empty bag: any row)
    return where((counts > 0)[:, None], rows.gather(0, Tensor(source)), 0.0)
