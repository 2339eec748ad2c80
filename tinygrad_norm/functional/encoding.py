"""Index encodings, as ``torch.nn.functional.one_hot`` and ``embedding``: lookups by integer
index (indices have no gradient; an embedding's rows do)."""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd import mark_written
from ..tensor import Tensor, where
from ._checks import _flag

__all__ = ["one_hot", "embedding"]


def one_hot(tensor, num_classes=-1):
    """An int64 tensor of shape ``tensor.shape + (num_classes,)`` with a 1 at each index, as
    ``torch.nn.functional.one_hot``; ``num_classes=-1`` takes the largest index plus one. Any
    integer dtype is taken (PyTorch wants int64); indices outside ``[0, num_classes)`` are a
    ValueError."""
    data = tensor.data if isinstance(tensor, Tensor) else None
    if data is None or data.dtype.kind not in "iu":
        what = f"dtype {data.dtype}" if data is not None else type(tensor).__name__
        raise TypeError(f"one_hot(): tensor must be a Tensor of integer class indices, got "
                        f"{what}")
    if isinstance(num_classes, (bool, np.bool_)) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"one_hot(): num_classes must be an int, got "
                        f"{type(num_classes).__name__}")
    num_classes = int(num_classes)
    if num_classes < -1:
        raise ValueError(f"one_hot(): num_classes must be -1 (inferred) or non-negative, got "
                         f"{num_classes}")
    if data.size and data.min() < 0:
        raise ValueError("one_hot(): Class values must be non-negative.")
    if num_classes == -1:
        if data.size == 0:
            raise ValueError("one_hot(): Can not infer total number of classes from empty "
                             "tensor; pass num_classes")
        num_classes = int(data.max()) + 1
    elif data.size and data.max() >= num_classes:
        raise ValueError(f"one_hot(): Class values must be smaller than num_classes "
                         f"({num_classes}), got {int(data.max())}")
    out = np.zeros(data.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, data.astype(np.intp)[..., None], 1, axis=-1)
    return Tensor._wrap(out)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by the integer ``input`` (any
    shape), as ``torch.nn.functional.embedding``: an indexing composite, so repeated indices add
    up in the gradient. The rows looked up at ``padding_idx`` get no gradient, as PyTorch.

    ``max_norm``: first, every looked-up row whose ``norm_type``-norm exceeds it is scaled in
    place to ``max_norm`` (PyTorch's renorm, off the tape; a node that read the old values is
    then refused at backward, as PyTorch's version counter refuses it). ``scale_grad_by_freq``
    divides each row's gradient by how often its index occurs in ``input``. ``sparse`` is
    accepted; the gradient is dense (PyTorch's is a sparse tensor of the same values)."""
    fn = "embedding"
    scale_grad_by_freq = _flag(scale_grad_by_freq, "scale_grad_by_freq", fn)
    _flag(sparse, "sparse", fn)
    idx = _indices(input, weight, fn)
    padding_idx = _padding_idx(padding_idx, weight.shape[0], fn)
    if max_norm is not None:
        renorm_rows(weight, idx, max_norm, norm_type, fn)
    # One flat index: a 1-D gather along the rows has a fast adjoint (sorted runs summed with
    # add.reduceat) where a multi-dimensional index falls back to np.add.at (~4x torch's time)
    rows = weight[idx.reshape(-1)].reshape(idx.shape + weight.shape[1:])
    if scale_grad_by_freq and idx.size:
        rows = _scaled_gradient(rows, _inverse_frequency(idx)[..., None])
    if padding_idx is None or not (idx == padding_idx).any():
        return rows
    pad = (idx == padding_idx)[..., None]
    return where(pad, rows.detach(), rows)  # same values; no gradient into the padding row


def _indices(input, weight, fn):
    """The integer index array of ``input``, checked against a 2-D float ``weight``."""
    if not isinstance(weight, Tensor) or weight.ndim != 2 or weight.dtype.kind != "f":
        raise TypeError(f"{fn}(): weight must be a 2-D floating-point Tensor")
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{fn}(): input must hold integer indices, got dtype {idx.dtype}")
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):  # torch: no negative index either
        raise IndexError(f"{fn}(): index out of range for {n} embeddings")
    return idx


def renorm_rows(weight, idx, max_norm, norm_type, fn):
    """PyTorch's ``embedding_renorm_``: each row of ``weight`` indexed by ``idx`` whose
    ``norm_type``-norm exceeds ``max_norm`` is scaled in place by ``max_norm / (norm + 1e-7)``.
    Written as a write (``mark_written``) only where a row changed."""
    max_norm, norm_type = _positive(max_norm, "max_norm", fn), _positive(norm_type, "norm_type", fn)
    rows = np.unique(idx)
    w = weight._data
    norms = np.linalg.norm(w[rows], ord=norm_type, axis=1).astype(np.float64)  # as torch: in
    # the weight's dtype, the scale then in double
    big = norms > max_norm
    if big.any():
        scale = max_norm / (norms[big] + 1e-7)
        w[rows[big]] *= scale[:, None].astype(w.dtype)
        mark_written([weight])


def _positive(v, name, fn):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real) or not v > 0:
        raise ValueError(f"{fn}(): {name} must be a positive number, got {v!r}")
    return float(v)


def _inverse_frequency(idx):
    """1 / (how often each element's index occurs in ``idx``), per element, as an array."""
    _, where_, counts = np.unique(idx, return_inverse=True, return_counts=True)
    return 1.0 / counts[where_.reshape(idx.shape)]


def _scaled_gradient(x, factor):
    """``x`` unchanged, its gradient times ``factor`` (an array broadcasting against it):
    ``x - x.detach()`` is exactly 0 for finite ``x``, so the value is ``x`` bit for bit."""
    frozen = x.detach()
    return frozen + (x - frozen) * Tensor(factor.astype(x.dtype, copy=False))


def _padding_idx(padding_idx, n, fn):
    """``padding_idx`` in ``[0, n)`` (a negative one counts from the end, as PyTorch), or None."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, (bool, np.bool_)) or not isinstance(padding_idx, numbers.Integral):
        raise TypeError(f"{fn}: padding_idx must be an int or None, got "
                        f"{type(padding_idx).__name__}")
    if not -n <= padding_idx < n:
        raise ValueError(f"{fn}: padding_idx must be within num_embeddings ({n}), got "
                         f"{padding_idx}")
    return int(padding_idx) % n
